// SPDX-License-Identifier: MIT
/*
 * fanout_modes: the two ways to fan events out to N clients, measured on the same
 * machine in one process (a producer thread, N consumer threads, no daemon, no
 * sockets), lossless (the producer waits for space) so that only the cost of the
 * transport is compared:
 *   copy:    each event is copied into each consumer's ring (what ringfence does;
 *            the real rf_ring_writer / rf_ring_reader code);
 *   indexed: each event is written once into a shared ring, and each consumer gets a
 *            16-byte index entry {offset, seq}; the shared ring's space is freed by
 *            the slowest consumer (here it waits; a real broker would have to drop
 *            or invalidate entries, see docs/client-api.md).
 * Consumers validate every event (rf_event_validate) in both modes.
 *   fanout_modes copy|indexed NCONSUMERS small|exec COUNT
 * Prints: mode, consumers, event bytes, M events/s per consumer, wall ns per event.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/ring_prod.h"
#include "daemon/source.h"
#include "ring_int.h"
#include "ringfence/schema.h"

#define MAXC 64
#define IDX_SLOTS (1u << 16)

struct idx_ring {
	struct { uint64_t off, seq; } *e;
	uint64_t head __attribute__((aligned(64)));
	uint64_t tail __attribute__((aligned(64)));
	uint64_t data_pos __attribute__((aligned(64))); /* consumed up to, in the data ring */
};

static int indexed;
static unsigned n;
static uint64_t count;
static struct rf_ring_writer w[MAXC], shared;
static struct rf_ring_reader rd[MAXC];
static struct idx_ring ix[MAXC];
static uint64_t got[MAXC];
static const struct rf_event_hdr *tmpl;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *consumer(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	const struct rf_event_hdr *ev;
	uint64_t sink = 0;

	while (got[k] < count) {
		if (!indexed) {
			int r = rf_ring_read(&rd[k], &ev, NULL);
			if (r < 0)
				abort();
			if (r == 0) {
				sched_yield();
				continue;
			}
			sink += ev->seq;
			got[k]++;
			continue;
		}
		struct idx_ring *x = &ix[k];
		uint64_t h = __atomic_load_n(&x->head, __ATOMIC_ACQUIRE), t = x->tail;
		if (h == t) {
			sched_yield();
			continue;
		}
		for (; t != h; t++) {
			uint64_t off = x->e[t & (IDX_SLOTS - 1)].off, pos = off & (shared.size - 1);
			struct rf_ring_rec rec;
			memcpy(&rec, shared.data + pos, sizeof(rec));
			if (rec.kind != RF_REC_EVENT || rec.len > RF_EVENT_MAX ||
			    pos + RF_RING_ALIGN(sizeof(rec) + rec.len) > shared.size)
				abort();
			ev = (const struct rf_event_hdr *)(shared.data + pos + sizeof(rec));
			if (rf_event_validate(ev, rec.len, NULL) < 0)
				abort();
			sink += x->e[t & (IDX_SLOTS - 1)].seq;
			got[k]++;
			__atomic_store_n(&x->data_pos, off + RF_RING_ALIGN(sizeof(rec) + rec.len),
					 __ATOMIC_RELEASE);
		}
		__atomic_store_n(&x->tail, t, __ATOMIC_RELEASE);
	}
	return (void *)(uintptr_t)sink;
}

static void produce(void)
{
	uint64_t i, seq;
	unsigned k;

	for (i = 0; i < count; i++) {
		seq = i + 1;
		if (!indexed) {
			for (k = 0; k < n; k++) {
				while (rf_ring_writer_put(&w[k], tmpl, tmpl->size, seq, seq) == -ENOSPC) {
					rf_ring_writer_publish(&w[k]);
					sched_yield();
				}
				if ((i & 63) == 63)
					rf_ring_writer_publish(&w[k]);
			}
			continue;
		}
		for (;;) { /* space in the shared ring: freed by the slowest consumer */
			uint64_t min = shared.head;
			for (k = 0; k < n; k++) {
				uint64_t p = __atomic_load_n(&ix[k].data_pos, __ATOMIC_ACQUIRE);
				if (p < min)
					min = p;
			}
			shared.hdr->tail = min;
			if (rf_ring_writer_put(&shared, tmpl, tmpl->size, seq, seq) == 0)
				break;
			sched_yield();
		}
		uint64_t off = shared.head - RF_RING_ALIGN(sizeof(struct rf_ring_rec) + tmpl->size);
		for (k = 0; k < n; k++) {
			while (ix[k].head - __atomic_load_n(&ix[k].tail, __ATOMIC_ACQUIRE) >= IDX_SLOTS)
				sched_yield();
			ix[k].e[ix[k].head & (IDX_SLOTS - 1)].off = off;
			ix[k].e[ix[k].head & (IDX_SLOTS - 1)].seq = seq;
			if ((i & 63) == 63)
				__atomic_store_n(&ix[k].head, ix[k].head + 1, __ATOMIC_RELEASE);
			else
				ix[k].head++;
		}
	}
	for (k = 0; k < n; k++) {
		rf_ring_writer_publish(&w[k]);
		__atomic_store_n(&ix[k].head, ix[k].head, __ATOMIC_RELEASE);
	}
}

static void save(const struct rf_event_hdr *ev, void *ctx)
{
	if (!tmpl) {
		void *p = malloc(ev->size);
		memcpy(p, ev, ev->size);
		tmpl = p;
	}
}

int main(int argc, char **argv)
{
	pthread_t th[MAXC];
	struct rf_source *src;
	uint64_t t0, t1, next;
	char err[128];
	unsigned k;

	if (argc != 5)
		return 2;
	indexed = !strcmp(argv[1], "indexed");
	n = (unsigned)atoi(argv[2]);
	count = strtoull(argv[4], NULL, 10);
	if (n < 1 || n > MAXC)
		return 2;
	if (rf_source_synthetic(1ull << (!strcmp(argv[3], "exec") ? RF_CLASS_PROCESS_EXEC
								   : RF_CLASS_PROCESS_FORK),
				0, 1, &src, err, sizeof(err)) < 0)
		return 1;
	rf_source_pump(src, 1, 1, save, NULL, &next);
	for (k = 0; k < n; k++) {
		if (!indexed) {
			if (rf_ring_writer_create(&w[k], 1u << 20) < 0 ||
			    rf_ring_reader_init(&rd[k], w[k].map, w[k].map_len, w[k].size, NULL) < 0)
				return 1;
		} else {
			ix[k].e = calloc(IDX_SLOTS, sizeof(*ix[k].e));
		}
	}
	if (indexed && rf_ring_writer_create(&shared, 1u << 20) < 0)
		return 1;
	t0 = now_ns();
	for (k = 0; k < n; k++)
		pthread_create(&th[k], NULL, consumer, (void *)(uintptr_t)k);
	produce();
	for (k = 0; k < n; k++)
		pthread_join(th[k], NULL);
	t1 = now_ns();
	printf("%-7s %2u consumer(s), %3u-byte events: %6.2f M events/s per consumer, %6.1f ns wall time per event\n",
	       indexed ? "indexed" : "copy", n, tmpl->size, count * 1e3 / (double)(t1 - t0),
	       (double)(t1 - t0) / count);
	rf_source_free(src);
	return 0;
}
