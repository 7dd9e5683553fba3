/* SPDX-License-Identifier: MIT */
/* ring_prod.h: the producer side of a client ring (ringfence/ring.h), in the daemon. */
#ifndef RF_RING_PROD_H
#define RF_RING_PROD_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include "ringfence/event.h"
#include "ringfence/ring.h"

struct rf_ring_writer {
	struct rf_ring_hdr *hdr; /* shared: only head/written/dropped are written here */
	unsigned char *data;
	void *map;
	size_t map_len;
	uint64_t size;       /* data area bytes (power of two) */
	uint64_t head;       /* ours; published to hdr->head by rf_ring_writer_publish */
	uint64_t tail_cache; /* last tail read from the client, checked */
	uint64_t written, dropped;
	int memfd;           /* until handed to the client: rf_ring_writer_take_memfd */
	int efd;             /* eventfd, shared with the client */
	bool dirty;          /* records written since the last publish */
};

/* Create a ring with data_bytes (power of two in [RF_RING_MIN, RF_RING_MAX]) of data:
 * sealed memfd (no shrink, no grow), mapped and populated, and an eventfd. Returns 0
 * or -errno; on failure *w holds nothing. */
int rf_ring_writer_create(struct rf_ring_writer *w, uint64_t data_bytes);
/* Copy one event of len bytes into the ring, with hdr.seq and hdr.class_seq replaced.
 * Not visible to the client before rf_ring_writer_publish(). Returns 0, -ENOSPC when
 * the ring is full (nothing written), -EBADMSG when the client corrupted the tail. */
static inline int rf_ring_writer_put(struct rf_ring_writer *w, const struct rf_event_hdr *ev,
				     size_t len, uint64_t seq, uint64_t class_seq);
/* Make what was written visible and wake the client if it sleeps. */
void rf_ring_writer_publish(struct rf_ring_writer *w);
/* Bytes the client has not consumed yet (as far as we can tell). */
uint64_t rf_ring_writer_used(struct rf_ring_writer *w);
/* Check the tail the client published: 0, or -EBADMSG when it is impossible. */
int rf_ring_writer_check(struct rf_ring_writer *w);
/* The memfd, for passing to the client; the caller owns (and closes) it after. */
int rf_ring_writer_take_memfd(struct rf_ring_writer *w);
/* Unmap and close; accepts a writer after a failed create or a destroy (not a
 * merely zeroed struct: fd 0 would be closed). */
void rf_ring_writer_destroy(struct rf_ring_writer *w);

/* Round n up to a power of two within [RF_RING_MIN, RF_RING_MAX]. */
uint64_t rf_ring_size_round(uint64_t n);

/* Inline: the broker calls it once per event and client in its fan-out loop. */
static inline int rf_ring_writer_put(struct rf_ring_writer *w, const struct rf_event_hdr *ev,
				     size_t len, uint64_t seq, uint64_t class_seq)
{
	uint64_t need = RF_RING_ALIGN(sizeof(struct rf_ring_rec) + len);
	uint64_t pos = w->head & (w->size - 1), rest = w->size - pos;
	uint64_t total = need + (rest < need ? rest : 0);
	struct rf_ring_rec *rec;
	struct rf_event_hdr *e;

	if (w->size - (w->head - w->tail_cache) < total) {
		uint64_t t = __atomic_load_n(&w->hdr->tail, __ATOMIC_ACQUIRE);

		/* the counters start at 0 and never wrap (2^64 bytes): a tail ahead of the
		 * head, or more than a ring behind it, is a lie */
		if (t > w->head || w->head - t > w->size)
			return -EBADMSG;
		w->tail_cache = t;
		if (w->size - (w->head - t) < total) {
			w->dropped++;
			return -ENOSPC;
		}
	}
	if (rest < need) {
		rec = (struct rf_ring_rec *)(w->data + pos);
		rec->len = (uint32_t)(rest - sizeof(*rec));
		rec->kind = RF_REC_PAD;
		rec->reserved = 0;
		w->head += rest;
		pos = 0;
	}
	rec = (struct rf_ring_rec *)(w->data + pos);
	rec->len = (uint32_t)len;
	rec->kind = RF_REC_EVENT;
	rec->reserved = 0;
	e = (struct rf_event_hdr *)(rec + 1);
	memcpy(e, ev, len);
	e->seq = seq;
	e->class_seq = class_seq;
	w->head += need;
	w->written++;
	w->dirty = true;
	return 0;
}

#endif
