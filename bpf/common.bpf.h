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
__u32 rf_reader_sleeping = 0; /* 1: the reader is about to sleep or asleep (wake_reader) */
__u64 rf_wake_mask = ~0ull;   /* bit (1 << class id): a record of that class wakes the reader */

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
	/* the walk's input: written by the caller, read back by rf_path_walk as plain
	 * numbers (a global function cannot take kernel pointers as arguments) */
	__u64 in_dentry, in_mnt;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pathbuf);
} rf_pathbuf SEC(".maps");

static const __u32 zero = 0;

/* kernel 6.2+; called only by the programs the loader picks when the kernel has it */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

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

__u32 rf_excluded_count = 0; /* entries in rf_excluded: no lookup while it is 0 */

/* ringfence itself and the processes it excludes are never reported */
static __always_inline bool excluded(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return tgid == rf_self_tgid || (rf_excluded_count && bpf_map_lookup_elem(&rf_excluded, &tgid));
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

/*
 * Wake-ups. Waking the reader costs the writing CPU an interrupt (irq_work; on a
 * virtual machine an exit to the hypervisor), about 250 ns an event measured on the
 * open storm. The ring buffer's own policy (flags 0) wakes the reader whenever it has
 * caught up, even if it is still awake and about to read the next record, so a
 * reader slightly faster than the writers was woken once per record.
 *
 * Instead the reader says when it sleeps: right before it waits it sets
 * rf_reader_sleeping, then (full barrier) looks once more whether anything is in the
 * ring. Every record is written without a wake-up and, after its commit (an xchg: a
 * full barrier), wake_reader() looks at the flag: if the reader sleeps, it clears
 * the flag and wakes it with an empty, discarded record. Either the reader sees the
 * record or the writer sees the flag (both sides store, fence, then load), so no
 * record is left without a wake-up to come, and a reader that is awake costs the
 * writers nothing. How long the reader stays awake (it lingers while events come
 * fast) is user space's choice: src/sensor/sensor.c, rf_sensor_idle().
 *
 * Only records of a class somebody wants wake the reader (rf_wake_mask). Fork and exit
 * records flow for the process table even when nobody subscribes to them; they wait in
 * the ring, in order, for the next wanted record or the reader's own timeout, or wake
 * the reader once the ring is a quarter full, so they can never fill it unread. An
 * exec storm watched for execs then costs one wake-up an exec instead of three.
 */
static __always_inline __u64 wakeup_flags(__u64 now)
{
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void wake_reader(__u32 cls)
{
	void *w;

	if (!*(volatile __u32 *)&rf_reader_sleeping)
		return;
	/* a class only the process table wants (fork and exit while nobody subscribes to
	 * them) waits for the next wanted record or the reader's own timeout, unless the
	 * ring is a quarter full */
	if (!(*(volatile __u64 *)&rf_wake_mask & (1ull << (cls & 63))) &&
	    bpf_ringbuf_query(&rf_events, BPF_RB_AVAIL_DATA) <
		    bpf_ringbuf_query(&rf_events, BPF_RB_RING_SIZE) / 4)
		return;
	*(volatile __u32 *)&rf_reader_sleeping = 0;
	w = bpf_ringbuf_reserve(&rf_events, 8, 0);
	if (w)
		bpf_ringbuf_discard(w, BPF_RB_FORCE_WAKEUP);
}

static __always_inline void fill_hdr(struct rf_event_hdr *h, __u16 cls, __u16 size,
				     struct task_struct *task)
{
	__u64 pt = bpf_get_current_pid_tgid();

	/* flags are left as the caller set them (the buffer starts zeroed) */
	h->size = size;
	h->class_id = cls;
	h->cpu = (__u16)bpf_get_smp_processor_id();
	h->seq = 0;
	h->class_seq = 0;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->pid = pt >> 32;
	h->tid = (__u32)pt;
	h->start_ns = task->group_leader->start_boottime; /* a BTF pointer: plain loads */
}

/*
 * Reading kernel memory from a tracepoint program costs a helper call per read, so
 * the walk reads whole struct heads at once (one read per dentry, one per mount) and
 * takes the fields it needs at their CO-RE-relocated offsets, which the verifier
 * sees as constants. RF_HEAD is enough for every kernel the sensor supports; a
 * kernel whose fields lie further out takes the per-field path (dead code elsewhere).
 */
#define RF_HEAD 64
#define HEAD_FIELD(raw, type, field, out)                                            \
	do {                                                                         \
		__u32 o_ = bpf_core_field_offset(type, field);                       \
		if (o_ + sizeof(out) <= RF_HEAD)                                     \
			__builtin_memcpy(&(out), (raw) + o_, sizeof(out));           \
		else                                                                 \
			bpf_probe_read_kernel(&(out), sizeof(out), (void *)src_ + o_); \
	} while (0)

struct mount_head {
	struct mount *parent;
	struct dentry *mountpoint;
	struct dentry *root;
};

static __always_inline void read_mount(struct mount *mnt, struct mount_head *mh)
{
	char raw[RF_HEAD] = {};
	const char *src_ = (const char *)mnt;

	bpf_probe_read_kernel(raw, sizeof(raw), mnt);
	HEAD_FIELD(raw, struct mount, mnt_parent, mh->parent);
	HEAD_FIELD(raw, struct mount, mnt_mountpoint, mh->mountpoint);
	{
		__u32 o_ = bpf_core_field_offset(struct mount, mnt) +
			   bpf_core_field_offset(struct vfsmount, mnt_root);
		if (o_ + 8 <= RF_HEAD)
			__builtin_memcpy(&mh->root, raw + o_, 8);
		else
			bpf_probe_read_kernel(&mh->root, 8, (void *)src_ + o_);
	}
}

/*
 * Resolve a path given as (dentry, vfsmount) into the per-CPU path buffer, in
 * pb[pos .. RF_PATH_MAX-1), built backwards from the last component, crossing mount
 * points up to the root of the mount tree. Returns pos, with RF_WALK_PARTIAL set when
 * the walk stopped early (deeper than RF_PATH_DEPTH_MAX, longer than RF_PATH_MAX, or
 * a dentry that no mount root reaches, e.g. a detached mount), or -1.
 *
 * A global function: the verifier checks it once, on its own, instead of once per
 * caller with the caller's state (which made the exec program too big to verify).
 * The pointers arrive as numbers, so every read goes through bpf_probe_read_kernel.
 */
#define RF_WALK_PARTIAL 0x10000

/* Put "/" and the name (len bytes) in front of what the walk has built so far. False
 * when it does not fit (the walk stops; the path is partial). */
static __always_inline bool path_prepend(struct pathbuf *pbuf, __u32 len, const void *name)
{
	__u32 pos = *(volatile __u32 *)&pbuf->pos; /* from memory: an unknown number to the verifier */

	if (len > RF_BPF_NAME_MAX - 1 || len + 2 > pos || pos > RF_PATH_MAX - 1)
		return false;
	pos -= len;
	bpf_probe_read_kernel(pbuf->b + (pos & (RF_PATH_MAX - 1)), len & (RF_BPF_NAME_MAX - 1), name);
	pos -= 1;
	pbuf->b[pos & (RF_PATH_MAX - 1)] = '/';
	pbuf->pos = pos;
	return true;
}

/* The walk's answer: where the path starts in pbuf->b ("/" for the root itself), with
 * RF_WALK_PARTIAL when the walk did not reach the root. */
static __always_inline int path_walk_result(struct pathbuf *pbuf)
{
	__u32 pos = pbuf->pos;

	if (pos == RF_PATH_MAX - 1) {
		pos -= 1;
		pbuf->b[RF_PATH_MAX - 2] = '/';
	}
	return (int)(pos & (RF_PATH_MAX - 1)) | (pbuf->done ? 0 : RF_WALK_PARTIAL);
}
__noinline int rf_path_walk(void)
{
	struct pathbuf *pbuf = bpf_map_lookup_elem(&rf_pathbuf, &zero);
	struct dentry *dentry;
	struct mount *mnt;
	struct mount_head mh;
	__u64 vfsmnt_p;
	int i;

	if (!pbuf || !pbuf->in_dentry || !pbuf->in_mnt)
		return -1;
	dentry = (struct dentry *)pbuf->in_dentry;
	vfsmnt_p = pbuf->in_mnt;
	mnt = (struct mount *)(vfsmnt_p - bpf_core_field_offset(struct mount, mnt));
	read_mount(mnt, &mh);
	pbuf->b[RF_PATH_MAX - 1] = 0;
	pbuf->pos = RF_PATH_MAX - 1;
	pbuf->done = 0;
	for (i = 0; i < RF_PATH_DEPTH_MAX; i++) {
		char raw[RF_HEAD] = {};
		const char *src_ = (const char *)dentry;
		struct dentry *parent = NULL;
		const unsigned char *name = NULL;
		__u32 len = 0;

		bpf_probe_read_kernel(raw, sizeof(raw), dentry);
		HEAD_FIELD(raw, struct dentry, d_parent, parent);
		if (dentry == mh.root || dentry == parent) {
			if (dentry != mh.root)
				break; /* not reachable from a mount root */
			if (mnt != mh.parent) {
				dentry = mh.mountpoint;
				mnt = mh.parent;
				read_mount(mnt, &mh);
				continue;
			}
			pbuf->done = 1;
			break;
		}
		HEAD_FIELD(raw, struct dentry, d_name.len, len);
		HEAD_FIELD(raw, struct dentry, d_name.name, name);
		if (!path_prepend(pbuf, len, name))
			break;
		dentry = parent;
	}
	return path_walk_result(pbuf);
}

/*
 * The same walk with plain loads (kernel 6.2+): bpf_rdonly_cast turns the numbers into
 * read-only BTF pointers, whose fields the program loads directly (the JIT guards each
 * load against a fault), so a component costs one helper call (its name) instead of
 * two, and a mount none. Only the programs that the loader picks when the kernel has
 * the kfunc call it (the *_btf variants, rf_sensor_btf_walk in sensor.c): a kernel
 * without it never sees the call. Results are the same as rf_path_walk's.
 */
__noinline int rf_path_walk_btf(void)
{
	struct pathbuf *pbuf = bpf_map_lookup_elem(&rf_pathbuf, &zero);
	struct dentry *dentry, *parent, *root;
	struct mount *mnt, *mparent;
	int i;

	if (!pbuf || !pbuf->in_dentry || !pbuf->in_mnt)
		return -1;
	dentry = bpf_rdonly_cast((void *)pbuf->in_dentry, bpf_core_type_id_kernel(struct dentry));
	mnt = bpf_rdonly_cast((void *)(pbuf->in_mnt - bpf_core_field_offset(struct mount, mnt)),
			      bpf_core_type_id_kernel(struct mount));
	root = mnt->mnt.mnt_root;
	pbuf->b[RF_PATH_MAX - 1] = 0;
	pbuf->pos = RF_PATH_MAX - 1;
	pbuf->done = 0;
	for (i = 0; i < RF_PATH_DEPTH_MAX; i++) {
		parent = dentry->d_parent;
		if (dentry == root || dentry == parent) {
			if (dentry != root)
				break; /* not reachable from a mount root */
			mparent = mnt->mnt_parent;
			if (mnt != mparent) {
				dentry = mnt->mnt_mountpoint;
				mnt = mparent;
				root = mnt->mnt.mnt_root;
				continue;
			}
			pbuf->done = 1;
			break;
		}
		if (!path_prepend(pbuf, dentry->d_name.len, dentry->d_name.name))
			break;
		dentry = parent;
	}
	return path_walk_result(pbuf);
}

/* Walk (dentry, vfsmount) with rf_path_walk_btf. */
static __always_inline int path_walk_btf(void *dentry, void *mnt)
{
	struct pathbuf *pb = bpf_map_lookup_elem(&rf_pathbuf, &zero);

	if (!pb)
		return -1;
	pb->in_dentry = (__u64)dentry;
	pb->in_mnt = (__u64)mnt;
	return rf_path_walk_btf();
}

/* Walk (dentry, vfsmount), given as BTF pointers or plain numbers. */
static __always_inline int path_walk(void *dentry, void *mnt)
{
	struct pathbuf *pb = bpf_map_lookup_elem(&rf_pathbuf, &zero);

	if (!pb)
		return -1;
	pb->in_dentry = (__u64)dentry;
	pb->in_mnt = (__u64)mnt;
	return rf_path_walk();
}

/* (dentry, vfsmount) of the struct path at path_ptr, in one read */
static __always_inline int path_walk_ptr(__u64 path_ptr)
{
	struct {
		__u64 mnt, dentry;
	} p = {};

	/* struct path is { struct vfsmount *mnt; struct dentry *dentry; } on every kernel */
	if (bpf_probe_read_kernel(&p, sizeof(p), (void *)path_ptr))
		return -1;
	return path_walk((void *)p.dentry, (void *)p.mnt);
}

/* Append the path the last walk left at pathbuf[pos..] to the event at *off. */
static __always_inline void put_walked(char *buf, __u32 *off, struct rf_str *d, __u32 pos)
{
	struct pathbuf *pb = bpf_map_lookup_elem(&rf_pathbuf, &zero);
	__u32 o = *off, len;

	if (!pb || o > RF_BPF_EVENT_BUF - RF_PATH_MAX || pos >= RF_PATH_MAX - 1)
		return;
	len = RF_PATH_MAX - 1 - pos; /* without the NUL */
	barrier_var(len);
	if (bpf_probe_read_kernel(buf + o, (len + 1) & (RF_PATH_MAX - 1), pb->b + pos))
		return;
	d->off = o;
	d->len = len;
	*off = o + len + 1;
}

/* Append what a walk returned (r: pos and RF_WALK_PARTIAL, or -1) to the event. */
static __always_inline void put_walk_result(char *buf, __u32 *off, struct rf_str *d, int r,
					    bool *partial)
{
	if (r < 0)
		return;
	if (r & RF_WALK_PARTIAL)
		*partial = true;
	put_walked(buf, off, d, r & (RF_PATH_MAX - 1));
}

/* Append the path of (dentry, vfsmount), both BTF-typed or plain numbers. */
static __always_inline void put_dpath(char *buf, __u32 *off, struct rf_str *d, void *dentry,
				      void *mnt, bool *partial)
{
	if (*off <= RF_BPF_EVENT_BUF - RF_PATH_MAX)
		put_walk_result(buf, off, d, path_walk(dentry, mnt), partial);
}

/* Append the path of the struct path at `path` to the event at *off. */
static __always_inline void put_path(char *buf, __u32 *off, struct rf_str *d, __u64 path,
				     bool *partial)
{
	if (*off <= RF_BPF_EVENT_BUF - RF_PATH_MAX)
		put_walk_result(buf, off, d, path_walk_ptr(path), partial);
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
/* LRU: an entry whose sys_exit never came (the class was switched off in between, the
 * thread died) ages out instead of filling the map */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
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

/* The current syscall's first n (a constant) arguments, at sys_exit: the saved user
 * registers (x86-64 syscall convention: di, si, dx, r10, r8, r9), which no syscall
 * hooked here changes (only ax takes the result). The registers are a BTF pointer:
 * plain loads, no helper calls. A tracer that rewrites them does so at
 * syscall-enter-stop, before the call: these are the arguments the kernel used. */
struct rf_sysargs {
	__u64 a[6];
};
static __always_inline void sys_args(struct rf_sysargs *s, int n)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	s->a[0] = n > 0 ? r->di : 0;
	s->a[1] = n > 1 ? r->si : 0;
	s->a[2] = n > 2 ? r->dx : 0;
	s->a[3] = n > 3 ? r->r10 : 0;
	s->a[4] = n > 4 ? r->r8 : 0;
	s->a[5] = n > 5 ? r->r9 : 0;
}

/* The struct file behind fd in the current process, or NULL. The task is a BTF
 * pointer (direct loads, no helper calls); the descriptor table slot is not. */
static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct file **fds = fdt->fd;
	struct file *f = NULL;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* fd_file with plain loads only (kernel 6.2+, bpf_rdonly_cast): the descriptor table
 * slot is read as the one pointer of a struct llist_node (any struct whose first
 * member is a pointer would do), so the lookup costs no helper call. */
static __always_inline struct file *fd_file_btf(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct llist_node *slot;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	slot = bpf_rdonly_cast((void *)((__u64)fdt->fd + (__u64)fd * sizeof(void *)),
			       bpf_core_type_id_kernel(struct llist_node));
	return (struct file *)slot->next;
}

/* What the sensor needs of a struct file, in one read. */
struct file_head {
	__u32 mode;  /* f_mode */
	__u32 flags; /* f_flags */
	struct inode *inode;
	__u64 path_mnt, path_dentry;
};

static __always_inline int read_file(struct file *f, struct file_head *fh)
{
	char raw[RF_HEAD * 2] = {};
	const char *src_ = (const char *)f;
	__u32 po = bpf_core_field_offset(struct file, f_path);

	if (bpf_probe_read_kernel(raw, sizeof(raw), f))
		return -1;
#undef RF_HEAD_SAVE
	{
#define RF_HEAD_F (RF_HEAD * 2)
		__u32 o_;
		o_ = bpf_core_field_offset(struct file, f_mode);
		if (o_ + 4 <= RF_HEAD_F) __builtin_memcpy(&fh->mode, raw + o_, 4);
		else bpf_probe_read_kernel(&fh->mode, 4, (void *)src_ + o_);
		o_ = bpf_core_field_offset(struct file, f_flags);
		if (o_ + 4 <= RF_HEAD_F) __builtin_memcpy(&fh->flags, raw + o_, 4);
		else bpf_probe_read_kernel(&fh->flags, 4, (void *)src_ + o_);
		o_ = bpf_core_field_offset(struct file, f_inode);
		if (o_ + 8 <= RF_HEAD_F) __builtin_memcpy(&fh->inode, raw + o_, 8);
		else bpf_probe_read_kernel(&fh->inode, 8, (void *)src_ + o_);
		if (po + 16 <= RF_HEAD_F) {
			__builtin_memcpy(&fh->path_mnt, raw + po, 8);
			__builtin_memcpy(&fh->path_dentry, raw + po + 8, 8);
		} else {
			bpf_probe_read_kernel(&fh->path_mnt, 8, (void *)src_ + po);
			bpf_probe_read_kernel(&fh->path_dentry, 8, (void *)src_ + po + 8);
		}
#undef RF_HEAD_F
	}
	return 0;
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
			r = path_walk_ptr(base);
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
	struct task_struct *t = bpf_get_current_task_btf();

	if (partial)
		h->flags |= RF_EVF_PATH_PARTIAL;
	fill_hdr(h, cls, off, t);
	if (off > RF_BPF_EVENT_BUF - 1)
		return;
	count(cls, bpf_ringbuf_output(&rf_events, buf, off & (RF_BPF_EVENT_BUF - 1),
				      wakeup_flags(h->ts_ns)) != 0);
	wake_reader(cls);
}

/* The per-CPU event buffer with its fixed part of `size` bytes zeroed. */
static __always_inline char *event_buf(__u32 size)
{
	struct evbuf *eb = bpf_map_lookup_elem(&rf_evbuf, &zero);

	if (!eb || size > 256)
		return NULL;
	/* size is a constant in every (inlined) caller: one unrolled store sequence of
	 * just the fixed part */
	__builtin_memset(eb->b, 0, (size + 7) & ~7u);
	return eb->b;
}

/* The prelude of a syscall event: the per-CPU buffer with the fixed part of ev's type
 * zeroed, ev pointing at it, and the caller's uid filled in (every such event has
 * one). Evaluates to the buffer, or NULL: then give up. */
#define event_start(ev)                                          \
	({                                                       \
		char *b_ = event_buf(sizeof(*(ev)));             \
		(ev) = (void *)b_;                               \
		if (b_)                                          \
			(ev)->uid = current_uid();               \
		b_;                                              \
	})

#endif
