// SPDX-License-Identifier: MIT
/* net_ops: a fixed set of socket operations for the network sensor test. Prints
 * key=value lines the test compares with the events:
 *   TCP/IPv4: bind 127.0.0.1:0, listen, connect, accept       listen_port, client_port
 *   TCP/IPv6: connect to [::1]:1 (refused)                    v6_result
 *   unix: connect to a missing path (ENOENT), bind an abstract name
 *   UDP/IPv4: connect to 127.0.0.2:9                          udp_port
 *   a socketpair (no address family we report: no event) */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET}, c = {0};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(1)};
	struct sockaddr_un u = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(a);
	int s, cl, acc, s6, us, sv[2];
	const char *missing = argc > 1 ? argv[1] : "/tmp/rf-no-such.sock";

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4) ||
	    getsockname(s, (struct sockaddr *)&a, &len))
		return perror("server"), 1;
	cl = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(cl, (struct sockaddr *)&a, sizeof(a)))
		return perror("connect"), 1;
	len = sizeof(c);
	getsockname(cl, (struct sockaddr *)&c, &len);
	acc = accept(s, NULL, NULL);
	printf("listen_port=%u\nclient_port=%u\n", ntohs(a.sin_port), ntohs(c.sin_port));

	inet_pton(AF_INET6, "::1", &a6.sin6_addr);
	s6 = socket(AF_INET6, SOCK_STREAM, 0);
	printf("v6_result=%d\n", connect(s6, (struct sockaddr *)&a6, sizeof(a6)) ? -errno : 0);

	us = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(u.sun_path, sizeof(u.sun_path), "%s", missing);
	printf("unix_result=%d\n", connect(us, (struct sockaddr *)&u, sizeof(u)) ? -errno : 0);
	close(us);
	us = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(u.sun_path, 0, sizeof(u.sun_path));
	memcpy(u.sun_path + 1, "rf-abstract", 11);
	printf("abstract_result=%d\n",
	       bind(us, (struct sockaddr *)&u, offsetof(struct sockaddr_un, sun_path) + 12) ? -errno : 0);

	{
		int ud = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(9)};
		inet_pton(AF_INET, "127.0.0.2", &d.sin_addr);
		connect(ud, (struct sockaddr *)&d, sizeof(d));
		len = sizeof(c);
		getsockname(ud, (struct sockaddr *)&c, &len);
		printf("udp_port=%u\n", ntohs(c.sin_port));
		close(ud);
	}
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	close(acc);
	close(cl);
	close(s);
	close(s6);
	close(us);
	return 0;
}
