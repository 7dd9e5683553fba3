// SPDX-License-Identifier: MIT
/*
 * rf_faulty: a hostile or broken client for the fault-injection suite (tests/fault/).
 *   rf_faulty --name N --fault F [--socket S]
 * Connects and subscribes like any client, prints "fault=F t_ns=<CLOCK_MONOTONIC>" on
 * stderr, then does F:
 *   segv abort loop silent alloc forkbomb fds garbage ring ptrace shadow readetc bpf kill
 *   socket
 * When the action is refused it prints "fault=F denied (<errno>)" or "fault=F limited
 * (...)" and goes on as a well-behaved client (reads events, sends heartbeats). When
 * an action that must be refused succeeds it prints "fault=F SUCCEEDED" and exits 42.
 * Actions that the sandbox answers by killing the process (seccomp) print nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ringfence/ring.h"
#include "ringfence/ringfence.h"

static const char *fault;
static char *volatile sink;

static void say(const char *what, int e)
{
	fprintf(stderr, "rf_faulty: fault=%s %s (%s)\n", fault, what, e ? strerror(e) : "-");
}

static void __attribute__((noreturn)) succeeded(void)
{
	fprintf(stderr, "rf_faulty: fault=%s SUCCEEDED\n", fault);
	exit(42);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", 1, 0, 's'}, {"name", 1, 0, 'n'}, {"fault", 1, 0, 'f'}, {0},
	};
	struct rf_client_opts o = {.size = sizeof(o), .abi_version = RF_ABI_VERSION};
	struct rf_client *c = NULL;
	const struct rf_event_hdr *ev;
	struct timespec ts;
	char why[256];
	int opt, r;
	time_t last_hb = 0;

	o.socket_path = getenv("RINGFENCE_SOCKET");
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': o.socket_path = optarg; break;
		case 'n': o.name = optarg; break;
		case 'f': fault = optarg; break;
		default: return 2;
		}
	}
	if (!fault || !o.name)
		return 2;
	r = rf_client_open(&o, &c, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "rf_faulty: %s\n", why);
		return 1;
	}
	if (rf_client_subscribe(c, 1ull << rf_schema_class_by_name("process_fork")->id, RF_SUB_NOTIFY) < 0)
		return 1;
	/* one event first, so that the ring is mapped and known */
	r = rf_client_next(c, &ev, 5000);
	if (r <= 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(stderr, "rf_faulty: fault=%s t_ns=%llu\n", fault,
		(unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
	if (!strcmp(fault, "segv")) {
		*(volatile int *)8 = 1;
	} else if (!strcmp(fault, "abort")) {
		abort();
	} else if (!strcmp(fault, "loop")) {
		for (volatile unsigned long i = 0;; i++)
			;
	} else if (!strcmp(fault, "alloc")) {
		size_t mb = 0;
		for (;;) {
			char *volatile p = malloc(1 << 20); /* volatile: not optimised away */
			if (!p)
				break;
			memset(p, 1, 1 << 20);
			sink = p;
			mb++;
		}
		fprintf(stderr, "rf_faulty: fault=alloc limited (after %zu MiB)\n", mb);
		return 3;
	} else if (!strcmp(fault, "forkbomb")) {
		for (;;)
			if (fork() < 0) {
				say("denied", errno);
				return 3;
			}
	} else if (!strcmp(fault, "fds")) {
		int n = 0;
		while (open("/dev/null", O_RDONLY) >= 0)
			n++;
		fprintf(stderr, "rf_faulty: fault=fds limited (after %d descriptors: %s)\n", n,
			strerror(errno));
		usleep(1300000); /* a leaking client holds them; the supervisor samples once a second */
		for (int fd = 3 + 8; fd < 1024; fd++)
			close(fd); /* keep the client's own (opened first) */
	} else if (!strcmp(fault, "garbage")) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		unsigned char junk[512], reply[512];
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)(i * 37 + 11);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", o.socket_path);
		if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return 1;
		for (int i = 0; i < 50; i++)
			if (send(s, junk, sizeof(junk) - i, MSG_NOSIGNAL) < 0)
				break;
		recv(s, reply, sizeof(reply), MSG_DONTWAIT);
		close(s);
		say("denied", EBADMSG);
	} else if (!strcmp(fault, "ring")) {
		/* the first record sits at data offset 0: the header is right before it */
		struct rf_ring_hdr *h =
			(struct rf_ring_hdr *)((char *)ev - sizeof(struct rf_ring_rec) - RF_RING_HDR_BYTES);
		h->tail = (uint64_t)-4096;
		/* the daemon checks every tail at least once a second and disconnects
		 * us: a request fails within a few seconds */
		for (int i = 0; i < 50; i++) {
			if (rf_client_heartbeat(c) < 0) {
				say("contained: disconnected", ECONNRESET);
				return 3;
			}
			usleep(100000);
		}
		succeeded();
	} else if (!strcmp(fault, "ptrace")) {
		if (ptrace(PTRACE_ATTACH, getppid(), 0, 0) == 0)
			succeeded();
		say("denied", errno);
	} else if (!strcmp(fault, "shadow")) {
		int fd = open("/etc/shadow", O_RDONLY);
		if (fd >= 0)
			succeeded();
		say("denied", errno);
	} else if (!strcmp(fault, "silent")) {
		/* reads events but never sends the heartbeat its manifest requires */
		for (;;)
			if (rf_client_next(c, &ev, 500) < 0)
				return 1;
	} else if (!strcmp(fault, "readetc")) {
		/* world-readable, but outside what Landlock allows this client */
		int fd = open("/etc/passwd", O_RDONLY);
		if (fd >= 0)
			succeeded();
		say("denied", errno);
	} else if (!strcmp(fault, "bpf")) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		if (syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a)) >= 0 || errno != EPERM)
			say("not refused with EPERM", errno);
		say("denied", errno);
	} else if (!strcmp(fault, "kill")) {
		if (kill(getppid(), SIGKILL) == 0 || kill(1, 0) == 0)
			succeeded();
		say("denied", errno);
	} else if (!strcmp(fault, "socket")) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s >= 0)
			succeeded();
		say("denied", errno);
	} else {
		fprintf(stderr, "rf_faulty: unknown fault %s\n", fault);
		return 2;
	}
	/* refused or survived: behave */
	for (;;) {
		time_t now = time(NULL);
		if (now != last_hb) {
			last_hb = now;
			if (rf_client_heartbeat(c) < 0)
				return 1;
		}
		r = rf_client_next(c, &ev, 500);
		if (r < 0)
			return 1;
	}
}
