// SPDX-License-Identifier: MIT
/*
 * ring.c: the consumer side of the client ring. Every length that comes from the
 * shared mapping is checked against our own copies of the data size and the tail
 * before a byte is read: a corrupted or hostile ring makes rf_ring_read() return
 * -EBADMSG, never read outside the mapping.
 */
#include <errno.h>
#include <string.h>

#include "ring_int.h"
#include "ringfence/schema.h"

int rf_ring_reader_init(struct rf_ring_reader *r, void *map, size_t map_len,
			uint64_t data_bytes, const char **why)
{
	const struct rf_ring_hdr *h = map;
	const char *dummy;

	if (!why)
		why = &dummy;
	memset(r, 0, sizeof(*r));
	if (!map || data_bytes < RF_RING_MIN || data_bytes > RF_RING_MAX ||
	    (data_bytes & (data_bytes - 1))) {
		*why = "ring size out of range or not a power of two";
		return -EBADMSG;
	}
	if (map_len < RF_RING_HDR_BYTES || map_len - RF_RING_HDR_BYTES < data_bytes) {
		*why = "ring mapping smaller than its header and data area";
		return -EBADMSG;
	}
	if (h->magic != RF_RING_MAGIC || h->version != RF_RING_VERSION ||
	    h->hdr_bytes != RF_RING_HDR_BYTES || h->data_bytes != data_bytes) {
		*why = "ring header: bad magic, version or sizes";
		return -EBADMSG;
	}
	r->hdr = map;
	r->data = (const unsigned char *)map + RF_RING_HDR_BYTES;
	r->size = data_bytes;
	r->tail = __atomic_load_n(&r->hdr->tail, __ATOMIC_ACQUIRE);
	r->head = r->published = r->tail;
	if (r->tail & 7) {
		*why = "ring tail not aligned";
		return -EBADMSG;
	}
	*why = NULL;
	return 0;
}

static void publish_tail(struct rf_ring_reader *r)
{
	if (r->published != r->tail) {
		r->published = r->tail;
		__atomic_store_n(&r->hdr->tail, r->tail, __ATOMIC_RELEASE);
	}
}

void rf_ring_reader_release(struct rf_ring_reader *r)
{
	r->tail += r->release;
	r->release = 0;
	publish_tail(r);
}

bool rf_ring_reader_pending(const struct rf_ring_reader *r)
{
	return __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE) != r->tail + r->release;
}

void rf_ring_reader_set_waiting(struct rf_ring_reader *r, bool waiting)
{
	__atomic_store_n(&r->hdr->waiting, waiting ? 1u : 0u, __ATOMIC_SEQ_CST);
	/* Pairs with the producer's fence between publishing the head and reading this
	 * flag: either it sees waiting=1, or we see its new head afterwards. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static int corrupt(struct rf_ring_reader *r, const char **why, const char *reason)
{
	r->corrupt = true;
	*why = reason;
	return -EBADMSG;
}

int rf_ring_read(struct rf_ring_reader *r, const struct rf_event_hdr **ev, const char **why)
{
	const char *dummy, *vwhy;
	uint64_t avail, pos, rest, need;
	struct rf_ring_rec rec;
	const struct rf_event_hdr *e;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (r->corrupt)
		return corrupt(r, why, "ring was found corrupt before");
	/* Give back the last event. The tail is stored into the mapping only every
	 * 1/16 of the ring, or when the ring is empty: fewer writes to the cache line
	 * the producer reads. */
	r->tail += r->release;
	r->release = 0;
	if (r->tail - r->published >= r->size / 16)
		publish_tail(r);
	for (;;) {
		if (r->tail == r->head) {
			/* The head is read only when we caught up with our last copy. */
			r->head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
			if (r->head == r->tail) {
				publish_tail(r);
				return 0;
			}
			/* unsigned: a head behind the tail is huge */
			if (r->head - r->tail > r->size || (r->head & 7))
				return corrupt(r, why, "ring head out of range");
		}
		avail = r->head - r->tail;
		pos = r->tail & (r->size - 1);
		rest = r->size - pos; /* >= 8: everything is 8-aligned */
		memcpy(&rec, r->data + pos, sizeof(rec));
		if (rec.kind == RF_REC_PAD) {
			if (rec.len != rest - sizeof(rec) || rest > avail)
				return corrupt(r, why, "ring padding record does not end the data area");
			r->tail += rest;
			continue;
		}
		if (rec.kind != RF_REC_EVENT || rec.reserved)
			return corrupt(r, why, "ring record of unknown kind");
		if (rec.len < sizeof(struct rf_event_hdr) || rec.len > RF_EVENT_MAX)
			return corrupt(r, why, "ring record length out of range");
		need = RF_RING_ALIGN(sizeof(rec) + (uint64_t)rec.len);
		if (need > rest || need > avail)
			return corrupt(r, why, "ring record runs past the data area or the head");
		e = (const struct rf_event_hdr *)(r->data + pos + sizeof(rec));
		if (rf_event_validate(e, rec.len, &vwhy) < 0)
			return corrupt(r, why, vwhy ? vwhy : "invalid event in ring");
		if (e->size != rec.len)
			return corrupt(r, why, "event size differs from its ring record");
		if (r->last_seq && e->seq > r->last_seq + 1)
			r->gaps += e->seq - r->last_seq - 1;
		r->last_seq = e->seq;
		r->release = need;
		*ev = e;
		return 1;
	}
}
