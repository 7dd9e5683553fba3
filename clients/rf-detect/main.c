// SPDX-License-Identifier: MIT
/*
 * rf-detect: the reference detection client. Sigma rules, compiled into Hyperscan
 * databases, evaluated on every event; one line per detection on standard output.
 *
 * Live (no CAPTURE given): a client of the ringfence daemon through the public API
 * (libringfence, include/ringfence/ringfence.h), exactly as any vendor's engine: it
 * connects with its manifest name, subscribes to the classes its rules look at and
 * reads its ring. Lost events (sequence gaps) are counted and reported.
 * Offline: the events of capture files ('ringfence record').
 *
 *   rf-detect [--rules DIR]... [--json | --format text|json|ocsf]
 *             [--name NAME] [--socket PATH] [--for SECONDS] [--count N] [CAPTURE...]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"
#include "detect/detect.h"
#include "ringfence/ringfence.h"

#define DIRS_MAX 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_hit(const struct rf_detect_hit *h, const struct rf_event_hdr *ev, void *ctx)
{
	rf_detect_write_hit(stdout, *(int *)ctx, h, ev, NULL);
}

static void usage(FILE *o)
{
	fprintf(o, "usage: rf-detect [--rules DIR]... [--json | --format text|json|ocsf]\n"
		   "                 [--name NAME] [--socket PATH] [--for SECONDS] [--count N] [CAPTURE...]\n\n"
		   "Evaluate Sigma rules (default: rules/default) and print each detection as one line.\n"
		   "Without CAPTURE files: connect to the ringfence daemon as client NAME (default\n"
		   "rf-detect; its manifest must allow the classes the rules need) and read live events.\n\n"
		   "  --for SECONDS  live: stop after SECONDS     --count N  live: stop after N events\n"
		   "  --socket PATH  daemon socket (default $RINGFENCE_SOCKET, else " RF_DEFAULT_SOCKET ")\n"
		   "SIGINT or SIGTERM stop a live run; the counts go to standard error.\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_live(struct rf_detect *d, const char *name, const char *sock, double secs,
		    unsigned long long count, int *fmt)
{
	struct rf_client_opts o = {.size = sizeof(o), .abi_version = RF_ABI_VERSION, .name = name,
				   .socket_path = sock};
	struct rf_client_stats st = {.size = sizeof(st)};
	const struct rf_event_hdr *ev;
	struct rf_client *c = NULL;
	unsigned long long n = 0, lost = 0, last = 0;

	double t0 = now_s();
	char why[256];
	int r;

	if ((r = rf_client_open(&o, &c, why, sizeof(why))) < 0) {
		fprintf(stderr, "rf-detect: cannot connect as '%s': %s\n", name, why);
		return 1;
	}
	if ((r = rf_client_subscribe(c, rf_detect_classes(d), RF_SUB_NOTIFY)) < 0) {
		fprintf(stderr, "rf-detect: subscribe: %s (the manifest must allow the classes the rules need)\n",
			rf_client_error(c)[0] ? rf_client_error(c) : rf_strerror(r));
		rf_client_close(c);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		/* SIGINT/SIGTERM end the loop (no SA_RESTART: the wait returns -EINTR) */
		struct sigaction sa = {.sa_handler = on_signal};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	while (!stop && (!count || n < count) && (secs <= 0 || now_s() - t0 < secs)) {
		r = rf_client_next(c, &ev, 200);
		if (r == 0)
			continue;
		if (r < 0)
			break;
		if (ev->seq > last + 1)
			lost += ev->seq - last - 1;
		last = ev->seq;
		n++;
		rf_detect_event(d, ev, ev->size, on_hit, fmt);
	}
	if (rf_client_stats(c, &st) == 0)
		fprintf(stderr, "rf-detect: %llu events, %llu lost (sequence gaps), daemon: %llu delivered, %llu dropped\n",
			n, lost, (unsigned long long)st.delivered, (unsigned long long)st.dropped);
	rf_client_close(c);
	if (r < 0 && r != -EPIPE && r != -EINTR) {
		fprintf(stderr, "rf-detect: %s\n", rf_strerror(r));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"rules", required_argument, 0, 'r'}, {"json", no_argument, 0, 'j'},
		{"format", required_argument, 0, 'f'}, {"name", required_argument, 0, 'n'},
		{"socket", required_argument, 0, 's'}, {"for", required_argument, 0, 't'},
		{"count", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *dirs[DIRS_MAX], *name = "rf-detect", *sock = NULL;
	int ndirs = 0, o, i, fmt = RF_DETECT_OUT_TEXT, ret = 0;
	double secs = 0;
	unsigned long long count = 0;
	struct rf_detect_report rep = {0};
	struct rf_detect *d;
	size_t k;
	char *end;

	while ((o = getopt_long(argc, argv, "r:jf:n:s:t:c:h", lo, NULL)) != -1) {
		switch (o) {
		case 'r':
			if (ndirs == DIRS_MAX) {
				fprintf(stderr, "rf-detect: at most %d --rules\n", DIRS_MAX);
				return 2;
			}
			dirs[ndirs++] = optarg;
			break;
		case 'j':
			fmt = RF_DETECT_OUT_JSON;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				fmt = RF_DETECT_OUT_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = RF_DETECT_OUT_JSON;
			else if (!strcmp(optarg, "ocsf"))
				fmt = RF_DETECT_OUT_OCSF;
			else {
				fprintf(stderr, "rf-detect: --format takes text, json or ocsf\n");
				return 2;
			}
			break;
		case 'n':
			name = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 't':
			secs = strtod(optarg, &end);
			if (*end || secs <= 0) {
				fprintf(stderr, "rf-detect: --for takes a positive number of seconds\n");
				return 2;
			}
			break;
		case 'c':
			count = strtoull(optarg, &end, 10);
			if (*end || !count) {
				fprintf(stderr, "rf-detect: --count takes a positive number\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ndirs)
		dirs[ndirs++] = "rules/default";
	d = rf_detect_open(dirs, ndirs, RF_DETECT_HYPERSCAN, &rep);
	if (!d) {
		fprintf(stderr, "rf-detect: out of memory\n");
		return 1;
	}
	for (k = 0; k < rep.n; k++)
		if (rep.v[k].status == RF_RULE_INVALID)
			fprintf(stderr, "rf-detect: %s:%u:%u: %s\n", rep.v[k].file, rep.v[k].line, rep.v[k].col,
				rep.v[k].reason);
	fprintf(stderr, "rf-detect: %u rules compiled, %u unsupported, %u invalid\n", rep.compiled,
		rep.unsupported, rep.invalid);
	if (optind >= argc) {
		ret = run_live(d, name, sock, secs, count, &fmt);
	} else {
		for (i = optind; i < argc; i++) {
			struct rf_capture_reader *r = NULL;
			const struct rf_event_hdr *ev;
			char err[256];
			int n;
			if (rf_capture_open(argv[i], &r, err, sizeof(err)) < 0) {
				fprintf(stderr, "rf-detect: %s: %s\n", argv[i], err);
				ret = 1;
				continue;
			}
			while ((n = rf_capture_next(r, &ev, err, sizeof(err))) > 0)
				rf_detect_event(d, ev, ev->size, on_hit, &fmt);
			if (n < 0) {
				fprintf(stderr, "rf-detect: %s: %s\n", argv[i], err);
				ret = 1;
			}
			rf_capture_close(r);
		}
	}
	rf_detect_free(d);
	rf_detect_report_free(&rep);
	return ret;
}
