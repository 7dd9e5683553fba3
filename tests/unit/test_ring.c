// SPDX-License-Identifier: MIT
/* Unit tests of the client ring: producer (src/daemon/ring_prod.c) and the
 * consumer (lib/ring.c), including every way the consumer refuses a corrupt ring. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/ring_prod.h"
#include "ring_int.h"
#include "ringfence/schema.h"

static struct rf_ev_process_fork fork_ev(uint32_t pid)
{
	struct rf_ev_process_fork e;

	memset(&e, 0, sizeof(e));
	e.hdr.size = sizeof(e);
	e.hdr.class_id = RF_CLASS_PROCESS_FORK;
	e.hdr.pid = pid;
	e.child_pid = pid + 1;
	return e;
}

struct pair {
	struct rf_ring_writer w;
	struct rf_ring_reader r;
};

static struct pair *pair_new(void)
{
	struct pair *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_int_equal(rf_ring_writer_create(&p->w, RF_RING_MIN), 0);
	assert_int_equal(rf_ring_reader_init(&p->r, p->w.map, p->w.map_len, RF_RING_MIN, NULL), 0);
	return p;
}

static void pair_free(struct pair *p)
{
	rf_ring_writer_destroy(&p->w);
	free(p);
}

static void test_roundtrip_seq_rewritten(void **state)
{
	struct pair *p = pair_new();
	struct rf_ev_process_fork e = fork_ev(42);
	const struct rf_event_hdr *got;

	e.hdr.seq = 999;
	assert_int_equal(rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), 1, 1), 0);
	assert_int_equal(rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), 2, 7), 0);
	/* not published yet: nothing visible */
	assert_int_equal(rf_ring_read(&p->r, &got, NULL), 0);
	rf_ring_writer_publish(&p->w);
	assert_int_equal(rf_ring_read(&p->r, &got, NULL), 1);
	assert_int_equal(got->seq, 1);
	assert_int_equal(got->pid, 42);
	assert_int_equal(rf_ring_read(&p->r, &got, NULL), 1);
	assert_int_equal(got->seq, 2);
	assert_int_equal(got->class_seq, 7);
	assert_int_equal(rf_ring_read(&p->r, &got, NULL), 0);
	assert_int_equal(p->r.gaps, 0);
	assert_int_equal(rf_ring_writer_used(&p->w), 0);
	pair_free(p);
}

/* Fill, drop, drain, wrap with padding, many times: every event arrives once, in
 * order, and drops are exactly the puts that failed. */
static void test_full_drop_and_wrap(void **state)
{
	struct pair *p = pair_new();
	struct rf_ev_process_fork e = fork_ev(1);
	const struct rf_event_hdr *got;
	uint64_t seq = 0, ok = 0, dropped = 0, readn = 0, round;

	for (round = 0; round < 50; round++) {
		int r;
		/* write until full */
		for (;;) {
			seq++;
			r = rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), seq, seq);
			if (r)
				break;
			ok++;
		}
		assert_int_equal(r, -ENOSPC);
		dropped++;
		rf_ring_writer_publish(&p->w);
		/* read about half, so that the write position moves around the ring */
		uint64_t want = (ok - readn) / 2 + round % 7;
		while (want-- && rf_ring_read(&p->r, &got, NULL) == 1)
			readn++;
	}
	while ((rf_ring_read(&p->r, &got, NULL)) == 1)
		readn++;
	assert_int_equal(readn, ok);
	assert_int_equal(p->w.dropped, dropped);
	/* each drop is one missing seq, seen when a later event arrives: all but the last */
	assert_int_equal(p->r.gaps, dropped - 1);
	pair_free(p);
}

static void test_variable_sizes_wrap(void **state)
{
	struct pair *p = pair_new();
	static unsigned char buf[RF_EVENT_MAX];
	struct rf_ev_process_exec *x = (struct rf_ev_process_exec *)buf;
	const struct rf_event_hdr *got;
	uint64_t i, readn = 0, ok = 0;

	for (i = 0; i < 2000; i++) {
		size_t slen = (i * 977) % 3000 + 1;
		memset(buf, 0, sizeof(*x));
		x->hdr.class_id = RF_CLASS_PROCESS_EXEC;
		x->exe.off = sizeof(*x);
		x->exe.len = (uint16_t)slen;
		memset(buf + sizeof(*x), 'a', slen);
		buf[sizeof(*x)] = '/';
		buf[sizeof(*x) + slen] = 0;
		x->hdr.size = (uint16_t)(sizeof(*x) + slen + 1);
		if (rf_ring_writer_put(&p->w, &x->hdr, x->hdr.size, ok + 1, 1) == 0)
			ok++;
		rf_ring_writer_publish(&p->w);
		if (i % 3 == 0)
			while (rf_ring_read(&p->r, &got, NULL) == 1) {
				assert_int_equal(got->seq, readn + 1);
				readn++;
			}
	}
	while (rf_ring_read(&p->r, &got, NULL) == 1)
		readn++;
	assert_int_equal(readn, ok);
	assert_true(ok > 100);
	pair_free(p);
}

/* Write one valid event, then break something; the reader must refuse, and stay
 * refusing. */
static void corrupt_case(void (*breakit)(struct pair *p), const char *what)
{
	struct pair *p = pair_new();
	struct rf_ev_process_fork e = fork_ev(5);
	const struct rf_event_hdr *got;
	const char *why = NULL;

	assert_int_equal(rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), 1, 1), 0);
	rf_ring_writer_publish(&p->w);
	breakit(p);
	if (rf_ring_read(&p->r, &got, &why) != -EBADMSG)
		fail_msg("corrupt ring not refused: %s", what);
	assert_non_null(why);
	assert_int_equal(rf_ring_read(&p->r, &got, NULL), -EBADMSG);
	pair_free(p);
}

static struct rf_ring_rec *rec0(struct pair *p) { return (struct rf_ring_rec *)p->w.data; }
static void br_head_far(struct pair *p) { p->w.hdr->head = RF_RING_MIN * 3; }
static void br_head_misaligned(struct pair *p) { p->w.hdr->head = 3; }
static void br_head_behind(struct pair *p) { p->r.tail = p->r.head = 80; p->w.hdr->head = 8; }
static void br_len_huge(struct pair *p) { rec0(p)->len = 0xfffffff0u; }
static void br_len_small(struct pair *p) { rec0(p)->len = 4; }
static void br_len_past_head(struct pair *p) { rec0(p)->len = 200; }
static void br_kind(struct pair *p) { rec0(p)->kind = 9; }
static void br_reserved(struct pair *p) { rec0(p)->reserved = 1; }
static void br_pad_short(struct pair *p) { rec0(p)->kind = RF_REC_PAD; rec0(p)->len = 8; }
static void br_event_class(struct pair *p) { ((struct rf_event_hdr *)(rec0(p) + 1))->class_id = 63; }
static void br_event_size(struct pair *p) { ((struct rf_event_hdr *)(rec0(p) + 1))->size = 64; }
static void br_len_past_end(struct pair *p)
{
	/* a record at the very end that claims to run past the data area */
	p->r.tail = p->r.head = RF_RING_MIN - 16;
	p->w.hdr->head = RF_RING_MIN + 64;
	struct rf_ring_rec *r = (struct rf_ring_rec *)(p->w.data + RF_RING_MIN - 16);
	r->kind = RF_REC_EVENT;
	r->len = 72;
}

static void test_corrupt_rings_refused(void **state)
{
	corrupt_case(br_head_far, "head more than a ring ahead");
	corrupt_case(br_head_misaligned, "head not aligned");
	corrupt_case(br_head_behind, "head behind the tail");
	corrupt_case(br_len_huge, "record length huge");
	corrupt_case(br_len_small, "record shorter than an event header");
	corrupt_case(br_len_past_head, "record past the head");
	corrupt_case(br_kind, "unknown record kind");
	corrupt_case(br_reserved, "reserved field set");
	corrupt_case(br_pad_short, "padding that does not reach the end");
	corrupt_case(br_event_class, "event of an unknown class");
	corrupt_case(br_event_size, "event size differs from the record");
	corrupt_case(br_len_past_end, "record past the end of the data area");
}

static void test_reader_init_refuses(void **state)
{
	struct pair *p = pair_new();
	struct rf_ring_reader r;
	const char *why;

	assert_int_equal(rf_ring_reader_init(&r, p->w.map, p->w.map_len - 1, RF_RING_MIN, &why), -EBADMSG);
	assert_int_equal(rf_ring_reader_init(&r, p->w.map, p->w.map_len, RF_RING_MIN * 2, &why), -EBADMSG);
	assert_int_equal(rf_ring_reader_init(&r, p->w.map, p->w.map_len, RF_RING_MIN + 8, &why), -EBADMSG);
	assert_int_equal(rf_ring_reader_init(&r, NULL, p->w.map_len, RF_RING_MIN, &why), -EBADMSG);
	p->w.hdr->magic ^= 1;
	assert_int_equal(rf_ring_reader_init(&r, p->w.map, p->w.map_len, RF_RING_MIN, &why), -EBADMSG);
	p->w.hdr->magic ^= 1;
	p->w.hdr->version = 2;
	assert_int_equal(rf_ring_reader_init(&r, p->w.map, p->w.map_len, RF_RING_MIN, &why), -EBADMSG);
	p->w.hdr->version = RF_RING_VERSION;
	p->w.hdr->tail = 3;
	assert_int_equal(rf_ring_reader_init(&r, p->w.map, p->w.map_len, RF_RING_MIN, &why), -EBADMSG);
	p->w.hdr->tail = 0;
	assert_int_equal(rf_ring_reader_init(&r, p->w.map, p->w.map_len, RF_RING_MIN, &why), 0);
	pair_free(p);
}

/* The producer refuses a tail the client corrupted (never trusts it for space). */
static void test_writer_refuses_bad_tail(void **state)
{
	struct pair *p = pair_new();
	struct rf_ev_process_fork e = fork_ev(5);
	int r;

	while ((r = rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), 1, 1)) == 0)
		;
	assert_int_equal(r, -ENOSPC);
	p->w.hdr->tail = p->w.head + 8; /* ahead of the head */
	assert_int_equal(rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), 1, 1), -EBADMSG);
	p->w.hdr->tail = (uint64_t)-4096; /* "far behind" */
	assert_int_equal(rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), 1, 1), -EBADMSG);
	assert_int_equal(rf_ring_writer_create(&p->w, RF_RING_MIN + 1) , -EINVAL);
	pair_free(p);
	/* nearly empty ring, tail "ahead" by wrapping around 2^64: caught by the
	 * once-a-second check as well */
	p = pair_new();
	assert_int_equal(rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), 1, 1), 0);
	assert_int_equal(rf_ring_writer_check(&p->w), 0);
	p->w.hdr->tail = (uint64_t)-4096;
	assert_int_equal(rf_ring_writer_check(&p->w), -EBADMSG);
	assert_int_equal(rf_ring_writer_used(&p->w), RF_RING_MIN);
	p->w.hdr->tail = p->w.head + 8;
	assert_int_equal(rf_ring_writer_check(&p->w), -EBADMSG);
	p->w.hdr->tail = 0;
	assert_int_equal(rf_ring_writer_check(&p->w), 0);
	pair_free(p);
}

static void test_wakeup_flag(void **state)
{
	struct pair *p = pair_new();
	struct rf_ev_process_fork e = fork_ev(5);
	uint64_t cnt = 0;

	rf_ring_reader_set_waiting(&p->r, true);
	assert_int_equal(rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), 1, 1), 0);
	rf_ring_writer_publish(&p->w);
	assert_int_equal(p->w.hdr->waiting, 0);
	assert_int_equal(read(p->w.efd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_int_equal(cnt, 1);
	/* not waiting: no write */
	assert_int_equal(rf_ring_writer_put(&p->w, &e.hdr, sizeof(e), 2, 2), 0);
	rf_ring_writer_publish(&p->w);
	assert_int_equal(read(p->w.efd, &cnt, sizeof(cnt)), -1);
	pair_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_seq_rewritten),
		cmocka_unit_test(test_full_drop_and_wrap),
		cmocka_unit_test(test_variable_sizes_wrap),
		cmocka_unit_test(test_corrupt_rings_refused),
		cmocka_unit_test(test_reader_init_refuses),
		cmocka_unit_test(test_writer_refuses_bad_tail),
		cmocka_unit_test(test_wakeup_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
