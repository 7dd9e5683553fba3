// SPDX-License-Identifier: MIT
/* Fuzz the measurement log parser: the first line is the entry count, then the entries;
 * a parsed log is replayed and written back, and must parse to the same entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *nl = memchr(buf, '\n', size);
	struct rf_attest_log l, l2;
	size_t count = 0, used, len, i;
	char why[256], *txt;

	if (!nl || nl - buf > 4)
		return 0;
	for (i = 0; buf + i < nl; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return 0;
		count = count * 10 + (size_t)(buf[i] - '0');
	}
	buf = nl + 1;
	size -= (size_t)(nl + 1 - (const char *)data);
	if (rf_attest_log_parse(buf, size, count, &l, &used, why, sizeof(why)) < 0)
		return 0;
	(void)rf_attest_log_replay(&l);
	if (rf_attest_log_format(&l, &txt, &len) == 0) {
		if (rf_attest_log_parse(txt, len, l.n, &l2, &used, why, sizeof(why)) < 0 || l2.n != l.n)
			abort(); /* what we write, we must read back */
		for (i = 0; i < l.n; i++)
			if (strcmp(l.v[i].name, l2.v[i].name) || strcmp(l.v[i].detail, l2.v[i].detail))
				abort();
		rf_attest_log_fini(&l2);
		free(txt);
	}
	rf_attest_log_fini(&l);
	return 0;
}
