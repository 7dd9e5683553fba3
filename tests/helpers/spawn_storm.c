// SPDX-License-Identifier: MIT
/* spawn_storm N [PROGRAM [ARG...]]: fork and exec PROGRAM (default /bin/true) N times,
 * one after the other, waiting for each. Prints "spawned N" and exits 0 when every
 * child exited 0, and the CPU time it and its children used (cpu_us). Used by the sensor tests and the exec-storm benchmark. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *def[] = {"/bin/true", NULL};
	char **prog = argc > 2 ? argv + 2 : def;
	extern char **environ;
	long n, i, bad = 0;

	if (argc < 2 || (n = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: spawn_storm N [PROGRAM [ARG...]]\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		int st;
		pid_t p = fork();
		if (p < 0) {
			perror("fork");
			return 1;
		}
		if (p == 0) {
			execve(prog[0], prog, environ);
			_exit(127);
		}
		while (waitpid(p, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	printf("spawned %ld\n", n);
	{
		struct rusage a, b;
		getrusage(RUSAGE_SELF, &a);
		getrusage(RUSAGE_CHILDREN, &b);
		printf("cpu_us %lld\n",
		       (long long)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec + b.ru_stime.tv_sec) * 1000000 +
			       a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec + b.ru_stime.tv_usec);
	}
	return bad ? 1 : 0;
}
