// SPDX-License-Identifier: MIT
/* connect_storm N: a loopback TCP server (thread) and a client that connects and
 * closes N times. Prints "port P" first, "connected N" and the CPU time used (cpu_us) at the end. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/resource.h>

static int srv;
static long n;

static void *server(void *arg)
{
	for (long i = 0; i < n; i++) {
		int c = accept(srv, NULL, NULL);
		if (c >= 0)
			close(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	pthread_t t;
	int one = 1;

	if (argc != 2 || (n = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: connect_storm N\n");
		return 2;
	}
	srv = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(srv, (struct sockaddr *)&a, sizeof(a)) || listen(srv, 4096) ||
	    getsockname(srv, (struct sockaddr *)&a, &len))
		return perror("server"), 1;
	printf("port %u\n", ntohs(a.sin_port));
	fflush(stdout);
	pthread_create(&t, NULL, server, NULL);
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		struct linger l = {1, 0}; /* RST on close: no TIME_WAIT pile-up */
		if (connect(c, (struct sockaddr *)&a, sizeof(a)))
			return perror("connect"), 1;
		setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(c);
	}
	pthread_join(t, NULL);
	printf("connected %ld\n", n);
	{ /* the CPU time the storm itself used (all threads, user + kernel, including the
	   * monitors' programs that run in its syscalls): bench/storms.sh */
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf("cpu_us %lld\n", (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
						ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	}
	return 0;
}
