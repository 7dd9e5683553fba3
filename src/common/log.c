// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static int level = -1;

void rf_log_set_level(enum rf_log_level lvl)
{
	level = (int)lvl;
}

void rf_log(enum rf_log_level lvl, const char *fmt, ...)
{
	static const char *const prefix[] = {"error: ", "warning: ", "", "debug: "};
	char buf[2048];
	va_list ap;
	size_t n;

	if (level < 0)
		level = getenv("RINGFENCE_DEBUG") ? RF_LOG_DEBUG : RF_LOG_INFO;
	if ((int)lvl > level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	/* one write per line so that messages from several processes do not interleave */
	fprintf(stderr, "ringfence: %s%s\n", prefix[lvl], buf);
}
