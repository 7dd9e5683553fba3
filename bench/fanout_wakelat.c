// SPDX-License-Identifier: MIT
/* fanout_wakelat: the machine's floor for wake-up latency, beside the fan-out
 * latency figures: sleep until an absolute time 1 ms ahead, N times, and report how
 * late the wake-ups came (p50/p99/max). Whatever the scheduler does to this one
 * timer wake-up it does to each hop of an event (kernel -> daemon -> client) too.
 * Built by bench/fanout.sh.   fanout_wakelat N */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int i, n = argc > 1 ? atoi(argv[1]) : 2000;
	uint64_t *v;
	struct timespec t, u;

	if (n < 1 || !(v = malloc((size_t)n * sizeof(*v))))
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (i = 0; i < n; i++) {
		t.tv_nsec += 1000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_nsec -= 1000000000;
			t.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
		clock_gettime(CLOCK_MONOTONIC, &u);
		v[i] = (uint64_t)(u.tv_sec - t.tv_sec) * 1000000000ull + (uint64_t)(u.tv_nsec - t.tv_nsec);
	}
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("p50 %6.1f us, p99 %6.1f us, max %8.1f us\n", v[n / 2] / 1e3, v[n * 99 / 100] / 1e3,
	       v[n - 1] / 1e3);
	free(v);
	return 0;
}
