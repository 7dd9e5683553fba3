// SPDX-License-Identifier: MIT
/*
 * rf_testclient: a libringfence client for the broker tests and the fan-out bench.
 *   rf_testclient --socket S --name N [--classes a,b] [--mute-pid P] [--mute-exe PATH]
 *     [--mute-exe-prefix PATH] [--mute-target PATH] [--mute-target-prefix PATH]
 *     [--invert process|exe|target] [--ready FILE] [--pause FILE] [--expect N]
 *     [--idle-ms MS] [--latency] [--latency-dump FILE] [--ring BYTES] [--spin-us US]
 *     [--short-slice] [--near-daemon]
 * Connects, subscribes, touches --ready, waits for --pause FILE to exist (a client
 * that does not read), then reads until it has seen --expect events (read + seq gaps)
 * or nothing came for --idle-ms (default 1000). Prints one line of key=value:
 *   read, gaps, per-class counts, distinct pids (bitmask of pid-1000 < 64), seq errors,
 *   the daemon's delivered/dropped/muted, events/s over the reading time, and with
 *   --latency p50/p99 of receipt time - hdr.ts_ns in ns (--latency-dump: one line per
 *   event, "ts_ns class pid receipt_ns", for bench/fanout.sh's hop figures);
 *   --spin-us, --short-slice and --near-daemon set rf_client_opts.spin_us,
 *   RF_CLIENT_SHORT_SLICE and RF_CLIENT_NEAR_DAEMON.
 *   Exit 0, or 1 on any error
 *   (message on stderr), 3 when the daemon refused (errno name printed as refused=).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ringfence/ring.h"
#include "ringfence/ringfence.h"

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", 1, 0, 's'}, {"name", 1, 0, 'n'}, {"classes", 1, 0, 'c'},
		{"mute-pid", 1, 0, 'p'}, {"mute-exe", 1, 0, 'e'}, {"mute-exe-prefix", 1, 0, 'E'},
		{"mute-target", 1, 0, 't'}, {"mute-target-prefix", 1, 0, 'T'},
		{"invert", 1, 0, 'i'}, {"ready", 1, 0, 'r'}, {"pause", 1, 0, 'P'},
		{"expect", 1, 0, 'x'}, {"idle-ms", 1, 0, 'I'}, {"latency", 0, 0, 'L'},
		{"ring", 1, 0, 'R'}, {"modes", 1, 0, 'm'}, {"corrupt-tail", 0, 0, 'C'},
		{"latency-dump", 1, 0, 'D'}, {"spin-us", 1, 0, 'S'}, {"short-slice", 0, 0, 'Z'},
		{"near-daemon", 0, 0, 'N'}, {0},
	};
	struct rf_client_opts o = {.size = sizeof(o), .abi_version = RF_ABI_VERSION};
	struct rf_client *c = NULL;
	const char *classes = "process_fork", *ready = NULL, *pause_file = NULL, *dump = NULL;
	struct lat_ev { uint64_t ts, recv; uint32_t pid; uint16_t cls; } *lev = NULL;
	uint64_t expect = 0, read_n = 0, per_class[RF_CLASSES_MAX] = {0}, pids = 0, seqerr = 0;
	uint64_t last_seq = 0, mask = 0, t_first = 0, t_last = 0, *lat = NULL, nlat = 0;
	uint32_t modes = RF_SUB_NOTIFY;
	int idle_ms = 1000, opt, r, latency = 0, corrupt_tail = 0;
	char why[256], buf[1024], *save = NULL, *tok;
	struct {
		int kind;
		char *arg;
	} mutes[32];
	int nmutes = 0, inverts[4] = {0};

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': o.socket_path = optarg; break;
		case 'n': o.name = optarg; break;
		case 'c': classes = optarg; break;
		case 'p': case 'e': case 'E': case 't': case 'T':
			if (nmutes < 32) {
				mutes[nmutes].kind = opt;
				mutes[nmutes++].arg = optarg;
			}
			break;
		case 'i':
			inverts[!strcmp(optarg, "process") ? RF_MUTESET_PROCESS
				: !strcmp(optarg, "exe") ? RF_MUTESET_EXE : RF_MUTESET_TARGET] = 1;
			break;
		case 'r': ready = optarg; break;
		case 'P': pause_file = optarg; break;
		case 'x': expect = strtoull(optarg, NULL, 10); break;
		case 'I': idle_ms = atoi(optarg); break;
		case 'L': latency = 1; break;
		case 'R': o.ring_bytes = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'm': modes = !strcmp(optarg, "auth") ? RF_SUB_AUTH : RF_SUB_NOTIFY; break;
		case 'C': corrupt_tail = 1; break;
		case 'D': dump = optarg; latency = 1; break;
		case 'S': o.spin_us = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'Z': o.flags |= RF_CLIENT_SHORT_SLICE; break;
		case 'N': o.flags |= RF_CLIENT_NEAR_DAEMON; break;
		default: return 2;
		}
	}
	r = rf_client_open(&o, &c, why, sizeof(why));
	if (r < 0) {
		printf("refused=%s\n", rf_strerror(r));
		fprintf(stderr, "rf_testclient: %s\n", why);
		return 3;
	}
	snprintf(buf, sizeof(buf), "%s", classes);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct rf_class_desc *d = rf_schema_class_by_name(tok);
		if (!d) {
			fprintf(stderr, "rf_testclient: unknown class %s\n", tok);
			return 2;
		}
		mask |= 1ull << d->id;
	}
	for (int i = 0; i < nmutes; i++) {
		switch (mutes[i].kind) {
		case 'p': r = rf_client_mute_process(c, (uint32_t)atoi(mutes[i].arg), 0); break;
		case 'e': r = rf_client_mute_path(c, RF_MUTE_EXE_LITERAL, mutes[i].arg); break;
		case 'E': r = rf_client_mute_path(c, RF_MUTE_EXE_PREFIX, mutes[i].arg); break;
		case 't': r = rf_client_mute_path(c, RF_MUTE_TARGET_LITERAL, mutes[i].arg); break;
		default: r = rf_client_mute_path(c, RF_MUTE_TARGET_PREFIX, mutes[i].arg); break;
		}
		if (r < 0) {
			fprintf(stderr, "rf_testclient: mute %s: %s %s\n", mutes[i].arg, rf_strerror(r),
				rf_client_error(c));
			return 1;
		}
	}
	for (int k = 1; k < 4; k++)
		if (inverts[k] && (r = rf_client_invert_muting(c, k, true)) < 0) {
			fprintf(stderr, "rf_testclient: invert: %s\n", rf_strerror(r));
			return 1;
		}
	/* mute first: the source may start as soon as we subscribe */
	r = rf_client_subscribe(c, mask, modes);
	if (r < 0) {
		printf("refused=%s\n", rf_strerror(r));
		fprintf(stderr, "rf_testclient: subscribe: %s\n", rf_client_error(c));
		rf_client_close(c);
		return 3;
	}
	if (latency && expect)
		lat = calloc(expect, sizeof(*lat));
	if (dump && expect)
		lev = calloc(expect, sizeof(*lev));
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f)
			fclose(f);
	}
	if (corrupt_tail) {
		/* a hostile client: find our ring's mapping and publish an impossible tail */
		FILE *m = fopen("/proc/self/maps", "r");
		char line[512];
		unsigned long lo = 0;
		while (m && fgets(line, sizeof(line), m))
			if (strstr(line, "memfd:ringfence-ring") && !lo)
				lo = strtoul(line, NULL, 16);
		if (m)
			fclose(m);
		if (!lo) {
			fprintf(stderr, "rf_testclient: ring mapping not found\n");
			return 1;
		}
		((struct rf_ring_hdr *)lo)->tail = (uint64_t)-4096;
		sleep(2);
		const struct rf_event_hdr *ev;
		while ((r = rf_client_next(c, &ev, 2000)) > 0)
			;
		printf("after_corrupt_next=%d\n", r);
		rf_client_close(c);
		return 0;
	}
	while (pause_file && access(pause_file, F_OK) != 0)
		usleep(10000);
	for (;;) {
		const struct rf_event_hdr *ev;

		if (expect && last_seq >= expect) {
			t_last = now_ns(CLOCK_MONOTONIC);
			break;
		}
		r = rf_client_next(c, &ev, idle_ms);
		if (r < 0) {
			fprintf(stderr, "rf_testclient: next: %s\n", rf_strerror(r));
			return 1;
		}
		if (r == 0)
			break;
		/* the clock is read every 256 events only: on some virtual machines a
		 * clock read costs more than taking an event */
		if (lat && nlat < expect) {
			uint64_t now = now_ns(CLOCK_REALTIME);
			if (lev)
				lev[nlat] = (struct lat_ev){ev->ts_ns, now, ev->pid, ev->class_id};
			lat[nlat++] = now - ev->ts_ns;
		}
		if (!t_first)
			t_first = now_ns(CLOCK_MONOTONIC);
		else if ((read_n & 255) == 0)
			t_last = now_ns(CLOCK_MONOTONIC);
		if (ev->seq <= last_seq)
			seqerr++;
		last_seq = ev->seq;
		read_n++;
		if (ev->class_id < RF_CLASSES_MAX)
			per_class[ev->class_id]++;
		if (ev->pid >= 1000 && ev->pid < 1064)
			pids |= 1ull << (ev->pid - 1000);
	}
	struct rf_client_stats st = {.size = sizeof(st)};
	r = rf_client_stats(c, &st);
	if (r < 0) {
		fprintf(stderr, "rf_testclient: stats: %s\n", rf_strerror(r));
		return 1;
	}
	printf("read=%llu gaps=%llu last_seq=%llu seqerr=%llu pids=%#llx delivered=%llu dropped=%llu "
	       "muted=%llu",
	       (unsigned long long)read_n, (unsigned long long)st.seq_gaps,
	       (unsigned long long)last_seq, (unsigned long long)seqerr, (unsigned long long)pids,
	       (unsigned long long)st.delivered, (unsigned long long)st.dropped,
	       (unsigned long long)st.muted);
	for (unsigned k = 1; k < RF_CLASSES_MAX; k++)
		if (per_class[k] || st.class_dropped[k])
			printf(" %s=%llu %s_dropped=%llu", rf_schema_class(k)->name,
			       (unsigned long long)per_class[k], rf_schema_class(k)->name,
			       (unsigned long long)st.class_dropped[k]);
	if (t_last > t_first)
		printf(" eps=%.0f", read_n * 1e9 / (double)(t_last - t_first));
	{
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf(" cpu_us=%llu", (unsigned long long)(ru.ru_utime.tv_sec * 1000000ll + ru.ru_utime.tv_usec +
							   ru.ru_stime.tv_sec * 1000000ll + ru.ru_stime.tv_usec));
	}
	if (lev && nlat) {
		FILE *f = fopen(dump, "w");
		if (!f) {
			fprintf(stderr, "rf_testclient: %s: cannot write\n", dump);
			return 1;
		}
		for (uint64_t i = 0; i < nlat; i++)
			fprintf(f, "%llu %u %u %llu\n", (unsigned long long)lev[i].ts, (unsigned)lev[i].cls,
				(unsigned)lev[i].pid, (unsigned long long)lev[i].recv);
		fclose(f);
	}
	if (nlat) {
		qsort(lat, nlat, sizeof(*lat), cmp_u64);
		printf(" lat_p50_ns=%llu lat_p99_ns=%llu lat_max_ns=%llu",
		       (unsigned long long)lat[nlat / 2], (unsigned long long)lat[nlat * 99 / 100],
		       (unsigned long long)lat[nlat - 1]);
	}
	printf("\n");
	free(lat);
	free(lev);
	rf_client_close(c);
	return 0;
}
