// SPDX-License-Identifier: MIT
/* fanout_forker: create RATE processes per second for SECONDS (each exits at once),
 * paced in 1 ms steps: a live load of 2 * RATE events/s (fork + exit) for the
 * latency part of the fan-out benchmark. Built by bench/fanout.sh.
 *   fanout_forker RATE SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long rate = argc > 1 ? atol(argv[1]) : 5000, secs = argc > 2 ? atol(argv[2]) : 3;
	struct timespec t;
	long tick, made = 0;

	clock_gettime(CLOCK_MONOTONIC, &t);
	for (tick = 1; tick <= secs * 1000; tick++) {
		while (made < rate * tick / 1000) {
			pid_t p = fork();
			if (p == 0)
				_exit(0);
			made++;
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		t.tv_nsec += 1000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_nsec -= 1000000000;
			t.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
	while (wait(NULL) > 0)
		;
	printf("%ld processes\n", made);
	return 0;
}
