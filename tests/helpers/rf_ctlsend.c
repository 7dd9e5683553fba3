// SPDX-License-Identifier: MIT
/*
 * rf_ctlsend: send raw control messages to the daemon and check its answers.
 *   rf_ctlsend SOCKET [--oversize] [--with-fds] [--random N] [--silent S] FILE...
 * Each FILE holds records [u16 little-endian length][message] (the format of the
 * fuzz_control corpus); each record goes out as one packet on one connection per
 * file, and the answer must be a well-formed message (rf_proto_parse). --oversize
 * also sends a packet longer than RF_CTL_MSG_MAX, --with-fds attaches two file
 * descriptors to every packet (the daemon must not keep them), --random N sends N
 * random packets, --silent S connects, sends nothing and waits up to S seconds for
 * the daemon to close the connection (prints silent_closed=1 or 0). Prints
 * "answers=N errors=N bad=N" and exits 1 if any answer was missing or malformed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ringfence/proto.h"

static int with_fds;
static unsigned long answers, errors, bad;

static int conn(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("rf_ctlsend: connect");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void one(int fd, const void *msg, size_t len)
{
	static unsigned char buf[1 << 17];
	union {
		char b[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr a;
	} cb;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct rf_msg m;
	ssize_t n;

	if (with_fds) {
		int fds[2] = {open("/dev/null", O_RDONLY), open("/dev/null", O_RDONLY)};
		struct cmsghdr *c;
		memset(&cb, 0, sizeof(cb));
		mh.msg_control = cb.b;
		mh.msg_controllen = sizeof(cb.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		close(fds[0]);
		close(fds[1]);
	} else {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	}
	if (n < 0) {
		if (len == 0)
			return; /* empty packets may not be sendable */
		fprintf(stderr, "rf_ctlsend: send: %s\n", strerror(errno));
		bad++;
		return;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0) {
		fprintf(stderr, "rf_ctlsend: no answer to a %zu-byte message\n", len);
		bad++;
		return;
	}
	answers++;
	if (rf_proto_parse(buf, (size_t)n, &m, NULL) < 0) {
		fprintf(stderr, "rf_ctlsend: malformed answer\n");
		bad++;
		return;
	}
	if (m.hdr.type == RF_MSG_ERROR)
		errors++;
	if (m.hdr.type == RF_MSG_WELCOME) { /* close the descriptors that came with it */
		/* recv() without a control buffer: the kernel discarded them already */
	}
}

int main(int argc, char **argv)
{
	static unsigned char data[1 << 20];
	const char *sock;
	int i, fd;
	long nrandom = 0;
	int oversize = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: rf_ctlsend SOCKET [--oversize] [--with-fds] [--random N] FILE...\n");
		return 2;
	}
	sock = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--oversize")) {
			oversize = 1;
		} else if (!strcmp(argv[i], "--with-fds")) {
			with_fds = 1;
		} else if (!strcmp(argv[i], "--silent") && i + 1 < argc) {
			struct timeval tv = {.tv_sec = atol(argv[++i])};
			char b;
			fd = conn(sock);
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			printf("silent_closed=%d\n", recv(fd, &b, 1, 0) == 0);
			close(fd);
		} else if (!strcmp(argv[i], "--random") && i + 1 < argc) {
			nrandom = atol(argv[++i]);
		} else {
			FILE *f = fopen(argv[i], "rb");
			size_t n, pos = 0;
			if (!f) {
				perror(argv[i]);
				return 1;
			}
			n = fread(data, 1, sizeof(data), f);
			fclose(f);
			fd = conn(sock);
			while (pos + 2 <= n) {
				size_t len = data[pos] | (size_t)data[pos + 1] << 8;
				pos += 2;
				if (len > n - pos)
					len = n - pos;
				one(fd, data + pos, len);
				pos += len;
			}
			close(fd);
		}
	}
	if (oversize) {
		struct rf_msg_hdr *h = (void *)data;
		fd = conn(sock);
		memset(data, 0, RF_CTL_MSG_MAX + 100);
		h->magic = RF_PROTO_MAGIC;
		h->type = RF_MSG_MUTE;
		h->size = RF_CTL_MSG_MAX + 100;
		one(fd, data, RF_CTL_MSG_MAX + 100);
		close(fd);
	}
	if (nrandom) {
		int r = open("/dev/urandom", O_RDONLY);
		fd = conn(sock);
		for (long k = 0; k < nrandom; k++) {
			unsigned char len8;
			struct rf_msg_hdr *h = (void *)data;
			if (read(r, &len8, 1) != 1 || read(r, data, 16 + len8) != 16 + len8)
				break;
			if (k % 2) { /* half of them with a plausible header */
				h->magic = RF_PROTO_MAGIC;
				h->type = 1 + len8 % (RF_MSG_TYPE_END - 1);
				h->size = 16 + len8;
				h->reserved = 0;
			}
			one(fd, data, 16 + len8);
		}
		close(r);
		close(fd);
	}
	printf("answers=%lu errors=%lu bad=%lu\n", answers, errors, bad);
	return bad ? 1 : 0;
}
