/* SPDX-License-Identifier: MIT */
/*
 * ringfence/proto.h: the control protocol between a client and the daemon.
 *
 * Transport: a Unix SOCK_SEQPACKET socket (default /run/ringfence/ringfence.sock), one
 * message per packet, at most RF_CTL_MSG_MAX bytes from a client. Every message
 * starts with struct rf_msg_hdr; hdr.size is the whole message and must equal the
 * packet length. Requests carry an id that the reply repeats. All integers are in
 * host byte order (the socket is local). Reserved fields must be 0, so that later
 * versions can give them meaning. rf_proto_parse() (lib/proto.c) checks all of it;
 * both ends call it on everything they receive.
 *
 * Conversation:
 *   client HELLO -> daemon WELCOME + SCM_RIGHTS {ring memfd, eventfd}  | ERROR
 *   client SUBSCRIBE / MUTE / INVERT -> OK | ERROR
 *   client STATS_REQ -> STATS
 *   STATUS_REQ (no HELLO; peer uid 0 or the daemon's uid) -> STATUS
 *   client VERDICT (the answer to an AUTH request, docs/auth.md) -> no reply: it is
 *   fire-and-forget so that answering costs one send; a bad or late verdict is
 *   counted (STATS, STATUS), never answered.
 *   client HEARTBEAT -> OK (the supervisor's liveness signal, docs/supervisor.md)
 * An ERROR reply names an enum rf_error code (documented in docs/client-api.md).
 */
#ifndef RINGFENCE_PROTO_H
#define RINGFENCE_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "ringfence/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RF_PROTO_MAGIC 0x4652u /* "RF" */

/* Subscription modes (also the manifest's `modes`). */
#define RF_SUB_NOTIFY 0x1u /* events are delivered after the fact */
#define RF_SUB_AUTH   0x2u /* permission requests with a deadline (auth_exec, auth_open) */
#define RF_SUB_ALL    (RF_SUB_NOTIFY | RF_SUB_AUTH)

enum rf_msg_type {
	RF_MSG_HELLO = 1,
	RF_MSG_WELCOME = 2,
	RF_MSG_ERROR = 3,
	RF_MSG_OK = 4,
	RF_MSG_SUBSCRIBE = 5,
	RF_MSG_MUTE = 6,
	RF_MSG_INVERT = 7,
	RF_MSG_STATS_REQ = 8,
	RF_MSG_STATS = 9,
	RF_MSG_STATUS_REQ = 10,
	RF_MSG_STATUS = 11,
	RF_MSG_VERDICT = 12,   /* answer to an AUTH request; no reply */
	RF_MSG_HEARTBEAT = 13, /* reserved for the supervisor (issue 6) */
	RF_MSG_NETRULE = 14,   /* add a network deny rule, or clear the client's rules */
	RF_MSG_AUTH_TEST = 15, /* `ringfence auth test PATH` (root): ask the AUTH clients */
	RF_MSG_AUTH_RESULT = 16, /* ... their verdicts, after the last answer or the deadline */
	RF_MSG_RECENT_REQ = 17, /* root: the daemon's recording of the last N seconds */
	RF_MSG_RECENT = 18,     /* ... its figures, the capture file as a descriptor */
	RF_MSG_CLEAR_CACHE = 19, /* an AUTH client: forget every cached verdict; reply OK */
	RF_MSG_TYPE_END
};

/* Error codes in RF_MSG_ERROR; libringfence maps each to one errno (ringfence.h). */
enum rf_error {
	RF_E_PROTO = 1,          /* malformed message */
	RF_E_ABI = 2,            /* ABI version or struct size not supported */
	RF_E_UNKNOWN_CLIENT = 3, /* no manifest with this name */
	RF_E_IDENTITY = 4,       /* the peer's uid or executable does not match the manifest */
	RF_E_NOT_ENTITLED = 5,   /* class or mode not in the manifest's entitlements */
	RF_E_LIMIT = 6,          /* a bound of limits.h was hit (mute entries, ...) */
	RF_E_TOO_MANY = 7,       /* RF_CLIENTS_MAX clients are connected already */
	RF_E_STATE = 8,          /* message not valid now (e.g. SUBSCRIBE before HELLO) */
	RF_E_UNSUPPORTED = 9,    /* known message or mode not implemented (AUTH for now) */
	RF_E_INTERNAL = 10,      /* the daemon failed (out of memory, memfd, ...) */
	RF_E_END
};

struct rf_msg_hdr {
	uint16_t magic; /* RF_PROTO_MAGIC */
	uint16_t type;  /* enum rf_msg_type */
	uint32_t size;  /* bytes of the whole message, this header included */
	uint32_t id;    /* request id; a reply repeats it */
	uint32_t reserved;
};
_Static_assert(sizeof(struct rf_msg_hdr) == 16, "control header");

struct rf_msg_hello {
	struct rf_msg_hdr hdr;
	uint32_t abi_version;          /* RF_ABI_VERSION of the client library */
	uint32_t ring_bytes;           /* wanted data area; 0: the manifest's */
	char name[RF_CLIENT_NAME_MAX]; /* manifest name, NUL-terminated */
};

struct rf_msg_welcome {
	struct rf_msg_hdr hdr;
	uint32_t abi_version;     /* the daemon's */
	uint32_t client_id;       /* the daemon's number for this connection */
	uint64_t data_bytes;      /* ring data area; the memfd is RF_RING_HDR_BYTES + this */
	uint64_t entitled_classes; /* bit (1 << class id) */
	uint32_t entitled_modes;  /* RF_SUB_NOTIFY | RF_SUB_AUTH */
	/* 1 + the CPU the daemon's event loop is pinned to (`daemon --cpu N`), at most
	 * RF_CPU_MAX; 0: not pinned (was `reserved`, always 0) */
	uint32_t cpu_plus_one;
};

struct rf_msg_error {
	struct rf_msg_hdr hdr;
	int32_t code;  /* enum rf_error */
	int32_t reserved;
	char msg[160]; /* one line, NUL-terminated */
};

struct rf_msg_subscribe {
	struct rf_msg_hdr hdr;
	uint64_t classes; /* bit (1 << class id); replaces the previous set; 0 = none */
	uint32_t modes;   /* RF_SUB_NOTIFY and/or RF_SUB_AUTH */
	uint32_t reserved;
};

enum rf_mute_op { RF_MUTE_OP_ADD = 1, RF_MUTE_OP_REMOVE = 2, RF_MUTE_OP_CLEAR = 3 };
enum rf_mute_kind {
	RF_MUTE_PROCESS = 1,        /* pid + start_ns (start_ns 0: any process with the pid) */
	RF_MUTE_EXE_LITERAL = 2,    /* executable path, exact */
	RF_MUTE_EXE_PREFIX = 3,     /* executable path, prefix */
	RF_MUTE_TARGET_LITERAL = 4, /* target path, exact */
	RF_MUTE_TARGET_PREFIX = 5,  /* target path, prefix */
};
/* Which muting an INVERT message turns around. */
enum rf_mute_set { RF_MUTESET_PROCESS = 1, RF_MUTESET_EXE = 2, RF_MUTESET_TARGET = 3 };

struct rf_msg_mute {
	struct rf_msg_hdr hdr;
	uint16_t op;       /* enum rf_mute_op */
	uint16_t kind;     /* enum rf_mute_kind */
	uint32_t pid;      /* RF_MUTE_PROCESS */
	uint64_t start_ns; /* RF_MUTE_PROCESS */
	uint32_t path_len; /* path kinds with ADD/REMOVE: bytes that follow, NUL included */
	uint32_t reserved;
	/* char path[path_len]: absolute, NUL-terminated, no other NUL, <= RF_PATH_MAX */
};

struct rf_msg_invert {
	struct rf_msg_hdr hdr;
	uint16_t set; /* enum rf_mute_set */
	uint16_t on;  /* 0 or 1 */
	uint32_t reserved;
};

struct rf_msg_stats {
	struct rf_msg_hdr hdr;
	uint64_t delivered;       /* events written into the ring */
	uint64_t dropped;         /* events for this client dropped because its ring was full */
	uint64_t muted;           /* events not sent because of muting */
	uint64_t deadline_misses; /* AUTH (issue 5); 0 until then */
	uint64_t ring_used;       /* bytes in the ring not yet consumed */
	uint64_t ring_bytes;      /* data area */
	uint32_t nclasses;        /* entries used in the arrays (RF_CLASSES_MAX) */
	uint32_t reserved;
	uint64_t class_delivered[RF_CLASSES_MAX];
	uint64_t class_dropped[RF_CLASSES_MAX];
};

/* RF_MSG_VERDICT: the answer to one AUTH request (auth_exec, auth_open). */
#define RF_VERDICT_ALLOW 1u
#define RF_VERDICT_DENY  2u
#define RF_VERDICT_F_CACHE 0x1u /* the verdict may be cached for this file until it changes */
struct rf_msg_verdict {
	struct rf_msg_hdr hdr;
	uint64_t request_id; /* the event's request_id */
	uint32_t verdict;    /* RF_VERDICT_ALLOW or RF_VERDICT_DENY */
	uint32_t flags;      /* RF_VERDICT_F_* */
};
_Static_assert(sizeof(struct rf_msg_verdict) == 32, "verdict message");

/* RF_MSG_NETRULE: a network deny rule enforced in the kernel (docs/auth.md). The
 * rule lives as long as the client's connection. Answered with OK or ERROR. */
#define RF_NETRULE_ADD   1u
#define RF_NETRULE_CLEAR 2u  /* remove all of this client's rules; other fields 0 */
#define RF_NETRULE_CONNECT 0x1u
#define RF_NETRULE_BIND    0x2u
struct rf_msg_netrule {
	struct rf_msg_hdr hdr;
	uint16_t op;        /* RF_NETRULE_ADD or RF_NETRULE_CLEAR */
	uint16_t family;    /* 2 (AF_INET) or 10 (AF_INET6) */
	uint8_t prefix;     /* 0..32 or 0..128; address bits past it must be 0 */
	uint8_t protocol;   /* 0 any, 6 TCP, 17 UDP */
	uint8_t direction;  /* RF_NETRULE_CONNECT and/or RF_NETRULE_BIND */
	uint8_t reserved0;
	uint16_t port;      /* host order; 0 any */
	uint16_t reserved1;
	uint8_t addr[16];   /* network order; IPv4 in addr[0..3], the rest 0 */
	uint32_t reserved2;
};
_Static_assert(sizeof(struct rf_msg_netrule) == 48, "netrule message");

/* RF_MSG_AUTH_TEST: a dry-run request (test = 1 in the event) for one path. No HELLO
 * needed; peer uid 0 or the daemon's. Answered with AUTH_RESULT (or ERROR). */
struct rf_msg_auth_test {
	struct rf_msg_hdr hdr;
	uint32_t class_id;  /* RF_CLASS_AUTH_EXEC or RF_CLASS_AUTH_OPEN */
	uint32_t path_len;  /* bytes that follow, NUL included */
	/* char path[path_len]: absolute, NUL-terminated, <= RF_PATH_MAX */
};

#define RF_AUTH_RES_ALLOW  1u
#define RF_AUTH_RES_DENY   2u
#define RF_AUTH_RES_MISSED 3u /* no answer by the deadline (the default would stand in) */
#define RF_AUTH_RES_MUTED  4u /* muted the request: not asked */
#define RF_AUTH_RES_GONE   5u /* disconnected before answering */
struct rf_auth_result_entry {
	char name[RF_CLIENT_NAME_MAX];
	uint32_t client_id;
	uint32_t result;    /* RF_AUTH_RES_* */
	uint32_t answer_us; /* time to the answer */
	uint32_t cacheable; /* 1: the answer was marked cacheable */
};
struct rf_msg_auth_result {
	struct rf_msg_hdr hdr;
	uint32_t verdict;    /* combined: RF_VERDICT_ALLOW or RF_VERDICT_DENY (defaults applied) */
	uint32_t nclients;
	uint32_t entry_size; /* sizeof(struct rf_auth_result_entry) */
	uint32_t fail_closed; /* the path is configured fail-closed */
	/* struct rf_auth_result_entry[nclients] */
};

/* RF_MSG_RECENT: the reply to RECENT_REQ (no HELLO needed; peer uid 0 or the
 * daemon's). A sealed memfd holding the recording in the capture format
 * (docs/capture-format.md) comes with it as SCM_RIGHTS. */
struct rf_msg_recent {
	struct rf_msg_hdr hdr;
	uint64_t events;    /* in the capture */
	uint64_t bytes;
	uint64_t oldest_ns; /* ts_ns of the first and last event (0: empty) */
	uint64_t newest_ns;
	uint32_t window_s;  /* the daemon's recording window */
	uint32_t reserved;
};
_Static_assert(sizeof(struct rf_msg_recent) == 56, "recent message");

/* One client in RF_MSG_STATUS. */
struct rf_status_client {
	uint32_t client_id;
	uint32_t pid;
	uint32_t uid;
	uint32_t modes;            /* subscribed modes */
	char name[RF_CLIENT_NAME_MAX];
	uint64_t classes;          /* subscribed classes */
	uint64_t delivered, dropped, muted, deadline_misses;
	uint64_t events_per_s;     /* delivered in the last full second */
	uint64_t ring_used, ring_bytes;
	uint32_t mutes;            /* mute entries, all kinds */
	uint32_t inverted;         /* bit (1 << enum rf_mute_set) */
	uint64_t auth_asked;       /* AUTH requests sent to this client */
	uint64_t auth_allowed, auth_denied; /* its verdicts in time */
	uint64_t auth_late;        /* verdicts that came after the deadline (ignored) */
	uint64_t auth_p50_us, auth_p99_us; /* its answer time (request sent -> verdict) */
	uint32_t auth_demoted;     /* 1: demoted to NOTIFY for missing deadlines */
	uint32_t reserved2;
	/* supervisor (docs/supervisor.md); sup_state 0 for clients it did not start.
	 * A started client that is not connected is listed with client_id 0. */
	uint32_t sup_state;        /* 1 running, 2 restarting (backoff), 3 quarantined, 4 stopped */
	uint32_t restarts;
	uint32_t crashes;
	uint32_t crash_loops;
	uint32_t rollbacks;
	uint32_t stalls;           /* killed for no progress or no heartbeat */
	int32_t last_signal;       /* signal of the last crash, 0 none */
	int32_t last_exit;         /* exit status of the last exit, -1 none */
	uint64_t recover_ms;       /* last time from a first crash to healthy again */
	uint32_t incidents;        /* refused actions reported (sandbox denials, limits, ...) */
	uint32_t reserved3;
};

/* AUTH totals in RF_MSG_STATUS. */
struct rf_status_auth {
	uint64_t requests;      /* permission events from the kernel */
	uint64_t exempt;        /* allowed at once: the daemon, its supervisor, its clients */
	uint64_t unasked;       /* allowed at once: no AUTH client subscribed (or all muted) */
	uint64_t cache_hits, cache_misses, cache_invalidated;
	uint64_t allowed, denied;
	uint64_t deadline_misses; /* client answers replaced by the default verdict */
	uint64_t overflow;      /* requests answered with the default because the table was full */
	uint64_t pending;       /* requests waiting now */
	uint64_t p50_us, p99_us, max_us; /* kernel request -> answer, asked requests */
	uint32_t deadline_exec_ms, deadline_open_ms;
	uint32_t marks;         /* marked mounts */
	uint32_t net_rules;     /* network deny rules in the kernel */
	uint64_t net_blocked;   /* connects and binds they refused */
	uint64_t net_unreported; /* ... of which the report was lost (ring buffer full) */
	/* kernel-level verdict cache: fanotify ignore marks (docs/auth.md). Hits there
	 * never reach the daemon and are not counted anywhere. */
	uint32_t kcache_on;      /* 1: ignore marks are in use */
	uint32_t kcache_marks;   /* added since the last flush (an upper bound of those alive) */
	uint64_t kcache_added;   /* ignore marks added in all */
	uint64_t kcache_flushes; /* all marks dropped (verdicts could change, or the bound) */
	uint64_t kcache_full;    /* ... of which because RF_AUTH_KMARKS_MAX was reached */
	uint64_t kcache_raced;   /* marks taken back: the file changed while it was judged */
	uint64_t covered;        /* opens covered by their exec's verdict, answered unasked */
	/* daemon-side round trip (fanotify event read -> response written), over the last
	 * RF_AUTH_RT_RING requests of each kind: [RF_AUTH_RT_*] */
	struct rf_status_auth_rt {
		uint64_t n;         /* requests of this kind in all */
		uint32_t p50_ns, p99_ns, max_ns, reserved;
	} rt[4];
};
/* rf_status_auth.rt[] */
enum { RF_AUTH_RT_EXEC = 0, RF_AUTH_RT_OPEN = 1, RF_AUTH_RT_COVERED = 2, RF_AUTH_RT_HIT = 3 };

struct rf_msg_status {
	struct rf_msg_hdr hdr;
	uint32_t nclients;     /* entries that follow */
	uint32_t entry_size;   /* sizeof(struct rf_status_client) of the daemon */
	uint64_t uptime_ns;
	uint64_t source_events; /* events the source produced */
	uint64_t source_per_s;  /* in the last full second */
	uint64_t refused;       /* connections refused (identity, entitlement, limits) */
	uint64_t disconnected;  /* clients dropped for a protocol error or a corrupt ring */
	uint64_t source_dropped; /* events the source lost before the daemon saw them
				  * (the kernel ring was full; sensor only) */
	uint32_t flags;         /* RF_STATUS_* */
	uint32_t reserved;
	char source[32];        /* "sensor", "replay", "synthetic" */
	struct rf_status_auth auth;
	/* struct rf_status_client[nclients], entry_size bytes each */
};

/* rf_msg_status.flags */
#define RF_STATUS_SAFE_MODE   0x1u  /* no third-party clients, last known good content */
#define RF_STATUS_SECCOMP     0x2u  /* started clients get a seccomp allowlist */
#define RF_STATUS_LANDLOCK    0x4u  /* ... Landlock */
#define RF_STATUS_CGROUP      0x8u  /* ... a cgroup v2 each */
#define RF_STATUS_CGROUP_CPU  0x10u /* ... with cpu.max */
#define RF_STATUS_CGROUP_MEM  0x20u /* ... with memory.max */

/* RF_MSG_OK, RF_MSG_STATS_REQ, RF_MSG_STATUS_REQ, RF_MSG_HEARTBEAT, RF_MSG_RECENT_REQ,
 * RF_MSG_CLEAR_CACHE: the header alone. */

/* A parsed message: the header, the fixed part of its type copied into aligned
 * storage, and for MUTE the path (pointing into the caller's buffer). */
struct rf_msg {
	struct rf_msg_hdr hdr;
	union {
		struct rf_msg_hello hello;
		struct rf_msg_welcome welcome;
		struct rf_msg_error error;
		struct rf_msg_subscribe subscribe;
		struct rf_msg_mute mute;
		struct rf_msg_invert invert;
		struct rf_msg_stats stats;
		struct rf_msg_status status;
		struct rf_msg_verdict verdict;
		struct rf_msg_netrule netrule;
		struct rf_msg_auth_test auth_test;
		struct rf_msg_auth_result auth_result;
		struct rf_msg_recent recent;
	} u;
	const char *path;              /* MUTE with a path, AUTH_TEST */
	const unsigned char *entries;  /* STATUS, AUTH_RESULT: nclients * entry_size bytes in the buffer */
};

/*
 * Check one received message (n bytes at buf) completely: header magic, size equal
 * to n, known type, exact size for fixed-size types, reserved fields zero, enums in
 * range, strings NUL-terminated, mute paths absolute and within RF_PATH_MAX, status
 * entries within the message. Fills *out (which may point into buf for paths and
 * status entries). Returns 0, or -EBADMSG with a static reason in *why (may be NULL).
 */
__attribute__((warn_unused_result))
int rf_proto_parse(const void *buf, size_t n, struct rf_msg *out, const char **why);

/* Name of a message type or error code, for messages ("?" when unknown). */
const char *rf_proto_type_name(unsigned type);
const char *rf_proto_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif /* RINGFENCE_PROTO_H */
