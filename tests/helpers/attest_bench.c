// SPDX-License-Identifier: MIT
/*
 * attest_bench: in-process timings for bench/attest.sh (no process start-up counted).
 *   attest_bench STATE NONCE_HEX POLICY N
 * Makes N quotes of the log in STATE (rf_attest_quote_state: TPM round trips or an
 * ed25519 signature) and verifies the last one N times (rf_attest_verify_mem). Prints
 * "quote_ms=M quote_cpu_ms=C verify_ms=M verify_cpu_ms=C" (means per operation; CPU
 * time is this process's own, so a TPM's work is not in it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/attest.h"

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct rf_attest_policy p;
	uint8_t nonce[RF_ATTEST_NONCE_MAX], *q = NULL;
	size_t nlen, qlen;
	char why[4096];
	double t0, c0, tq, cq;
	int i, n;

	if (argc != 5 || rf_attest_hex_decode(argv[2], strlen(argv[2]), nonce, sizeof(nonce), &nlen) < 0 ||
	    (n = atoi(argv[4])) < 1) {
		fprintf(stderr, "usage: attest_bench STATE NONCE_HEX POLICY N\n");
		return 2;
	}
	setenv("TSS2_LOG", "all+NONE", 0);
	if (rf_attest_policy_load(argv[3], &p, why, sizeof(why)) < 0) {
		fprintf(stderr, "attest_bench: %s\n", why);
		return 1;
	}
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++) {
		free(q);
		q = NULL;
		if (rf_attest_quote_state(argv[1], NULL, nonce, nlen, &q, &qlen, why, sizeof(why)) < 0) {
			fprintf(stderr, "attest_bench: quote: %s\n", why);
			return 1;
		}
	}
	tq = (now(CLOCK_MONOTONIC) - t0) / n;
	cq = (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / n;
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++)
		if (rf_attest_verify_mem(q, qlen, nonce, nlen, &p, why, sizeof(why)) < 0) {
			fprintf(stderr, "attest_bench: verify: %s\n", why);
			return 1;
		}
	printf("quote_ms=%.3f quote_cpu_ms=%.3f verify_ms=%.3f verify_cpu_ms=%.3f\n", tq, cq,
	       (now(CLOCK_MONOTONIC) - t0) / n, (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / n);
	free(q);
	rf_attest_policy_fini(&p);
	return 0;
}
