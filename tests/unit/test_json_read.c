// SPDX-License-Identifier: MIT
/* Unit tests of the checked JSON reader (lib/json_read.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ringfence/json.h"

static struct rf_json_tok toks[64];

static int parse(struct rf_json *j, const char *s)
{
	return rf_json_parse(j, s, strlen(s), toks, 64, 4);
}

static void test_tokens(void **state)
{
	struct rf_json j;
	const char *doc = " {\"a\": [1, -2.5e3, \"x\"], \"b\": {\"c\": null}, \"d\": true} ";
	uint64_t u;
	double d;
	char s[16];

	(void)state;
	assert_int_equal(parse(&j, doc), 0);
	assert_int_equal(j.t[0].type, RF_JSON_OBJECT);
	assert_int_equal(j.t[0].size, 3);
	assert_int_equal(j.t[0].next, j.nt);
	/* members: key 1 "a", value 2 (array of 3), then key at t[2].next */
	assert_true(rf_json_key_is(&j, 1, "a"));
	assert_int_equal(j.t[2].type, RF_JSON_ARRAY);
	assert_int_equal(j.t[2].size, 3);
	assert_int_equal(rf_json_uint(&j, 3, 0, 10, &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(rf_json_uint(&j, 4, 0, UINT64_MAX, &u), -EINVAL); /* negative, fraction */
	assert_int_equal(rf_json_double(&j, 4, &d), 0);
	assert_true(d == -2500.0);
	assert_int_equal(rf_json_string(&j, 5, s, sizeof(s)), 1);
	assert_string_equal(s, "x");
	uint32_t k = j.t[2].next;
	assert_true(rf_json_key_is(&j, k, "b"));
	assert_int_equal(j.t[k + 1].type, RF_JSON_OBJECT);
	assert_int_equal(j.t[k + 2].type, RF_JSON_STRING);
	assert_int_equal(j.t[k + 3].type, RF_JSON_NULL);
	k = j.t[k + 1].next;
	assert_true(rf_json_key_is(&j, k, "d"));
	assert_int_equal(j.t[k + 1].type, RF_JSON_TRUE);
	/* typed readers refuse the wrong type */
	assert_int_equal(rf_json_string(&j, 3, s, sizeof(s)), -EINVAL);
	assert_int_equal(rf_json_uint(&j, 5, 0, 1, &u), -EINVAL);
	assert_false(rf_json_key_is(&j, 3, "1"));
	assert_false(rf_json_key_is(&j, 999, "a"));
}

static void test_strings(void **state)
{
	struct rf_json j;
	char s[32];

	(void)state;
	/* escapes, a surrogate pair and raw UTF-8 decode to UTF-8 */
	assert_int_equal(parse(&j, "[\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\xc3\xa9\"]"), 0);
	assert_true(j.t[1].esc);
	assert_int_equal(rf_json_string(&j, 1, s, sizeof(s)), 17);
	assert_memory_equal(s, "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9", 18);
	/* too small (no room for the NUL): -E2BIG, never an overflow */
	assert_int_equal(rf_json_string(&j, 1, s, 17), -E2BIG);
	/* an escaped key still compares by its value */
	assert_int_equal(parse(&j, "{\"\\u0076\":1}"), 0);
	assert_true(rf_json_key_is(&j, 1, "v"));
	assert_false(rf_json_key_is(&j, 1, "\\u0076"));
	/* what rf_json_escape writes reads back to the same bytes */
	const char *orig = "tab\there \"q\" \xe2\x82\xac";
	char esc[64];
	int n = rf_json_escape(orig, strlen(orig), esc, sizeof(esc));
	assert_true(n > 0);
	assert_int_equal(rf_json_parse(&j, esc, (size_t)n, toks, 64, 4), 0);
	assert_int_equal(rf_json_string(&j, 0, s, sizeof(s)), (int)strlen(orig));
	assert_string_equal(s, orig);
}

static void test_numbers(void **state)
{
	struct rf_json j;
	uint64_t u;

	(void)state;
	assert_int_equal(parse(&j, "18446744073709551615"), 0);
	assert_int_equal(rf_json_uint(&j, 0, 0, UINT64_MAX, &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(parse(&j, "18446744073709551616"), 0);
	assert_int_equal(rf_json_uint(&j, 0, 0, UINT64_MAX, &u), -ERANGE);
	assert_int_equal(parse(&j, "7"), 0);
	assert_int_equal(rf_json_uint(&j, 0, 8, 9, &u), -ERANGE);
	assert_int_equal(rf_json_uint(&j, 0, 7, 7, &u), 0);
	assert_int_equal(parse(&j, "1e3"), 0);
	assert_int_equal(rf_json_uint(&j, 0, 0, UINT64_MAX, &u), -EINVAL);
}

static void test_refused(void **state)
{
	static const struct {
		const char *doc;
		int ret;
		size_t pos;
	} bad[] = {
		{"", -EINVAL, 0},
		{"   ", -EINVAL, 3},
		{"{", -EINVAL, 1},
		{"{\"a\"}", -EINVAL, 4},
		{"{\"a\":1,}", -EINVAL, 7},
		{"{a:1}", -EINVAL, 1},
		{"[1 2]", -EINVAL, 3},
		{"[1,]", -EINVAL, 3},
		{"01", -EINVAL, 1},
		{"-", -EINVAL, 1},
		{"1.", -EINVAL, 2},
		{"1e", -EINVAL, 2},
		{"+1", -EINVAL, 0},
		{"tru", -EINVAL, 0},
		{"nul", -EINVAL, 0},
		{"1 2", -EINVAL, 2},
		{"\"abc", -EINVAL, 4},
		{"\"a\tb\"", -EINVAL, 2},
		{"\"\\x\"", -EINVAL, 1},
		{"\"\\u00\"", -EINVAL, 3},
		{"\"\\u0000\"", -EINVAL, 7},
		{"\"\\ud800\"", -EINVAL, 7},
		{"\"\\ud800\\u0041\"", -EINVAL, 7},
		{"\"\\udc00\"", -EINVAL, 7},
		{"\"\xc0\xaf\"", -EINVAL, 1},
		{"\"\xed\xa0\x80\"", -EINVAL, 1},
		{"\"\xf4\x90\x80\x80\"", -EINVAL, 1},
		{"\"\xff\"", -EINVAL, 1},
		{"\"\xe2\x82\"", -EINVAL, 1},
		{"[[[[[1]]]]]", -E2BIG, 4},        /* five containers, deeper than 4 */
		{NULL, 0, 0},
	};
	struct rf_json j;

	(void)state;
	for (int i = 0; bad[i].doc; i++) {
		int r = parse(&j, bad[i].doc);
		if (r != bad[i].ret || j.err_pos != bad[i].pos || !j.err)
			fail_msg("doc %d '%s': got %d at %zu (%s), want %d at %zu", i, bad[i].doc, r,
				 j.err_pos, j.err ? j.err : "no message", bad[i].ret, bad[i].pos);
	}
	assert_int_equal(parse(&j, "[[[[1]]]]"), 0);
	/* more values than tokens */
	struct rf_json_tok few[3];
	assert_int_equal(rf_json_parse(&j, "[1,2,3]", 7, few, 3, 4), -E2BIG);
	assert_int_equal(rf_json_parse(&j, "[1,2]", 5, few, 3, 4), 0);
	/* never reads past len: the same bytes cut short are refused */
	assert_int_equal(rf_json_parse(&j, "[1,2]", 4, toks, 64, 4), -EINVAL);
	assert_int_equal(rf_json_parse(&j, "\"ab\"", 3, toks, 64, 4), -EINVAL);
	assert_int_equal(rf_json_parse(&j, "true", 3, toks, 64, 4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
