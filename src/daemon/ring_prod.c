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
