// SPDX-License-Identifier: MIT
/* libFuzzer target: the Sigma rule loader and compiler. The input is one YAML text
 * (any number of documents); it is loaded, compiled into both the Hyperscan matcher
 * and the naive evaluator, and a few fixed events of every class Sigma rules see are
 * run through both (so a bad tree, atom index or bitset shows up). The two engines
 * must agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "detect/synth.h"

static void count(const struct rf_detect_hit *h, const struct rf_event_hdr *ev, void *ctx)
{
	(void)h; (void)ev;
	(*(int *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const exec_kv[] = {"Image", "/tmp/x", "CommandLine", "bash -c 'echo L2Jpbi9zaA== | base64 -d | sh'",
					      "ParentImage", "/usr/sbin/nginx", "User", "root", "CurrentDirectory", "/tmp",
					      "ts_ns", "1700000000000000000"};
	static const char *const file_kv[] = {"TargetFilename", "/etc/ld.so.preload", "Image", "/usr/bin/tee",
					      "ts_ns", "1700000000000000000"};
	static const char *const net_kv[] = {"DestinationIp", "10.1.2.3", "DestinationPort", "4444", "Image", "/bin/bash",
					     "Initiated", "true", "ts_ns", "1700000000000000000"};
	struct rf_detect *hs = rf_detect_new(), *nv = rf_detect_new();
	struct rf_detect_report r1 = {0}, r2 = {0};
	unsigned char ev[3][2048];
	int n[3], i, a, b;

	if (!hs || !nv)
		goto out;
	rf_detect_load_buffer(hs, "fuzz.yml", (const char *)data, size, &r1);
	rf_detect_load_buffer(nv, "fuzz.yml", (const char *)data, size, &r2);
	if (rf_detect_compile(hs, RF_DETECT_HYPERSCAN, &r1) < 0 || rf_detect_compile(nv, RF_DETECT_NAIVE, &r2) < 0)
		goto out;
	n[0] = rf_detect_synth(ev[0], sizeof(ev[0]), RF_CLASS_PROCESS_EXEC, exec_kv, 12);
	n[1] = rf_detect_synth(ev[1], sizeof(ev[1]), RF_CLASS_FILE_CREATE, file_kv, 6);
	n[2] = rf_detect_synth(ev[2], sizeof(ev[2]), RF_CLASS_NET_CONNECT, net_kv, 10);
	for (i = 0; i < 3; i++) {
		if (n[i] < 0)
			abort();
		a = b = 0;
		rf_detect_event(hs, (void *)ev[i], (size_t)n[i], count, &a);
		rf_detect_event(nv, (void *)ev[i], (size_t)n[i], count, &b);
		/* rules the naive evaluator cannot express (POSIX regex) are left out of it,
		 * so only compare when both loaded the same rules */
		if (r1.compiled == r2.compiled && a != b)
			abort();
	}
out:
	rf_detect_free(hs);
	rf_detect_free(nv);
	rf_detect_report_free(&r1);
	rf_detect_report_free(&r2);
	return 0;
}
