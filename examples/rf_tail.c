// SPDX-License-Identifier: MIT
/* rf_tail: print the execs the platform reports. Usage: rf_tail MANIFEST_NAME [COUNT]
 * Build: make examples (links build/libringfence.a). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "ringfence/ringfence.h"

int main(int argc, char **argv)
{
	struct rf_client_opts o = {.size = sizeof(o), .abi_version = RF_ABI_VERSION,
				   .name = argc > 1 ? argv[1] : "rf-tail"};
	const struct rf_class_desc *exec = rf_schema_class(RF_CLASS_PROCESS_EXEC);
	const struct rf_field_desc *exe = &exec->fields[rf_schema_field_index(exec, "exe")];
	struct rf_client_stats st = {.size = sizeof(st)};
	struct rf_client *c;
	const struct rf_event_hdr *ev;
	uint64_t last = 0, count = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
	char why[256];
	int r = 0;

	if ((r = rf_client_open(&o, &c, why, sizeof(why))) < 0) {
		fprintf(stderr, "rf_tail: %s\n", why);
		return 1;
	}
	if ((r = rf_client_subscribe(c, 1ull << RF_CLASS_PROCESS_EXEC, RF_SUB_NOTIFY)) < 0) {
		fprintf(stderr, "rf_tail: subscribe: %s\n", rf_client_error(c));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((!count || last < count) && (r = rf_client_next(c, &ev, 1000)) >= 0) {
		const char *path;
		size_t len;

		if (r == 0)
			continue; /* a second without events */
		if (ev->seq != last + 1)
			printf("(lost %llu events)\n", (unsigned long long)(ev->seq - last - 1));
		last = ev->seq;
		if (rf_event_str(ev, exe, &path, &len) == 0)
			printf("%u %s\n", ev->pid, path);
	}
	if (rf_client_stats(c, &st) == 0)
		fprintf(stderr, "delivered %llu, dropped %llu\n", (unsigned long long)st.delivered,
			(unsigned long long)st.dropped);
	if (r < 0)
		fprintf(stderr, "rf_tail: %s\n", rf_strerror(r));
	rf_client_close(c);
	return r < 0 && r != -EPIPE;
}
