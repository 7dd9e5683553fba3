// SPDX-License-Identifier: MIT
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringfence/limits.h"
#include "daemon/affinity.h"

static cpu_set_t started_with;
static bool pinned;

int rf_affinity_pin(const char *arg, char *err, size_t errlen)
{
	cpu_set_t one;
	unsigned long cpu;
	char *end;

	errno = 0;
	cpu = strtoul(arg, &end, 10);
	if (errno || *end || !*arg || arg[0] == '-' || cpu >= RF_CPU_MAX) {
		snprintf(err, errlen, "--cpu wants a CPU number below %u", RF_CPU_MAX);
		return -EDOM;
	}
	if (sched_getaffinity(0, sizeof(started_with), &started_with) < 0) {
		snprintf(err, errlen, "--cpu: sched_getaffinity: %s", strerror(errno));
		return -errno;
	}
	if (!CPU_ISSET(cpu, &started_with)) {
		snprintf(err, errlen, "--cpu %lu: not one of the %d CPUs this daemon may run on "
			 "(see `taskset -p $$`)", cpu, CPU_COUNT(&started_with));
		return -EDOM;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0) {
		int e = errno;
		snprintf(err, errlen, "--cpu %lu: sched_setaffinity: %s", cpu, strerror(e));
		return -e;
	}
	pinned = true;
	return (int)cpu;
}

void rf_affinity_restore(void)
{
	if (pinned)
		(void)sched_setaffinity(0, sizeof(started_with), &started_with);
}
