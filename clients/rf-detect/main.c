// SPDX-License-Identifier: MIT
/*
 * rf-detect: the reference detection client. Sigma rules, compiled into Hyperscan
 * databases, evaluated on every event; one line per detection on standard output.
 *
 * Today it reads events from capture files ('ringfence record'); when the broker's
 * client API (include/ringfence/ringfence.h) lands, the event source becomes the
 * client's own ring and nothing else changes: rf_detect_event() takes any validated
 * event in the wire format.
 *
 *   rf-detect [--rules DIR]... [--json | --format text|json|ocsf] CAPTURE...
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "detect/detect.h"

#define DIRS_MAX 64

static void on_hit(const struct rf_detect_hit *h, const struct rf_event_hdr *ev, void *ctx)
{
	rf_detect_write_hit(stdout, *(int *)ctx, h, ev, NULL);
}

static void usage(FILE *o)
{
	fprintf(o, "usage: rf-detect [--rules DIR]... [--json | --format text|json|ocsf] CAPTURE...\n\n"
		   "Evaluate Sigma rules (default: rules/default) on the events of capture files and\n"
		   "print each detection as one line.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"rules", required_argument, 0, 'r'}, {"json", no_argument, 0, 'j'},
		{"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *dirs[DIRS_MAX];
	int ndirs = 0, o, i, fmt = RF_DETECT_OUT_TEXT, ret = 0;
	struct rf_detect_report rep = {0};
	struct rf_detect *d;
	size_t k;

	while ((o = getopt_long(argc, argv, "r:jf:h", lo, NULL)) != -1) {
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
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
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
	rf_detect_free(d);
	rf_detect_report_free(&rep);
	return ret;
}
