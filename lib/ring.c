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

void rf_ring_reader_release(struct rf_ring_reader *r)
{
	r->tail += r->release;
	r->release = 0;
	rf_ring_publish_tail_(r);
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

int rf_ring_corrupt_(struct rf_ring_reader *r, const char **why, const char *reason)
{
	r->corrupt = true;
	*why = reason;
	return -EBADMSG;
}
