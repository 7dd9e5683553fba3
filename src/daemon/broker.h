/* SPDX-License-Identifier: MIT */
/*
 * broker.h: the daemon's client side: connections, identification, subscriptions,
 * muting and fan-out of events into the client rings. No sockets and no epoll in
 * here (daemon.c does the I/O), so that the control handler can be fuzzed and unit
 * tested as it is.
 *
 * Fan-out copies each event into every subscribed client's ring (one memcpy per
 * client; seq/class_seq are rewritten per client in the copy). It works per batch:
 * rf_broker_dispatch() appends the event to a staging area; the batch goes into the
 * recording with one copy and into each client's ring in one pass per client (its
 * ring state stays hot) when the stage is full or at rf_broker_flush(). bench/fanout.sh
 * measures it; docs/client-api.md says why it was chosen over one shared copy.
 */
#ifndef RF_BROKER_H
#define RF_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/manifest.h"
#include "daemon/ring_prod.h"
#include "ringfence/proto.h"
#include "ringfence/schema.h"

struct rf_path_list {
	char **v;
	uint16_t *len;
	uint32_t n, cap;
};

struct rf_proc_key {
	uint32_t pid;
	uint64_t start_ns; /* 0: any */
};

struct rf_mutes {
	struct rf_proc_key *procs;
	uint32_t nprocs, capprocs;
	struct rf_path_list exe_lit, exe_pre, tgt_lit, tgt_pre;
	uint32_t inverted; /* bit (1 << enum rf_mute_set) */
	uint32_t total;
};

struct rf_conn {
	int fd;              /* control socket; owned by daemon.c */
	pid_t pid;           /* SO_PEERCRED at accept */
	uid_t uid;
	gid_t gid;
	uint32_t id;
	uint32_t age_s;      /* ticks (seconds) since accept */
	bool identified;     /* HELLO accepted: has a ring */
	bool dead;           /* to be closed by the owner (corrupt ring, ...) */
	struct rf_manifest man; /* copy of the manifest it identified with */
	struct rf_ring_writer ring;
	uint64_t classes;    /* subscription */
	uint32_t modes;
	struct rf_mutes mutes;
	uint64_t seq;        /* per-client global sequence (last given) */
	uint64_t class_seq[RF_CLASSES_MAX];
	uint64_t delivered, dropped, muted, proto_errors;
	uint64_t class_delivered[RF_CLASSES_MAX], class_dropped[RF_CLASSES_MAX];
	uint64_t eps, last_delivered;
	/* AUTH (src/daemon/auth.c) */
	uint64_t auth_asked, auth_allowed, auth_denied, auth_late, deadline_misses;
	uint32_t auth_miss_run;  /* consecutive deadline misses */
	bool auth_demoted;       /* demoted to NOTIFY by the miss policy */
	uint32_t auth_lat_us[256]; /* last answer times (ring), for p50/p99 */
	uint32_t auth_nlat;
	uint64_t heartbeat_ns, heartbeats; /* last RF_MSG_HEARTBEAT (CLOCK_MONOTONIC) */
};

/* Hooks of the AUTH module (NULL when AUTH is off); the broker stays free of it so
 * that the control handler can be fuzzed on its own. */
struct rf_auth_hooks {
	void *ctx;
	void (*verdict)(void *ctx, struct rf_conn *c, const struct rf_msg_verdict *v);
	void (*conn_gone)(void *ctx, struct rf_conn *c);  /* before c is freed */
	void (*subs_changed)(void *ctx);                 /* AUTH subscriber set changed */
	void (*forget)(void *ctx);  /* an AUTH client's mutes changed, or it asked (CLEAR_CACHE): drop cached verdicts */
	void (*status)(void *ctx, struct rf_status_auth *out);
	/* `ringfence auth test`: 0 (the reply comes later through b->send) or an
	 * enum rf_error with a reason */
	int (*test)(void *ctx, struct rf_conn *c, uint32_t msg_id, uint32_t class_id,
		    const char *path, char *why, size_t whylen);
};

/* Hooks of the network policy (NULL when --net-policy is off). rule returns 0 or an
 * enum rf_error with a one-line reason in why. */
struct rf_net_hooks {
	void *ctx;
	int (*rule)(void *ctx, struct rf_conn *c, const struct rf_msg_netrule *r, char *why,
		    size_t whylen);
	void (*conn_gone)(void *ctx, struct rf_conn *c);
	void (*status)(void *ctx, struct rf_status_auth *out);
};

struct rf_supervisor;

struct rf_broker {
	struct rf_manifests manifests;
	struct rf_supervisor *sup; /* NULL: no supervisor (tests) */
	bool safe_mode;            /* only `vendor = platform` clients are admitted */
	int cpu;                   /* the CPU the daemon is pinned to (--cpu), -1: none */
	char config_dir[512];
	struct rf_conn *conns[RF_CLIENTS_MAX + RF_CTL_PENDING_MAX];
	size_t nconns;
	/* subscribers per class, rebuilt when a subscription changes */
	struct rf_conn *subs[RF_CLASSES_MAX][RF_CLIENTS_MAX];
	uint32_t nsubs[RF_CLASSES_MAX];
	/* AUTH subscribers per class (auth_exec, auth_open) */
	struct rf_conn *asubs[RF_CLASSES_MAX][RF_CLIENTS_MAX];
	uint32_t nasubs[RF_CLASSES_MAX];
	struct rf_auth_hooks auth;
	struct rf_net_hooks net;
	/* send a reply outside rf_broker_control (AUTH_RESULT); set by daemon.c */
	int (*send)(void *ctx, struct rf_conn *c, const void *buf, size_t len);
	void *send_ctx;
	/* per class: the Image and TargetFilename string fields (NULL: none) */
	const struct rf_field_desc *exe_field[RF_CLASSES_MAX], *target_field[RF_CLASSES_MAX];
	/* process table of the live sensor (NULL otherwise): the executable of events
	 * whose class carries none (fork, exit) for executable muting */
	struct rf_proctable *proctable;
	/* the last N seconds of events for the shadow run (NULL: not recorded) */
	struct rf_recent *recent;
	unsigned recent_window_s;
	uint32_t next_id;
	uint64_t start_ns;
	uint64_t source_events, source_per_s, last_source;
	uint64_t refused, disconnected, source_dropped;
	uint64_t dropped_total; /* events lost to full client rings since start (all clients) */
	char source_name[32];
	bool any_dead;
	/* the batch dispatched since the last flush: events back to back, each at a
	 * multiple of 8 bytes with zeroed padding (broker.c, fanout) */
	size_t stage_used;
	uint32_t stage_n;
	uint64_t stage_classes, stage_max_ts;
	_Alignas(8) unsigned char stage[RF_BROKER_STAGE_BYTES];
};
_Static_assert(RF_BROKER_STAGE_BYTES >= RF_EVENT_MAX, "the stage holds any one event");

/* Set up a broker with the given manifests (taken over; freed by rf_broker_fini). */
int rf_broker_init(struct rf_broker *b, struct rf_manifests *ms, const char *config_dir);
void rf_broker_fini(struct rf_broker *b);

/* A new control connection with its peer credentials; NULL when there are too many
 * unidentified ones (the caller closes the socket). */
struct rf_conn *rf_broker_conn_new(struct rf_broker *b, int fd, pid_t pid, uid_t uid, gid_t gid);
/* Forget a connection: unsubscribe, unmap its ring, free (the caller closes fd). */
void rf_broker_conn_free(struct rf_broker *b, struct rf_conn *c);

/*
 * Handle one control message (n bytes, as received) from c. Writes the reply into
 * out (outsz >= RF_BROKER_REPLY_MAX) and returns its length. When the reply carries
 * descriptors, *nfds is 2: fds[0] the ring memfd (the caller closes it after sending)
 * and fds[1] the eventfd (still owned by the ring). Never fails: malformed input gets
 * an RF_MSG_ERROR reply.
 */
#define RF_BROKER_REPLY_MAX (sizeof(struct rf_msg_status) + RF_CLIENTS_MAX * sizeof(struct rf_status_client))
size_t rf_broker_control(struct rf_broker *b, struct rf_conn *c, const void *buf, size_t n,
			 void *out, size_t outsz, int fds[2], int *nfds);

/* Hand one validated event to every subscribed client that has not muted it (staged:
 * written into the rings at the latest by the next rf_broker_flush). */
void rf_broker_dispatch(struct rf_broker *b, const struct rf_event_hdr *ev);
/* Write the staged events into the rings and the recording, publish and wake
 * sleeping clients; call after each batch. */
void rf_broker_flush(struct rf_broker *b);
/* Once a second: per-client and source events/s; clients whose ring tail is
 * impossible, and connections without HELLO for RF_CTL_HELLO_TIMEOUT_S, are marked
 * dead (the caller disconnects them). */
void rf_broker_tick(struct rf_broker *b);
/* Rebuild the per-class subscriber lists (after a mode change outside control). */
void rf_broker_resubscribe(struct rf_broker *b);
/* The identified, live connection with this id, or NULL. */
struct rf_conn *rf_broker_conn_by_id(struct rf_broker *b, uint32_t id);

/* Is ev muted for c? (exposed for tests) */
bool rf_broker_muted(const struct rf_broker *b, const struct rf_conn *c,
		     const struct rf_event_hdr *ev);

#endif
