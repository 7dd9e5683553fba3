// SPDX-License-Identifier: MIT
/* auth_lat exec|open PATH N: time N execs (fork, execve PATH, wait) or N opens
 * (open PATH read-only, close) one after the other and print
 * "op=OP n=N p50_ns=X p99_ns=Y". Used by bench/auth.sh. Exit 1 when an operation
 * fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	extern char **environ;
	uint64_t *t;
	long n, i;
	int ex;

	if (argc != 4 || (n = strtol(argv[3], NULL, 10)) <= 0 ||
	    (strcmp(argv[1], "exec") && strcmp(argv[1], "open"))) {
		fprintf(stderr, "usage: auth_lat exec|open PATH N\n");
		return 2;
	}
	ex = !strcmp(argv[1], "exec");
	t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 1;
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		if (ex) {
			char *av[] = {argv[2], NULL};
			int st;
			pid_t p = fork();
			if (p < 0)
				return 1;
			if (p == 0) {
				execve(argv[2], av, environ);
				_exit(127);
			}
			while (waitpid(p, &st, 0) < 0 && errno == EINTR)
				;
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				fprintf(stderr, "auth_lat: exec of %s failed\n", argv[2]);
				return 1;
			}
		} else {
			int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				fprintf(stderr, "auth_lat: open %s: %s\n", argv[2], strerror(errno));
				return 1;
			}
			close(fd);
		}
		t[i] = now_ns() - t0;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("op=%s n=%ld p50_ns=%llu p99_ns=%llu\n", argv[1], n, (unsigned long long)t[n / 2],
	       (unsigned long long)t[(n * 99) / 100]);
	free(t);
	return 0;
}
