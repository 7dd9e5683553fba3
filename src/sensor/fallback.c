// SPDX-License-Identifier: MIT
/*
 * fallback.c: the degraded sensor, for when eBPF cannot load. The netlink process
 * connector says that a process forked, exec'd or exited; everything else is read
 * from /proc afterwards, which races with the process: a process that is already
 * gone gives an event with empty fields. Every event is marked RF_EVF_DEGRADED.
 * Not available: loginuid/sessionid of exec'd processes that are gone, tty name,
 * cgroup id, args beyond what /proc/PID/cmdline shows, exact start times (ticks).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "common/procfs.h"
#include "proctable/proctable.h"
#include "ringfence/schema.h"
#include "sensor/sensor_int.h"

static ssize_t slurp(const char *path, char *buf, size_t sz)
{
	return rf_read_small(AT_FDCWD, path, buf, sz);
}

/* starttime (ns) and ppid from /proc/PID/stat; 0 when the process is gone */
static uint64_t proc_start(uint32_t pid, uint32_t *ppid)
{
	char path[64];
	uint64_t st = 0;
	uint32_t pp = 0;
	int dfd;

	snprintf(path, sizeof(path), "/proc/%u", pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	if (rf_procfs_stat(dfd, &pp, &st) < 0)
		st = 0;
	close(dfd);
	if (ppid)
		*ppid = pp;
	return rf_proctable_ticks_to_ns(st);
}

static void set_str(struct rf_event_hdr *ev, unsigned cls, const char *name, const char *v,
		    size_t len)
{
	(void)rf_event_set_str(ev, RF_EVENT_MAX, rf_schema_field(cls, name), v, len);
}

static void set_num(struct rf_event_hdr *ev, unsigned cls, const char *name, uint64_t v)
{
	(void)rf_event_set_u64(ev, rf_schema_field(cls, name), v);
}

static void build_exec(struct rf_event_hdr *ev, uint32_t pid)
{
	char path[64], buf[RF_ARGV_MAX], *p;
	ssize_t n;
	uint32_t ppid = 0;
	const unsigned C = RF_CLASS_PROCESS_EXEC;

	ev->start_ns = proc_start(pid, &ppid);
	set_num(ev, C, "ppid", ppid);
	if (ppid) {
		uint64_t pst = proc_start(ppid, NULL);
		set_num(ev, C, "parent_start_ns", pst);
	}
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if (slurp(path, buf, sizeof(buf)) > 0) {
		unsigned r, e, sv, fs;
		if ((p = strstr(buf, "\nUid:")) && sscanf(p + 5, "%u %u %u %u", &r, &e, &sv, &fs) == 4) {
			set_num(ev, C, "uid", r);
			set_num(ev, C, "euid", e);
		}
		if ((p = strstr(buf, "\nGid:")) && sscanf(p + 5, "%u %u %u %u", &r, &e, &sv, &fs) == 4) {
			set_num(ev, C, "gid", r);
			set_num(ev, C, "egid", e);
		}
	}
	snprintf(path, sizeof(path), "/proc/%u/loginuid", pid);
	set_num(ev, C, "loginuid", slurp(path, buf, sizeof(buf)) > 0 ? strtoul(buf, NULL, 10) : 4294967295u);
	snprintf(path, sizeof(path), "/proc/%u/sessionid", pid);
	set_num(ev, C, "sessionid", slurp(path, buf, sizeof(buf)) > 0 ? strtoul(buf, NULL, 10) : 4294967295u);
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0)
		set_str(ev, C, "exe", buf, (size_t)n);
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = slurp(path, buf, sizeof(buf));
	if (n > 0) {
		uint32_t argc = 0;
		ssize_t i;
		if (n == (ssize_t)sizeof(buf) - 1) {
			set_num(ev, C, "args_truncated", 1);
			ev->flags |= RF_EVF_TRUNCATED;
		}
		while (n > 0 && !buf[n - 1])
			n--;
		for (i = 0; i <= n; i++)
			argc += (i == n || !buf[i]);
		set_num(ev, C, "argc", argc);
		set_str(ev, C, "args", buf, (size_t)n);
	}
	snprintf(path, sizeof(path), "/proc/%u/cwd", pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0)
		set_str(ev, C, "cwd", buf, (size_t)n);
	{
		char cg[256];
		int dfd;
		snprintf(path, sizeof(path), "/proc/%u", pid);
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			rf_procfs_cgroup_leaf(dfd, cg, sizeof(cg));
			close(dfd);
			if (cg[0])
				set_str(ev, C, "cgroup", cg, strlen(cg));
		}
	}
}

static int handle(struct rf_sensor *s, const struct proc_event *pe)
{
	_Alignas(8) unsigned char raw[RF_EVENT_MAX];
	struct rf_event_hdr *ev = (struct rf_event_hdr *)raw;
	uint64_t ts = (uint64_t)((int64_t)pe->timestamp_ns + s->mono_to_boot_ns);

	switch (pe->what) {
	case PROC_EVENT_EXEC:
		if (pe->event_data.exec.process_pid != pe->event_data.exec.process_tgid)
			return 0;
		rf_event_init(raw, sizeof(raw), RF_CLASS_PROCESS_EXEC);
		ev->pid = ev->tid = pe->event_data.exec.process_tgid;
		build_exec(ev, ev->pid);
		break;
	case PROC_EVENT_FORK:
		if (pe->event_data.fork.child_pid != pe->event_data.fork.child_tgid)
			return 0; /* a thread */
		rf_event_init(raw, sizeof(raw), RF_CLASS_PROCESS_FORK);
		ev->pid = pe->event_data.fork.parent_tgid;
		ev->tid = pe->event_data.fork.parent_pid;
		ev->start_ns = proc_start(ev->pid, NULL);
		set_num(ev, RF_CLASS_PROCESS_FORK, "child_pid", pe->event_data.fork.child_tgid);
		set_num(ev, RF_CLASS_PROCESS_FORK, "child_start_ns",
			proc_start(pe->event_data.fork.child_tgid, NULL));
		break;
	case PROC_EVENT_EXIT: {
		struct rf_proc *p;
		uint32_t code = pe->event_data.exit.exit_code;
		if (pe->event_data.exit.process_pid != pe->event_data.exit.process_tgid)
			return 0;
		rf_event_init(raw, sizeof(raw), RF_CLASS_PROCESS_EXIT);
		ev->pid = ev->tid = pe->event_data.exit.process_tgid;
		p = rf_proctable_lookup(s->pt, ev->pid, 0); /* /proc is already gone */
		ev->start_ns = p ? p->start_ns : 0;
		set_num(ev, RF_CLASS_PROCESS_EXIT, "exit_code", (code >> 8) & 0xff);
		set_num(ev, RF_CLASS_PROCESS_EXIT, "signal", code & 0x7f);
		set_num(ev, RF_CLASS_PROCESS_EXIT, "core_dumped", (code & 0x80) != 0);
		break;
	}
	default:
		return 0;
	}
	ev->flags |= RF_EVF_DEGRADED;
	ev->ts_ns = ts;
	ev->cpu = (uint16_t)pe->cpu;
	return rf_sensor_deliver(s, raw, ev->size);
}

int rf_sensor_fallback_open(struct rf_sensor *s, char *why, size_t whylen)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0};
	_Alignas(struct nlmsghdr) char mbuf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))];
	struct nlmsghdr *nl = (struct nlmsghdr *)mbuf;
	struct cn_msg *cn = NLMSG_DATA(nl);
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	int fd, rcv = 4 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open the process connector: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		snprintf(why, whylen, "cannot listen to the process connector: %s%s", strerror(e),
			 e == EPERM ? " (needs root)" : "");
		close(fd);
		return -e;
	}
	memset(mbuf, 0, sizeof(mbuf));
	nl->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
	nl->nlmsg_type = NLMSG_DONE;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	if (send(fd, nl, nl->nlmsg_len, 0) < 0) {
		int e = errno;
		snprintf(why, whylen, "cannot subscribe to process events: %s%s", strerror(e),
			 e == EPERM ? " (needs root)" : "");
		close(fd);
		return -e;
	}
	s->nl_fd = fd;
	return 0;
}

int rf_sensor_fallback_poll(struct rf_sensor *s, int timeout_ms)
{
	_Alignas(struct nlmsghdr) char buf[16384];
	struct pollfd pfd = {.fd = s->nl_fd, .events = POLLIN};
	int delivered = 0, r;

	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(s->nl_fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) { /* the kernel dropped messages: count what we can */
				s->st.dropped++;
				continue;
			}
			return delivered ? delivered : -errno;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct cn_msg *cn = NLMSG_DATA(nh);
			if (nh->nlmsg_type == NLMSG_ERROR || nh->nlmsg_type == NLMSG_NOOP)
				continue;
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(struct proc_event)) ||
			    cn->id.idx != CN_IDX_PROC || cn->len < sizeof(struct proc_event))
				continue;
			r = handle(s, (const struct proc_event *)cn->data);
			if (r < 0)
				return r;
			delivered++;
		}
	}
	return delivered;
}

void rf_sensor_fallback_close(struct rf_sensor *s)
{
	if (s->nl_fd >= 0)
		close(s->nl_fd);
	s->nl_fd = -1;
}
