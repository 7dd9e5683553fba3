// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sensor.bpf.c: the platform's process sensor. tp_btf programs on the scheduler's
 * exec, fork and exit tracepoints (no kprobes, fentry or LSM: see README for why),
 * writing events in the wire format of ringfence/event.h into one ring buffer.
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

#include "ringfence/event.h"
#include "sensor_bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by the loader before load (read-only to the programs). */
const volatile __u32 rf_self_tgid = 0;          /* ringfence's own process: never reported */
const volatile bool rf_exit_has_group_dead = 0; /* sched_process_exit passes group_dead (6.16+) */

/* Written by user space at run time through the mmap'ed .data section. */
__u64 rf_class_mask = ~0ull; /* bit (1 << class id): emit that class */
__u64 rf_drop_hint = 0;      /* bumped on every drop: user space then reads rf_stats */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RF_RINGBUF_BYTES);
} rf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rf_cpu_stats);
} rf_stats SEC(".maps");

struct evbuf {
	char b[RF_BPF_EVENT_BUF];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct evbuf);
} rf_evbuf SEC(".maps");

struct pathbuf {
	char b[RF_BPF_PATH_BUF];
	/* the walk's cursor lives in memory, not in a register: the verifier then sees
	 * an unknown number in every iteration and can prune, instead of following each
	 * distinct value through all RF_PATH_DEPTH_MAX iterations */
	__u32 pos;
	__u32 done;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pathbuf);
} rf_pathbuf SEC(".maps");

static const __u32 zero = 0;

static __always_inline bool class_on(__u32 cls)
{
	return rf_class_mask & (1ull << cls);
}

static __always_inline bool is_self(void)
{
	return rf_self_tgid && (bpf_get_current_pid_tgid() >> 32) == rf_self_tgid;
}

static __always_inline void count(__u32 cls, bool dropped)
{
	struct rf_cpu_stats *st = bpf_map_lookup_elem(&rf_stats, &zero);

	if (cls >= RF_CLASS_COUNT)
		return;
	if (dropped)
		rf_drop_hint++;
	if (!st)
		return;
	if (dropped)
		st->dropped[cls]++;
	else
		st->emitted[cls]++;
}

static __always_inline void fill_hdr(struct rf_event_hdr *h, __u16 cls, __u16 size,
				     struct task_struct *task)
{
	__u64 pt = bpf_get_current_pid_tgid();

	h->size = size;
	h->class_id = cls;
	h->flags = 0;
	h->cpu = (__u16)bpf_get_smp_processor_id();
	h->seq = 0;
	h->class_seq = 0;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->pid = pt >> 32;
	h->tid = (__u32)pt;
	h->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
}

/*
 * Resolve the struct path at path_ptr into the per-CPU path buffer, in
 * pb[pos .. RF_PATH_MAX-1), built backwards from the last component, crossing mount
 * points up to the root of the mount tree. Returns pos, with RF_WALK_PARTIAL set when
 * the walk stopped early (deeper than RF_PATH_DEPTH_MAX, longer than RF_PATH_MAX, or
 * a dentry that no mount root reaches, e.g. a detached mount), or -1.
 *
 * A global function: the verifier checks it once, on its own, instead of once per
 * caller with the caller's state (which made the exec program too big to verify).
 * The path arrives as a number, so every read goes through bpf_probe_read_kernel.
 */
#define RF_WALK_PARTIAL 0x10000
__noinline int rf_path_walk(__u64 path_ptr)
{
	const struct path *path = (const struct path *)path_ptr;
	struct pathbuf *pbuf = bpf_map_lookup_elem(&rf_pathbuf, &zero);
	struct dentry *dentry, *mnt_root, *parent;
	struct vfsmount *vfsmnt;
	struct mount *mnt, *mnt_parent;
	__u32 pos;
	int i;

	if (!pbuf || !path)
		return -1;
	dentry = BPF_CORE_READ(path, dentry);
	vfsmnt = BPF_CORE_READ(path, mnt);
	mnt = container_of(vfsmnt, struct mount, mnt);
	mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
	pbuf->b[RF_PATH_MAX - 1] = 0;
	pbuf->pos = RF_PATH_MAX - 1;
	pbuf->done = 0;
	for (i = 0; i < RF_PATH_DEPTH_MAX; i++) {
		struct qstr name;
		__u32 len;

		mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		parent = BPF_CORE_READ(dentry, d_parent);
		if (dentry == mnt_root || dentry == parent) {
			if (dentry != mnt_root)
				break; /* not reachable from a mount root */
			if (mnt != mnt_parent) {
				dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
				mnt = mnt_parent;
				mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
				vfsmnt = __builtin_preserve_access_index(&mnt->mnt);
				continue;
			}
			pbuf->done = 1;
			break;
		}
		name = BPF_CORE_READ(dentry, d_name);
		len = name.len;
		pos = pbuf->pos;
		if (len > RF_BPF_NAME_MAX - 1 || len + 2 > pos || pos > RF_PATH_MAX - 1)
			break;
		pos -= len;
		bpf_probe_read_kernel(pbuf->b + (pos & (RF_PATH_MAX - 1)),
				      len & (RF_BPF_NAME_MAX - 1), name.name);
		pos -= 1;
		pbuf->b[pos & (RF_PATH_MAX - 1)] = '/';
		pbuf->pos = pos;
		dentry = parent;
	}
	pos = pbuf->pos;
	if (pos == RF_PATH_MAX - 1) {
		pos -= 1;
		pbuf->b[RF_PATH_MAX - 2] = '/';
	}
	return (int)(pos & (RF_PATH_MAX - 1)) | (pbuf->done ? 0 : RF_WALK_PARTIAL);
}

/* Append the path to the event at *off and point *d at it. */
static __always_inline void put_path(char *buf, __u32 *off, struct rf_str *d, __u64 path,
				     bool *partial)
{
	struct pathbuf *pb = bpf_map_lookup_elem(&rf_pathbuf, &zero);
	__u32 o = *off, pos, len;
	int r;

	if (!pb || o > RF_BPF_EVENT_BUF - RF_PATH_MAX)
		return;
	r = rf_path_walk(path);
	if (r < 0)
		return;
	if (r & RF_WALK_PARTIAL)
		*partial = true;
	pos = r & (RF_PATH_MAX - 1);
	if (pos >= RF_PATH_MAX - 1)
		return;
	len = RF_PATH_MAX - 1 - pos; /* without the NUL */
	if (bpf_probe_read_kernel(buf + o, (len + 1) & (RF_PATH_MAX - 1), pb->b + pos))
		return;
	d->off = o;
	d->len = len;
	*off = o + len + 1;
}

/* Append a NUL-terminated kernel string of at most max bytes (NUL included). */
static __always_inline void put_kstr(char *buf, __u32 *off, struct rf_str *d, const void *src,
				     __u32 max)
{
	__u32 o = *off;
	long n;

	if (!src || o > RF_BPF_EVENT_BUF - max)
		return;
	n = bpf_probe_read_kernel_str(buf + o, max, src);
	if (n <= 1)
		return;
	d->off = o;
	d->len = n - 1;
	*off = o + n;
}

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

	if (!class_on(RF_CLASS_PROCESS_EXEC) || is_self())
		return 0;
	eb = bpf_map_lookup_elem(&rf_evbuf, &zero);
	if (!eb)
		return 0;
	buf = eb->b;
	ev = (void *)buf;
	__builtin_memset(ev, 0, sizeof(*ev));

	parent = BPF_CORE_READ(task, real_parent);
	ev->ppid = BPF_CORE_READ(parent, tgid);
	ev->parent_start_ns = BPF_CORE_READ(parent, group_leader, start_boottime);
	ev->uid = BPF_CORE_READ(task, real_cred, uid.val);
	ev->gid = BPF_CORE_READ(task, real_cred, gid.val);
	ev->euid = BPF_CORE_READ(task, cred, euid.val);
	ev->egid = BPF_CORE_READ(task, cred, egid.val);
	ev->loginuid = BPF_CORE_READ(task, loginuid.val);
	ev->sessionid = BPF_CORE_READ(task, sessionid);
	ev->argc = BPF_CORE_READ(bprm, argc);
	ev->cgroup_id = bpf_get_current_cgroup_id();

	/* pointers read with BPF_CORE_READ are plain numbers to the verifier, as the
	 * global rf_path_walk needs */
	put_path(buf, &off, &ev->exe,
		 (__u64)BPF_CORE_READ(bprm, file) + bpf_core_field_offset(struct file, f_path),
		 &partial);

	/* argv: the new image's argument area, NUL-separated as the kernel laid it out */
	mm = BPF_CORE_READ(task, mm);
	arg_start = BPF_CORE_READ(mm, arg_start);
	arg_end = BPF_CORE_READ(mm, arg_end);
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

	put_path(buf, &off, &ev->cwd,
		 (__u64)BPF_CORE_READ(task, fs) + bpf_core_field_offset(struct fs_struct, pwd),
		 &partial);

	tty = BPF_CORE_READ(task, signal, tty);
	if (tty) {
		int major = BPF_CORE_READ(tty, driver, major);
		int minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);

		ev->tty_nr = (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
		put_kstr(buf, &off, &ev->tty, __builtin_preserve_access_index(&tty->name[0]), 32);
	}
	put_kstr(buf, &off, &ev->cgroup, BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, name), 128);

	if (partial)
		ev->hdr.flags |= RF_EVF_PATH_PARTIAL;
	fill_hdr(&ev->hdr, RF_CLASS_PROCESS_EXEC, off, task);
	if (off > RF_BPF_EVENT_BUF - 1)
		return 0;
	count(RF_CLASS_PROCESS_EXEC,
	      bpf_ringbuf_output(&rf_events, buf, off & (RF_BPF_EVENT_BUF - 1), 0) != 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(rf_fork, struct task_struct *parent, struct task_struct *child)
{
	struct rf_ev_process_fork *ev;
	__u32 tgid = BPF_CORE_READ(child, tgid);

	/* threads are not processes: clone(CLONE_THREAD) gives tgid != pid */
	if (!class_on(RF_CLASS_PROCESS_FORK) || is_self() || tgid != BPF_CORE_READ(child, pid))
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
	bpf_ringbuf_submit(ev, 0);
	count(RF_CLASS_PROCESS_FORK, false);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(rf_exit, struct task_struct *task)
{
	struct rf_ev_process_exit *ev;
	int code;

	if (!class_on(RF_CLASS_PROCESS_EXIT) || is_self())
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
	bpf_ringbuf_submit(ev, 0);
	count(RF_CLASS_PROCESS_EXIT, false);
	return 0;
}
