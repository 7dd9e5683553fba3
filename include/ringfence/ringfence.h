/* SPDX-License-Identifier: MIT */
/*
 * ringfence/ringfence.h: libringfence, the client API of the ringfence platform.
 *
 * A client (a security engine) connects to the daemon with an identity (the name of
 * its manifest; the daemon checks the peer's uid and executable against it),
 * subscribes to event classes, and reads events zero-copy from its own shared-memory
 * ring. Sequence numbers are per client: hdr.seq counts every event meant for this
 * client (subscribed and not muted), hdr.class_seq every such event of its class,
 * so a gap of N is exactly N events this client lost because its ring was full.
 * Muting happens in the daemon (muted events are never copied into the ring).
 * docs/client-api.md is the guide; this header is the reference.
 *
 * Conventions: functions return 0 (or a count) on success and a negative errno on
 * failure; the errno of a refusal by the daemon is fixed per enum rf_error:
 *   RF_E_PROTO -EPROTO, RF_E_ABI -EPROTONOSUPPORT, RF_E_UNKNOWN_CLIENT -ENOENT,
 *   RF_E_IDENTITY -EPERM, RF_E_NOT_ENTITLED -EACCES, RF_E_LIMIT -ENOSPC,
 *   RF_E_TOO_MANY -EUSERS, RF_E_STATE -EBADFD, RF_E_UNSUPPORTED -EOPNOTSUPP,
 *   RF_E_INTERNAL -EIO.
 * rf_client_error() gives the daemon's one-line message for the last refusal.
 * A struct rf_client is used by one thread at a time. The library does not log,
 * does not start threads and does not install signal handlers.
 */
#ifndef RINGFENCE_RINGFENCE_H
#define RINGFENCE_RINGFENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ringfence/event.h"
#include "ringfence/proto.h"
#include "ringfence/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of this API, ring.h or proto.h. The daemon
 * refuses clients with another ABI version (RF_E_ABI). */
#define RF_ABI_VERSION 1u
#define RF_DEFAULT_SOCKET "/run/ringfence/ringfence.sock"

struct rf_client;

struct rf_client_opts {
	uint32_t size;           /* sizeof(struct rf_client_opts): set by the caller */
	uint32_t abi_version;    /* RF_ABI_VERSION: set by the caller */
	const char *name;        /* manifest name (required); copied */
	const char *socket_path; /* NULL: $RINGFENCE_SOCKET, else RF_DEFAULT_SOCKET; copied */
	uint32_t ring_bytes;     /* wanted ring data area; 0: the manifest's ring_size */
	/* Bounded busy-poll: rf_client_next() that finds the ring empty and may wait
	 * first polls the ring for up to spin_us microseconds (at most
	 * RF_CLIENT_SPIN_MAX_US) before it sleeps on the eventfd. An event that comes
	 * within that time is taken without a wake-up (tens of microseconds on a
	 * virtual machine whose idle CPU halts); the cost is up to spin_us of CPU each
	 * time the ring runs empty. 0: sleep at once (was `reserved`, 0). */
	uint32_t spin_us;
	/* Fields below: only read when size covers them (older callers pass less). */
	uint32_t flags;          /* RF_CLIENT_* */
	uint32_t reserved;       /* 0 */
};

/* rf_client_opts.flags */
/* Give the thread that calls rf_client_open() the shortest CPU time slice Linux
 * allows (EEVDF custom slice, 6.12+; normal priority and CPU share unchanged): woken
 * by an event it preempts a CPU-bound task at once instead of waiting for that
 * task's slice to end. Changes that thread's scheduling (sched_setattr(2)) for
 * good; without kernel support rf_client_open() fails with -EOPNOTSUPP. */
#define RF_CLIENT_SHORT_SLICE 0x1u
/* Run the thread that calls rf_client_open() on the CPU the daemon is pinned to
 * (`ringfence daemon --cpu N`; sched_setaffinity(2) of that thread, for good). The
 * daemon's wake-up of the client is then a hand-off on one CPU instead of an
 * inter-processor wake-up; with daemon and client under SCHED_FIFO at the same
 * priority the client runs as soon as the daemon waits again (docs/client-api.md,
 * "Latency"). A daemon that is not pinned: rf_client_open() fails with -ENXIO. */
#define RF_CLIENT_NEAR_DAEMON 0x2u

/*
 * Connect to the daemon and identify as opts->name. On success *ret is a new client
 * (the caller owns it: rf_client_close()) with its ring mapped and no subscription.
 * On failure returns -errno (see above) and, when why is not NULL, writes a
 * one-line reason into why (whylen bytes, always NUL-terminated).
 * -EINVAL: opts NULL, opts->size too small or a required field missing;
 * -EPROTONOSUPPORT: opts->abi_version is not one this library speaks.
 */
int rf_client_open(const struct rf_client_opts *opts, struct rf_client **ret, char *why,
		   size_t whylen);

/* Disconnect, unmap the ring, free. Any event view becomes invalid. Accepts NULL. */
void rf_client_close(struct rf_client *c);

/* The daemon's message for the last refusal on this client ("" when none). Owned by
 * the client; valid until the next call on it. */
const char *rf_client_error(const struct rf_client *c);

/*
 * Replace the subscription: classes is a mask of (1 << class id) (enum rf_class_id;
 * 0 unsubscribes from everything), modes RF_SUB_NOTIFY and/or RF_SUB_AUTH. With
 * RF_SUB_AUTH the client receives auth_exec/auth_open requests in its ring and must
 * answer each with rf_client_verdict() before its deadline_ns (docs/auth.md); with
 * RF_SUB_NOTIFY it receives the decided requests (verdict set) afterwards. Classes or
 * modes outside the manifest's entitlements: -EACCES, and the previous subscription
 * stays. A client demoted for missing deadlines gets -EBADFD for RF_SUB_AUTH.
 */
int rf_client_subscribe(struct rf_client *c, uint64_t classes, uint32_t modes);

/*
 * Answer the AUTH request request_id (the event's request_id field): allow or deny;
 * cacheable: the daemon may reuse this verdict for the same file (device, inode,
 * ctime, mtime, size) until it changes or the set of AUTH clients changes. One send,
 * no reply: a verdict after the deadline, a second one or an unknown id is ignored
 * and counted (rf_client_stats: deadline_misses; ringfence status: late).
 * Returns 0, -EINVAL (request_id 0), -EPIPE when the daemon is gone.
 */
int rf_client_verdict(struct rf_client *c, uint64_t request_id, bool allow, bool cacheable);

/*
 * Forget every cached verdict, in the daemon and in the kernel (docs/auth.md,
 * "Verdict cache"): for a client whose policy changed, so that the next operation on
 * any file is asked again. It drops the cached verdicts of all AUTH clients alike
 * (a cached verdict is the combination of all of theirs). Blocks for the daemon's
 * reply. Returns 0, -EACCES when the client's manifest has no AUTH mode, -EPIPE when
 * the daemon is gone.
 */
int rf_client_clear_cache(struct rf_client *c);

/*
 * Next event. Returns 1 and points *ev at the event inside the ring (zero-copy;
 * validated with rf_event_validate(); read-only), 0 when none came within timeout_ms
 * (0: do not wait; -1: wait forever), or -errno: -EBADMSG when the ring is corrupt
 * (the client should close and reconnect), -EPIPE when the daemon is gone, -EINTR.
 * The view stays valid until the next rf_client_next() or rf_client_close() on this
 * client: only then is its space given back to the daemon.
 */
int rf_client_next(struct rf_client *c, const struct rf_event_hdr **ev, int timeout_ms);

/* A file descriptor that becomes readable when events may be waiting, for the
 * caller's own poll/epoll loop (then call rf_client_next(c, &ev, 0) until it returns
 * 0). Owned by the client: do not close it. */
int rf_client_fd(const struct rf_client *c);

/*
 * Muting (done by the daemon: a muted event is not copied into the ring and does not
 * take a sequence number). An event is muted when any of the three sets mutes it:
 *  - process: the acting process (hdr.pid, and hdr.start_ns unless start_ns is 0);
 *  - executable: the event's executable path (the field with Sigma name Image, e.g.
 *    process_exec.exe), exact or by prefix; for classes without one (process_fork,
 *    process_exit) the acting process's executable from the live sensor's process
 *    table;
 *  - target: the event's target path (Sigma name TargetFilename), exact or prefix.
 * An event without the value a set looks at (or with it empty) is not affected by
 * that set. With a set inverted, only events that match it are delivered (the set
 * becomes an allow list). docs/client-api.md has examples.
 * At most RF_MUTE_MAX entries per kind (-ENOSPC beyond).
 * Paths are absolute (-EINVAL otherwise), copied.
 */
int rf_client_mute_process(struct rf_client *c, uint32_t pid, uint64_t start_ns);
int rf_client_unmute_process(struct rf_client *c, uint32_t pid, uint64_t start_ns);
/* kind: RF_MUTE_EXE_LITERAL, RF_MUTE_EXE_PREFIX, RF_MUTE_TARGET_LITERAL,
 * RF_MUTE_TARGET_PREFIX. Unmuting an entry that is not there: -ENOENT. */
int rf_client_mute_path(struct rf_client *c, enum rf_mute_kind kind, const char *path);
int rf_client_unmute_path(struct rf_client *c, enum rf_mute_kind kind, const char *path);
/* Remove every entry of one kind (any enum rf_mute_kind). */
int rf_client_unmute_all(struct rf_client *c, enum rf_mute_kind kind);
/* Invert one set (RF_MUTESET_PROCESS, RF_MUTESET_EXE, RF_MUTESET_TARGET). */
int rf_client_invert_muting(struct rf_client *c, enum rf_mute_set set, bool on);

/*
 * Network deny rules, enforced in the kernel without asking the client (the daemon
 * must run with --net-policy; the manifest needs `modes = auth`). A connect or bind
 * that matches fails with EPERM and is reported as a net_blocked event. Rules live
 * as long as the connection. Refusals: -EINVAL/-EPROTO malformed (family not 2 or 10,
 * prefix too long, address bits past the prefix, protocol not 0/6/17, no direction),
 * -ENOSPC beyond the bounds (a rule without a port shorter than
 * RF_NETRULE_PREFIX_MIN_V4/V6, more than RF_NETRULES_CLIENT_MAX rules of this client
 * or RF_NETRULES_MAX in all), -EOPNOTSUPP when the policy is off; the daemon's
 * message says which (rf_client_error()).
 */
struct rf_net_rule {
	uint32_t size;      /* sizeof(struct rf_net_rule): set by the caller */
	uint16_t family;    /* AF_INET (2) or AF_INET6 (10) */
	uint8_t prefix;     /* 0..32 or 0..128 */
	uint8_t protocol;   /* 0 any, IPPROTO_TCP, IPPROTO_UDP */
	uint8_t direction;  /* RF_NETRULE_CONNECT and/or RF_NETRULE_BIND */
	uint8_t reserved;
	uint16_t port;      /* host order; 0 any */
	uint8_t addr[16];   /* network order; IPv4 in the first 4 bytes */
};
int rf_client_net_deny(struct rf_client *c, const struct rf_net_rule *r);
/* Remove all of this client's rules. */
int rf_client_net_clear(struct rf_client *c);

/* Tell the supervisor that this client is alive (one round trip). A client that the
 * daemon started and whose manifest sets `heartbeat = S` must call this at least
 * every S seconds, or it is killed and restarted; reading events from the ring
 * counts as progress as well (docs/supervisor.md). */
int rf_client_heartbeat(struct rf_client *c);

struct rf_client_stats {
	uint32_t size;            /* sizeof(struct rf_client_stats): set by the caller */
	uint32_t nclasses;        /* entries filled in the arrays (RF_CLASSES_MAX) */
	uint64_t delivered;       /* daemon: events written into this client's ring */
	uint64_t dropped;         /* daemon: events lost because the ring was full */
	uint64_t muted;           /* daemon: events not sent because of muting */
	uint64_t deadline_misses; /* daemon: AUTH deadlines missed (the default verdict stood in) */
	uint64_t ring_used;       /* bytes waiting in the ring */
	uint64_t ring_bytes;      /* size of the ring's data area */
	uint64_t read;            /* library: events returned by rf_client_next() */
	uint64_t seq_gaps;        /* library: events missing according to hdr.seq */
	uint64_t class_delivered[RF_CLASSES_MAX];
	uint64_t class_dropped[RF_CLASSES_MAX];
};

/* Fill *st (st->size set by the caller; a smaller, older struct gets its prefix).
 * Asks the daemon (one round trip). */
int rf_client_stats(struct rf_client *c, struct rf_client_stats *st);

/* A short description of a negative errno this API returned, naming the rf_error
 * when it is one of the refusals above. Static string. */
const char *rf_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* RINGFENCE_RINGFENCE_H */
