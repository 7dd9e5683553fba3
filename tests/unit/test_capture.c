// SPDX-License-Identifier: MIT
/* Unit tests of the capture format: round trip and every rejection path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "capture/capture.h"
#include "ringfence/schema.h"

static _Alignas(8) unsigned char evbuf[RF_EVENT_MAX];

static struct rf_event_hdr *make_exec(uint32_t pid, const char *exe)
{
	struct rf_event_hdr *ev = (struct rf_event_hdr *)evbuf;

	assert_int_equal(rf_event_init(evbuf, sizeof(evbuf), RF_CLASS_PROCESS_EXEC), 0);
	ev->pid = pid;
	ev->seq = pid;
	assert_int_equal(rf_event_set_str(ev, sizeof(evbuf), rf_schema_field(RF_CLASS_PROCESS_EXEC, "exe"),
					  exe, strlen(exe)), 0);
	assert_int_equal(rf_event_set_str(ev, sizeof(evbuf), rf_schema_field(RF_CLASS_PROCESS_EXEC, "args"),
					  "a\0b", 3), 0);
	return ev;
}

/* Write a capture of n events to a memory image; the caller frees *out. */
static size_t make_capture(int n, unsigned char **out)
{
	char path[] = "/tmp/rf-captest.XXXXXX";
	struct rf_capture_writer *w;
	int fd = mkstemp(path), i;
	FILE *f;
	long len;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rf_capture_create(path, &w), 0);
	for (i = 1; i <= n; i++)
		assert_int_equal(rf_capture_write(w, make_exec((uint32_t)i, "/usr/bin/x")), 0);
	assert_int_equal(rf_capture_writer_close(w), 0);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	*out = malloc((size_t)len);
	assert_int_equal(fread(*out, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(path);
	return (size_t)len;
}

/* Read all events; returns the count, or the negative error with its message. */
static int read_all(const unsigned char *buf, size_t len, char *err, size_t errlen)
{
	struct rf_capture_reader *r;
	const struct rf_event_hdr *ev;
	int n = 0, k;

	k = rf_capture_open_mem(buf, len, &r, err, errlen);
	if (k < 0)
		return k;
	while ((k = rf_capture_next(r, &ev, err, errlen)) > 0)
		n++;
	rf_capture_close(r);
	return k < 0 ? k : n;
}

static void test_round_trip(void **state)
{
	unsigned char *img;
	size_t len = make_capture(3, &img);
	struct rf_capture_reader *r;
	const struct rf_event_hdr *ev;
	const char *s;
	size_t sl;
	char err[256];
	int i;

	assert_int_equal(rf_capture_open_mem(img, len, &r, err, sizeof(err)), 0);
	assert_true(rf_capture_schema_hash(r) == rf_schema_hash());
	assert_true(rf_capture_start_ns(r) > 0);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(rf_capture_next(r, &ev, err, sizeof(err)), 1);
		assert_int_equal(ev->pid, i);
		assert_int_equal(rf_event_str(ev, rf_schema_field(RF_CLASS_PROCESS_EXEC, "exe"), &s, &sl), 0);
		assert_string_equal(s, "/usr/bin/x");
	}
	assert_int_equal(rf_capture_next(r, &ev, err, sizeof(err)), 0);
	rf_capture_close(r);
	/* an empty capture (header only) is valid */
	free(img);
	len = make_capture(0, &img);
	assert_int_equal(read_all(img, len, err, sizeof(err)), 0);
	free(img);
	rf_capture_close(NULL);
	assert_int_equal(rf_capture_writer_close(NULL), 0);
}

static void expect_error(const unsigned char *img, size_t len, const char *needle)
{
	char err[256] = "";

	assert_true(read_all(img, len, err, sizeof(err)) < 0);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

static void test_rejections(void **state)
{
	unsigned char *img, *bad;
	size_t len = make_capture(2, &img);
	size_t rec1 = 64, rec1_len;
	uint32_t v;

	memcpy(&v, img + rec1, 4);
	rec1_len = v;
	bad = malloc(len);

	expect_error(img, 0, "offset 0");                  /* empty */
	expect_error(img, 5, "offset 0: not a ringfence"); /* shorter than the magic */
	memcpy(bad, img, len);
	bad[0] = 'X';
	expect_error(bad, len, "offset 0: not a ringfence capture");
	expect_error(img, 40, "offset 40: truncated header");
	memcpy(bad, img, len);
	bad[8] = 99;
	expect_error(bad, len, "offset 8: capture format version 99");
	memcpy(bad, img, len);
	bad[10] = 10; bad[11] = 0; /* header size 10 */
	expect_error(bad, len, "offset 10: header size");
	memcpy(bad, img, len);
	bad[24] ^= 1; /* schema hash */
	expect_error(bad, len, "offset 24: recorded with event schema");
	expect_error(img, rec1 + 3, "offset 64: truncated record header");
	memcpy(bad, img, len);
	v = 3; memcpy(bad + rec1, &v, 4);
	expect_error(bad, len, "offset 64: record length 3 out of range");
	memcpy(bad, img, len);
	v = RF_EVENT_MAX + 1; memcpy(bad + rec1, &v, 4);
	expect_error(bad, len, "offset 64: record length");
	expect_error(img, rec1 + 8 + 20, "offset 64: truncated record");
	memcpy(bad, img, len);
	bad[rec1 + 8 + 40] ^= 0x55; /* payload byte: checksum */
	expect_error(bad, len, "offset 64: corrupt record (checksum mismatch)");
	/* a record with a valid checksum but an invalid event: class 0 */
	memcpy(bad, img, len);
	bad[rec1 + 8 + 2] = 0; bad[rec1 + 8 + 3] = 0;
	v = (uint32_t)crc32(0, bad + rec1 + 8, (uInt)rec1_len);
	memcpy(bad + rec1 + 4, &v, 4);
	expect_error(bad, len, "offset 72: invalid event (unknown event class)");
	/* event size field disagreeing with the record length */
	memcpy(bad, img, len);
	bad[rec1 + 8] -= 1;
	v = (uint32_t)crc32(0, bad + rec1 + 8, (uInt)rec1_len);
	memcpy(bad + rec1 + 4, &v, 4);
	expect_error(bad, len, "offset 72: invalid event");
	/* the second record's problems name its own offset */
	expect_error(img, len - 1, "truncated record");
	{
		char err[256];
		char want[64];
		snprintf(want, sizeof(want), "offset %zu:", rec1 + 8 + rec1_len);
		assert_true(read_all(img, len - 1, err, sizeof(err)) < 0);
		if (!strstr(err, want))
			fail_msg("'%s' does not name %s", err, want);
	}
	/* a missing file */
	{
		struct rf_capture_reader *r;
		char err[256];
		assert_true(rf_capture_open("/nonexistent/x", &r, err, sizeof(err)) < 0);
		assert_non_null(strstr(err, "cannot open"));
	}
	free(bad);
	free(img);
}

static void test_writer_rejects_bad_event(void **state)
{
	char path[] = "/tmp/rf-captest.XXXXXX";
	struct rf_capture_writer *w;
	struct rf_event_hdr h = {.size = 4, .class_id = 1};
	int fd = mkstemp(path);

	close(fd);
	assert_int_equal(rf_capture_create(path, &w), 0);
	assert_int_equal(rf_capture_write(w, &h), -EINVAL);
	assert_int_equal(rf_capture_writer_close(w), 0);
	unlink(path);
	assert_true(rf_capture_create("/nonexistent/dir/x", &w) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_writer_rejects_bad_event),
	};
	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
