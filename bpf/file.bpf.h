/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * file.bpf.h: file activity, on syscall tracepoints (one program per syscall, so a
 * syscall nobody watches costs nothing).
 *
 * Opens are reported from sys_exit alone: the new descriptor's struct file says whether
 * the open created the file (FMODE_CREATED) or opened it for writing (FMODE_WRITE), and
 * its f_path gives the path the kernel resolved. Read-only opens and failed opens are
 * not reported (noise). Path-based operations (unlink, rename, link, chmod, chown) keep
 * their arguments at sys_enter and are reported at sys_exit when they succeeded; their
 * paths are the user's strings made absolute against dirfd or the cwd. Only regular
 * files are reported for opens (a write-open of /dev/null or a pipe is not file
 * activity).
 */
#ifndef RF_FILE_BPF_H
#define RF_FILE_BPF_H

#define RF_FMODE_WRITE   0x2
#define RF_FMODE_CREATED 0x100000 /* FMODE_CREATED, include/linux/fs.h, since 4.19 */
#define RF_S_IFMT  0170000
#define RF_S_IFREG 0100000

/* Path-prefix exclusions for file events, set by the loader (e.g. /proc/, /sys/). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RF_PATH_EXCL_MAX);
	__type(key, __u32);
	__type(value, struct rf_path_excl);
} rf_path_excl SEC(".maps");

const volatile __u32 rf_path_excl_count = 0;

static __always_inline bool path_excluded(const char *buf, struct rf_str *d)
{
	__u32 i, k;

	for (i = 0; i < RF_PATH_EXCL_MAX; i++) {
		__u32 key = i;
		struct rf_path_excl *e;
		bool match = true;

		if (i >= rf_path_excl_count)
			break;
		e = bpf_map_lookup_elem(&rf_path_excl, &key);
		if (!e || !e->len || e->len > d->len)
			continue;
		for (k = 0; k < RF_PATH_EXCL_LEN; k++) {
			if (k >= e->len)
				break;
			if (buf[(d->off + k) & (RF_BPF_EVENT_BUF - 1)] != e->p[k]) {
				match = false;
				break;
			}
		}
		if (match)
			return true;
	}
	return false;
}

/* --- open, openat, openat2, creat --------------------------------------------- */

/* btf (a constant): read the struct file and walk its path with plain loads
 * (bpf_rdonly_cast, kernel 6.2+), else with bpf_probe_read_kernel. Same event. */
static __always_inline int on_open_exit(long ret, bool btf)
{
	struct rf_ev_file_create *ev;
	struct file_head fh;
	struct file *f;
	umode_t imode = 0;
	bool partial = false;
	__u32 off = sizeof(*ev);
	__u16 cls;
	char *buf;
	int r;

	if (ret < 0 || !(class_on(RF_CLASS_FILE_CREATE) || class_on(RF_CLASS_FILE_OPEN_WRITE)) ||
	    excluded())
		return 0;
	f = btf ? fd_file_btf(ret) : fd_file(ret);
	if (!f)
		return 0;
	if (btf) {
		f = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
		fh.mode = f->f_mode;
	} else if (read_file(f, &fh)) {
		return 0;
	}
	if (fh.mode & RF_FMODE_CREATED)
		cls = RF_CLASS_FILE_CREATE;
	else if (fh.mode & RF_FMODE_WRITE)
		cls = RF_CLASS_FILE_OPEN_WRITE;
	else
		return 0;
	if (btf) {
		imode = f->f_inode->i_mode;
		fh.flags = f->f_flags;
		fh.path_dentry = (__u64)f->f_path.dentry;
		fh.path_mnt = (__u64)f->f_path.mnt;
	} else {
		bpf_probe_read_kernel(&imode, sizeof(imode),
				      (char *)fh.inode + bpf_core_field_offset(struct inode, i_mode));
	}
	if (!class_on(cls) || (imode & RF_S_IFMT) != RF_S_IFREG)
		return 0;
	buf = event_start(ev);
	if (!buf)
		return 0;
	ev->flags = fh.flags;
	ev->mode = imode & 07777;
	if (btf)
		r = path_walk_btf((void *)fh.path_dentry, (void *)fh.path_mnt);
	else
		r = path_walk((void *)fh.path_dentry, (void *)fh.path_mnt);
	if (r < 0)
		return 0;
	put_walk_result(buf, &off, &ev->path, r, &partial);
	if (path_excluded(buf, &ev->path))
		return 0;
	submit(buf, off, cls, partial);
	return 0;
}

/* file_create and file_open_write share one layout */
_Static_assert(sizeof(struct rf_ev_file_create) == sizeof(struct rf_ev_file_open_write), "file layouts");
_Static_assert(__builtin_offsetof(struct rf_ev_file_create, path) ==
	       __builtin_offsetof(struct rf_ev_file_open_write, path), "file layouts");

/* Each open program twice: rf_exit_* reads the kernel with bpf_probe_read_kernel,
 * rfb_exit_* with plain loads (bpf_rdonly_cast); the loader loads one set
 * (rf_sensor_btf_walk in sensor.c). */
#define OPEN_EXIT(name)                                                                  \
	SEC("tp/syscalls/sys_exit_" #name)                                               \
	int rf_exit_##name(struct trace_event_raw_sys_exit *ctx)                         \
	{                                                                                \
		return on_open_exit(ctx->ret, false);                                    \
	}                                                                                \
	SEC("tp/syscalls/sys_exit_" #name)                                               \
	int rfb_exit_##name(struct trace_event_raw_sys_exit *ctx)                        \
	{                                                                                \
		return on_open_exit(ctx->ret, true);                                     \
	}
OPEN_EXIT(openat)
OPEN_EXIT(open)
OPEN_EXIT(creat)
OPEN_EXIT(openat2)

/* The same, from one raw tracepoint on every syscall's exit: the alternative the
 * benchmark measures against per-syscall tracepoints (--syscall-hooks raw). Not
 * loaded unless asked for. The syscall number from the saved registers (a BTF
 * pointer: a plain load). */
static __always_inline bool open_nr(void)
{
	long nr = ((struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()))->orig_ax;

	return nr == 257 /* openat */ || nr == 2 /* open */ || nr == 85 /* creat */ || nr == 437 /* openat2 */;
}
SEC("raw_tp/sys_exit")
int rf_raw_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return open_nr() ? on_open_exit((long)ctx->args[1], false) : 0;
}
SEC("raw_tp/sys_exit")
int rfb_raw_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return open_nr() ? on_open_exit((long)ctx->args[1], true) : 0;
}

/* --- path-based operations: arguments at enter, event at exit ----------------- */

#define STASH_ENTER(name, nargs)                                                   \
	SEC("tp/syscalls/sys_enter_" #name)                                        \
	int rf_enter_##name(struct trace_event_raw_sys_enter *ctx)                 \
	{                                                                          \
		if (class_on(STASH_CLASS_##name) && !excluded())                     \
			stash_args(ctx, nargs);                                    \
		return 0;                                                          \
	}

/* unlink(path) unlinkat(dfd, path, flags) rmdir(path) */
#define STASH_CLASS_unlink RF_CLASS_FILE_UNLINK
#define STASH_CLASS_unlinkat RF_CLASS_FILE_UNLINK
#define STASH_CLASS_rmdir RF_CLASS_FILE_UNLINK
STASH_ENTER(unlink, 1)
STASH_ENTER(unlinkat, 3)
STASH_ENTER(rmdir, 1)

static __always_inline int unlink_exit(long ret, long dfd, __u64 path, bool is_dir)
{
	struct rf_ev_file_unlink *ev;
	bool partial = false;
	__u32 off = sizeof(*ev);
	char *buf;

	if (ret != 0)
		return 0;
	buf = event_start(ev);
	if (!buf)
		return 0;
	ev->is_dir = is_dir;
	put_user_path(buf, &off, &ev->path, dfd, (const char *)path, &partial);
	if (path_excluded(buf, &ev->path))
		return 0;
	submit(buf, off, RF_CLASS_FILE_UNLINK, partial);
	return 0;
}

SEC("tp/syscalls/sys_exit_unlink")
int rf_exit_unlink(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? unlink_exit(ctx->ret, RF_AT_FDCWD, st.a[0], false) : 0;
}
SEC("tp/syscalls/sys_exit_unlinkat")
int rf_exit_unlinkat(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? unlink_exit(ctx->ret, (long)st.a[0], st.a[1], st.a[2] & 0x200 /* AT_REMOVEDIR */) : 0;
}
SEC("tp/syscalls/sys_exit_rmdir")
int rf_exit_rmdir(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? unlink_exit(ctx->ret, RF_AT_FDCWD, st.a[0], true) : 0;
}

/* rename(old, new) renameat(odfd, old, ndfd, new) renameat2(odfd, old, ndfd, new, flags) */
#define STASH_CLASS_rename RF_CLASS_FILE_RENAME
#define STASH_CLASS_renameat RF_CLASS_FILE_RENAME
#define STASH_CLASS_renameat2 RF_CLASS_FILE_RENAME
STASH_ENTER(rename, 2)
STASH_ENTER(renameat, 4)
STASH_ENTER(renameat2, 5)

static __always_inline int rename_exit(long ret, long odfd, __u64 oldp, long ndfd, __u64 newp, __u32 flags)
{
	struct rf_ev_file_rename *ev;
	bool partial = false;
	__u32 off = sizeof(*ev);
	char *buf;

	if (ret != 0)
		return 0;
	buf = event_start(ev);
	if (!buf)
		return 0;
	ev->flags = flags;
	put_user_path(buf, &off, &ev->source_path, odfd, (const char *)oldp, &partial);
	put_user_path(buf, &off, &ev->path, ndfd, (const char *)newp, &partial);
	if (path_excluded(buf, &ev->path))
		return 0;
	submit(buf, off, RF_CLASS_FILE_RENAME, partial);
	return 0;
}

SEC("tp/syscalls/sys_exit_rename")
int rf_exit_rename(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? rename_exit(ctx->ret, RF_AT_FDCWD, st.a[0], RF_AT_FDCWD, st.a[1], 0) : 0;
}
SEC("tp/syscalls/sys_exit_renameat")
int rf_exit_renameat(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? rename_exit(ctx->ret, (long)st.a[0], st.a[1], (long)st.a[2], st.a[3], 0) : 0;
}
SEC("tp/syscalls/sys_exit_renameat2")
int rf_exit_renameat2(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? rename_exit(ctx->ret, (long)st.a[0], st.a[1], (long)st.a[2], st.a[3], (__u32)st.a[4]) : 0;
}

/* link(old, new) linkat(odfd, old, ndfd, new, flags) symlink(target, new)
 * symlinkat(target, ndfd, new) */
#define STASH_CLASS_link RF_CLASS_FILE_LINK
#define STASH_CLASS_linkat RF_CLASS_FILE_LINK
#define STASH_CLASS_symlink RF_CLASS_FILE_LINK
#define STASH_CLASS_symlinkat RF_CLASS_FILE_LINK
STASH_ENTER(link, 2)
STASH_ENTER(linkat, 5)
STASH_ENTER(symlink, 2)
STASH_ENTER(symlinkat, 3)

static __always_inline int link_exit(long ret, long odfd, __u64 target, long ndfd, __u64 newp, bool sym)
{
	struct rf_ev_file_link *ev;
	bool partial = false;
	__u32 off = sizeof(*ev);
	char *buf;
	long n;

	if (ret != 0)
		return 0;
	buf = event_start(ev);
	if (!buf)
		return 0;
	ev->symlink = sym;
	put_user_path(buf, &off, &ev->path, ndfd, (const char *)newp, &partial);
	if (path_excluded(buf, &ev->path))
		return 0;
	if (sym) { /* the link's text, exactly as given */
		if (off <= RF_BPF_EVENT_BUF - RF_PATH_MAX) {
			n = bpf_probe_read_user_str(buf + off, RF_PATH_MAX, (const char *)target);
			if (n > 0) {
				ev->target.off = off;
				ev->target.len = n - 1;
				off += n;
			}
		}
	} else {
		put_user_path(buf, &off, &ev->target, odfd, (const char *)target, &partial);
	}
	submit(buf, off, RF_CLASS_FILE_LINK, partial);
	return 0;
}

SEC("tp/syscalls/sys_exit_link")
int rf_exit_link(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? link_exit(ctx->ret, RF_AT_FDCWD, st.a[0], RF_AT_FDCWD, st.a[1], false) : 0;
}
SEC("tp/syscalls/sys_exit_linkat")
int rf_exit_linkat(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? link_exit(ctx->ret, (long)st.a[0], st.a[1], (long)st.a[2], st.a[3], false) : 0;
}
SEC("tp/syscalls/sys_exit_symlink")
int rf_exit_symlink(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? link_exit(ctx->ret, RF_AT_FDCWD, st.a[0], RF_AT_FDCWD, st.a[1], true) : 0;
}
SEC("tp/syscalls/sys_exit_symlinkat")
int rf_exit_symlinkat(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_stash st;
	return stash_take(&st) ? link_exit(ctx->ret, RF_AT_FDCWD, st.a[0], (long)st.a[1], st.a[2], true) : 0;
}

/* chmod(path, mode) fchmodat(dfd, path, mode) fchmod(fd, mode); chown(path, u, g)
 * lchown(path, u, g) fchownat(dfd, path, u, g, flags) fchown(fd, u, g) */
#define STASH_CLASS_chmod RF_CLASS_FILE_CHMOD
#define STASH_CLASS_fchmodat RF_CLASS_FILE_CHMOD
#define STASH_CLASS_fchmod RF_CLASS_FILE_CHMOD
#define STASH_CLASS_chown RF_CLASS_FILE_CHOWN
#define STASH_CLASS_lchown RF_CLASS_FILE_CHOWN
#define STASH_CLASS_fchownat RF_CLASS_FILE_CHOWN
#define STASH_CLASS_fchown RF_CLASS_FILE_CHOWN
STASH_ENTER(chmod, 2)
STASH_ENTER(fchmodat, 3)
STASH_ENTER(fchmod, 2)
STASH_ENTER(chown, 3)
STASH_ENTER(lchown, 3)
STASH_ENTER(fchownat, 5)
STASH_ENTER(fchown, 3)

/* chmod and chown events: the path from a user string (fd < 0 given as RF_AT_FDCWD
 * with path) or from an open descriptor (path 0). */
static __always_inline int attr_exit(long ret, __u16 cls, long dfd, __u64 upath, long fd,
				     __u32 mode, __u32 ouid, __u32 ogid)
{
	struct rf_ev_file_chmod *cm;
	struct rf_ev_file_chown *co;
	struct rf_str *ps;
	bool partial = false;
	__u32 off;
	char *buf;

	if (ret != 0)
		return 0;
	buf = event_buf(sizeof(*co));
	if (!buf)
		return 0;
	if (cls == RF_CLASS_FILE_CHMOD) {
		cm = (void *)buf;
		cm->uid = current_uid();
		cm->mode = mode & 07777;
		ps = &cm->path;
		off = sizeof(*cm);
	} else {
		co = (void *)buf;
		co->uid = current_uid();
		co->owner_uid = ouid;
		co->owner_gid = ogid;
		ps = &co->path;
		off = sizeof(*co);
	}
	if (upath) {
		put_user_path(buf, &off, ps, dfd, (const char *)upath, &partial);
	} else {
		struct file *f = fd_file(fd);
		if (!f)
			return 0;
		put_path(buf, &off, ps, file_path_ptr(f), &partial);
	}
	if (path_excluded(buf, ps))
		return 0;
	submit(buf, off, cls, partial);
	return 0;
}

#define ATTR_EXIT(name, body)                                                     \
	SEC("tp/syscalls/sys_exit_" #name)                                         \
	int rf_exit_##name(struct trace_event_raw_sys_exit *ctx)                   \
	{                                                                          \
		struct rf_stash st;                                                \
		if (!stash_take(&st))                                              \
			return 0;                                                  \
		return body;                                                       \
	}
ATTR_EXIT(chmod, attr_exit(ctx->ret, RF_CLASS_FILE_CHMOD, RF_AT_FDCWD, st.a[0], -1, st.a[1], 0, 0))
ATTR_EXIT(fchmodat, attr_exit(ctx->ret, RF_CLASS_FILE_CHMOD, (long)st.a[0], st.a[1], -1, st.a[2], 0, 0))
ATTR_EXIT(fchmod, attr_exit(ctx->ret, RF_CLASS_FILE_CHMOD, 0, 0, (long)st.a[0], st.a[1], 0, 0))
ATTR_EXIT(chown, attr_exit(ctx->ret, RF_CLASS_FILE_CHOWN, RF_AT_FDCWD, st.a[0], -1, 0, st.a[1], st.a[2]))
ATTR_EXIT(lchown, attr_exit(ctx->ret, RF_CLASS_FILE_CHOWN, RF_AT_FDCWD, st.a[0], -1, 0, st.a[1], st.a[2]))
ATTR_EXIT(fchownat, attr_exit(ctx->ret, RF_CLASS_FILE_CHOWN, (long)st.a[0], st.a[1], -1, 0, st.a[2], st.a[3]))
ATTR_EXIT(fchown, attr_exit(ctx->ret, RF_CLASS_FILE_CHOWN, 0, 0, (long)st.a[0], 0, st.a[1], st.a[2]))

#endif
