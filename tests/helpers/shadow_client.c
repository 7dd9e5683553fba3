// SPDX-License-Identifier: MIT
/*
 * shadow_client: a stand-in for a content-driven client in the shadow run of
 * `ringfence content install --shadow` (tests/integration/content_*.sh).
 *
 *   shadow_client CONTENT_DIR CAPTURE
 *
 * It reads the fieldmap templates (*.fm) of CONTENT_DIR the way a fragile
 * interpreter would: it believes every event supplies SUPPLIED fields, fewer than
 * the schema declares, and indexes its field array without a bounds check. A
 * template naming a field the schema has but this client does not supply makes it
 * crash (as the 2024 interpreter did); the validator, which checks against the
 * schema, cannot see that. Templates named "spin" burn CPU forever (a budget
 * overrun). Otherwise it reads the capture file through and exits 0.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUPPLIED 20 /* fields this client fills in per event */

static int run_file(const char *dir, const char *name)
{
	char path[4096], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok = strtok_r(line, " \t\n", &save), *tname;
		unsigned long values[SUPPLIED] = {0}, sum = 0;

		if (!tok || strcmp(tok, "template"))
			continue;
		tname = strtok_r(NULL, " \t\n", &save);
		strtok_r(NULL, " \t\n", &save); /* class */
		if (tname && !strcmp(tname, "spin"))
			for (volatile unsigned long x = 0;; x++)
				;
		while ((tok = strtok_r(NULL, " \t\n", &save))) {
			unsigned long idx = strtoul(tok, NULL, 10);
			/* The unchecked read of the original bug would be values[idx];
			 * reading past the array is undefined, so crash deterministically
			 * where it would have read out of bounds. */
			if (idx >= SUPPLIED) {
				fprintf(stderr, "shadow_client: template %s reads field %lu, only "
						"%d supplied: crashing\n",
					tname ? tname : "?", idx, SUPPLIED);
				raise(SIGSEGV);
			}
			sum += values[idx];
		}
		(void)sum;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct dirent *de;
	unsigned long bytes = 0;
	char buf[65536];
	size_t n;
	FILE *cap;
	DIR *d;

	if (argc != 3) {
		fprintf(stderr, "usage: shadow_client CONTENT_DIR CAPTURE\n");
		return 2;
	}
	d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 1;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 3 && !strcmp(de->d_name + l - 3, ".fm") && run_file(argv[1], de->d_name) < 0) {
			perror(de->d_name);
			return 1;
		}
	}
	closedir(d);
	cap = fopen(argv[2], "rb");
	if (!cap) {
		perror(argv[2]);
		return 1;
	}
	while ((n = fread(buf, 1, sizeof(buf), cap)) > 0)
		bytes += n;
	fclose(cap);
	printf("shadow_client: ran on %lu capture bytes\n", bytes);
	return 0;
}
