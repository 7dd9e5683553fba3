/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * common.bpf.h: maps, configuration and helpers shared by all of the sensor's
 * programs (process, file, network, tamper). Included once, by sensor.bpf.c: the
 * whole sensor is one BPF object and one skeleton.
 */
#ifndef RF_COMMON_BPF_H
#define RF_COMMON_BPF_H

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

/* ringfence's own helper processes (clients, supervisor), set at run time */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RF_EXCLUDED_PIDS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} rf_excluded SEC(".maps");

/* ringfence itself and the processes it excludes are never reported */
static __always_inline bool excluded(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return tgid == rf_self_tgid || bpf_map_lookup_elem(&rf_excluded, &tgid);
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
	barrier_var(len);
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



/* --- syscalls: arguments from sys_enter kept for sys_exit ----------------------- */
struct rf_stash {
	__u64 a[6];
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RF_STASH_MAX);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct rf_stash);
} rf_stash SEC(".maps");

/* Keep the first nargs arguments (a constant). Only those: a per-syscall tracepoint's
 * record holds just its own arguments, and the kernel refuses to attach a program
 * that reads past it (EACCES). */
static __always_inline void stash_args(const struct trace_event_raw_sys_enter *ctx, int nargs)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct rf_stash st = {};

	/* one load per argument: the verifier allows only constant offsets into ctx */
	if (nargs > 0) st.a[0] = ctx->args[0];
	if (nargs > 1) st.a[1] = ctx->args[1];
	if (nargs > 2) st.a[2] = ctx->args[2];
	if (nargs > 3) st.a[3] = ctx->args[3];
	if (nargs > 4) st.a[4] = ctx->args[4];
	if (nargs > 5) st.a[5] = ctx->args[5];
	bpf_map_update_elem(&rf_stash, &id, &st, BPF_ANY);
}

/* The arguments stashed at sys_enter, copied out and forgotten; false when there are
 * none (the enter program was not attached yet, or the map was full). */
static __always_inline bool stash_take(struct rf_stash *out)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct rf_stash *st = bpf_map_lookup_elem(&rf_stash, &id);

	if (!st)
		return false;
	*out = *st;
	bpf_map_delete_elem(&rf_stash, &id);
	return true;
}

/* The struct file behind fd in the current process, or NULL. */
static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct file *f = NULL;

	if (fd < 0 || fd >= max)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline __u64 file_path_ptr(struct file *f)
{
	return (__u64)f + bpf_core_field_offset(struct file, f_path);
}

static __always_inline __u32 current_uid(void)
{
	return (__u32)bpf_get_current_uid_gid();
}

/*
 * A path given to a syscall as a user string, made absolute: as given when it starts
 * with '/', else the resolved path of dirfd (AT_FDCWD: the cwd), '/', and the string.
 * The name part is not normalised ("..", symlinks stay as given); docs/sensor.md.
 */
#define RF_AT_FDCWD -100
static __always_inline void put_user_path(char *buf, __u32 *off, struct rf_str *d, long dirfd,
					  const char *up, bool *partial)
{
	struct pathbuf *pb = bpf_map_lookup_elem(&rf_pathbuf, &zero);
	__u32 o = *off, pos = RF_PATH_MAX, len;
	char c = 0;
	long n;
	int r;

	/* Built in the path buffer: the base ends at pb[RF_PATH_MAX - 2], pb[RF_PATH_MAX - 1]
	 * becomes the '/', the user's string goes to the second half; then the whole is
	 * copied into the event like any other path. */
	if (!pb || !up || o > RF_BPF_EVENT_BUF - RF_PATH_MAX)
		return;
	if (bpf_probe_read_user(&c, 1, up))
		return;
	if (c != '/') {
		__u64 base = 0;
		if ((int)dirfd == RF_AT_FDCWD) {
			struct task_struct *t = (struct task_struct *)bpf_get_current_task();
			base = (__u64)BPF_CORE_READ(t, fs) + bpf_core_field_offset(struct fs_struct, pwd);
		} else {
			struct file *f = fd_file(dirfd);
			if (f)
				base = file_path_ptr(f);
		}
		if (!base) {
			*partial = true; /* unknown base: the name alone */
		} else {
			r = rf_path_walk(base);
			if (r < 0)
				return;
			if (r & RF_WALK_PARTIAL)
				*partial = true;
			pos = r & (RF_PATH_MAX - 1);
			if (pos >= RF_PATH_MAX - 2)
				pos = RF_PATH_MAX - 1; /* base is "/": the separator is the root */
			pb->b[RF_PATH_MAX - 1] = '/';
		}
	}
	n = bpf_probe_read_user_str(pb->b + RF_PATH_MAX, RF_PATH_MAX, up);
	if (n < 1 || pos > RF_PATH_MAX)
		return;
	len = RF_PATH_MAX - pos + (__u32)n - 1; /* without the NUL */
	if (len > RF_PATH_MAX - 1)
		len = RF_PATH_MAX - 1; /* cut: keeps the start; the NUL is written below */
	barrier_var(len); /* the compiler would drop the mask below: len is known to fit */
	if (bpf_probe_read_kernel(buf + o, len & (RF_PATH_MAX - 1), pb->b + pos))
		return;
	{
		__u32 idx = (o + len) & (RF_BPF_EVENT_BUF - 1);
		barrier_var(idx);
		buf[idx] = 0;
	}
	d->off = o;
	d->len = len;
	*off = o + len + 1;
}

/* Write the event built in buf (off bytes) to the ring buffer, counting a drop. */
static __always_inline void submit(char *buf, __u32 off, __u16 cls, bool partial)
{
	struct rf_event_hdr *h = (void *)buf;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	if (partial)
		h->flags |= RF_EVF_PATH_PARTIAL;
	fill_hdr(h, cls, off, t);
	if (off > RF_BPF_EVENT_BUF - 1)
		return;
	count(cls, bpf_ringbuf_output(&rf_events, buf, off & (RF_BPF_EVENT_BUF - 1), 0) != 0);
}

/* The per-CPU event buffer with its fixed part of `size` bytes zeroed. */
static __always_inline char *event_buf(__u32 size)
{
	struct evbuf *eb = bpf_map_lookup_elem(&rf_evbuf, &zero);

	if (!eb || size > 512)
		return NULL;
	__builtin_memset(eb->b, 0, 512);
	return eb->b;
}

#endif
