// SPDX-License-Identifier: MIT
/* make_capture FILE [N]: write a capture of N (default 12) synthetic but realistic
 * events: a shell forking and exec'ing ls and cat, their exits, a file creation and a
 * connect. Deterministic, so tests and the fuzz corpus do not depend on what a live
 * machine did (and stay readable when the schema changes: regenerate with
 * `make corpus`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "ringfence/schema.h"

static _Alignas(8) unsigned char buf[RF_EVENT_MAX];
static struct rf_event_hdr *ev = (struct rf_event_hdr *)buf;
static unsigned long long seq;

static void begin(unsigned cls, unsigned pid, unsigned long long start)
{
	rf_event_init(buf, sizeof(buf), cls);
	ev->seq = ++seq;
	ev->class_seq = seq;
	ev->ts_ns = 1795000000000000000ull + seq * 1000;
	ev->pid = ev->tid = pid;
	ev->start_ns = start;
}

static void str(unsigned cls, const char *f, const char *v, size_t n)
{
	rf_event_set_str(ev, sizeof(buf), rf_schema_field(cls, f), v, n);
}

static void num(unsigned cls, const char *f, unsigned long long v)
{
	rf_event_set_u64(ev, rf_schema_field(cls, f), v);
}

static void exec_ev(unsigned pid, unsigned long long start, const char *exe, const char *args,
		    size_t alen)
{
	const unsigned C = RF_CLASS_PROCESS_EXEC;
	begin(C, pid, start);
	num(C, "ppid", 100);
	num(C, "parent_start_ns", 1000);
	num(C, "uid", 1000);
	num(C, "euid", 1000);
	num(C, "gid", 1000);
	num(C, "egid", 1000);
	num(C, "argc", 2);
	str(C, "exe", exe, strlen(exe));
	str(C, "args", args, alen);
	str(C, "cwd", "/home/alice", 11);
	str(C, "user", "alice", 5);
	str(C, "parent_exe", "/usr/bin/bash", 13);
	str(C, "parent_cmdline", "bash -l", 7);
}

int main(int argc, char **argv)
{
	struct rf_capture_writer *w;
	int n = argc > 2 ? atoi(argv[2]) : 12, i, err;

	if (argc < 2) {
		fprintf(stderr, "usage: make_capture FILE [N]\n");
		return 2;
	}
	if ((err = rf_capture_create(argv[1], &w)) < 0) {
		fprintf(stderr, "make_capture: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	for (i = 0; i < n; i++) {
		unsigned pid = 200 + (unsigned)i / 4;
		unsigned long long start = 5000 + (unsigned long long)i * 10;
		switch (i % 6) {
		case 0:
			begin(RF_CLASS_PROCESS_FORK, 100, 1000);
			num(RF_CLASS_PROCESS_FORK, "child_pid", pid);
			num(RF_CLASS_PROCESS_FORK, "child_start_ns", start);
			break;
		case 1:
			exec_ev(pid, start, "/usr/bin/ls", "ls\0-la\0/tmp", 11);
			break;
		case 2:
			exec_ev(pid, start, "/usr/bin/cat", "cat\0/etc/passwd", 15);
			break;
		case 3:
			begin(RF_CLASS_FILE_CREATE, pid, start);
			num(RF_CLASS_FILE_CREATE, "mode", 0644);
			str(RF_CLASS_FILE_CREATE, "path", "/tmp/out.txt", 12);
			str(RF_CLASS_FILE_CREATE, "exe", "/usr/bin/cat", 12);
			break;
		case 4: {
			static const unsigned char lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
			begin(RF_CLASS_NET_CONNECT, pid, start);
			num(RF_CLASS_NET_CONNECT, "family", 2);
			num(RF_CLASS_NET_CONNECT, "protocol", 6);
			num(RF_CLASS_NET_CONNECT, "dport", 443);
			num(RF_CLASS_NET_CONNECT, "initiated", 1);
			memcpy(buf + rf_schema_field(RF_CLASS_NET_CONNECT, "daddr")->offset, lo, 16);
			str(RF_CLASS_NET_CONNECT, "exe", "/usr/bin/curl", 13);
			break;
		}
		default:
			begin(RF_CLASS_PROCESS_EXIT, pid, start);
			num(RF_CLASS_PROCESS_EXIT, "exit_code", 0);
			break;
		}
		if ((err = rf_capture_write(w, ev)) < 0)
			break;
	}
	err = err < 0 ? err : rf_capture_writer_close(w);
	if (err < 0) {
		fprintf(stderr, "make_capture: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	printf("wrote %d events to %s\n", n, argv[1]);
	return 0;
}
