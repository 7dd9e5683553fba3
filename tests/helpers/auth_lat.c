// SPDX-License-Identifier: MIT
/* auth_lat exec|open N WARMUP PATH0 PATH1...: time N execs (vfork, execve PATH, wait)
 * or N opens (open PATH read-only, close) of every PATH, interleaved: round i does one
 * operation on each path, in an order that rotates from round to round, so that the
 * machine's noise falls on every path alike. WARMUP rounds come first, untimed.
 * PATH0 is the baseline. Prints one line per path:
 *   "path=K n=N p50_ns=X p99_ns=Y add_p50_ns=D add_p99_ns=E add_p99_lo_ns=L add_p99_hi_ns=H"
 * add_p50: the median of the paired differences (this path's operation minus the
 * baseline's of the same round); add_p99: p99 of this path minus p99 of the baseline,
 * with a 90% bootstrap interval [L, H]: 200 resamples of blocks of consecutive
 * rounds (n/50 rounds, at least 10: the machine's load comes in bursts that span
 * rounds, which a resample of single rounds would treat as independent), pairs kept
 * together. Used by bench/auth.sh. Exit 1 when an operation fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATHS_MAX 16
#define BOOT 200

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t pct(int64_t *v, long n, int p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return v[(n * p) / 100 - (p == 100)];
}

static int op(int ex, const char *path)
{
	extern char **environ;

	if (ex) {
		char *av[] = {(char *)path, NULL};
		int st;
		pid_t p = vfork();

		if (p < 0)
			return -1;
		if (p == 0) {
			execve(path, av, environ);
			_exit(127);
		}
		while (waitpid(p, &st, 0) < 0 && errno == EINTR)
			;
		return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
	} else {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -1;
		close(fd);
		return 0;
	}
}

int main(int argc, char **argv)
{
	int64_t *t[PATHS_MAX], *v, *w;
	long n, warm, i, k, np, b;
	uint64_t seed = 88172645463325252ull;
	int ex;

	if (argc < 5 || (n = strtol(argv[2], NULL, 10)) < 100 || (warm = strtol(argv[3], NULL, 10)) < 0 ||
	    (strcmp(argv[1], "exec") && strcmp(argv[1], "open")) || argc - 4 > PATHS_MAX) {
		fprintf(stderr, "usage: auth_lat exec|open N(>=100) WARMUP PATH0 [PATH1...] (at most %d paths)\n",
			PATHS_MAX);
		return 2;
	}
	ex = !strcmp(argv[1], "exec");
	np = argc - 4;
	v = calloc((size_t)n, sizeof(*v));
	w = calloc((size_t)n, sizeof(*w));
	for (k = 0; k < np; k++)
		if (!(t[k] = calloc((size_t)n, sizeof(*t[k]))))
			return 1;
	if (!v || !w)
		return 1;
	for (i = -warm; i < n; i++) {
		for (long j = 0; j < np; j++) {
			long kk = (j + (i < 0 ? 0 : i)) % np;
			uint64_t t0 = now_ns();

			if (op(ex, argv[4 + kk]) < 0) {
				fprintf(stderr, "auth_lat: %s of %s failed: %s\n", argv[1], argv[4 + kk],
					strerror(errno));
				return 1;
			}
			if (i >= 0)
				t[kk][i] = (int64_t)(now_ns() - t0);
		}
	}
	for (k = 0; k < np; k++) {
		int64_t p50, p99, base99, add50, add99, lo = 0, hi = 0;
		int64_t *boot = calloc(BOOT, sizeof(*boot));

		if (!boot)
			return 1;
		for (i = 0; i < n; i++)
			v[i] = t[k][i] - t[0][i];
		add50 = pct(v, n, 50);
		memcpy(v, t[k], (size_t)n * sizeof(*v));
		p50 = pct(v, n, 50);
		p99 = pct(v, n, 99);
		memcpy(v, t[0], (size_t)n * sizeof(*v));
		base99 = pct(v, n, 99);
		add99 = p99 - base99;
		if (k) {
			long blk = n / 50 < 10 ? 10 : n / 50;

			for (b = 0; b < BOOT; b++) {
				long r = 0;

				for (i = 0; i < n; i++, r++) {
					if (i % blk == 0) {
						seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
						r = (long)(seed % (uint64_t)n);
					}
					v[i] = t[k][r % n];
					w[i] = t[0][r % n];
				}
				boot[b] = pct(v, n, 99) - pct(w, n, 99);
			}
			qsort(boot, BOOT, sizeof(*boot), cmp_i64);
			lo = boot[BOOT * 5 / 100];
			hi = boot[BOOT * 95 / 100];
		}
		printf("path=%ld n=%ld p50_ns=%lld p99_ns=%lld add_p50_ns=%lld add_p99_ns=%lld "
		       "add_p99_lo_ns=%lld add_p99_hi_ns=%lld\n",
		       k, n, (long long)p50, (long long)p99, (long long)add50, (long long)add99,
		       (long long)lo, (long long)hi);
		free(boot);
	}
	return 0;
}
