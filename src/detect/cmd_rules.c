// SPDX-License-Identifier: MIT
/*
 * cmd_rules.c: `ringfence rules check | test | bench`.
 *
 *   check DIR...                    compile and schema-check rules; one line per rule
 *   test --rules DIR CAPTURE...     run rules over capture files, print detections
 *   bench [--rules DIR] [--seconds S] [--capture FILE]
 *                                   events/s of the matcher and of the naive evaluator
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"
#include "cli/commands.h"
#include "common/log.h"
#include "detect/detect.h"
#include "detect/synth.h"

#define DIRS_MAX 64

static void print_report(const struct rf_detect_report *rep, bool quiet)
{
	size_t i;

	for (i = 0; i < rep->n; i++) {
		const struct rf_detect_status *s = &rep->v[i];
		if (quiet && s->status == RF_RULE_COMPILED)
			continue;
		printf("%-11s %s:%u:%u", rf_detect_status_name(s->status), s->file, s->line, s->col);
		if (s->id)
			printf(" %s", s->id);
		if (s->title)
			printf(" \"%s\"", s->title);
		if (s->correlation)
			printf(" (correlation)");
		if (s->reason)
			printf(": %s", s->reason);
		putchar('\n');
	}
}

static int cmd_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	struct rf_detect_report rep = {0};
	struct rf_detect *d;
	bool quiet = false;
	int o, i, ret = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
		switch (o) {
		case 'q':
			quiet = true;
			break;
		case 'h':
			printf("usage: ringfence rules check [--quiet] DIR|FILE...\n\n"
			       "Compile and schema-check Sigma rules without running them. Prints one line per\n"
			       "rule (status file:line:col id \"title\": reason) and ends with\n"
			       "'N compiled, M unsupported, K invalid'. Exit status 0 when no rule is invalid,\n"
			       "1 when some are (unsupported rules are fine: they need a log source ringfence\n"
			       "does not feed).\n\n  --quiet   print only rules that did not compile\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		rf_err("rules check needs at least one DIR or FILE: 'ringfence rules check rules/default'");
		return 2;
	}
	d = rf_detect_new();
	if (!d) {
		rf_err("out of memory");
		return 1;
	}
	for (i = optind; i < argc; i++)
		if (rf_detect_load_dir(d, argv[i], &rep) == -ENOMEM)
			ret = 1;
	if (!ret && rf_detect_compile(d, RF_DETECT_HYPERSCAN, &rep) < 0)
		ret = 1;
	print_report(&rep, quiet);
	printf("%u compiled, %u unsupported, %u invalid\n", rep.compiled, rep.unsupported, rep.invalid);
	if (rep.invalid)
		ret = 1;
	rf_detect_free(d);
	rf_detect_report_free(&rep);
	return ret;
}

struct out {
	int format;
	uint64_t hits;
};

static void on_hit(const struct rf_detect_hit *h, const struct rf_event_hdr *ev, void *ctx)
{
	struct out *o = ctx;

	o->hits++;
	rf_detect_write_hit(stdout, o->format, h, ev, NULL);
}

/* Parse --rules/--json/--format/--naive shared by test and bench. */
static struct rf_detect *open_rules(const char **dirs, int ndirs, int mode, bool verbose)
{
	struct rf_detect_report rep = {0};
	struct rf_detect *d = rf_detect_open(dirs, ndirs, mode, &rep);

	if (d && verbose)
		print_report(&rep, true);
	if (d)
		rf_info("rules: %u compiled, %u unsupported, %u invalid", rep.compiled, rep.unsupported, rep.invalid);
	rf_detect_report_free(&rep);
	return d;
}

static int cmd_test(int argc, char **argv)
{
	static const struct option lo[] = {
		{"rules", required_argument, 0, 'r'}, {"json", no_argument, 0, 'j'},
		{"format", required_argument, 0, 'f'}, {"naive", no_argument, 0, 'n'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *dirs[DIRS_MAX];
	int ndirs = 0, o, i, ret = 0, mode = RF_DETECT_HYPERSCAN;
	struct out out = {.format = RF_DETECT_OUT_TEXT};
	struct rf_detect *d;
	uint64_t events = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "r:jf:nh", lo, NULL)) != -1) {
		switch (o) {
		case 'r':
			if (ndirs == DIRS_MAX) {
				rf_err("at most %d --rules", DIRS_MAX);
				return 2;
			}
			dirs[ndirs++] = optarg;
			break;
		case 'j':
			out.format = RF_DETECT_OUT_JSON;
			break;
		case 'f':
			if (!strcmp(optarg, "ocsf"))
				out.format = RF_DETECT_OUT_OCSF;
			else if (!strcmp(optarg, "json"))
				out.format = RF_DETECT_OUT_JSON;
			else if (!strcmp(optarg, "text"))
				out.format = RF_DETECT_OUT_TEXT;
			else {
				rf_err("--format takes text, json or ocsf");
				return 2;
			}
			break;
		case 'n':
			mode = RF_DETECT_NAIVE;
			break;
		case 'h':
			printf("usage: ringfence rules test [--rules DIR]... [--json | --format text|json|ocsf] [--naive] CAPTURE...\n\n"
			       "Run Sigma rules over recorded events ('ringfence record') and print each detection\n"
			       "as one line. Without --rules the default pack (rules/default) is used.\n\n"
			       "  --rules DIR  rules directory or file (repeatable)\n"
			       "  --json       JSON lines: rule_id, rule_title, level, tags, event\n"
			       "  --format     text (default), json, or ocsf (OCSF Detection Finding, class_uid 2004)\n"
			       "  --naive      use the naive evaluator instead of the Hyperscan matcher\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		rf_err("rules test needs a capture file: 'ringfence record FILE' makes one");
		return 2;
	}
	if (!ndirs)
		dirs[ndirs++] = "rules/default";
	d = open_rules(dirs, ndirs, mode, false);
	if (!d) {
		rf_err("cannot build the rule engine (out of memory)");
		return 1;
	}
	for (i = optind; i < argc && !ret; i++) {
		struct rf_capture_reader *r = NULL;
		const struct rf_event_hdr *ev;
		char err[256];
		int k;
		if (rf_capture_open(argv[i], &r, err, sizeof(err)) < 0) {
			rf_err("%s: %s", argv[i], err);
			ret = 1;
			break;
		}
		while ((k = rf_capture_next(r, &ev, err, sizeof(err))) > 0) {
			events++;
			rf_detect_event(d, ev, ev->size, on_hit, &out);
		}
		if (k < 0) {
			rf_err("%s: %s", argv[i], err);
			ret = 1;
		}
		rf_capture_close(r);
	}
	fflush(stdout);
	rf_info("%llu events, %llu detections", (unsigned long long)events, (unsigned long long)out.hits);
	rf_detect_free(d);
	return ret;
}

/* ---- bench ------------------------------------------------------------------------ */

/* Synthetic process events: common benign commands, with a few suspicious ones mixed
 * in, so that the matcher sees realistic hit rates. */
static const char *const bench_cmds[][4] = {
	/* Image, CommandLine, ParentImage, CurrentDirectory */
	{"/usr/bin/ls", "ls -la /home/alice", "/usr/bin/bash", "/home/alice"},
	{"/usr/bin/git", "git status --porcelain", "/usr/bin/zsh", "/home/alice/src/project"},
	{"/usr/bin/python3.11", "python3 manage.py runserver 0.0.0.0:8000", "/usr/bin/bash", "/srv/app"},
	{"/usr/bin/grep", "grep -r TODO src/", "/usr/bin/bash", "/home/bob/work"},
	{"/usr/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd", "/"},
	{"/usr/bin/cat", "cat /var/log/syslog", "/usr/bin/bash", "/root"},
	{"/usr/bin/ssh", "ssh -p 2222 deploy@10.0.4.12", "/usr/bin/bash", "/home/deploy"},
	{"/usr/sbin/cron", "/usr/sbin/cron -f", "/usr/lib/systemd/systemd", "/"},
	{"/usr/bin/dpkg", "dpkg --configure -a", "/usr/bin/apt-get", "/"},
	{"/usr/bin/make", "make -j2 all", "/usr/bin/bash", "/home/alice/src/ringfence"},
	{"/usr/bin/clang-14", "clang -O2 -g -c src/detect/engine.c -o build/obj/engine.o", "/usr/bin/make", "/home/alice/src/ringfence"},
	{"/usr/bin/curl", "curl -fsSL https://example.com/install.sh", "/usr/bin/bash", "/tmp"},
	{"/usr/bin/base64", "base64 -d /tmp/payload.b64", "/usr/bin/bash", "/tmp"},
	{"/usr/bin/bash", "bash -i", "/usr/bin/nc.openbsd", "/tmp"},
	{"/dev/shm/x", "/dev/shm/x --daemon", "/usr/bin/bash", "/dev/shm"},
	{"/usr/bin/sudo", "sudo systemctl restart nginx", "/usr/bin/bash", "/home/alice"},
	{"/usr/bin/systemctl", "systemctl restart nginx", "/usr/bin/sudo", "/"},
	{"/usr/bin/find", "find / -name '*.conf' -type f", "/usr/bin/bash", "/"},
	{"/usr/bin/node", "node /srv/web/server.js --port 3000", "/usr/lib/systemd/systemd", "/srv/web"},
	{"/usr/bin/tar", "tar czf /backup/home.tgz /home", "/usr/sbin/cron", "/"},
};

/* The events one after another, 8-byte aligned, as a client finds them in its ring. */
struct bench_evs {
	unsigned char *buf;
	size_t used, cap;
	size_t *off;
	unsigned n, max;
};

/* Room for one more event of up to SIZE bytes: its address, or NULL. */
static unsigned char *bench_slot(struct bench_evs *e, size_t size)
{
	if (e->n == e->max || size > RF_EVENT_MAX || e->used + size > e->cap)
		return NULL;
	return e->buf + e->used;
}

static void bench_add(struct bench_evs *e, size_t size)
{
	e->off[e->n++] = e->used;
	e->used += (size + 7) & ~(size_t)7;
}

static const struct rf_event_hdr *bench_ev(const struct bench_evs *e, unsigned i)
{
	return (const void *)(e->buf + e->off[i]);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void count_hit(const struct rf_detect_hit *h, const struct rf_event_hdr *ev, void *ctx)
{
	(void)h; (void)ev;
	(*(uint64_t *)ctx)++;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Events per second of wall time; *CPU_RATE: per second of this thread's CPU time
 * (less sensitive to other processes taking the core). */
static double run_bench(struct rf_detect *d, const struct bench_evs *evs, double seconds,
			uint64_t *nevents, uint64_t *nhits, double *cpu_rate)
{
	double t0 = now_s(), c0 = cpu_s(), t;
	uint64_t n = 0;
	unsigned next = 0;

	*nhits = 0;
	do {
		unsigned i;
		for (i = 0; i < 1000; i++) {
			const struct rf_event_hdr *e = bench_ev(evs, next);
			rf_detect_event(d, e, e->size, count_hit, nhits);
			if (++next == evs->n)
				next = 0;
		}
		n += 1000;
		t = now_s() - t0;
	} while (t < seconds);
	*nevents = n;
	*cpu_rate = (double)n / (cpu_s() - c0);
	return (double)n / t;
}

static int cmd_bench(int argc, char **argv)
{
	static const struct option lo[] = {
		{"rules", required_argument, 0, 'r'}, {"seconds", required_argument, 0, 's'},
		{"capture", required_argument, 0, 'c'}, {"matcher-only", no_argument, 0, 'm'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *dirs[DIRS_MAX];
	int ndirs = 0, o, ret = 1;
	bool matcher_only = false;
	double secs = 2.0, fast, naive, fast_cpu, naive_cpu;
	const char *capture = NULL;
	struct bench_evs evs = {.cap = 16u << 20, .max = 100000};
	unsigned nev = 0, i;
	struct rf_detect *hs = NULL, *nv = NULL;
	uint64_t ne1, nh1, ne2, nh2;
	struct rf_detect_stats st;

	optind = 1;
	while ((o = getopt_long(argc, argv, "r:s:c:mh", lo, NULL)) != -1) {
		switch (o) {
		case 'm':
			matcher_only = true;
			break;
		case 'r':
			if (ndirs == DIRS_MAX)
				return 2;
			dirs[ndirs++] = optarg;
			break;
		case 's':
			secs = atof(optarg);
			if (secs <= 0 || secs > 600) {
				rf_err("--seconds takes a number between 0 and 600");
				return 2;
			}
			break;
		case 'c':
			capture = optarg;
			break;
		case 'h':
			printf("usage: ringfence rules bench [--rules DIR]... [--seconds S] [--capture FILE]\n\n"
			       "Rule throughput on one core: the same events through the Hyperscan matcher and\n"
			       "through the naive evaluator (each rule on its own), S seconds each (default 2).\n"
			       "Events: process_exec events from FILE, else synthetic ones (20 command lines).\n"
			       "  --matcher-only  skip the naive evaluator\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!ndirs)
		dirs[ndirs++] = "rules/default";
	evs.buf = aligned_alloc(64, evs.cap);
	evs.off = calloc(evs.max, sizeof(*evs.off));
	if (!evs.buf || !evs.off)
		goto out;
	if (capture) {
		struct rf_capture_reader *r = NULL;
		const struct rf_event_hdr *ev;
		unsigned char *slot;
		char err[256];
		if (rf_capture_open(capture, &r, err, sizeof(err)) < 0) {
			rf_err("%s: %s", capture, err);
			goto out;
		}
		while (rf_capture_next(r, &ev, err, sizeof(err)) > 0 && (slot = bench_slot(&evs, ev->size))) {
			memcpy(slot, ev, ev->size);
			bench_add(&evs, ev->size);
		}
		rf_capture_close(r);
		nev = evs.n;
	} else {
		for (i = 0; i < sizeof(bench_cmds) / sizeof(bench_cmds[0]); i++) {
			char pid[16];
			snprintf(pid, sizeof(pid), "%u", 1000 + i);
			const char *kv[] = {"Image", bench_cmds[i][0], "args", bench_cmds[i][1],
					    "ParentImage", bench_cmds[i][2], "CurrentDirectory", bench_cmds[i][3],
					    "User", i % 3 ? "alice" : "root", "ParentCommandLine", bench_cmds[i][2],
					    "pid", pid, "ts_ns", "1700000000000000000"};
			unsigned char *slot = bench_slot(&evs, 8192);
			int n = slot ? rf_detect_synth(slot, 8192, RF_CLASS_PROCESS_EXEC, kv, 16) : -ENOSPC;
			if (n < 0) {
				rf_err("cannot build the synthetic events");
				goto out;
			}
			bench_add(&evs, (size_t)n);
		}
		nev = evs.n;
	}
	if (!nev) {
		rf_err("no events to run");
		goto out;
	}
	hs = open_rules(dirs, ndirs, RF_DETECT_HYPERSCAN, false);
	nv = matcher_only ? NULL : open_rules(dirs, ndirs, RF_DETECT_NAIVE, false);
	if (!hs || (!nv && !matcher_only)) {
		rf_err("cannot build the rule engines");
		goto out;
	}
	rf_detect_stats(hs, &st);
	printf("rules: %u rules, %u correlations, %u field tests, %u Hyperscan databases; %u events (%s)\n",
	       st.rules, st.correlations, st.atoms, st.databases, nev, capture ? capture : "synthetic process_exec");
	/* one pass over every event through each engine: they must agree */
	for (i = 0, nh1 = nh2 = 0; i < nev; i++) {
		const struct rf_event_hdr *e = bench_ev(&evs, i);
		rf_detect_event(hs, e, e->size, count_hit, &nh1);
		if (nv)
			rf_detect_event(nv, e, e->size, count_hit, &nh2);
	}
	if (nv)
		printf("one pass over the %u events: %llu detections (matcher), %llu (naive evaluator)%s\n", nev,
		       (unsigned long long)nh1, (unsigned long long)nh2, nh1 == nh2 ? "" : "  MISMATCH");
	fast = run_bench(hs, &evs, secs, &ne1, &nh1, &fast_cpu);
	if (matcher_only) {
		printf("matcher (Hyperscan): %.0f events/s  (%.0f per CPU second; %llu events, %.3f detections/event)\n",
		       fast, fast_cpu, (unsigned long long)ne1, (double)nh1 / (double)ne1);
		ret = 0;
		goto out;
	}
	naive = run_bench(nv, &evs, secs, &ne2, &nh2, &naive_cpu);
	printf("matcher (Hyperscan): %.0f events/s  (%.0f per CPU second; %llu events, %.3f detections/event)\n",
	       fast, fast_cpu, (unsigned long long)ne1, (double)nh1 / (double)ne1);
	printf("naive evaluator:     %.0f events/s  (%.0f per CPU second; %llu events, %.3f detections/event)\n",
	       naive, naive_cpu, (unsigned long long)ne2, (double)nh2 / (double)ne2);
	printf("speed-up: %.1fx\n", fast / naive);
	ret = 0;
out:
	rf_detect_free(hs);
	rf_detect_free(nv);
	free(evs.buf);
	free(evs.off);
	return ret;
}

int rf_cmd_rules(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: ringfence rules check [--quiet] DIR|FILE...\n"
			"       ringfence rules test [--rules DIR]... [--json | --format ocsf] [--naive] CAPTURE...\n"
			"       ringfence rules bench [--rules DIR]... [--seconds S] [--capture FILE]\n\n"
			"Sigma rules: check compiles and schema-checks them, test runs them over recorded\n"
			"events, bench measures rule throughput (matcher against naive evaluator).\n"
			"'ringfence rules COMMAND --help' says more.\n");
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "test"))
		return cmd_test(argc - 1, argv + 1);
	if (!strcmp(argv[1], "bench"))
		return cmd_bench(argc - 1, argv + 1);
	rf_err("unknown rules command '%s': use check, test or bench", argv[1]);
	return 2;
}
