// SPDX-License-Identifier: MIT
/* open_storm N PATH: open(PATH, O_CREAT|O_WRONLY, 0644) and close, N times; prints the
 * count and the CPU time it used (cpu_us). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
	long n, i;

	if (argc != 3 || (n = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: open_storm N PATH\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		int fd = open(argv[2], O_CREAT | O_WRONLY, 0644);
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		close(fd);
	}
	printf("opened %ld\n", n);
	{ /* the CPU time the storm itself used (all threads, user + kernel, including the
	   * monitors' programs that run in its syscalls): bench/storms.sh */
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf("cpu_us %lld\n", (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
						ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	}
	return 0;
}
