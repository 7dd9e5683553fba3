/* SPDX-License-Identifier: MIT */
/*
 * ringfence/limits.h: every hard limit of the platform, in one place.
 *
 * Every value that input can influence (an event from the kernel, a capture file,
 * a client message, a content bundle, a rule) is checked against one of these.
 * Included by the eBPF programs too, so keep it to plain #defines.
 */
#ifndef RINGFENCE_LIMITS_H
#define RINGFENCE_LIMITS_H

/* Events */
#define RF_EVENT_MAX         32768u  /* bytes in one event, header and strings included */
#define RF_PATH_MAX          4096u   /* bytes of a path field, NUL included (PATH_MAX) */
#define RF_ARGV_MAX          4096u   /* bytes of argv kept, NULs included; more sets args_truncated */
#define RF_PATH_DEPTH_MAX    64u     /* path components the eBPF sensor walks; deeper is flagged partial */
#define RF_STR_FIELDS_MAX    32u     /* string fields in one event class */
#define RF_FIELDS_MAX        64u     /* fields in one event class */
#define RF_CLASSES_MAX       64u     /* event classes (class ids are 1..RF_CLASSES_MAX-1) */

/* Sensor */
#define RF_RINGBUF_BYTES     (16u << 20) /* kernel -> user ring buffer */
#define RF_PROC_TABLE_MAX    65536u  /* live + recently exited processes in the process table */
#define RF_PROC_EXITED_TTL_NS (5ull * 1000000000ull) /* how long an exited process stays for late lookups */
#define RF_USER_CACHE_MAX    1024u   /* uid -> name entries cached */

/* Capture files */
#define RF_CAPTURE_HEADER_MAX 4096u  /* bytes in a capture file header */

/* Broker: daemon <-> clients (ring.h, proto.h, ringfence.h) */
#define RF_CLIENTS_MAX       64u     /* clients connected at once (status lists them all) */
#define RF_CLIENT_NAME_MAX   64u     /* bytes of a client name, NUL included */
#define RF_MANIFESTS_MAX     256u    /* client manifests read from the config directory */
#define RF_MANIFEST_BYTES_MAX 16384u /* bytes of one manifest file */
#define RF_RING_MIN          (64u << 10)  /* smallest ring data area (power of two) */
#define RF_RING_MAX          (256u << 20) /* largest ring data area (power of two) */
#define RF_RING_DEFAULT      (4u << 20)   /* ring data area when the manifest names none */
#define RF_MUTE_MAX          1024u   /* mute entries of one kind per client */
#define RF_CTL_MSG_MAX       8192u   /* bytes of one control message from a client */
#define RF_CTL_PENDING_MAX   16u     /* control connections not yet identified (HELLO) */
#define RF_CTL_HELLO_TIMEOUT_S 5u    /* seconds an unidentified connection may stay open */
#define RF_CTL_REPLY_TIMEOUT_S 5u    /* seconds libringfence waits for the daemon to answer a request */
#define RF_REPLAY_EVENTS_MAX (1u << 22) /* events a replay source keeps in memory */

#endif /* RINGFENCE_LIMITS_H */
