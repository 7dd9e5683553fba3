// SPDX-License-Identifier: MIT
/*
 * Replays a libFuzzer corpus without libFuzzer, so that `make test` runs every
 * corpus file through its target under the sanitizers. Prints TAP: one line per
 * corpus directory or file given. A crash aborts the program (the runner counts it).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, t = 0, bad = 0;

	printf("1..%d\n", argc - 1);
	for (i = 1; i < argc; i++) {
		struct stat st;
		int files = 0, errs = 0;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;
			char p[4096];
			while (d && (e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
				errs += run_file(p) < 0;
				files++;
			}
			if (d)
				closedir(d);
		} else {
			errs += run_file(argv[i]) < 0;
			files = 1;
		}
		t++;
		if (files == 0 || errs) {
			printf("not ok %d - %s: %d files, %d unreadable (an empty corpus is a defect)\n",
			       t, argv[i], files, errs);
			bad++;
		} else {
			printf("ok %d - %s: %d inputs replayed\n", t, argv[i], files);
		}
	}
	return bad ? 1 : 0;
}
