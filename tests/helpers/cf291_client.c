// SPDX-License-Identifier: MIT
/*
 * cf291_client: a DELIBERATELY FRAGILE client that reproduces the bug class of
 * Channel File 291 (19 July 2024). Never copy this pattern.
 *
 *   cf291_client --name N --content DIR [--socket S] [--classes a,b]
 *
 * Its content, DIR/template, is a template with positional input fields:
 *   input_fields = 21      # how many fields the template believes an event has
 *   match_field = 21       # the (1-based) field its single rule compares
 *   match_value = x        # compared with strcmp
 * For every event the "sensor side" supplies RF_CF291_FIELDS (20) input fields as an
 * array of string pointers, and the "interpreter" reads in[match_field - 1] WITHOUT
 * checking it against the number supplied, exactly as the 2024 content interpreter
 * did. The array ends at a page boundary followed by an inaccessible guard page, so
 * field 21 reads past the end and dereferencing it crashes deterministically (in
 * 2024: a read of an invalid pointer in ring 0; here: SIGSEGV in one sandboxed
 * process). With match_field <= 20 it runs normally, reading events and sending a
 * heartbeat every second.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ringfence/ringfence.h"

#define RF_CF291_FIELDS 20

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", 1, 0, 's'}, {"name", 1, 0, 'n'}, {"content", 1, 0, 'c'},
		{"classes", 1, 0, 'C'}, {0},
	};
	struct rf_client_opts o = {.size = sizeof(o), .abi_version = RF_ABI_VERSION};
	const char *content = NULL, *classes = "process_fork";
	unsigned input_fields = 0, match_field = 0;
	char path[4096], line[256], value[128] = "", why[256], strs[RF_CF291_FIELDS][24];
	struct rf_client *c = NULL;
	uint64_t mask = 0;
	volatile uint64_t n = 0, matches = 0; /* observable: the reads are not optimised away */
	time_t last_hb = 0;
	const char **in;
	unsigned char *pages;
	long pg = sysconf(_SC_PAGESIZE);
	FILE *f;
	int opt, r;

	o.socket_path = getenv("RINGFENCE_SOCKET");
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': o.socket_path = optarg; break;
		case 'n': o.name = optarg; break;
		case 'c': content = optarg; break;
		case 'C': classes = optarg; break;
		default: return 2;
		}
	}
	if (!content || !o.name) {
		fprintf(stderr, "cf291_client: --name and --content are required\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/template", content);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cf291_client: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "input_fields = %u", &input_fields);
		sscanf(line, "match_field = %u", &match_field);
		sscanf(line, "match_value = %127s", value);
	}
	fclose(f);
	/* "validated" as the 2024 validator did: the template agrees with itself */
	if (!match_field || match_field > input_fields) {
		fprintf(stderr, "cf291_client: template refused\n");
		return 1;
	}
	/* the input array ends exactly where a guard page begins */
	pages = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED || mprotect(pages + pg, pg, PROT_NONE) < 0)
		return 1;
	in = (const char **)(pages + pg - RF_CF291_FIELDS * sizeof(*in));

	r = rf_client_open(&o, &c, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "cf291_client: %s\n", why);
		return 1;
	}
	{
		char buf[256], *save = NULL, *tok;
		snprintf(buf, sizeof(buf), "%s", classes);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			const struct rf_class_desc *d = rf_schema_class_by_name(tok);
			if (d)
				mask |= 1ull << d->id;
		}
	}
	r = rf_client_subscribe(c, mask, RF_SUB_NOTIFY);
	if (r < 0) {
		fprintf(stderr, "cf291_client: subscribe: %s\n", rf_client_error(c));
		return 1;
	}
	for (;;) {
		const struct rf_event_hdr *ev;
		time_t now = time(NULL);

		if (now != last_hb) {
			last_hb = now;
			if (rf_client_heartbeat(c) < 0)
				return 1;
		}
		r = rf_client_next(c, &ev, 500);
		if (r < 0)
			return 1;
		if (r == 0)
			continue;
		/* the sensor side: RF_CF291_FIELDS positional input fields */
		for (unsigned i = 0; i < RF_CF291_FIELDS; i++) {
			snprintf(strs[i], sizeof(strs[i]), "%u:%llu", i, (unsigned long long)ev->pid);
			in[i] = strs[i];
		}
		/* the interpreter: NO BOUNDS CHECK (the bug being reproduced) */
		const char *field = ((const char *volatile *)in)[match_field - 1];
		if (!strcmp(field, value))
			matches++;
		n++;
	}
	rf_client_close(c);
	return 0;
}
