// SPDX-License-Identifier: MIT
/* Unit tests of JSON and text output. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ringfence/json.h"
#include "ringfence/schema.h"

static _Alignas(8) unsigned char buf[RF_EVENT_MAX];
static char out[RF_JSON_MAX];

static void set(struct rf_event_hdr *ev, const char *f, const char *v, size_t len)
{
	assert_int_equal(rf_event_set_str(ev, sizeof(buf), rf_schema_field(ev->class_id, f), v, len), 0);
}

static void test_exec_json(void **state)
{
	struct rf_event_hdr *ev = (struct rf_event_hdr *)buf;
	struct rf_ev_process_exec *x = (void *)buf;

	rf_event_init(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC);
	ev->seq = 7;
	ev->ts_ns = 1700000000123456789ull;
	ev->pid = 42;
	x->ppid = 1;
	x->uid = 1000;
	set(ev, "exe", "/usr/bin/printf", 15);
	set(ev, "args", "printf\0a \"q\"\0tab\there", 21);
	set(ev, "user", "alice", 5);
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "{\"class\":\"process_exec\",\"seq\":7,"));
	assert_non_null(strstr(out, "\"ts\":\"2023-11-14T22:13:20.123456789Z\""));
	/* every part zero-padded: 1970-01-02 03:04:05 plus 6 ns */
	ev->ts_ns = (86400ull + 3 * 3600 + 4 * 60 + 5) * 1000000000ull + 6;
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"ts\":\"1970-01-02T03:04:05.000000006Z\""));
	ev->ts_ns = 1700000000123456789ull;
	/* numbers: one digit, two, three, the largest */
	ev->start_ns = UINT64_MAX;
	ev->tid = 100;
	x->gid = 10;
	x->euid = 9;
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"start_time\":18446744073709551615,"));
	assert_non_null(strstr(out, "\"tid\":100,"));
	assert_non_null(strstr(out, "\"gid\":10,"));
	assert_non_null(strstr(out, "\"euid\":9,"));
	assert_non_null(strstr(out, "\"pid\":42,"));
	assert_non_null(strstr(out, "\"ppid\":1,"));
	assert_non_null(strstr(out, "\"uid\":1000,"));
	assert_non_null(strstr(out, "\"user\":\"alice\""));
	assert_non_null(strstr(out, "\"exe\":\"/usr/bin/printf\""));
	assert_non_null(strstr(out, "\"args\":[\"printf\",\"a \\\"q\\\"\",\"tab\\there\"]"));
	assert_non_null(strstr(out, "\"cmdline\":\"printf a \\\"q\\\" tab\\there\""));
	assert_non_null(strstr(out, "\"args_truncated\":false"));
	assert_non_null(strstr(out, "\"cwd\":\"\""));
	assert_non_null(strstr(out, "\"flags\":[]}"));
	assert_null(strstr(out, "degraded"));
	ev->flags |= RF_EVF_DEGRADED | RF_EVF_TRUNCATED;
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"flags\":[\"degraded\",\"truncated\"],\"degraded\":true}"));
	/* too small a buffer says so */
	assert_int_equal(rf_event_to_json(ev, out, 40), -ENOSPC);
	assert_true(rf_event_to_text(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "process_exec"));
	assert_non_null(strstr(out, "alice /usr/bin/printf printf a \"q\" tab?here"));
	assert_non_null(strstr(out, "[degraded]"));
}

static void test_escaping(void **state)
{
	char o[64];

	assert_int_equal(rf_json_escape("a\"b\\c", 5, o, sizeof(o)), 9);
	assert_string_equal(o, "\"a\\\"b\\\\c\"");
	rf_json_escape("\x01\n", 2, o, sizeof(o));
	assert_string_equal(o, "\"\\u0001\\n\"");
	rf_json_escape("\xc3\xa9", 2, o, sizeof(o)); /* valid UTF-8 passes */
	assert_string_equal(o, "\"\xc3\xa9\"");
	rf_json_escape("\xff\xc3", 2, o, sizeof(o)); /* invalid bytes are escaped */
	assert_string_equal(o, "\"\\u00ff\\u00c3\"");
	rf_json_escape("\xed\xa0\x80", 3, o, sizeof(o)); /* surrogate: invalid */
	assert_string_equal(o, "\"\\u00ed\\u00a0\\u0080\"");
	assert_int_equal(rf_json_escape("abc", 3, o, 3), -ENOSPC);
}

static void test_other_classes(void **state)
{
	struct rf_event_hdr *ev = (struct rf_event_hdr *)buf;
	struct rf_ev_process_exit *x = (void *)buf;
	struct rf_ev_net_connect *n = (void *)buf;

	rf_event_init(buf, sizeof(buf), RF_CLASS_PROCESS_EXIT);
	x->exit_code = -1;
	x->signal = 9;
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"exit_code\":-1,\"signal\":9,\"core_dumped\":false"));
	rf_event_init(buf, sizeof(buf), RF_CLASS_NET_CONNECT);
	memcpy(n->daddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01", 16);
	n->dport = 443;
	n->result = -111;
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"daddr\":\"127.0.0.1\""));
	assert_non_null(strstr(out, "\"dport\":443"));
	assert_non_null(strstr(out, "\"result\":-111"));
	/* octets of one, two and three digits, and the extremes */
	memcpy(n->daddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\xa8\x0a\x05", 16);
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"daddr\":\"192.168.10.5\""));
	memcpy(n->daddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff", 16);
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"daddr\":\"255.255.255.255\""));
	memcpy(n->daddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\0\0\0\0", 16);
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"daddr\":\"0.0.0.0\""));
	memcpy(n->daddr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16); /* IPv6 */
	assert_true(rf_event_to_json(ev, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"daddr\":\"2001:db8::1\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_json),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_other_classes),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
