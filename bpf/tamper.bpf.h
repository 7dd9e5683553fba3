/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tamper.bpf.h: credential, ptrace, module, bpf, memfd, mount, signal and
 * executable-memory programs (issue 3). Included once, by sensor.bpf.c.
 *
 * Pattern: one program per syscall, on its sys_exit tracepoint. It checks the class
 * mask first, then reads the call's arguments from the user registers the kernel saved
 * at entry (sys_args), applies the cheap argument filters, then the exclusion map, and
 * emits the event with the result. The argument registers are not changed by the calls
 * hooked here, and a tracer that rewrote them at syscall-enter-stop changed them before
 * the call ran, so they are the arguments the kernel used. Only cred_setid also hooks
 * sys_enter: the ids before the call are gone by its exit. Which failures are
 * reported, and why: docs/sensor.md, "Tamper classes".
 */

#define RF_NOID        0xffffffffu
#define RF_PROT_EXEC   0x4
#define RF_MAP_ANON    0x20
#define RF_BPF_PROG_LOAD 5
#define RF_PTRACE_TRACEME 0
#define RF_PTRACE_ATTACH  16
#define RF_PTRACE_SEIZE   0x4206

/*
 * Keep five values for sys_exit in the thread's stash slot (the one stash_args uses),
 * tagged with the syscall number in a[5]. ttake() accepts only a stash of the same
 * syscall: a slot left behind (the class was switched off between enter and exit, or
 * the exit program was not attached yet) is dropped instead of being read as the
 * arguments of another call. Only the low 32 bits of ctx->id count: the record's
 * __syscall_nr is an int at offset 8 (tracefs format), and vmlinux.h's `long id` also
 * reads 4 bytes of padding that the kernel does not clear.
 */
static __always_inline void tstash(const struct trace_event_raw_sys_enter *ctx, __u64 a0,
				   __u64 a1, __u64 a2, __u64 a3, __u64 a4)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct rf_stash st = {{a0, a1, a2, a3, a4, (__u32)ctx->id}};

	bpf_map_update_elem(&rf_stash, &id, &st, BPF_ANY);
}

static __always_inline bool ttake(const struct trace_event_raw_sys_exit *ctx, struct rf_stash *st)
{
	return stash_take(st) && st->a[5] == (__u32)ctx->id;
}

static __always_inline struct task_struct *cur_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

/* Append a NUL-terminated user string of at most max bytes (NUL included). */
static __always_inline void put_ustr(char *buf, __u32 *off, struct rf_str *d, const void *src,
				     __u32 max)
{
	__u32 o = *off;
	long n;

	if (!src || o > RF_BPF_EVENT_BUF - max)
		return;
	n = bpf_probe_read_user_str(buf + o, max, src);
	if (n <= 1)
		return;
	d->off = o;
	d->len = n - 1;
	*off = o + n;
}

/* A syscall's return value as the schema's result: 0 or -errno. */
static __always_inline __s32 errno_of(long ret)
{
	return ret < 0 && ret >= -4095 ? (__s32)ret : 0;
}

/* The syscall number of the current syscall (for programs outside a syscall tracepoint) */
static __always_inline long sys_nr(void)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	return BPF_CORE_READ(r, orig_ax);
}

/* --- cred_setid: set*uid, set*gid (every call, success or failure) -------------- */

static __always_inline int setid_enter(const struct trace_event_raw_sys_enter *ctx, int nargs,
				       bool gid)
{
	const struct cred *c;
	__u64 r, e, s, f, a1, a2, a3;

	if (!class_on(RF_CLASS_CRED_SETID) || excluded())
		return 0;
	c = BPF_CORE_READ(cur_task(), cred);
	if (gid) {
		r = BPF_CORE_READ(c, gid.val);
		e = BPF_CORE_READ(c, egid.val);
		s = BPF_CORE_READ(c, sgid.val);
		f = BPF_CORE_READ(c, fsgid.val);
	} else {
		r = BPF_CORE_READ(c, uid.val);
		e = BPF_CORE_READ(c, euid.val);
		s = BPF_CORE_READ(c, suid.val);
		f = BPF_CORE_READ(c, fsuid.val);
	}
	a1 = nargs > 0 ? (__u32)ctx->args[0] : RF_NOID;
	a2 = nargs > 1 ? (__u32)ctx->args[1] : RF_NOID;
	a3 = nargs > 2 ? (__u32)ctx->args[2] : RF_NOID;
	tstash(ctx, a1 | a2 << 32, a3 | (__u64)BPF_CORE_READ(c, uid.val) << 32, r | e << 32,
	       s | f << 32, 0);
	return 0;
}

static __always_inline int setid_exit(const struct trace_event_raw_sys_exit *ctx, const char *name,
				      bool gid, bool fs)
{
	struct rf_ev_cred_setid *ev;
	const struct cred *c;
	struct rf_stash st;
	__u32 off = sizeof(*ev);
	char *buf;

	if (!class_on(RF_CLASS_CRED_SETID) || !ttake(ctx, &st))
		return 0;
	buf = event_buf(sizeof(*ev));
	if (!buf)
		return 0;
	ev = (void *)buf;
	ev->uid = (__u32)(st.a[1] >> 32);
	/* setfsuid/setfsgid return the previous id, never an error */
	ev->result = fs ? 0 : errno_of(ctx->ret);
	ev->arg1 = (__u32)st.a[0];
	ev->arg2 = (__u32)(st.a[0] >> 32);
	ev->arg3 = (__u32)st.a[1];
	ev->old_real = (__u32)st.a[2];
	ev->old_effective = (__u32)(st.a[2] >> 32);
	ev->old_saved = (__u32)st.a[3];
	ev->old_fs = (__u32)(st.a[3] >> 32);
	c = BPF_CORE_READ(cur_task(), cred);
	if (gid) {
		ev->new_real = BPF_CORE_READ(c, gid.val);
		ev->new_effective = BPF_CORE_READ(c, egid.val);
		ev->new_saved = BPF_CORE_READ(c, sgid.val);
		ev->new_fs = BPF_CORE_READ(c, fsgid.val);
	} else {
		ev->new_real = BPF_CORE_READ(c, uid.val);
		ev->new_effective = BPF_CORE_READ(c, euid.val);
		ev->new_saved = BPF_CORE_READ(c, suid.val);
		ev->new_fs = BPF_CORE_READ(c, fsuid.val);
	}
	put_kstr(buf, &off, &ev->syscall, name, 16);
	submit(buf, off, RF_CLASS_CRED_SETID, false);
	return 0;
}

#define RF_SETID(call, nargs, gid, fs)                                                  \
	SEC("tp/syscalls/sys_enter_" #call)                                             \
	int rf_enter_##call(struct trace_event_raw_sys_enter *ctx)                      \
	{                                                                               \
		return setid_enter(ctx, nargs, gid);                                    \
	}                                                                               \
	SEC("tp/syscalls/sys_exit_" #call)                                              \
	int rf_exit_##call(struct trace_event_raw_sys_exit *ctx)                        \
	{                                                                               \
		return setid_exit(ctx, #call, gid, fs);                                 \
	}

RF_SETID(setuid, 1, false, false)
RF_SETID(setgid, 1, true, false)
RF_SETID(setreuid, 2, false, false)
RF_SETID(setregid, 2, true, false)
RF_SETID(setresuid, 3, false, false)
RF_SETID(setresgid, 3, true, false)
RF_SETID(setfsuid, 1, false, true)
RF_SETID(setfsgid, 1, true, true)

/* --- cred_capset ---------------------------------------------------------------- */

SEC("tp/syscalls/sys_exit_capset")
int rf_exit_capset(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_cred_capset *ev;
	struct rf_sysargs sa;
	struct {
		__u32 version;
		int pid;
	} hdr = {};
	struct {
		__u32 effective, permitted, inheritable;
	} data[2] = {};
	char *buf;

	if (!class_on(RF_CLASS_CRED_CAPSET) || excluded())
		return 0;
	sys_args(&sa, 2);
	buf = event_start(ev);
	if (!buf)
		return 0;
	ev->result = errno_of(ctx->ret);
	bpf_probe_read_user(&hdr, sizeof(hdr), (void *)sa.a[0]);
	ev->version = hdr.version;
	ev->target_pid = hdr.pid;
	/* version 1 (0x19980330) passes one 32-bit set each, versions 2 and 3 two */
	if (sa.a[1]) {
		if (hdr.version == 0x19980330)
			bpf_probe_read_user(&data[0], sizeof(data[0]), (void *)sa.a[1]);
		else
			bpf_probe_read_user(&data, sizeof(data), (void *)sa.a[1]);
	}
	ev->effective = data[0].effective | (__u64)data[1].effective << 32;
	ev->permitted = data[0].permitted | (__u64)data[1].permitted << 32;
	ev->inheritable = data[0].inheritable | (__u64)data[1].inheritable << 32;
	submit(buf, sizeof(*ev), RF_CLASS_CRED_CAPSET, false);
	return 0;
}

/* --- ptrace: attach, seize, traceme ---------------------------------------------- */

SEC("tp/syscalls/sys_exit_ptrace")
int rf_exit_ptrace(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_ptrace *ev;
	struct task_struct *t = cur_task(), *target;
	struct rf_sysargs sa;
	long req;
	char *buf;

	if (!class_on(RF_CLASS_PTRACE))
		return 0;
	sys_args(&sa, 4);
	req = sa.a[0];
	if ((req != RF_PTRACE_ATTACH && req != RF_PTRACE_SEIZE && req != RF_PTRACE_TRACEME) ||
	    excluded())
		return 0;
	buf = event_start(ev);
	if (!buf)
		return 0;
	ev->result = errno_of(ctx->ret);
	ev->request = (__u32)req;
	if (req == RF_PTRACE_TRACEME) {
		ev->tracer_pid = BPF_CORE_READ(t, real_parent, tgid);
		ev->target_pid = BPF_CORE_READ(t, tgid);
		if (!ev->result)
			ev->target_start_ns = BPF_CORE_READ(t, group_leader, start_boottime);
	} else {
		ev->tracer_pid = BPF_CORE_READ(t, tgid);
		ev->target_pid = (__s32)sa.a[1];
		if (req == RF_PTRACE_SEIZE)
			ev->options = sa.a[3];
		/* a successful attach puts the tracee first on the tracer's list */
		if (!ev->result) {
			struct list_head *first = BPF_CORE_READ(t, ptraced.next);

			target = container_of(first, struct task_struct, ptrace_entry);
			if (BPF_CORE_READ(target, pid) == ev->target_pid)
				ev->target_start_ns = BPF_CORE_READ(target, group_leader, start_boottime);
		}
	}
	submit(buf, sizeof(*ev), RF_CLASS_PTRACE, false);
	return 0;
}

/* --- bpf_prog_load ---------------------------------------------------------------- */

SEC("tp/syscalls/sys_exit_bpf")
int rf_exit_bpf(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_bpf_prog_load *ev;
	struct rf_sysargs sa;
	/* the head of union bpf_attr for BPF_PROG_LOAD (UAPI, fixed offsets) */
	struct {
		__u32 prog_type, insn_cnt;
		__u64 insns, license;
		__u32 log_level, log_size;
		__u64 log_buf;
		__u32 kern_version, prog_flags;
		char prog_name[16];
		__u32 prog_ifindex, expected_attach_type;
	} a = {};
	__u32 n, off;
	char *buf;

	if (!class_on(RF_CLASS_BPF_PROG_LOAD))
		return 0;
	sys_args(&sa, 3);
	if (sa.a[0] != RF_BPF_PROG_LOAD || excluded())
		return 0;
	buf = event_start(ev);
	if (!buf)
		return 0;
	off = sizeof(*ev);
	ev->result = errno_of(ctx->ret);
	ev->fd = ev->result ? -1 : (__s32)ctx->ret;
	/* the kernel reads min(size, sizeof(attr)) bytes; fields past size are zero */
	n = sa.a[2] < sizeof(a) ? (__u32)sa.a[2] : sizeof(a);
	bpf_probe_read_user(&a, n, (void *)sa.a[1]);
	ev->prog_type = a.prog_type;
	ev->insn_cnt = a.insn_cnt;
	ev->prog_flags = a.prog_flags;
	ev->attach_type = a.expected_attach_type;
	if (!ev->result) {
		struct file *f = fd_file(ctx->ret);
		struct bpf_prog *p = f ? BPF_CORE_READ(f, private_data) : NULL;

		if (p)
			ev->prog_id = BPF_CORE_READ(p, aux, id);
	}
	a.prog_name[15] = 0;
	if (a.prog_name[0] && off <= RF_BPF_EVENT_BUF - 16) {
		/* the name is in a stack copy: read it like a kernel string */
		long len = bpf_probe_read_kernel_str(buf + off, 16, a.prog_name);

		if (len > 1) {
			ev->name.off = off;
			ev->name.len = len - 1;
			off += len;
		}
	}
	submit(buf, off, RF_CLASS_BPF_PROG_LOAD, false);
	return 0;
}

/* --- memfd_create (successful calls) ----------------------------------------------- */

SEC("tp/syscalls/sys_exit_memfd_create")
int rf_exit_memfd_create(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_memfd_create *ev;
	struct rf_sysargs sa;
	__u32 off;
	char *buf;

	if (!class_on(RF_CLASS_MEMFD_CREATE) || ctx->ret < 0 || excluded())
		return 0;
	sys_args(&sa, 2);
	buf = event_start(ev);
	if (!buf)
		return 0;
	off = sizeof(*ev);
	ev->fd = (__s32)ctx->ret;
	ev->flags = (__u32)sa.a[1];
	put_ustr(buf, &off, &ev->name, (void *)sa.a[0], 256);
	submit(buf, off, RF_CLASS_MEMFD_CREATE, false);
	return 0;
}

/* --- mount, move_mount, umount -------------------------------------------------------- */

SEC("tp/syscalls/sys_exit_mount")
int rf_exit_mount(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_mount *ev;
	struct rf_sysargs sa;
	bool partial = false;
	__u32 off;
	char *buf;

	if (!class_on(RF_CLASS_MOUNT) || excluded())
		return 0;
	sys_args(&sa, 4);
	buf = event_start(ev);
	if (!buf)
		return 0;
	off = sizeof(*ev);
	ev->result = errno_of(ctx->ret);
	ev->flags = sa.a[3];
	/* the path first: put_user_path needs RF_PATH_MAX of room. The offset is hidden
	 * from the compiler: with a constant offset clang folds put_user_path's masked
	 * index into a form the verifier cannot bound. */
	barrier_var(off);
	put_user_path(buf, &off, &ev->target, RF_AT_FDCWD, (const char *)sa.a[1], &partial);
	put_ustr(buf, &off, &ev->source, (void *)sa.a[0], RF_PATH_MAX);
	put_ustr(buf, &off, &ev->fstype, (void *)sa.a[2], 64);
	put_kstr(buf, &off, &ev->syscall, "mount", 16);
	submit(buf, off, RF_CLASS_MOUNT, partial);
	return 0;
}

/* move_mount(from_dfd, from_path, to_dfd, to_path, flags): the new mount API attaches
 * here what fsmount or open_tree made; util-linux mount(8) 2.39+ mounts this way */
#define RF_MOVE_MOUNT_F_EMPTY_PATH 0x4
SEC("tp/syscalls/sys_exit_move_mount")
int rf_exit_move_mount(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_mount *ev;
	struct rf_sysargs sa;
	bool partial = false;
	__u32 off;
	char *buf;

	if (!class_on(RF_CLASS_MOUNT) || excluded())
		return 0;
	sys_args(&sa, 5);
	buf = event_start(ev);
	if (!buf)
		return 0;
	off = sizeof(*ev);
	ev->result = errno_of(ctx->ret);
	ev->flags = sa.a[4];
	barrier_var(off); /* as in rf_exit_mount */
	put_user_path(buf, &off, &ev->target, sa.a[2], (const char *)sa.a[3], &partial);
	if (sa.a[4] & RF_MOVE_MOUNT_F_EMPTY_PATH) {
		/* the mount behind the fd: its device name and file system type */
		struct file *f = fd_file(sa.a[0]);
		struct vfsmount *vm = f ? BPF_CORE_READ(f, f_path.mnt) : NULL;

		if (vm) {
			struct mount *m = container_of(vm, struct mount, mnt);

			put_kstr(buf, &off, &ev->source, BPF_CORE_READ(m, mnt_devname), 256);
			put_kstr(buf, &off, &ev->fstype, BPF_CORE_READ(vm, mnt_sb, s_type, name), 64);
		}
	} else {
		barrier_var(off);
		put_user_path(buf, &off, &ev->source, sa.a[0], (const char *)sa.a[1], &partial);
	}
	put_kstr(buf, &off, &ev->syscall, "move_mount", 16);
	submit(buf, off, RF_CLASS_MOUNT, partial);
	return 0;
}

SEC("tp/syscalls/sys_exit_umount")
int rf_exit_umount(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_umount *ev;
	struct rf_sysargs sa;
	bool partial = false;
	__u32 off;
	char *buf;

	if (!class_on(RF_CLASS_UMOUNT) || excluded())
		return 0;
	sys_args(&sa, 2);
	buf = event_start(ev);
	if (!buf)
		return 0;
	off = sizeof(*ev);
	ev->result = errno_of(ctx->ret);
	ev->flags = (__u32)sa.a[1];
	barrier_var(off); /* as in rf_exit_mount */
	put_user_path(buf, &off, &ev->target, RF_AT_FDCWD, (const char *)sa.a[0], &partial);
	submit(buf, off, RF_CLASS_UMOUNT, partial);
	return 0;
}

/* --- signal_send: signals to other processes ------------------------------------------ */

/* pid, tid: the target as given; is_tid: pid names a thread (tkill) */
static __always_inline int sig_emit(const struct trace_event_raw_sys_exit *ctx, const char *name,
				    long pid, long tid, long sig, bool is_tid)
{
	struct rf_ev_signal_send *ev;
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 off;
	char *buf;

	/* signal 0 only probes whether the process exists: noise */
	if (!sig)
		return 0;
	if ((__s32)pid == (__s32)(pt >> 32) || (is_tid && (__s32)pid == (__s32)pt))
		return 0; /* to itself */
	if (excluded())
		return 0;
	buf = event_start(ev);
	if (!buf)
		return 0;
	off = sizeof(*ev);
	ev->result = errno_of(ctx->ret);
	ev->target_pid = (__s32)pid;
	ev->target_tid = (__s32)tid;
	ev->signal = (__u32)sig;
	put_kstr(buf, &off, &ev->syscall, name, 24);
	submit(buf, off, RF_CLASS_SIGNAL_SEND, false);
	return 0;
}

SEC("tp/syscalls/sys_exit_kill")
int rf_exit_kill(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_sysargs sa;

	if (!class_on(RF_CLASS_SIGNAL_SEND))
		return 0;
	sys_args(&sa, 2);
	return sig_emit(ctx, "kill", sa.a[0], 0, sa.a[1], false);
}

SEC("tp/syscalls/sys_exit_tkill")
int rf_exit_tkill(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_sysargs sa;

	if (!class_on(RF_CLASS_SIGNAL_SEND))
		return 0;
	sys_args(&sa, 2);
	return sig_emit(ctx, "tkill", sa.a[0], 0, sa.a[1], true);
}

SEC("tp/syscalls/sys_exit_tgkill")
int rf_exit_tgkill(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_sysargs sa;

	if (!class_on(RF_CLASS_SIGNAL_SEND))
		return 0;
	sys_args(&sa, 3);
	return sig_emit(ctx, "tgkill", sa.a[0], sa.a[1], sa.a[2], false);
}

SEC("tp/syscalls/sys_exit_rt_sigqueueinfo")
int rf_exit_rt_sigqueueinfo(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_sysargs sa;

	if (!class_on(RF_CLASS_SIGNAL_SEND))
		return 0;
	sys_args(&sa, 2);
	return sig_emit(ctx, "rt_sigqueueinfo", sa.a[0], 0, sa.a[1], false);
}

SEC("tp/syscalls/sys_exit_rt_tgsigqueueinfo")
int rf_exit_rt_tgsigqueueinfo(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_sysargs sa;

	if (!class_on(RF_CLASS_SIGNAL_SEND))
		return 0;
	sys_args(&sa, 3);
	return sig_emit(ctx, "rt_tgsigqueueinfo", sa.a[0], sa.a[1], sa.a[2], false);
}

/* pidfd_send_signal: the process behind the pidfd (its pid in the initial namespace,
 * like the header's), the caller for PIDFD_SELF_*, 0 when fd is not a pidfd */
#define RF_PID_FS_MAGIC 0x50494446 /* "PIDF" */
#define RF_PIDFD_SELF_THREAD       -10000
#define RF_PIDFD_SELF_THREAD_GROUP -20000
static __always_inline long pidfd_target(long fd)
{
	struct file *f;
	struct inode *ino;
	struct pid *pid;

	if ((int)fd == RF_PIDFD_SELF_THREAD || (int)fd == RF_PIDFD_SELF_THREAD_GROUP)
		return bpf_get_current_pid_tgid() >> 32;
	f = fd_file(fd);
	if (!f)
		return 0;
	ino = BPF_CORE_READ(f, f_inode);
	if (BPF_CORE_READ(ino, i_sb, s_magic) != RF_PID_FS_MAGIC)
		return 0;
	/* pidfs keeps the struct pid in the inode */
	pid = BPF_CORE_READ(ino, i_private);
	return pid ? BPF_CORE_READ(pid, numbers[0].nr) : 0;
}

SEC("tp/syscalls/sys_exit_pidfd_send_signal")
int rf_exit_pidfd_send_signal(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_sysargs sa;

	if (!class_on(RF_CLASS_SIGNAL_SEND))
		return 0;
	sys_args(&sa, 2);
	if (!sa.a[1])
		return 0;
	return sig_emit(ctx, "pidfd_send_signal", pidfd_target(sa.a[0]), 0, sa.a[1], false);
}

/* --- mem_exec: anonymous memory made executable ---------------------------------------- */

static __always_inline int mem_emit(const struct trace_event_raw_sys_exit *ctx, const char *name,
				    struct rf_sysargs *sa, bool is_mmap)
{
	struct rf_ev_mem_exec *ev;
	__u32 off;
	char *buf;

	buf = event_start(ev);
	if (!buf)
		return 0;
	off = sizeof(*ev);
	ev->result = errno_of(ctx->ret);
	ev->addr = is_mmap && !ev->result ? (__u64)ctx->ret : sa->a[0];
	ev->len = sa->a[1];
	ev->prot = (__u32)sa->a[2];
	ev->flags = is_mmap ? (__u32)sa->a[3] : 0;
	put_kstr(buf, &off, &ev->syscall, name, 16);
	submit(buf, off, RF_CLASS_MEM_EXEC, false);
	return 0;
}

SEC("tp/syscalls/sys_exit_mmap")
int rf_exit_mmap(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_sysargs sa;

	if (!class_on(RF_CLASS_MEM_EXEC))
		return 0;
	sys_args(&sa, 4);
	/* file mappings with PROT_EXEC are how every program loads its libraries */
	if (!(sa.a[2] & RF_PROT_EXEC) || !(sa.a[3] & RF_MAP_ANON) || excluded())
		return 0;
	return mem_emit(ctx, "mmap", &sa, true);
}

static long vma_is_anon(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	*(bool *)data = BPF_CORE_READ(vma, vm_file) == NULL;
	return 0;
}

/* mprotect, pkey_mprotect: (start, len, prot, ...) */
static __always_inline int mprotect_exit(const struct trace_event_raw_sys_exit *ctx,
					 const char *name)
{
	struct rf_sysargs sa;
	bool anon = false;

	if (!class_on(RF_CLASS_MEM_EXEC))
		return 0;
	sys_args(&sa, 3);
	if (!(sa.a[2] & RF_PROT_EXEC) || excluded())
		return 0;
	/* the mapping at start decides (a range over several mappings: the first) */
	if (bpf_find_vma(bpf_get_current_task_btf(), sa.a[0], vma_is_anon, &anon, 0) || !anon)
		return 0;
	return mem_emit(ctx, name, &sa, false);
}

SEC("tp/syscalls/sys_exit_mprotect")
int rf_exit_mprotect(struct trace_event_raw_sys_exit *ctx)
{
	return mprotect_exit(ctx, "mprotect");
}

SEC("tp/syscalls/sys_exit_pkey_mprotect")
int rf_exit_pkey_mprotect(struct trace_event_raw_sys_exit *ctx)
{
	return mprotect_exit(ctx, "pkey_mprotect");
}

/* --- module_load ------------------------------------------------------------------------
 * Successful loads from the module:module_load tracepoint (name and taints, in the
 * loader's context, inside its init_module or finit_module); failed ones from sys_exit
 * of those two syscalls. The tracepoint is used through tracefs with its record layout
 * written out here: a kernel built without modules (CONFIG_MODULES=n) has neither the
 * tracepoint nor its BTF, and a tp_btf program would stop the whole object from
 * loading. There the three programs load and fail to attach; the sensor lists them as
 * unavailable. */
#define RF_NR_FINIT_MODULE 313 /* x86-64 */

struct rf_tp_module_load {
	__u64 common;  /* common_type, flags, preempt_count, pid */
	__u32 taints;
	__u32 name_loc; /* __data_loc char[] name: offset (low 16 bits) and length */
};

/* The event without the name or result; the file of finit_module(fd, ...) as path. */
static __always_inline char *module_event(__u32 *off, bool *partial)
{
	struct rf_ev_module_load *ev;
	struct rf_sysargs sa;
	char *buf = event_start(ev);

	if (!buf)
		return NULL;
	*off = sizeof(*ev);
	if (sys_nr() == RF_NR_FINIT_MODULE) {
		struct file *f;

		sys_args(&sa, 1);
		f = fd_file(sa.a[0]);
		if (f)
			put_path(buf, off, &ev->path, file_path_ptr(f), partial);
	}
	return buf;
}

SEC("tp/module/module_load")
int rf_module_load(struct rf_tp_module_load *ctx)
{
	struct rf_ev_module_load *ev;
	bool partial = false;
	__u32 off, loc;
	char *buf;

	if (!class_on(RF_CLASS_MODULE_LOAD) || excluded())
		return 0;
	buf = module_event(&off, &partial);
	if (!buf)
		return 0;
	ev = (void *)buf;
	ev->taints = ctx->taints;
	loc = ctx->name_loc;
	if (off <= RF_BPF_EVENT_BUF - 64) {
		long n = bpf_probe_read_kernel_str(buf + off, 64, (char *)ctx + (loc & 0xffff));

		if (n > 1) {
			ev->name.off = off;
			ev->name.len = n - 1;
			off += n;
		}
	}
	submit(buf, off, RF_CLASS_MODULE_LOAD, partial);
	return 0;
}

/* failures only: a load that worked was reported by the tracepoint */
static __always_inline int module_exit(const struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_module_load *ev;
	bool partial = false;
	__u32 off;
	char *buf;

	if (!class_on(RF_CLASS_MODULE_LOAD) || ctx->ret == 0 || excluded())
		return 0;
	buf = module_event(&off, &partial);
	if (!buf)
		return 0;
	ev = (void *)buf;
	ev->result = errno_of(ctx->ret);
	submit(buf, off, RF_CLASS_MODULE_LOAD, partial);
	return 0;
}

SEC("tp/syscalls/sys_exit_finit_module")
int rf_exit_finit_module(struct trace_event_raw_sys_exit *ctx)
{
	return module_exit(ctx);
}

SEC("tp/syscalls/sys_exit_init_module")
int rf_exit_init_module(struct trace_event_raw_sys_exit *ctx)
{
	return module_exit(ctx);
}
