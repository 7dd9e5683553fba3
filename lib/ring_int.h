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
/* Give back the event handed out last, then take the next one: 1 and *ev, 0 when
 * the ring is empty, -EBADMSG when the ring is corrupt (sticky; why says what). */
int rf_ring_read(struct rf_ring_reader *r, const struct rf_event_hdr **ev, const char **why);
/* Give back the event handed out last (also done by rf_ring_read). */
void rf_ring_reader_release(struct rf_ring_reader *r);
/* True when the head has moved past our tail (events or padding waiting). */
bool rf_ring_reader_pending(const struct rf_ring_reader *r);
/* Announce that we are about to sleep (1) or are awake (0); see ring.h. */
void rf_ring_reader_set_waiting(struct rf_ring_reader *r, bool waiting);

#endif
