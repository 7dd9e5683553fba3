// SPDX-License-Identifier: MIT
/* open_storm N PATH: open(PATH, O_CREAT|O_WRONLY, 0644) and close, N times. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
	return 0;
}
