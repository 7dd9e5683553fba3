// SPDX-License-Identifier: MIT
/*
 * The detection engine as a whole: correlation rules over time windows, the
 * Hyperscan matcher against the naive evaluator on generated events over SigmaHQ's
 * Linux rules and the default pack (differential test), the output formats, and
 * rf_detect_compile_dir (the content pipeline's validator).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/capture.h"
#include "cli/commands.h"
#include "detect/detect.h"
#include "detect/detect_int.h"
#include "detect/synth.h"
#include "ringfence/schema.h"

/* SigmaHQ's rules: $RF_SIGMA_DIR/rules-linux (tests/run.sh sets it, scripts/sigma-dir.sh),
 * else beside the checkout */
static const char *sigma_dir(void)
{
	static char buf[4096];
	const char *d = getenv("RF_SIGMA_DIR");

	if (!d || !*d)
		return "../shared/sigma/rules-linux";
	snprintf(buf, sizeof(buf), "%s/rules-linux", d);
	return buf;
}
#define DEFAULT_DIR "rules/default"

/* ---- helpers -------------------------------------------------------------- */

struct hits {
	char buf[8192];
	size_t len;
	int n, corr;
	unsigned last_count;
};

static void record(const struct rf_detect_hit *h, const struct rf_event_hdr *ev, void *ctx)
{
	struct hits *x = ctx;
	int w;

	(void)ev;
	x->n++;
	if (h->correlation) {
		x->corr++;
		x->last_count = h->count;
	}
	w = snprintf(x->buf + x->len, sizeof(x->buf) - x->len, "%s;", h->rule_id);
	if (w > 0 && x->len + (size_t)w < sizeof(x->buf))
		x->len += (size_t)w;
}

static struct rf_detect *compile_text(const char *text, int mode)
{
	struct rf_detect_report rep = {0};
	struct rf_detect *d = rf_detect_new();
	size_t i;

	assert_non_null(d);
	assert_int_equal(rf_detect_load_buffer(d, "corr.yml", text, strlen(text), &rep), 0);
	assert_int_equal(rf_detect_compile(d, mode, &rep), 0);
	for (i = 0; i < rep.n; i++)
		if (rep.v[i].status != RF_RULE_COMPILED)
			fail_msg("rule %zu did not compile: %s", i, rep.v[i].reason);
	rf_detect_report_free(&rep);
	return d;
}

/* Feed one process_exec event; returns the hits. */
static struct hits feed(struct rf_detect *d, const char *user, const char *image, const char *cmd,
			double t)
{
	unsigned char buf[8192];
	char ts[32];
	struct hits h = {0};
	int n;

	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)(1700000000.0 * 1e9 + t * 1e9));
	const char *kv[] = {"User", user, "Image", image, "CommandLine", cmd, "ts_ns", ts};
	n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC, kv, 8);
	assert_true(n > 0);
	assert_true(rf_detect_event(d, (void *)buf, (size_t)n, record, &h) >= 0);
	return h;
}

#define BASE_SH \
	"title: shell\nname: shell_exec\nid: 00000000-0000-4000-8000-0000000000b1\n" \
	"logsource: {product: linux, category: process_creation}\n" \
	"detection:\n  sel:\n    Image|endswith: /sh\n  condition: sel\n"
#define BASE_WHOAMI \
	"title: whoami\nname: recon_whoami\nid: 00000000-0000-4000-8000-0000000000b2\n" \
	"logsource: {product: linux, category: process_creation}\n" \
	"detection:\n  sel:\n    Image|endswith: /whoami\n  condition: sel\n"
#define BASE_ID \
	"title: id\nname: recon_id\nid: 00000000-0000-4000-8000-0000000000b3\n" \
	"logsource: {product: linux, category: process_creation}\n" \
	"detection:\n  sel:\n    Image|endswith: /id\n  condition: sel\n"

/* ---- correlations ------------------------------------------------------------ */

static void test_event_count(void **state)
{
	static const char text[] =
		"title: many shells\nid: 00000000-0000-4000-8000-0000000000c1\nlevel: high\n"
		"correlation:\n  type: event_count\n  rules: [shell_exec]\n  group-by: [User]\n"
		"  timespan: 10s\n  condition: {gte: 3}\n---\n" BASE_SH;
	int mode;

	(void)state;
	for (mode = RF_DETECT_HYPERSCAN; mode <= RF_DETECT_NAIVE; mode++) {
		struct rf_detect *d = compile_text(text, mode);
		struct hits h;

		/* generate is false: the base rule alone does not report */
		h = feed(d, "alice", "/bin/sh", "sh", 0);
		assert_int_equal(h.n, 0);
		h = feed(d, "alice", "/bin/sh", "sh", 1);
		assert_int_equal(h.n, 0);
		h = feed(d, "bob", "/bin/sh", "sh", 2); /* another group */
		assert_int_equal(h.n, 0);
		h = feed(d, "alice", "/bin/ls", "ls", 3); /* not a shell */
		assert_int_equal(h.n, 0);
		h = feed(d, "alice", "/bin/sh", "sh", 4);
		assert_int_equal(h.corr, 1);
		assert_int_equal(h.last_count, 3);
		assert_string_equal(h.buf, "00000000-0000-4000-8000-0000000000c1;");
		/* the group started over; spread beyond the window nothing fires */
		h = feed(d, "alice", "/bin/sh", "sh", 20);
		assert_int_equal(h.n, 0);
		h = feed(d, "alice", "/bin/sh", "sh", 31);
		assert_int_equal(h.n, 0);
		h = feed(d, "alice", "/bin/sh", "sh", 42);
		assert_int_equal(h.n, 0);
		/* two more within 10 s of 42 make three */
		h = feed(d, "alice", "/bin/sh", "sh", 45);
		assert_int_equal(h.n, 0);
		h = feed(d, "alice", "/bin/sh", "sh", 51.9);
		assert_int_equal(h.corr, 1);
		rf_detect_free(d);
	}
}

static void test_generate(void **state)
{
	static const char text[] =
		"title: many shells\nid: 00000000-0000-4000-8000-0000000000c1\n"
		"correlation:\n  type: event_count\n  rules: [shell_exec]\n  group-by: [User]\n"
		"  timespan: 10s\n  condition: {gte: 2}\n  generate: true\n---\n" BASE_SH;
	struct rf_detect *d = compile_text(text, RF_DETECT_HYPERSCAN);
	struct hits h;

	(void)state;
	h = feed(d, "alice", "/bin/sh", "sh", 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.corr, 0);
	h = feed(d, "alice", "/bin/sh", "sh", 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.corr, 1);
	rf_detect_free(d);
}

static void test_value_count(void **state)
{
	static const char text[] =
		"title: many different shells\nid: 00000000-0000-4000-8000-0000000000c2\n"
		"correlation:\n  type: value_count\n  rules: [shell_exec]\n  group-by: [User]\n"
		"  timespan: 1m\n  condition: {field: CommandLine, gte: 3}\n---\n" BASE_SH;
	int mode;

	(void)state;
	for (mode = RF_DETECT_HYPERSCAN; mode <= RF_DETECT_NAIVE; mode++) {
		struct rf_detect *d = compile_text(text, mode);
		struct hits h;
		h = feed(d, "alice", "/bin/sh", "sh -c a", 0);
		h = feed(d, "alice", "/bin/sh", "sh -c a", 1);
		h = feed(d, "alice", "/bin/sh", "sh -c a", 2);
		assert_int_equal(h.n, 0); /* one value, three times */
		h = feed(d, "alice", "/bin/sh", "sh -c b", 3);
		assert_int_equal(h.n, 0);
		h = feed(d, "bob", "/bin/sh", "sh -c c", 4);
		assert_int_equal(h.n, 0); /* other group */
		h = feed(d, "alice", "/bin/sh", "sh -c c", 5);
		assert_int_equal(h.corr, 1);
		assert_int_equal(h.last_count, 3);
		/* values age out of the window */
		h = feed(d, "carol", "/bin/sh", "sh -c 1", 100);
		h = feed(d, "carol", "/bin/sh", "sh -c 2", 101);
		h = feed(d, "carol", "/bin/sh", "sh -c 3", 200);
		assert_int_equal(h.n, 0);
		rf_detect_free(d);
	}
}

static void test_temporal(void **state)
{
	static const char text[] =
		"title: recon\nid: 00000000-0000-4000-8000-0000000000c3\n"
		"correlation:\n  type: temporal\n  rules: [recon_whoami, recon_id]\n  group-by: [User]\n"
		"  timespan: 10s\n---\n" BASE_WHOAMI "---\n" BASE_ID;
	int mode;

	(void)state;
	for (mode = RF_DETECT_HYPERSCAN; mode <= RF_DETECT_NAIVE; mode++) {
		struct rf_detect *d = compile_text(text, mode);
		struct hits h;
		h = feed(d, "alice", "/usr/bin/whoami", "whoami", 0);
		assert_int_equal(h.n, 0);
		h = feed(d, "bob", "/usr/bin/id", "id", 1); /* other user */
		assert_int_equal(h.n, 0);
		h = feed(d, "alice", "/usr/bin/id", "id", 5);
		assert_int_equal(h.corr, 1);
		/* any order */
		h = feed(d, "carol", "/usr/bin/id", "id", 10);
		h = feed(d, "carol", "/usr/bin/whoami", "whoami", 12);
		assert_int_equal(h.corr, 1);
		/* too far apart */
		h = feed(d, "dave", "/usr/bin/id", "id", 10);
		h = feed(d, "dave", "/usr/bin/whoami", "whoami", 30);
		assert_int_equal(h.n, 0);
		rf_detect_free(d);
	}
}

static void test_temporal_ordered(void **state)
{
	static const char text[] =
		"title: recon in order\nid: 00000000-0000-4000-8000-0000000000c4\n"
		"correlation:\n  type: temporal_ordered\n  rules: [recon_whoami, recon_id]\n  group-by: [User]\n"
		"  timespan: 10s\n---\n" BASE_WHOAMI "---\n" BASE_ID;
	int mode;

	(void)state;
	for (mode = RF_DETECT_HYPERSCAN; mode <= RF_DETECT_NAIVE; mode++) {
		struct rf_detect *d = compile_text(text, mode);
		struct hits h;
		h = feed(d, "alice", "/usr/bin/whoami", "whoami", 0);
		h = feed(d, "alice", "/usr/bin/id", "id", 3);
		assert_int_equal(h.corr, 1);
		/* wrong order */
		h = feed(d, "bob", "/usr/bin/id", "id", 0);
		h = feed(d, "bob", "/usr/bin/whoami", "whoami", 3);
		assert_int_equal(h.n, 0);
		/* in order but out of the window */
		h = feed(d, "carol", "/usr/bin/whoami", "whoami", 0);
		h = feed(d, "carol", "/usr/bin/id", "id", 11);
		assert_int_equal(h.n, 0);
		/* a later first step restarts the window */
		h = feed(d, "carol", "/usr/bin/whoami", "whoami", 12);
		h = feed(d, "carol", "/usr/bin/id", "id", 13);
		assert_int_equal(h.corr, 1);
		rf_detect_free(d);
	}
}

/* The group table is bounded: groups beyond it are dropped and counted, and groups
 * whose window has passed make room. */
static void test_group_limit(void **state)
{
	static const char text[] =
		"title: many shells\nid: 00000000-0000-4000-8000-0000000000c1\n"
		"correlation:\n  type: event_count\n  rules: [shell_exec]\n  group-by: [User]\n"
		"  timespan: 1h\n  condition: {gte: 2}\n---\n" BASE_SH;
	struct rf_detect *d = compile_text(text, RF_DETECT_HYPERSCAN);
	struct rf_detect_stats st;
	char user[32];
	unsigned i;

	(void)state;
	for (i = 0; i < RF_CORR_GROUPS_MAX; i++) {
		snprintf(user, sizeof(user), "u%u", i);
		feed(d, user, "/bin/sh", "sh", 1);
	}
	rf_detect_stats(d, &st);
	assert_true(st.groups_dropped > 0);
	assert_true(st.groups_dropped < RF_CORR_GROUPS_MAX);
	/* two hours later, the old groups have expired: new ones are accepted */
	feed(d, "late", "/bin/sh", "sh", 7200);
	rf_detect_stats(d, &st);
	{
		uint64_t before = st.groups_dropped;
		struct hits h = feed(d, "late", "/bin/sh", "sh", 7201);
		assert_int_equal(h.corr, 1);
		rf_detect_stats(d, &st);
		assert_int_equal(st.groups_dropped, before);
	}
	rf_detect_free(d);
}

/* ---- differential test: matcher against naive evaluator --------------------------- */

static uint64_t rng = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Text from an atom's pattern: literal bytes, wildcards filled in; sometimes with
 * the case changed or a byte altered, to exercise near misses. */
static void frag(const struct atom *a, char *out, size_t cap)
{
	size_t o = 0, i;
	int mut = (int)rnd(6);

	for (i = 0; i < a->ntok && o + 8 < cap; i++) {
		uint16_t t = a->tok[i];
		if (t == TOK_STAR) {
			if (rnd(2))
				o += (size_t)snprintf(out + o, cap - o, "%s", rnd(2) ? " x" : "");
		} else if (t == TOK_ONE) {
			out[o++] = 'q';
		} else if (t == TOK_DASH) {
			out[o++] = rnd(2) ? '-' : '/';
		} else {
			char c = (char)t;
			if (mut == 0 && c >= 'a' && c <= 'z')
				c = (char)(c - 32);
			out[o++] = c;
		}
	}
	if (mut == 1 && o > 1)
		out[rnd((unsigned)o)] = 'Z';
	out[o] = 0;
}

struct pool {
	char (*v)[256];
	unsigned n;
};

static void pool_from(struct rf_detect *d, const char *field, struct pool *p, unsigned max)
{
	unsigned i, tries;

	p->v = calloc(max, sizeof(*p->v));
	assert_non_null(p->v);
	for (tries = 0; tries < d->natoms * 4 && p->n < max; tries++) {
		struct atom *a = &d->atoms[rnd(d->natoms)];
		if (!a->tok || !a->nrules)
			continue;
		if (field && (!a->field || strcmp(a->field, field)))
			continue;
		frag(a, p->v[p->n++], sizeof(p->v[0]));
	}
	for (i = p->n; i < 4 && i < max; i++)
		snprintf(p->v[p->n++], sizeof(p->v[0]), "/usr/bin/true%u", i);
}

static const char *pick(const struct pool *p)
{
	return p->v[rnd(p->n)];
}

static void test_differential(void **state)
{
	struct rf_detect_report r1 = {0}, r2 = {0};
	const char *dirs[2];
	int ndirs = 0;
	struct rf_detect *hs, *nv;
	struct pool img = {0}, cmd = {0}, any = {0}, tgt = {0};
	unsigned i, mism = 0, hits = 0, events = 3000;
	char cmdline[1200];

	(void)state;
	if (access(sigma_dir(), R_OK) == 0)
		dirs[ndirs++] = sigma_dir();
	else
		fprintf(stderr, "# %s missing: differential test on the default pack only\n", sigma_dir());
	dirs[ndirs++] = DEFAULT_DIR;
	hs = rf_detect_open(dirs, ndirs, RF_DETECT_HYPERSCAN, &r1);
	nv = rf_detect_open(dirs, ndirs, RF_DETECT_NAIVE, &r2);
	assert_non_null(hs);
	assert_non_null(nv);
	assert_true(r1.compiled > 20);
	pool_from(hs, "Image", &img, 400);
	pool_from(hs, "CommandLine", &cmd, 800);
	pool_from(hs, NULL, &any, 800);
	pool_from(hs, "TargetFilename", &tgt, 200);
	for (i = 0; i < events; i++) {
		unsigned char buf[8192];
		struct hits a = {0}, b = {0};
		int n;
		unsigned cls = rnd(10);
		snprintf(cmdline, sizeof(cmdline), "%s %s%s%s", pick(&img), pick(&cmd),
			 rnd(2) ? " " : "", rnd(2) ? pick(&any) : "");
		if (cls < 7) {
			const char *kv[] = {"Image", rnd(4) ? pick(&img) : pick(&any), "CommandLine", cmdline,
					    "ParentImage", pick(&img), "ParentCommandLine", rnd(2) ? pick(&cmd) : "",
					    "User", rnd(3) ? "alice" : "root", "CurrentDirectory", rnd(2) ? "/tmp" : pick(&any),
					    "LogonId", rnd(2) ? "0" : "1000", "pid", "77", "ts_ns", "1700000000000000000"};
			n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC, kv, 18);
		} else if (cls < 9) {
			static const unsigned fc[] = {RF_CLASS_FILE_CREATE, RF_CLASS_FILE_OPEN_WRITE, RF_CLASS_FILE_RENAME};
			const char *kv[] = {"TargetFilename", rnd(3) ? pick(&tgt) : pick(&any), "Image", pick(&img),
					    "ts_ns", "1700000000000000000"};
			n = rf_detect_synth(buf, sizeof(buf), fc[rnd(3)], kv, 6);
		} else {
			static const char *const ips[] = {"127.0.0.1", "10.1.2.3", "8.8.8.8", "fe80::1", "::1", "192.168.1.1"};
			static const char *const ports[] = {"4444", "22", "443", "2222", "8531", "80"};
			const char *kv[] = {"DestinationIp", ips[rnd(6)], "DestinationPort", ports[rnd(6)],
					    "Image", pick(&img), "Initiated", rnd(2) ? "true" : "false",
					    "ts_ns", "1700000000000000000"};
			n = rf_detect_synth(buf, sizeof(buf), rnd(2) ? RF_CLASS_NET_CONNECT : RF_CLASS_NET_ACCEPT, kv, 10);
		}
		assert_true(n > 0);
		rf_detect_event(hs, (void *)buf, (size_t)n, record, &a);
		rf_detect_event(nv, (void *)buf, (size_t)n, record, &b);
		hits += (unsigned)a.n;
		if (strcmp(a.buf, b.buf)) {
			if (mism++ < 10)
				fprintf(stderr, "# disagreement on event %u (cmdline '%s'): matcher '%s', naive '%s'\n",
					i, cmdline, a.buf, b.buf);
		}
	}
	fprintf(stderr, "# %u events, %u detections, %u disagreements\n", events, hits, mism);
	/* the corpus must actually exercise the rules */
	assert_true(hits > events / 10);
	assert_int_equal(mism, 0);
	free(img.v);
	free(cmd.v);
	free(any.v);
	free(tgt.v);
	rf_detect_free(hs);
	rf_detect_free(nv);
	rf_detect_report_free(&r1);
	rf_detect_report_free(&r2);
}

/* ---- output ------------------------------------------------------------------------ */

static void test_output(void **state)
{
	static const char text[] =
		"title: Shell \"quoted\"\nid: 00000000-0000-4000-8000-0000000000d1\nlevel: critical\n"
		"tags: [attack.execution, attack.t1059.004]\n"
		"logsource: {product: linux, category: process_creation}\n"
		"detection:\n  sel:\n    Image|endswith: /sh\n  condition: sel\n";
	struct rf_detect *d = compile_text(text, RF_DETECT_HYPERSCAN);
	unsigned char buf[4096];
	const char *kv[] = {"Image", "/bin/sh", "CommandLine", "sh -c \"id\"", "User", "root", "pid", "4242",
			    "ts_ns", "1700000000123456789"};
	struct rf_detect_hit h = {0};
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int n, fmt;

	(void)state;
	n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC, kv, 10);
	assert_true(n > 0);
	h.rule_id = d->rules[0].id;
	h.rule_title = d->rules[0].title;
	h.level = d->rules[0].level;
	h.tags = (const char *const *)d->rules[0].tags;
	h.ntags = d->rules[0].ntags;
	for (fmt = RF_DETECT_OUT_TEXT; fmt <= RF_DETECT_OUT_OCSF; fmt++) {
		f = open_memstream(&out, &len);
		assert_int_equal(rf_detect_write_hit(f, fmt, &h, (void *)buf, NULL), 0);
		fclose(f);
		assert_non_null(strstr(out, "00000000-0000-4000-8000-0000000000d1"));
		assert_int_equal(strchr(out, '\n') - out, (long)len - 1); /* one line */
		if (fmt == RF_DETECT_OUT_JSON) {
			assert_non_null(strstr(out, "\"rule_title\":\"Shell \\\"quoted\\\"\""));
			assert_non_null(strstr(out, "\"level\":\"critical\""));
			assert_non_null(strstr(out, "\"tags\":[\"attack.execution\",\"attack.t1059.004\"]"));
			assert_non_null(strstr(out, "\"event\":{"));
			assert_non_null(strstr(out, "4242"));
		} else if (fmt == RF_DETECT_OUT_OCSF) {
			assert_non_null(strstr(out, "\"class_uid\":2004"));
			assert_non_null(strstr(out, "\"severity_id\":5"));
			assert_non_null(strstr(out, "\"time\":1700000000123"));
		} else {
			assert_non_null(strstr(out, "critical"));
			assert_non_null(strstr(out, "pid=4242"));
		}
		free(out);
		out = NULL;
	}
	rf_detect_free(d);
}

/* ---- the validator the content pipeline calls ------------------------------------- */

static void test_compile_dir(void **state)
{
	struct rf_detect_report rep = {0};
	char dir[] = "/tmp/rf-detect-test.XXXXXX", path[256];
	FILE *f;

	(void)state;
	/* the project's own pack compiles whole */
	assert_int_equal(rf_detect_compile_dir(DEFAULT_DIR, &rep), 0);
	assert_true(rep.compiled >= 20);
	assert_int_equal(rep.invalid + rep.unsupported, 0);
	rf_detect_report_free(&rep);
	/* one rule naming a field the schema lacks makes the directory invalid */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad.yml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("title: t\nlogsource: {product: linux, category: network_connection}\n"
	      "detection:\n  sel:\n    DestinationHostname: evil.example\n  condition: sel\n", f);
	fclose(f);
	assert_int_equal(rf_detect_compile_dir(dir, &rep), 2);
	assert_int_equal(rep.invalid, 1);
	assert_int_equal(rep.v[0].line, 5);
	rf_detect_report_free(&rep);
	/* the content pipeline's validator refuses the same */
	{
		char err[512] = "";
		assert_int_equal(rf_detect_validate_dir(DEFAULT_DIR, err, sizeof(err)), 0);
		assert_int_equal(rf_detect_validate_dir(dir, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "bad.yml:5:5"));
		assert_non_null(strstr(err, "DestinationHostname"));
	}
	unlink(path);
	/* unsupported only */
	snprintf(path, sizeof(path), "%s/svc.yml", dir);
	f = fopen(path, "w");
	fputs("title: t\nlogsource: {product: linux, service: syslog}\ndetection:\n  k: [x]\n  condition: k\n", f);
	fclose(f);
	assert_int_equal(rf_detect_compile_dir(dir, &rep), 1);
	rf_detect_report_free(&rep);
	{
		char err[512] = "";
		assert_int_equal(rf_detect_validate_dir(dir, err, sizeof(err)), -ENOENT);
		assert_non_null(strstr(err, "no rule that compiles"));
	}
	unlink(path);
	rmdir(dir);
	/* a directory that does not exist */
	assert_true(rf_detect_compile_dir("/nonexistent/rules", &rep) < 0);
	assert_int_equal(rep.invalid, 1);
	rf_detect_report_free(&rep);
}

/* ---- required literals of regular expressions (the prefilter) ------------------------ */

static void test_re_factors(void **state)
{
	static const struct {
		const char *re;
		const char *want; /* the literals, each followed by ';', in order; "" for none */
	} t[] = {
		{"-(W|R)\\s?(\\s|\"|')([0-9a-fA-F]{2}\\s?){2,20}(\\s|\"|')", "-W;-R;"},
		{"abc", "abc;"},
		{"foo|bar", "foo;bar;"},
		{"foo|b", ""},             /* one branch without a literal of two bytes */
		{"a.c", ""},
		{"(foo)?bar", "bar;"},     /* optional: not required */
		{"x*yz", "yz;"},
		{"\\d{3}abc[de]", "abc;"},
		{"\\x41\\x42", "AB;"},
		{"a\\.b", "a.b;"},
		{"^/usr/bin/", "/usr/bin/;"},
		{"(a|b)(c|d)", "ac;ad;bc;bd;"},
		{"(ab|cd)+ef", "abef;cdef;"}, /* the last repetition meets ef */
		{"x(ab|cd)+ef", "abef;cdef;"}, /* xab|xcd too, shorter; never xabef (xabcdef) */
		{"x(ab|cd)+e", "xab;xcd;"},
		{"ab{2,3}c", "ab;"},
		{"(?i)abc", ""},           /* inline flags: not parsed, no prefilter */
		{"(?=abc)", ""},
		{"(a)\\1", ""},          /* back reference */
		{"a{,2}bc", ""},           /* a brace PCRE reads literally: not parsed */
		{"abc|", ""},              /* an empty branch */
		{"(abc|)de", "abcde;de;"}, /* sound, if not minimal */
		{"[a-z]+\\s+--[a-z]+", "--;"},
		{"(", ""},
		{"abc\\", ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char lits[RF_RE_FACTORS_MAX][RF_RE_FACTOR_LEN], got[400] = "";
		size_t lens[RF_RE_FACTORS_MAX], o = 0;
		unsigned n = rf_detect_re_factors_(t[i].re, lits, lens), k;
		for (k = 0; k < n; k++)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%.*s;", (int)lens[k], lits[k]);
		if (strcmp(got, t[i].want))
			fail_msg("required literals of '%s': got '%s', want '%s'", t[i].re, got, t[i].want);
	}
}

/* ---- differential test on replayed events ------------------------------------------ */

#define REPLAYED "tests/unit/data/exec_replayed.tsv"

/* The matcher against the naive evaluator on real process_exec events, as the sensor
 * recorded them (tests/unit/data/exec_replayed.tsv: values as they came, repeats and
 * all), over SigmaHQ's Linux rules and the default pack: the same detections, in the
 * same order, event by event. */
static void test_differential_replayed(void **state)
{
	struct rf_detect_report r1 = {0}, r2 = {0};
	const char *dirs[2];
	int ndirs = 0;
	struct rf_detect *hs, *nv;
	FILE *f = fopen(REPLAYED, "r");
	static char line[40000];
	unsigned events = 0, hits = 0, mism = 0;

	(void)state;
	if (!f)
		fail_msg("cannot open %s (run from the top of the tree)", REPLAYED);
	if (access(sigma_dir(), R_OK) == 0)
		dirs[ndirs++] = sigma_dir();
	else
		fprintf(stderr, "# %s missing: replayed differential test on the default pack only\n",
			sigma_dir());
	dirs[ndirs++] = DEFAULT_DIR;
	hs = rf_detect_open(dirs, ndirs, RF_DETECT_HYPERSCAN, &r1);
	nv = rf_detect_open(dirs, ndirs, RF_DETECT_NAIVE, &r2);
	assert_non_null(hs);
	assert_non_null(nv);
	while (fgets(line, sizeof(line), f)) {
		static const char *const names[] = {"Image", "args", "ParentImage", "ParentCommandLine",
						    "CurrentDirectory", "User", "pid", "ppid", "LogonId"};
		const char *kv[2 * 9 + 2];
		unsigned char buf[RF_EVENT_MAX];
		struct hits a = {0}, b = {0};
		char *p = line, *tab;
		unsigned k = 0, i;
		int n;
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = 0;
		for (i = 0; i < 9; i++) {
			tab = strchr(p, '\t');
			if (tab)
				*tab = 0;
			else if (i < 8)
				fail_msg("%s: line of event %u has %u columns, 9 expected", REPLAYED, events + 1, i + 1);
			kv[k++] = names[i];
			kv[k++] = p;
			p = tab ? tab + 1 : p + strlen(p);
		}
		kv[k++] = "ts_ns";
		kv[k++] = "1700000000000000000";
		n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC, kv, k);
		if (n <= 0)
			fail_msg("%s: event %u does not build: %s", REPLAYED, events + 1, strerror(-n));
		events++;
		rf_detect_event(hs, (void *)buf, (size_t)n, record, &a);
		rf_detect_event(nv, (void *)buf, (size_t)n, record, &b);
		hits += (unsigned)a.n;
		if (strcmp(a.buf, b.buf) && mism++ < 10)
			fprintf(stderr, "# disagreement on replayed event %u (%s): matcher '%s', naive '%s'\n",
				events, kv[1], a.buf, b.buf);
	}
	fclose(f);
	fprintf(stderr, "# %u replayed events, %u detections, %u disagreements\n", events, hits, mism);
	assert_true(events >= 600);
	assert_true(hits > 0);
	assert_int_equal(mism, 0);
	rf_detect_free(hs);
	rf_detect_free(nv);
	rf_detect_report_free(&r1);
	rf_detect_report_free(&r2);
}

/* ---- `ringfence rules test` over a capture file ------------------------------------ */

static char *run_cli(int argc, char **argv, int *rc)
{
	char path[] = "/tmp/rf-detect-out.XXXXXX";
	int fd = mkstemp(path), saved;
	char *buf = calloc(1, 1 << 16);
	ssize_t n;

	assert_true(fd >= 0);
	assert_non_null(buf);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	*rc = rf_cmd_rules(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, (1 << 16) - 1);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(path);
	return buf;
}

static void test_rules_test_cli(void **state)
{
	char cap[] = "/tmp/rf-detect-cap.XXXXXX";
	struct rf_capture_writer *w = NULL;
	unsigned char buf[4096];
	int fd = mkstemp(cap), n, rc;
	char *out;
	static const char *const ev1[] = {"Image", "/usr/bin/base64", "CommandLine", "base64 -d /tmp/x", "User", "root",
					  "pid", "100", "ts_ns", "1700000000000000000"};
	static const char *const ev2[] = {"Image", "/usr/bin/ls", "CommandLine", "ls -l", "pid", "101",
					  "ts_ns", "1700000001000000000"};
	static const char *const ev3[] = {"Image", "/dev/shm/payload", "CommandLine", "/dev/shm/payload", "pid", "102",
					  "ts_ns", "1700000002000000000"};
	static const char *const ev4[] = {"TargetFilename", "/tmp/passwd.copy", "Image", "/usr/bin/cp",
					  "ts_ns", "1700000003000000000"};

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rf_capture_create(cap, &w), 0);
	n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC, ev1, 10);
	assert_int_equal(rf_capture_write(w, (void *)buf), 0);
	n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC, ev2, 8);
	assert_int_equal(rf_capture_write(w, (void *)buf), 0);
	n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_PROCESS_EXEC, ev3, 8);
	assert_int_equal(rf_capture_write(w, (void *)buf), 0);
	n = rf_detect_synth(buf, sizeof(buf), RF_CLASS_FILE_CREATE, ev4, 6);
	assert_true(n > 0);
	assert_int_equal(rf_capture_write(w, (void *)buf), 0);
	assert_int_equal(rf_capture_writer_close(w), 0);
	{
		char *argv[] = {"rules", "test", "--rules", DEFAULT_DIR, "--json", cap, NULL};
		out = run_cli(6, argv, &rc);
		assert_int_equal(rc, 0);
		/* base64 decoding, exec from /dev/shm, a passwd copy in /tmp; nothing for ls */
		assert_non_null(strstr(out, "\"rule_title\":\"Base64 Decoding on the Command Line\""));
		assert_non_null(strstr(out, "\"rule_title\":\"Execution from /dev/shm\""));
		assert_non_null(strstr(out, "\"rule_title\":\"Copy of an Account Database in a Temporary Directory\""));
		assert_null(strstr(out, "ls -l"));
		assert_non_null(strstr(out, "\"event\":{"));
		free(out);
	}
	{
		char *argv[] = {"rules", "test", "--rules", DEFAULT_DIR, "--format", "ocsf", "--naive", cap, NULL};
		out = run_cli(8, argv, &rc);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "\"class_uid\":2004"));
		free(out);
	}
	{
		char *argv[] = {"rules", "test", "--rules", DEFAULT_DIR, "/nonexistent.rfcap", NULL};
		out = run_cli(5, argv, &rc);
		assert_int_equal(rc, 1);
		free(out);
	}
	unlink(cap);
}

/* Group-by values longer than a group key are cut, not overrun. */
static void test_long_group_key(void **state)
{
	static const char text[] =
		"title: same long command\nid: 00000000-0000-4000-8000-0000000000c5\n"
		"correlation:\n  type: event_count\n  rules: [shell_exec]\n  group-by: [CommandLine, User, Image]\n"
		"  timespan: 10s\n  condition: {gte: 2}\n---\n" BASE_SH;
	struct rf_detect *d = compile_text(text, RF_DETECT_HYPERSCAN);
	char *cmd = malloc(4000);
	struct hits h;

	(void)state;
	assert_non_null(cmd);
	memset(cmd, 'x', 3999);
	cmd[3999] = 0;
	h = feed(d, "alice", "/bin/sh", cmd, 0);
	assert_int_equal(h.n, 0);
	h = feed(d, "alice", "/bin/sh", cmd, 1);
	assert_int_equal(h.corr, 1);
	free(cmd);
	rf_detect_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_count),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_value_count),
		cmocka_unit_test(test_temporal),
		cmocka_unit_test(test_temporal_ordered),
		cmocka_unit_test(test_group_limit),
		cmocka_unit_test(test_long_group_key),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_differential_replayed),
		cmocka_unit_test(test_re_factors),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_compile_dir),
		cmocka_unit_test(test_rules_test_cli),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
