// SPDX-License-Identifier: MIT
/* ring_prod.c: the daemon writes events into a client's ring. It never reads the
 * ring's records and never blocks: a full ring is a drop, a lying tail a corrupt
 * ring (the caller disconnects that client). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/ring_prod.h"

uint64_t rf_ring_size_round(uint64_t n)
{
	uint64_t s = RF_RING_MIN;

	while (s < n && s < RF_RING_MAX)
		s <<= 1;
	return s;
}

int rf_ring_writer_create(struct rf_ring_writer *w, uint64_t data_bytes)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->memfd = w->efd = -1;
	if (data_bytes < RF_RING_MIN || data_bytes > RF_RING_MAX || (data_bytes & (data_bytes - 1)))
		return -EINVAL;
	w->memfd = memfd_create("ringfence-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (w->memfd < 0)
		goto fail_errno;
	w->map_len = RF_RING_HDR_BYTES + data_bytes;
	if (ftruncate(w->memfd, (off_t)w->map_len) < 0)
		goto fail_errno;
	/* A client that could shrink the file would make our next write SIGBUS. */
	if (fcntl(w->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail_errno;
	w->map = mmap(NULL, w->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		      w->memfd, 0);
	if (w->map == MAP_FAILED) {
		w->map = NULL;
		goto fail_errno;
	}
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		goto fail_errno;
	w->hdr = w->map;
	w->data = (unsigned char *)w->map + RF_RING_HDR_BYTES;
	w->size = data_bytes;
	w->hdr->magic = RF_RING_MAGIC;
	w->hdr->version = RF_RING_VERSION;
	w->hdr->hdr_bytes = RF_RING_HDR_BYTES;
	w->hdr->data_bytes = data_bytes;
	return 0;
fail_errno:
	r = -errno;
	rf_ring_writer_destroy(w);
	return r;
}

int rf_ring_writer_put(struct rf_ring_writer *w, const struct rf_event_hdr *ev, size_t len,
		       uint64_t seq, uint64_t class_seq)
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

void rf_ring_writer_publish(struct rf_ring_writer *w)
{
	uint64_t one = 1;

	if (!w->dirty)
		return;
	w->dirty = false;
	__atomic_store_n(&w->hdr->written, w->written, __ATOMIC_RELAXED);
	__atomic_store_n(&w->hdr->dropped, w->dropped, __ATOMIC_RELAXED);
	__atomic_store_n(&w->hdr->head, w->head, __ATOMIC_RELEASE);
	/* Pairs with the consumer's fence after it sets `waiting` (ring.h). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w->hdr->waiting, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&w->hdr->waiting, 0u, __ATOMIC_SEQ_CST))
		(void)!write(w->efd, &one, sizeof(one)); /* non-blocking; EAGAIN: already woken */
}

uint64_t rf_ring_writer_used(struct rf_ring_writer *w)
{
	uint64_t t;

	if (!w->hdr)
		return 0;
	t = __atomic_load_n(&w->hdr->tail, __ATOMIC_ACQUIRE);
	if (t > w->head || w->head - t > w->size)
		return w->size; /* corrupt; reported elsewhere */
	return w->head - t;
}

int rf_ring_writer_check(struct rf_ring_writer *w)
{
	uint64_t t = __atomic_load_n(&w->hdr->tail, __ATOMIC_ACQUIRE);

	return t > w->head || w->head - t > w->size ? -EBADMSG : 0;
}

int rf_ring_writer_take_memfd(struct rf_ring_writer *w)
{
	int fd = w->memfd;

	w->memfd = -1;
	return fd;
}

void rf_ring_writer_destroy(struct rf_ring_writer *w)
{
	if (!w)
		return;
	if (w->map)
		munmap(w->map, w->map_len);
	if (w->memfd >= 0)
		close(w->memfd);
	if (w->efd >= 0)
		close(w->efd);
	memset(w, 0, sizeof(*w));
	w->memfd = w->efd = -1;
}
