// SPDX-License-Identifier: MIT
/*
 * ring_bench [SECONDS_PER_STEP]: kernel -> user-space throughput of the sensor.
 * A producer thread on CPU 0 makes the kernel write events into the sensor's ring
 * buffer (BPF_PROG_TEST_RUN of the benchmark program, 256 events a run) at a set rate;
 * the sensor's reader runs on CPU 1, through the same path as live events (validate,
 * copy, number, process table, callback). Each step counts both ends: events the
 * kernel wrote, events delivered, events dropped (ring full). Prints a table and the
 * highest rate delivered with zero drops.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringfence/schema.h"
#include "sensor/sensor.h"

static atomic_ullong delivered;
static atomic_int stop;
static struct rf_sensor *s;

static int on_event(const struct rf_event_hdr *ev, void *ctx)
{
	atomic_fetch_add_explicit(&delivered, 1, memory_order_relaxed);
	return 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *reader(void *arg)
{
	pin(1);
	while (!atomic_load(&stop))
		rf_sensor_poll(s, 10);
	return NULL;
}

int main(int argc, char **argv)
{
	struct rf_sensor_opts o = {.class_mask = 1ull << RF_CLASS_PROCESS_EXIT, .bench = true};
	static const double rates[] = {250e3, 500e3, 1e6, 1.5e6, 2e6, 3e6, 4e6, 0};
	double step = argc > 1 ? atof(argv[1]) : 1.0, best = 0, first_drop = 0, ceiling = 0;
	struct rf_sensor_stats st0, st1;
	pthread_t th;
	char why[512];
	size_t i;

	if (rf_sensor_open(&o, on_event, NULL, &s, why, sizeof(why)) < 0 || rf_sensor_degraded(s)) {
		fprintf(stderr, "ring_bench: %s\n", rf_sensor_degraded(s) ? rf_sensor_degraded(s) : why);
		return 1;
	}
	pthread_create(&th, NULL, reader, NULL);
	pin(0);
	printf("%-12s %14s %14s %12s %10s\n", "target/s", "written/s", "delivered/s", "dropped", "drop %");
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		double t0, t, rate = rates[i];
		unsigned long long d0, d1, written = 0;

		rf_sensor_stats(s, &st0);
		d0 = atomic_load(&delivered);
		t0 = now();
		while ((t = now()) - t0 < step) {
			/* pace: write what the target rate allows by now, 256 events a run */
			double due = rate > 0 ? (t - t0) * rate : 1e18;
			if ((double)written + 256 <= due) {
				if (rf_sensor_bench_emit(s, 1) < 0) {
					fprintf(stderr, "ring_bench: test run failed: %s\n", strerror(errno));
					return 1;
				}
				written += 256;
			}
		}
		t = now() - t0;
		/* let the reader drain, then count */
		for (int k = 0; k < 200; k++) {
			unsigned long long a = atomic_load(&delivered);
			struct timespec ts = {0, 5000000};
			nanosleep(&ts, NULL);
			if (atomic_load(&delivered) == a)
				break;
		}
		rf_sensor_stats(s, &st1);
		d1 = atomic_load(&delivered);
		{
			unsigned long long dropped = st1.dropped_class[RF_CLASS_PROCESS_EXIT] -
						     st0.dropped_class[RF_CLASS_PROCESS_EXIT];
			double got = (double)(d1 - d0) / t;
			char label[32];
			if (rate > 0)
				snprintf(label, sizeof(label), "%.2fM", rate / 1e6);
			else
				snprintf(label, sizeof(label), "max");
			printf("%-12s %14.0f %14.0f %12llu %9.3f%%\n", label, (double)written / t, got,
			       dropped, written ? 100.0 * (double)dropped / (double)written : 0);
			if (!dropped && got > best)
				best = got;
			if (dropped && !first_drop)
				first_drop = (double)written / t;
			if (rate == 0)
				ceiling = got;
		}
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	printf("\nhighest rate delivered with zero drops: %.0f events/s (goal 1,000,000)\n", best);
	if (first_drop)
		printf("drops begin at a written rate of about %.0f events/s (first step with drops)\n",
		       first_drop);
	else
		printf("no drops at any rate tried\n");
	printf("reader ceiling (kernel writing flat out): %.0f events/s delivered\n", ceiling);
	rf_sensor_free(s);
	return 0;
}
