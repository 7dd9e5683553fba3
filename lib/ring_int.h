/* SPDX-License-Identifier: MIT */
/* ring_int.h: the consumer side of the client ring (ringfence/ring.h), private to
 * libringfence and its tests. The reader trusts nothing in the mapping but the
 * bytes of the events it hands out after checking them. */
#ifndef RF_RING_INT_H
#define RF_RING_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ringfence/event.h"
#include "ringfence/ring.h"
#include "schema_int.h"

struct rf_ring_reader {
	struct rf_ring_hdr *hdr;  /* shared */
	const unsigned char *data; /* shared data area */
	uint64_t size;            /* our copy of data_bytes (from the control message) */
	uint64_t tail;            /* our copy of the tail: never read back from the mapping */
	uint64_t release;         /* bytes of the event handed out, given back on the next read */
	uint64_t head;            /* last head read from the mapping (checked) */
	uint64_t published;       /* tail last stored into the mapping */
	uint64_t last_seq;        /* hdr.seq of the last event (0: none yet) */
	uint64_t gaps;            /* events missing according to hdr.seq */
	bool corrupt;             /* sticky: once the ring lied, it is never read again */
};

/* Attach to a mapping of map_len bytes holding a ring with data_bytes of data.
 * Checks magic, version, header size and that the mapping is large enough. Returns 0
 * or -EBADMSG (why: static reason). */
int rf_ring_reader_init(struct rf_ring_reader *r, void *map, size_t map_len,
			uint64_t data_bytes, const char **why);
/* Give back the event handed out last (also done by rf_ring_read). */
void rf_ring_reader_release(struct rf_ring_reader *r);
/* True when the head has moved past our tail (events or padding waiting). */
bool rf_ring_reader_pending(const struct rf_ring_reader *r);
/* Announce that we are about to sleep (1) or are awake (0); see ring.h. */
void rf_ring_reader_set_waiting(struct rf_ring_reader *r, bool waiting);

/* Marks the ring corrupt (sticky), sets *why, returns -EBADMSG. */
int rf_ring_corrupt_(struct rf_ring_reader *r, const char **why, const char *reason);

static inline void rf_ring_publish_tail_(struct rf_ring_reader *r)
{
	if (r->published != r->tail) {
		r->published = r->tail;
		__atomic_store_n(&r->hdr->tail, r->tail, __ATOMIC_RELEASE);
	}
}

/*
 * Give back the event handed out last, then take the next one: 1 and *ev, 0 when
 * the ring is empty, -EBADMSG when the ring is corrupt (sticky; why says what).
 * Inline: it runs once per event, and its checks are the bounds of everything the
 * client reads. Every length comes from the shared mapping and is checked against
 * our own copies of the data size, tail and head before a byte is read.
 */
static inline __attribute__((always_inline)) int
rf_ring_read(struct rf_ring_reader *r, const struct rf_event_hdr **ev,
			       const char **why)
{
	const char *dummy, *vwhy;
	uint64_t avail, pos, rest, need;
	struct rf_ring_rec rec;
	const struct rf_event_hdr *e;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (r->corrupt)
		return rf_ring_corrupt_(r, why, "ring was found corrupt before");
	/* Give back the last event. The tail is stored into the mapping only every
	 * 1/16 of the ring, or when the ring is empty: fewer writes to the cache line
	 * the producer reads. */
	r->tail += r->release;
	r->release = 0;
	if (r->tail - r->published >= r->size / 16)
		rf_ring_publish_tail_(r);
	for (;;) {
		if (r->tail == r->head) {
			/* The head is read only when we caught up with our last copy. */
			r->head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
			if (r->head == r->tail) {
				rf_ring_publish_tail_(r);
				return 0;
			}
			/* unsigned: a head behind the tail is huge */
			if (r->head - r->tail > r->size || (r->head & 7))
				return rf_ring_corrupt_(r, why, "ring head out of range");
		}
		avail = r->head - r->tail;
		pos = r->tail & (r->size - 1);
		rest = r->size - pos; /* >= 8: everything is 8-aligned */
		memcpy(&rec, r->data + pos, sizeof(rec));
		if (rec.kind == RF_REC_PAD) {
			if (rec.len != rest - sizeof(rec) || rest > avail)
				return rf_ring_corrupt_(r, why, "ring padding record does not end the data area");
			r->tail += rest;
			continue;
		}
		if (rec.kind != RF_REC_EVENT || rec.reserved)
			return rf_ring_corrupt_(r, why, "ring record of unknown kind");
		if (rec.len < sizeof(struct rf_event_hdr) || rec.len > RF_EVENT_MAX)
			return rf_ring_corrupt_(r, why, "ring record length out of range");
		need = RF_RING_ALIGN(sizeof(rec) + (uint64_t)rec.len);
		if (need > rest || need > avail)
			return rf_ring_corrupt_(r, why, "ring record runs past the data area or the head");
		e = (const struct rf_event_hdr *)(r->data + pos + sizeof(rec));
		if (rf_event_validate_inline(e, rec.len, &vwhy) < 0)
			return rf_ring_corrupt_(r, why, vwhy ? vwhy : "invalid event in ring");
		if (e->size != rec.len)
			return rf_ring_corrupt_(r, why, "event size differs from its ring record");
		if (r->last_seq && e->seq > r->last_seq + 1)
			r->gaps += e->seq - r->last_seq - 1;
		r->last_seq = e->seq;
		r->release = need;
		*ev = e;
		return 1;
	}
}

#endif
