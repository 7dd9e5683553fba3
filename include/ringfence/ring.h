/* SPDX-License-Identifier: MIT */
/*
 * ringfence/ring.h: the shared-memory ring between the daemon and one client.
 *
 * One ring per client: a memfd the daemon creates, seals against shrinking and
 * growing, and passes to the client with SCM_RIGHTS (docs/client-api.md). Single
 * producer (the daemon), single consumer (the client). Layout of the mapping:
 *
 *   [0, RF_RING_HDR_BYTES)                   struct rf_ring_hdr
 *   [RF_RING_HDR_BYTES, + data_bytes)        data area, data_bytes a power of two
 *
 * head and tail are byte counters that only grow (never wrapped); the position in
 * the data area is counter & (data_bytes - 1). The data area holds records, each
 * aligned to 8 bytes: struct rf_ring_rec, then `len` bytes of payload, then padding
 * to the next multiple of 8. A record never wraps: when the rest of the data area is
 * too short, the producer writes an RF_REC_PAD record that fills it exactly. An
 * RF_REC_EVENT record holds one event in the wire format of ringfence/event.h, with
 * seq and class_seq rewritten for this client (gaps = this client's drops).
 *
 * Neither side trusts the other's half: the consumer keeps its own copy of the
 * tail and checks every record length against the data area and the head before it
 * touches a byte (lib/ring.c); the producer keeps its own head, checks the tail it
 * reads (a tail that is ahead of the head or more than data_bytes behind means a
 * corrupt ring: the daemon disconnects that client), and never reads records.
 * Sizes are taken from the control message and fstat(), never from this header.
 *
 * Wake-ups: the consumer sets `waiting` before it sleeps on the eventfd and checks
 * the head once more; the producer, after publishing a new head, clears `waiting`
 * and writes the eventfd when it was set.
 */
#ifndef RINGFENCE_RING_H
#define RINGFENCE_RING_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "ringfence/limits.h"

#define RF_RING_MAGIC     0x31474e4952465252ull /* "RRFRING1", little endian */
#define RF_RING_VERSION   1u
#define RF_RING_HDR_BYTES 4096u

enum rf_ring_rec_kind {
	RF_REC_EVENT = 1, /* payload: one event (struct rf_event_hdr ...) */
	RF_REC_PAD = 2,   /* skip to the end of the data area */
};

struct rf_ring_rec {
	__u32 len;      /* payload bytes after this header (padding not included) */
	__u16 kind;     /* enum rf_ring_rec_kind */
	__u16 reserved; /* 0 */
};
_Static_assert(sizeof(struct rf_ring_rec) == 8, "ring record header");

struct rf_ring_hdr {
	/* Written once by the daemon before the ring is handed over. */
	__u64 magic;       /* RF_RING_MAGIC */
	__u32 version;     /* RF_RING_VERSION */
	__u32 hdr_bytes;   /* RF_RING_HDR_BYTES */
	__u64 data_bytes;  /* power of two, RF_RING_MIN..RF_RING_MAX */
	__u8 _pad0[40];
	/* Producer cache line: written by the daemon only. */
	__u64 head;        /* bytes ever written (store-release after the record) */
	__u64 written;     /* events written into this ring (informational copy) */
	__u64 dropped;     /* events dropped because the ring was full (informational copy) */
	__u8 _pad1[40];
	/* Consumer cache line: written by the client. */
	__u64 tail;        /* bytes ever consumed (store-release after the client is done) */
	__u32 waiting;     /* 1: the consumer sleeps on the eventfd and wants a write */
	__u32 _pad2;
	__u8 _pad3[48];
};
_Static_assert(sizeof(struct rf_ring_hdr) == 192, "ring header layout");
_Static_assert(__builtin_offsetof(struct rf_ring_hdr, head) == 64, "ring head offset");
_Static_assert(__builtin_offsetof(struct rf_ring_hdr, tail) == 128, "ring tail offset");

#define RF_RING_ALIGN(n) (((n) + 7ull) & ~7ull)

#endif /* RINGFENCE_RING_H */
