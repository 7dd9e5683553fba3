// SPDX-License-Identifier: MIT
/* Unit tests of the daemon's rolling recording (src/daemon/recent.c): the window by
 * age and by memory, order, and the dump in the capture format. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/capture.h"
#include "daemon/recent.h"
#include "ringfence/limits.h"
#include "ringfence/schema.h"

#define SEC 1000000000ull
static _Alignas(8) unsigned char evbuf[RF_EVENT_MAX];

/* An exec event with sequence number SEQ at time TS whose exe is LEN bytes long. */
static const struct rf_event_hdr *ev_at(uint64_t seq, uint64_t ts, size_t len)
{
	struct rf_event_hdr *ev = (struct rf_event_hdr *)evbuf;
	static char exe[RF_PATH_MAX];

	assert_int_equal(rf_event_init(evbuf, sizeof(evbuf), RF_CLASS_PROCESS_EXEC), 0);
	memset(exe, 'x', len);
	exe[0] = '/';
	assert_int_equal(rf_event_set_str(ev, sizeof(evbuf),
					  rf_schema_field(RF_CLASS_PROCESS_EXEC, "exe"), exe, len), 0);
	ev->seq = seq;
	ev->ts_ns = ts;
	return ev;
}

/* Dump R and check it holds exactly the sequence numbers FIRST..LAST in order. */
static void dump_holds(struct rf_recent *r, uint64_t first, uint64_t last)
{
	char path[] = "/tmp/rf-recent-test.XXXXXX";
	struct rf_capture_reader *rd;
	struct rf_recent_stats st;
	const struct rf_event_hdr *ev;
	uint64_t want = first;
	char err[256];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rf_recent_dump(r, path, &st), 0);
	assert_int_equal(st.events, last - first + 1);
	assert_int_equal(rf_capture_open(path, &rd, err, sizeof(err)), 0);
	while (rf_capture_next(rd, &ev, err, sizeof(err)) == 1) {
		assert_int_equal(rf_event_validate(ev, ev->size, NULL), 0);
		assert_int_equal(ev->seq, want);
		want++;
	}
	assert_int_equal(want, last + 1);
	rf_capture_close(rd);
	unlink(path);
}

static void bounds_refused(void **state)
{
	struct rf_recent *r;

	(void)state;
	assert_int_equal(rf_recent_new(0, RF_RECENT_BYTES_DEFAULT, &r), -EINVAL);
	assert_null(r);
	assert_int_equal(rf_recent_new(30, RF_RECENT_BYTES_MIN - 1, &r), -EINVAL);
	assert_int_equal(rf_recent_new(30, RF_RECENT_BYTES_MAX + 1, &r), -EINVAL);
	rf_recent_free(NULL);
}

static void empty_dump(void **state)
{
	struct rf_recent *r;
	struct rf_recent_stats st;

	(void)state;
	assert_int_equal(rf_recent_new(30, RF_RECENT_BYTES_MIN, &r), 0);
	rf_recent_stats(r, &st);
	assert_int_equal(st.events, 0);
	assert_int_equal(st.oldest_ns, 0);
	dump_holds(r, 1, 0);
	rf_recent_free(r);
}

/* 1000 events a second for 10 s into a 3 s window: the last 3 s (and a bit, since
 * the newest counts as "now") are in the dump, oldest first; the rest is evicted. */
static void window_by_age(void **state)
{
	struct rf_recent *r;
	struct rf_recent_stats st;
	uint64_t i, t0 = 1700000000 * SEC;

	(void)state;
	assert_int_equal(rf_recent_new(3, 64ull << 20, &r), 0);
	for (i = 1; i <= 10000; i++)
		rf_recent_add(r, ev_at(i, t0 + i * (SEC / 1000), 2000));
	rf_recent_stats(r, &st);
	/* newest at t0+10 s: kept are ts >= t0+7 s, i.e. i >= 7000 */
	assert_int_equal(st.events, 3001);
	assert_int_equal(st.oldest_ns, t0 + 7000 * (SEC / 1000));
	assert_int_equal(st.newest_ns, t0 + 10000 * (SEC / 1000));
	assert_int_equal(st.recorded, 10000);
	assert_true(st.evicted > 0); /* whole chunks of old events went */
	dump_holds(r, 7000, 10000);
	rf_recent_free(r);
}

/* The memory bound wins over the window: 2 MiB keep at most two chunks' worth. */
static void window_by_memory(void **state)
{
	struct rf_recent *r;
	struct rf_recent_stats st;
	uint64_t i, t0 = 1700000000 * SEC;

	(void)state;
	assert_int_equal(rf_recent_new(3600, 2ull << 20, &r), 0);
	for (i = 1; i <= 20000; i++)
		rf_recent_add(r, ev_at(i, t0 + i, 1000));
	rf_recent_stats(r, &st);
	assert_true(st.bytes <= (2ull << 20));
	assert_true(st.bytes > (1ull << 20)); /* at least the full older chunk */
	assert_int_equal(st.events + st.evicted, 20000);
	dump_holds(r, 20000 - st.events + 1, 20000);
	rf_recent_free(r);
}

/* Events larger and smaller mixed, so that chunks end at different places. */
static void mixed_sizes(void **state)
{
	struct rf_recent *r;
	uint64_t i, t0 = 1700000000 * SEC;

	(void)state;
	assert_int_equal(rf_recent_new(60, 8ull << 20, &r), 0);
	for (i = 1; i <= 3000; i++)
		rf_recent_add(r, ev_at(i, t0 + i, 1 + (i * 7919) % 4000));
	dump_holds(r, 1, 3000);
	rf_recent_free(r);
}

/* Batches as the broker hands them over (back to back, 8-aligned): a batch that
 * straddles the end of a chunk is split at an event boundary, and the window and
 * the order are the same as when the events are added one by one. */
static void batches(void **state)
{
	static _Alignas(8) unsigned char batch[256 << 10];
	struct rf_recent *r;
	struct rf_recent_stats st;
	uint64_t i = 0, t0 = 1700000000 * SEC;

	(void)state;
	assert_int_equal(rf_recent_new(3600, 4ull << 20, &r), 0);
	while (i < 6000) {
		size_t used = 0;
		uint64_t n = 0, max_ts = 0;

		/* 1..97 events of 1..4000 path bytes per batch: batches of up to ~200 KiB */
		for (unsigned k = 0; k <= (i * 31) % 97 && i < 6000; k++) {
			const struct rf_event_hdr *ev;
			size_t need;

			i++;
			ev = ev_at(i, t0 + i, 1 + (i * 7919) % 4000);
			need = (ev->size + 7u) & ~(size_t)7u;

			if (used + need > sizeof(batch))
				break;
			memset(batch + used, 0, need);
			memcpy(batch + used, ev, ev->size);
			used += need;
			n++;
			max_ts = ev->ts_ns;
		}
		rf_recent_add_batch(r, batch, used, n, max_ts);
	}
	rf_recent_stats(r, &st);
	assert_int_equal(st.recorded, 6000);
	assert_int_equal(st.events + st.evicted, 6000);
	assert_true(st.bytes <= (4ull << 20));
	assert_true(st.evicted > 0); /* ~12 MiB went through 4 MiB */
	assert_int_equal(st.newest_ns, t0 + 6000);
	dump_holds(r, 6000 - st.events + 1, 6000);
	rf_recent_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bounds_refused),
		cmocka_unit_test(empty_dump),
		cmocka_unit_test(window_by_age),
		cmocka_unit_test(window_by_memory),
		cmocka_unit_test(mixed_sizes),
		cmocka_unit_test(batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
