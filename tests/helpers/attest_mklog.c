// SPDX-License-Identifier: MIT
/*
 * attest_mklog: build a measurement log the way the daemon does (tests and bench).
 *   attest_mklog STATE [software] < lines
 * Starts a new log in STATE (TPM from $RINGFENCE_TCTI: PCR reset; or software-only), then
 * measures one component per input line "TYPE NAME FILE [DETAIL]" (the FILE's bytes).
 * Prints the mode ("tpm" or "software: why") on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

int main(int argc, char **argv)
{
	struct rf_attest_opts o = {0};
	struct rf_attest *a = NULL;
	char why[512], line[4096];
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: attest_mklog STATE [software] < 'TYPE NAME FILE [DETAIL]' lines\n");
		return 2;
	}
	setenv("TSS2_LOG", "all+NONE", 0);
	o.state = argv[1];
	o.software = argc > 2 && !strcmp(argv[2], "software");
	r = rf_attest_open(&o, &a, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "attest_mklog: %s\n", why);
		return 1;
	}
	if (rf_attest_is_tpm(a))
		printf("tpm\n");
	else
		printf("software: %s\n", why);
	while (fgets(line, sizeof(line), stdin)) {
		char *type, *name, *file, *detail, *save;
		int t;

		line[strcspn(line, "\n")] = 0;
		type = strtok_r(line, " ", &save);
		name = strtok_r(NULL, " ", &save);
		file = strtok_r(NULL, " ", &save);
		detail = strtok_r(NULL, "", &save);
		if (!type)
			continue;
		t = rf_attest_type_parse(type);
		if (t < 0 || !name || !file) {
			fprintf(stderr, "attest_mklog: bad line (TYPE NAME FILE [DETAIL])\n");
			rf_attest_free(a);
			return 2;
		}
		if (rf_attest_measure_file(a, t, name, file, detail ? detail : "", why, sizeof(why)) < 0) {
			fprintf(stderr, "attest_mklog: %s\n", why);
			rf_attest_free(a);
			return 1;
		}
	}
	rf_attest_free(a);
	return 0;
}
