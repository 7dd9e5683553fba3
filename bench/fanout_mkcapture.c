// SPDX-License-Identifier: MIT
/* fanout_mkcapture: write N synthetic events of the given classes into a capture
 * file, for the fan-out benchmark's replay runs. Built by bench/fanout.sh.
 *   fanout_mkcapture FILE CLASS[,CLASS...] N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "daemon/source.h"
#include "ringfence/schema.h"

static struct rf_capture_writer *w;
static size_t bytes;

static void put(const struct rf_event_hdr *ev, void *ctx)
{
	bytes += ev->size;
	if (rf_capture_write(w, ev) < 0) {
		fprintf(stderr, "fanout_mkcapture: write failed\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct rf_source *s;
	char err[256], *save = NULL, *tok;
	uint64_t mask = 0, n, next;

	if (argc != 4)
		return 2;
	for (tok = strtok_r(argv[2], ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct rf_class_desc *c = rf_schema_class_by_name(tok);
		if (!c)
			return 2;
		mask |= 1ull << c->id;
	}
	n = strtoull(argv[3], NULL, 10);
	if (rf_source_synthetic(mask, 0, n, &s, err, sizeof(err)) < 0 ||
	    rf_capture_create(argv[1], &w) < 0) {
		fprintf(stderr, "fanout_mkcapture: %s\n", err);
		return 1;
	}
	while (rf_source_pump(s, 1, 4096, put, NULL, &next) > 0)
		;
	rf_source_free(s);
	if (rf_capture_writer_close(w) < 0)
		return 1;
	printf("%llu events, %.0f bytes each on average\n", (unsigned long long)n, (double)bytes / n);
	return 0;
}
