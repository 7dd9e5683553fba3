// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sensor.bpf.c: the platform's eBPF sensor, one object:
 *   process programs (below): tp_btf on the scheduler's exec, fork and exit tracepoints
 *   file.bpf.h, net.bpf.h, tamper.bpf.h: syscall tracepoints (tracefs), one program per
 *   syscall, so a syscall nobody watches costs nothing
 *
 * Everything here is bounded: loops have fixed trip counts, every offset into a
 * buffer is checked or masked, and a full ring buffer costs a counted drop, never a
 * wait. Sequence numbers are assigned in user space, which turns the per-CPU drop
 * counters into gaps.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "ringfence/event.h"
#include "sensor_bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#include "common.bpf.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(rf_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct evbuf *eb;
	struct rf_ev_process_exec *ev;
	struct task_struct *parent;
	struct mm_struct *mm;
	struct tty_struct *tty;
	bool partial = false;
	__u32 off = sizeof(*ev);
	unsigned long arg_start, arg_end, alen;
	char *buf;

	if (!class_on(RF_CLASS_PROCESS_EXEC) || excluded())
		return 0;
	eb = bpf_map_lookup_elem(&rf_evbuf, &zero);
	if (!eb)
		return 0;
	buf = eb->b;
	ev = (void *)buf;
	__builtin_memset(ev, 0, sizeof(*ev));

	/* task and bprm are BTF pointers: their fields are plain loads, no helper calls */
	parent = task->real_parent;
	ev->ppid = parent->tgid;
	ev->parent_start_ns = parent->group_leader->start_boottime;
	ev->uid = task->real_cred->uid.val;
	ev->gid = task->real_cred->gid.val;
	ev->euid = task->cred->euid.val;
	ev->egid = task->cred->egid.val;
	if (bpf_core_field_exists(task->loginuid)) { /* CONFIG_AUDIT */
		ev->loginuid = task->loginuid.val;
		ev->sessionid = task->sessionid;
	} else {
		ev->loginuid = ev->sessionid = 0xffffffff;
	}
	ev->argc = bprm->argc;
	ev->cgroup_id = bpf_get_current_cgroup_id();

	put_dpath(buf, &off, &ev->exe, bprm->file->f_path.dentry, bprm->file->f_path.mnt, &partial);

	/* argv: the new image's argument area, NUL-separated as the kernel laid it out */
	mm = task->mm;
	arg_start = mm->arg_start;
	arg_end = mm->arg_end;
	alen = arg_end > arg_start ? arg_end - arg_start : 0;
	if (alen > RF_ARGV_MAX - 1) {
		alen = RF_ARGV_MAX - 1;
		ev->args_truncated = 1;
		ev->hdr.flags |= RF_EVF_TRUNCATED;
	}
	if (alen && off <= RF_BPF_EVENT_BUF - RF_ARGV_MAX &&
	    !bpf_probe_read_user(buf + off, alen & (RF_ARGV_MAX - 1), (void *)arg_start)) {
		__u32 len = alen & (RF_ARGV_MAX - 1);
		buf[(off + len) & (RF_BPF_EVENT_BUF - 1)] = 0;
		if (len && !buf[(off + len - 1) & (RF_BPF_EVENT_BUF - 1)])
			len--; /* the area ends with the last argument's NUL */
		ev->args.off = off;
		ev->args.len = len;
		off += len + 1;
	}

	put_dpath(buf, &off, &ev->cwd, task->fs->pwd.dentry, task->fs->pwd.mnt, &partial);

	tty = task->signal->tty;
	if (tty) {
		int major = tty->driver->major;
		int minor = tty->driver->minor_start + tty->index;

		ev->tty_nr = (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
		put_kstr(buf, &off, &ev->tty, &tty->name[0], 32);
	}
	put_kstr(buf, &off, &ev->cgroup, task->cgroups->dfl_cgrp->kn->name, 128);

	if (partial)
		ev->hdr.flags |= RF_EVF_PATH_PARTIAL;
	fill_hdr(&ev->hdr, RF_CLASS_PROCESS_EXEC, off, task);
	if (off > RF_BPF_EVENT_BUF - 1)
		return 0;
	count(RF_CLASS_PROCESS_EXEC,
	      bpf_ringbuf_output(&rf_events, buf, off & (RF_BPF_EVENT_BUF - 1),
				 wakeup_flags(ev->hdr.ts_ns)) != 0);
	wake_reader(RF_CLASS_PROCESS_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(rf_fork, struct task_struct *parent, struct task_struct *child)
{
	struct rf_ev_process_fork *ev;
	__u32 tgid = BPF_CORE_READ(child, tgid);

	/* threads are not processes: clone(CLONE_THREAD) gives tgid != pid */
	if (!class_on(RF_CLASS_PROCESS_FORK) || excluded() || tgid != BPF_CORE_READ(child, pid))
		return 0;
	ev = bpf_ringbuf_reserve(&rf_events, sizeof(*ev), 0);
	if (!ev) {
		count(RF_CLASS_PROCESS_FORK, true);
		return 0;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	fill_hdr(&ev->hdr, RF_CLASS_PROCESS_FORK, sizeof(*ev), parent);
	ev->child_pid = tgid;
	ev->child_start_ns = BPF_CORE_READ(child, start_boottime);
	ev->clone_flags = 0;
	bpf_ringbuf_submit(ev, wakeup_flags(ev->hdr.ts_ns));
	wake_reader(RF_CLASS_PROCESS_FORK);
	count(RF_CLASS_PROCESS_FORK, false);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(rf_exit, struct task_struct *task)
{
	struct rf_ev_process_exit *ev;
	int code;

	if (!class_on(RF_CLASS_PROCESS_EXIT) || excluded())
		return 0;
	/* report a process once, when its last thread exits */
	if (rf_exit_has_group_dead) {
		if (!(bool)ctx[1])
			return 0;
	} else if (BPF_CORE_READ(task, signal, live.counter) != 0) {
		return 0;
	}
	ev = bpf_ringbuf_reserve(&rf_events, sizeof(*ev), 0);
	if (!ev) {
		count(RF_CLASS_PROCESS_EXIT, true);
		return 0;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	fill_hdr(&ev->hdr, RF_CLASS_PROCESS_EXIT, sizeof(*ev), task);
	code = BPF_CORE_READ(task, exit_code);
	ev->exit_code = (code >> 8) & 0xff;
	ev->signal = code & 0x7f;
	ev->core_dumped = (code & 0x80) != 0;
	bpf_ringbuf_submit(ev, wakeup_flags(ev->hdr.ts_ns));
	wake_reader(RF_CLASS_PROCESS_EXIT);
	count(RF_CLASS_PROCESS_EXIT, false);
	return 0;
}

#include "file.bpf.h"
#include "net.bpf.h"
#include "tamper.bpf.h"

/*
 * Benchmark only (tests/helpers/ring_bench, bench/ring_throughput.sh): each test run
 * (BPF_PROG_TEST_RUN) writes RF_BENCH_BURST process_exit-sized events through the same
 * ring buffer, wake-up policy and drop counters as the real programs, so the kernel to
 * user space path can be driven as fast as it goes. Not loaded unless asked for.
 */
#define RF_BENCH_BURST 256
SEC("raw_tp")
int rf_bench_emit(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	int i;

	for (i = 0; i < RF_BENCH_BURST; i++) {
		struct rf_ev_process_exit *ev = bpf_ringbuf_reserve(&rf_events, sizeof(*ev), 0);

		if (!ev) {
			count(RF_CLASS_PROCESS_EXIT, true);
			continue;
		}
		__builtin_memset(ev, 0, sizeof(*ev));
		fill_hdr(&ev->hdr, RF_CLASS_PROCESS_EXIT, sizeof(*ev), t);
		ev->exit_code = i;
		bpf_ringbuf_submit(ev, wakeup_flags(ev->hdr.ts_ns));
		wake_reader(RF_CLASS_PROCESS_EXIT);
		count(RF_CLASS_PROCESS_EXIT, false);
	}
	return 0;
}
