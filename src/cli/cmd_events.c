// SPDX-License-Identifier: MIT
/* events, record, replay: watch the sensor live, save it, play it back. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "common/log.h"
#include "ringfence/json.h"
#include "ringfence/schema.h"
#include "sensor/sensor.h"
#include "common/clock.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void rf_cli_catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int rf_cli_stopped(void)
{
	return stop_signal;
}

int rf_cli_parse_classes(const char *list, uint64_t *mask)
{
	char *copy = strdup(list), *tok, *save = NULL;
	unsigned i;
	int bad = 0;

	*mask = 0;
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(tok);
		int hit = 0;
		if (!strcmp(tok, "all")) {
			*mask = 0;
			free(copy);
			return 0;
		}
		/* a class name, or a family prefix: "process", "file", "net" */
		for (i = 1; i < rf_schema_class_count(); i++) {
			const struct rf_class_desc *c = rf_schema_class(i);
			if (c && (!strcmp(c->name, tok) || (!strncmp(c->name, tok, n) && c->name[n] == '_'))) {
				*mask |= 1ull << i;
				hit = 1;
			}
		}
		if (!hit) {
			rf_err("unknown event class '%s'; classes are:", tok);
			for (i = 1; i < rf_schema_class_count(); i++)
				if (rf_schema_class(i))
					fprintf(stderr, "  %-16s %s\n", rf_schema_class(i)->name,
						rf_schema_class(i)->doc);
			bad = 1;
		}
	}
	free(copy);
	return bad ? -EINVAL : 0;
}

int rf_cli_parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v <= 0 || v > 1e9)
		return -EINVAL;
	*out = v;
	return 0;
}

/* --- live streaming ------------------------------------------------------- */

struct stream {
	FILE *out;
	struct rf_capture_writer *cap;
	bool json, tty;
	uint64_t count, limit;
	int write_err;
	char line[RF_JSON_MAX];
};

static int print_event(const struct rf_event_hdr *ev, void *ctx)
{
	struct stream *st = ctx;
	int n;

	if (st->cap) {
		int e = rf_capture_write(st->cap, ev);
		if (e < 0) {
			st->write_err = e;
			return e;
		}
	} else {
		n = st->json ? rf_event_to_json(ev, st->line, sizeof(st->line))
			     : rf_event_to_text(ev, st->line, sizeof(st->line));
		if (n < 0)
			n = (int)strlen(st->line);
		st->line[n] = '\n';
		if (fwrite_unlocked(st->line, 1, (size_t)n + 1, st->out) != (size_t)n + 1) {
			st->write_err = -errno;
			return -EPIPE;
		}
	}
	st->count++;
	if (st->limit && st->count >= st->limit)
		return -ECANCELED; /* enough: stop the poll loop */
	return 0;
}

void rf_cli_print_summary(const char *what, const struct rf_sensor_stats *ss, const char *degraded)
{
	char buf[1024];
	size_t o = 0;
	unsigned i;

	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s %llu events (", what,
			      (unsigned long long)ss->delivered);
	for (i = 1; i < RF_CLASS_COUNT && o < sizeof(buf); i++)
		if (ss->per_class[i])
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s %llu",
					      buf[o - 1] == '(' ? "" : ", ", rf_schema_class(i)->name,
					      (unsigned long long)ss->per_class[i]);
	if (o < sizeof(buf))
		snprintf(buf + o, sizeof(buf) - o, "), %llu dropped, %llu invalid; sensor: %s%s",
			 (unsigned long long)ss->dropped, (unsigned long long)ss->invalid,
			 degraded ? "DEGRADED, " : "eBPF", degraded ? degraded : "");
	rf_info("%s", buf);
}

static void usage_stream(FILE *o, const char *cmd)
{
	if (!strcmp(cmd, "record"))
		fprintf(o, "usage: ringfence record FILE [--for SECONDS] [--count N] [--class LIST] [--no-bpf]\n\n"
			   "Record live events into FILE (capture format: docs/capture-format.md).\n");
	else
		fprintf(o, "usage: ringfence events [--json] [--class LIST] [--for SECONDS] [--count N] [--no-bpf]\n\n"
			   "Stream live events: aligned columns, or JSON lines with --json.\n");
	fprintf(o, "\n  --json           one JSON object per line (fields: docs/events.md)\n"
		   "  --class LIST     only these classes: names, or families (process, file, net), comma-separated\n"
		   "  --for SECONDS    stop after SECONDS\n"
		   "  --count N        stop after N events\n"
		   "  --no-bpf         do not load eBPF: use the degraded process-connector sensor\n"
		   "  --no-bootstrap   do not read /proc at start (parent fields of older processes stay empty)\n"
		   "  --ring-kib N     kernel ring buffer size in KiB, a power of two (default 16384)\n"
		   "  --exclude-path P drop file events under prefix P in the kernel (repeatable, at most 8;\n"
		   "                   replaces the default /proc/ and /sys/)\n"
		   "  --sched batch|other\n"
		   "                   CPU scheduling of this reader: batch (default: SCHED_BATCH, a woken\n"
		   "                   reader never preempts the programs it watches; its events wait in\n"
		   "                   the kernel ring until a CPU is free) or other (the normal policy)\n"
		   "  --syscall-hooks tracepoint|raw\n"
		   "                   how open-family syscalls are hooked: one tracepoint per syscall (default,\n"
		   "                   costs nothing for other syscalls) or one raw tracepoint on every\n"
		   "                   syscall's exit (for comparison; see bench/storms.sh)\n\n"
		   "Needs root (eBPF, or the process connector). Stops on SIGINT/SIGTERM and prints a\n"
		   "summary (events by class, drops) on stderr.\n");
}

static int stream_main(const char *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, 0, 'j'},        {"class", required_argument, 0, 'c'},
		{"for", required_argument, 0, 'f'},   {"count", required_argument, 0, 'n'},
		{"no-bpf", no_argument, 0, 'B'},      {"no-bootstrap", no_argument, 0, 'b'},
		{"ring-kib", required_argument, 0, 'r'}, {"help", no_argument, 0, 'h'},
		{"syscall-hooks", required_argument, 0, 'S'},
		{"exclude-path", required_argument, 0, 'x'},
		{"sched", required_argument, 0, 's'},
		{0, 0, 0, 0},
	};
	struct rf_sensor_opts so = {.bootstrap = true};
	const char *excl[RF_PATH_EXCL_MAX];
	unsigned nexcl = 0;
	struct rf_sensor_stats ss;
	struct rf_sensor *s = NULL;
	struct stream *st = calloc(1, sizeof(*st));
	const char *file = NULL;
	double secs = 0;
	uint64_t deadline = 0, unflushed = 0; /* unflushed: when the first unwritten event came */
	bool batch = true;
	char why[512];
	int c, ret = 1, err;

	if (!st)
		return 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jc:f:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			st->json = true;
			break;
		case 'c':
			if (rf_cli_parse_classes(optarg, &so.class_mask) < 0)
				goto usage;
			break;
		case 'f':
			if (rf_cli_parse_seconds(optarg, &secs) < 0) {
				rf_err("--for takes a positive number of seconds, not '%s'", optarg);
				goto usage;
			}
			break;
		case 'n': {
			char *end;
			st->limit = strtoull(optarg, &end, 10);
			if (*end || !st->limit) {
				rf_err("--count takes a positive number, not '%s'", optarg);
				goto usage;
			}
			break;
		}
		case 'B':
			so.no_bpf = true;
			break;
		case 'S':
			if (!strcmp(optarg, "raw"))
				so.raw_syscall_hooks = true;
			else if (strcmp(optarg, "tracepoint")) {
				rf_err("--syscall-hooks takes tracepoint or raw, not '%s'", optarg);
				goto usage;
			}
			break;
		case 's':
			if (!strcmp(optarg, "other"))
				batch = false;
			else if (strcmp(optarg, "batch")) {
				rf_err("--sched takes batch or other, not '%s'", optarg);
				goto usage;
			}
			break;
		case 'x':
			if (nexcl >= RF_PATH_EXCL_MAX) {
				rf_err("at most %u --exclude-path prefixes", RF_PATH_EXCL_MAX);
				goto usage;
			}
			if (optarg[0] != '/' || strlen(optarg) >= RF_PATH_EXCL_LEN) {
				rf_err("--exclude-path takes an absolute path prefix shorter than %u bytes, not '%s'",
				       RF_PATH_EXCL_LEN, optarg);
				goto usage;
			}
			excl[nexcl++] = optarg;
			so.path_excl = excl;
			so.npath_excl = nexcl;
			break;
		case 'r': {
			char *end;
			unsigned long k = strtoul(optarg, &end, 10);
			if (*end || k < 4 || k > (1ul << 20) || (k & (k - 1))) {
				rf_err("--ring-kib takes a power of two from 4 to 1048576, not '%s'", optarg);
				goto usage;
			}
			so.ring_bytes = (uint32_t)(k * 1024);
			break;
		}
		case 'b':
			so.bootstrap = false;
			break;
		case 'h':
			usage_stream(stdout, cmd);
			free(st);
			return 0;
		default:
			goto usage;
		}
	}
	if (!strcmp(cmd, "record")) {
		if (optind != argc - 1 || st->json) {
			rf_err("record takes one FILE%s", st->json ? " and no --json" : "");
			goto usage;
		}
		file = argv[optind];
	} else if (optind != argc) {
		rf_err("unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (geteuid() != 0 && !so.no_bpf)
		rf_warn("not running as root: eBPF will not load; 'sudo ringfence %s' gives the full sensor", cmd);
	/* SCHED_BATCH: a woken batch task does not preempt the running one. Measured on
	 * the storms (bench/storms.sh): with the normal policy the reader, woken by an
	 * exec or by the end of a 50 us nap, preempted the watched program about once per
	 * exec and 6,000 times in 200,000 opens; as a batch task as often as with no
	 * monitor at all. Its share of the CPU is unchanged. */
	if (batch) {
		struct sched_param sp = {0};
		if (sched_setscheduler(0, SCHED_BATCH, &sp) < 0)
			rf_warn("cannot run as SCHED_BATCH (%s); keeping the normal policy", strerror(errno));
	}
	st->out = stdout;
	st->tty = isatty(STDOUT_FILENO);
	if (!st->tty)
		setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	if (file && (err = rf_capture_create(file, &st->cap)) < 0) {
		rf_err("cannot create %s: %s", file, strerror(-err));
		goto out;
	}
	rf_cli_catch_signals();
	err = rf_sensor_open(&so, print_event, st, &s, why, sizeof(why));
	if (err < 0) {
		rf_err("%s", why);
		goto out;
	}
	if (rf_sensor_degraded(s))
		rf_warn("eBPF sensor unavailable: %s; falling back to the process connector "
			"(degraded: exec/fork/exit only, fields read from /proc after the fact, "
			"every event marked degraded)", rf_sensor_degraded(s));
	if (rf_sensor_unavailable(s))
		rf_warn("some sensor programs could not be attached; their events will be missing: %s",
			rf_sensor_unavailable(s));
	if (st->tty && !st->json && !st->cap)
		printf("%s\n", rf_event_text_header());
	if (secs > 0)
		deadline = rf_mono_ns() + (uint64_t)(secs * 1e9);
	while (!rf_cli_stopped()) {
		int timeout = 200;
		uint64_t now = 0;
		if (deadline || unflushed) {
			now = rf_mono_ns();
			if (deadline && now >= deadline)
				break;
			if (deadline && (deadline - now) / 1000000 < (uint64_t)timeout)
				timeout = (int)((deadline - now) / 1000000) + 1;
		}
		/* Output not yet written goes out RF_EVENTS_FLUSH_MS after its first event at
		 * the latest: one write for many events when they come a few a millisecond
		 * (an exec storm wrote once per exec before), and timely still for a reader
		 * at the other end of a pipe. A terminal gets every batch at once. */
		if (unflushed) {
			uint64_t due = unflushed + RF_EVENTS_FLUSH_MS * 1000000ull;
			if (now >= due) {
				fflush(stdout);
				unflushed = 0;
			} else if ((due - now) / 1000000 + 1 < (uint64_t)timeout) {
				timeout = (int)((due - now) / 1000000) + 1;
			}
		}
		err = rf_sensor_poll(s, timeout);
		if (err == -ECANCELED)
			break;
		if (err == -EINTR)
			continue;
		if (err < 0) {
			if (st->write_err == -EPIPE || st->write_err == 0)
				break; /* reader went away */
			rf_err("writing events: %s", strerror(-st->write_err));
			goto out;
		}
		if (err > 0 && st->tty)
			fflush(stdout);
		else if (err > 0 && !unflushed)
			unflushed = rf_mono_ns();
	}
	/* Deliver everything the kernel queued before we stopped, on a signal too: a
	 * reader that fell behind must not lose events it never counted as drops.
	 * Bounded, in case events keep coming faster than we write them. */
	if (!st->limit || st->count < st->limit) {
		uint64_t until = rf_mono_ns() + 5000000000ull;
		while (rf_sensor_poll(s, 0) > 0 && rf_mono_ns() < until)
			;
	}
	fflush(stdout);
	rf_sensor_stats(s, &ss);
	rf_cli_print_summary(file ? "recorded" : "saw", &ss, rf_sensor_degraded(s));
	ret = 0;
out:
	if (st->cap) {
		err = rf_capture_writer_close(st->cap);
		if (err < 0 && ret == 0) {
			rf_err("writing %s: %s", file, strerror(-err));
			ret = 1;
		}
	}
	rf_sensor_free(s);
	free(st);
	return ret;
usage:
	usage_stream(stderr, cmd);
	free(st);
	return 2;
}

int rf_cmd_events(int argc, char **argv)
{
	return stream_main("events", argc, argv);
}

int rf_cmd_record(int argc, char **argv)
{
	return stream_main("record", argc, argv);
}

/* --- replay ---------------------------------------------------------------- */

int rf_cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, 0, 'j'},
		{"class", required_argument, 0, 'c'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct rf_capture_reader *r = NULL;
	const struct rf_event_hdr *ev;
	uint64_t mask = 0, n = 0;
	bool json = false;
	char err[512];
	static _Alignas(8) unsigned char copy[RF_EVENT_MAX];
	static char line[RF_JSON_MAX];
	int c, k;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jc:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'c':
			if (rf_cli_parse_classes(optarg, &mask) < 0)
				return 2;
			break;
		case 'h':
			printf("usage: ringfence replay FILE [--json] [--class LIST]\n\n"
			       "Print the events of a capture file made by 'ringfence record', as\n"
			       "'ringfence events' would (every event is flagged replayed).\n");
			return 0;
		default:
			fprintf(stderr, "usage: ringfence replay FILE [--json] [--class LIST]\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		rf_err("replay takes one FILE ('ringfence replay --help')");
		return 2;
	}
	if (rf_capture_open(argv[optind], &r, err, sizeof(err)) < 0) {
		rf_err("%s: %s", argv[optind], err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	while ((k = rf_capture_next(r, &ev, err, sizeof(err))) > 0) {
		struct rf_event_hdr *e = (struct rf_event_hdr *)copy;
		int len;
		if (mask && !(mask & (1ull << ev->class_id)))
			continue;
		memcpy(copy, ev, ev->size);
		e->flags |= RF_EVF_REPLAYED;
		len = json ? rf_event_to_json(e, line, sizeof(line)) : rf_event_to_text(e, line, sizeof(line));
		if (len < 0)
			len = (int)strlen(line);
		line[len] = '\n';
		if (fwrite(line, 1, (size_t)len + 1, stdout) != (size_t)len + 1)
			break;
		n++;
	}
	fflush(stdout);
	rf_capture_close(r);
	if (k < 0) {
		rf_err("%s: %s (after %llu good events)", argv[optind], err, (unsigned long long)n);
		return 1;
	}
	return 0;
}
