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
 * schema, cannot see that. Templates named "slow" sleep 5 ms on each event of their
 * class (content that makes the client fall behind live events, without using CPU).
 * Templates named "spin" burn CPU forever (a budget
 * overrun). It applies every template to every event of its class in CAPTURE, a
 * capture file read with the real capture reader, and exits 0 when all went well.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The helper build rule links libringfence only; the capture reader lives in the
 * daemon's core library, so compile it in. */
#include "capture/capture.c"

#define SUPPLIED 20 /* fields this client fills in per event */
#define TEMPLATES_MAX 64
#define TFIELDS_MAX 64

struct tmpl {
	int slow;
	const struct rf_class_desc *cls;
	unsigned n;
	unsigned long idx[TFIELDS_MAX];
};
static struct tmpl templates[TEMPLATES_MAX];
static unsigned ntemplates;

static int load_file(const char *dir, const char *name)
{
	char path[4096], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok = strtok_r(line, " \t\n", &save), *tname, *cname;
		struct tmpl *t;

		if (!tok || strcmp(tok, "template") || ntemplates == TEMPLATES_MAX)
			continue;
		tname = strtok_r(NULL, " \t\n", &save);
		cname = strtok_r(NULL, " \t\n", &save);
		if (tname && !strcmp(tname, "spin"))
			for (volatile unsigned long x = 0;; x++)
				;
		t = &templates[ntemplates++];
		t->slow = tname && !strcmp(tname, "slow");
		t->cls = cname ? rf_schema_class_by_name(cname) : NULL;
		while ((tok = strtok_r(NULL, " \t\n", &save)) && t->n < TFIELDS_MAX)
			t->idx[t->n++] = strtoul(tok, NULL, 10);
	}
	fclose(f);
	return 0;
}

/* Evaluate the templates on one event, the fragile way. */
static void apply(const struct rf_event_hdr *ev)
{
	unsigned i, k;

	for (i = 0; i < ntemplates; i++) {
		const struct tmpl *t = &templates[i];
		uint64_t values[SUPPLIED] = {0}, sum = 0;

		if (!t->cls || t->cls->id != ev->class_id)
			continue;
		if (t->slow)
			usleep(5000);
		for (k = 0; k < SUPPLIED && k < t->cls->nfields; k++)
			(void)rf_event_u64(ev, &t->cls->fields[k], &values[k]);
		for (k = 0; k < t->n; k++) {
			/* The unchecked read of the original bug would be values[idx];
			 * reading past the array is undefined, so crash deterministically
			 * where it would have read out of bounds. */
			if (t->idx[k] >= SUPPLIED) {
				fprintf(stderr, "shadow_client: a template reads field %lu of %s, "
						"only %d supplied: crashing\n",
					t->idx[k], t->cls->name, SUPPLIED);
				signal(SIGSEGV, SIG_DFL); /* a crash, even under a sanitizer */
				raise(SIGSEGV);
			}
			sum += values[t->idx[k]];
		}
		(void)sum;
	}
}

int main(int argc, char **argv)
{
	struct rf_capture_reader *r = NULL;
	const struct rf_event_hdr *ev;
	unsigned long events = 0;
	struct dirent *de;
	char err[256];
	DIR *d;
	int k;

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
		if (l > 3 && !strcmp(de->d_name + l - 3, ".fm") && load_file(argv[1], de->d_name) < 0) {
			perror(de->d_name);
			return 1;
		}
	}
	closedir(d);
	if (rf_capture_open(argv[2], &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "shadow_client: %s: %s\n", argv[2], err);
		return 1;
	}
	while ((k = rf_capture_next(r, &ev, err, sizeof(err))) > 0) {
		apply(ev);
		events++;
	}
	rf_capture_close(r);
	if (k < 0) {
		fprintf(stderr, "shadow_client: %s: %s\n", argv[2], err);
		return 1;
	}
	printf("shadow_client: %lu events, %u templates, no crash\n", events, ntemplates);
	return 0;
}
