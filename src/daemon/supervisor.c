// SPDX-License-Identifier: MIT
/* supervisor.c: start, sandbox, watch and restart clients (supervisor.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/procfs.h"
#include "attest/attest.h"
#include "common/unixfd.h"
#include "content/content.h"
#include "daemon/affinity.h"
#include "daemon/attest_glue.h"
#include "daemon/supervisor.h"
#include "daemon/incident.h"
#include "sensor/sensor.h"
#include "common/clock.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static const struct rf_manifest *man_of(struct rf_supervisor *s, const struct rf_sup_client *k)
{
	return rf_manifests_find(&s->b->manifests, k->name);
}

/* ---- detection ----------------------------------------------------------- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = -errno;
	close(fd);
	return r;
}

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p = list;

	while ((p = strstr(p, w))) {
		if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

static void cgroup_detect(struct rf_supervisor *s)
{
	static const char *const roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	char path[512], ctl[256] = "";
	struct statfs sf;
	const char *root = NULL;
	size_t i;
	int fd;

	for (i = 0; i < 2 && !root; i++)
		if (statfs(roots[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
			root = roots[i];
	if (!root) {
		rf_warn("supervisor: no cgroup v2 hierarchy: clients are not put in cgroups; "
			"CPU and memory cgroup limits NOT applied (rlimits only)");
		return;
	}
	snprintf(s->cg_base, sizeof(s->cg_base), "%s/ringfence-%d", root, (int)getpid());
	if (mkdir(s->cg_base, 0755) < 0 && errno != EEXIST) {
		rf_warn("supervisor: cannot create %s: %s; clients are not put in cgroups",
			s->cg_base, strerror(errno));
		s->cg_base[0] = 0;
		return;
	}
	s->cg_ok = true;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, ctl, sizeof(ctl) - 1);
		ctl[n > 0 ? n : 0] = 0;
		close(fd);
	}
	if (has_word(ctl, "cpu") || has_word(ctl, "memory")) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
		if (has_word(ctl, "cpu"))
			write_file(path, "+cpu");
		if (has_word(ctl, "memory"))
			write_file(path, "+memory");
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", s->cg_base);
		s->cg_cpu = has_word(ctl, "cpu") && write_file(path, "+cpu") == 0;
		s->cg_mem = has_word(ctl, "memory") && write_file(path, "+memory") == 0;
	}
	rf_info("supervisor: cgroup v2 at %s: clients in %s/<name>; CPU limit %s, memory limit %s",
		root, s->cg_base, s->cg_cpu ? "applied" : "NOT applied (no cpu controller in v2)",
		s->cg_mem ? "applied" : "NOT applied (no memory controller in v2; RLIMIT_AS instead)");
}

static int landlock_abi(void)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

/* ---- users --------------------------------------------------------------- */

static int resolve_user(const struct rf_manifest *m, char *uname, size_t len, uid_t *uid,
			gid_t *gid)
{
	struct passwd *pw;

	if (m->auto_user) {
		snprintf(uname, len, "ringfence-%s", m->name);
		if (strlen(uname) > 32) /* useradd's limit */
			return -ENAMETOOLONG;
		pw = getpwnam(uname);
		if (!pw) {
			char cmd[256];
			int rc;

			snprintf(cmd, sizeof(cmd),
				 "useradd --system --no-create-home --home-dir / "
				 "--shell /usr/sbin/nologin --user-group '%s' >/dev/null 2>&1", uname);
			rc = system(cmd);
			pw = getpwnam(uname);
			if (!pw) {
				rf_err("supervisor: cannot create user %s (useradd: %d)", uname, rc);
				return -ENOENT;
			}
			rf_info("supervisor: created user %s (uid %u) for client '%s'", uname,
				(unsigned)pw->pw_uid, m->name);
		}
	} else {
		pw = getpwuid(m->uid);
		snprintf(uname, len, "%s", pw ? pw->pw_name : "?");
	}
	*uid = pw ? pw->pw_uid : m->uid;
	*gid = pw ? pw->pw_gid : (gid_t)m->uid;
	if (*uid == 0) {
		rf_err("supervisor: client '%s' would run as root: refused (use user = auto)", m->name);
		return -EPERM;
	}
	return 0;
}

/* ---- content ------------------------------------------------------------- */

/* The content directory for this run ("" when the client has none). */
static int content_resolve(const struct rf_manifest *m, char *out, size_t len)
{
	char p[PATH_MAX];

	out[0] = 0;
	if (m->content_store[0])
		return rf_content_current(m->content_store, m->name, out, len);
	if (!m->content[0])
		return 0;
	snprintf(p, sizeof(p), "%s/current", m->content);
	if (!realpath(p, out))
		return -errno;
	return 0;
}

/* Stand-in store: DIR/current and DIR/last-good, directories or symlinks. */
static int standin_rollback(const char *dir, char *what, size_t wlen)
{
	char cur[PATH_MAX], good[PATH_MAX], rc[PATH_MAX], rg[PATH_MAX], tmp[PATH_MAX],
		tgt[PATH_MAX], rej[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(cur, sizeof(cur), "%s/current", dir);
	snprintf(good, sizeof(good), "%s/last-good", dir);
	if (!realpath(good, rg))
		return -ENOENT;
	if (realpath(cur, rc) && !strcmp(rc, rg))
		return -EALREADY;
	snprintf(what, wlen, "%s -> %s", rc, rg);
	if (lstat(cur, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(rej, sizeof(rej), "%s/rejected.%lld", dir, (long long)time(NULL));
		if (rename(cur, rej) < 0)
			return -errno;
	}
	n = readlink(good, tgt, sizeof(tgt) - 1);
	if (n < 0)
		snprintf(tgt, sizeof(tgt), "last-good");
	else
		tgt[n] = 0;
	snprintf(tmp, sizeof(tmp), "%s/.current.tmp", dir);
	unlink(tmp);
	if (symlink(tgt, tmp) < 0 || rename(tmp, cur) < 0)
		return -errno;
	return 0;
}

/* Stand-in "mark good": when both are symlinks, last-good follows current. */
static int standin_mark_good(const char *dir)
{
	char cur[PATH_MAX], good[PATH_MAX], tgt[PATH_MAX], tmp[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(cur, sizeof(cur), "%s/current", dir);
	snprintf(good, sizeof(good), "%s/last-good", dir);
	if (lstat(cur, &st) < 0 || !S_ISLNK(st.st_mode) || lstat(good, &st) < 0 ||
	    !S_ISLNK(st.st_mode))
		return -EINVAL;
	n = readlink(cur, tgt, sizeof(tgt) - 1);
	if (n < 0)
		return -errno;
	tgt[n] = 0;
	snprintf(tmp, sizeof(tmp), "%s/.last-good.tmp", dir);
	unlink(tmp);
	if (symlink(tgt, tmp) < 0 || rename(tmp, good) < 0)
		return -errno;
	return 0;
}

static int content_rollback(const struct rf_manifest *m, char *what, size_t wlen)
{
	if (m->content_store[0]) {
		struct rf_content_state st;
		int r = rf_content_rollback(m->content_store, m->name, &st);
		if (r == 0) {
			snprintf(what, wlen, "store version %llu (slot %c)",
				 (unsigned long long)st.current_version, st.current_slot);
			rf_dattest_content(RF_AT_CONTENT_ROLLBACK, m);
		}
		return r;
	}
	if (m->content[0])
		return standin_rollback(m->content, what, wlen);
	return -ENOENT;
}

static void content_mark_good(const struct rf_manifest *m)
{
	if (m->content_store[0]) {
		if (rf_content_mark_good(m->content_store, m->name) == 0)
			rf_dattest_content(RF_AT_CONTENT_GOOD, m);
	} else if (m->content[0])
		standin_mark_good(m->content);
}

/* ---- the child ----------------------------------------------------------- */

static const char *const base_syscalls[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "close_range",
	"fstat", "newfstatat", "fstatfs", "statfs", "statx", "lseek", "mmap", "munmap",
	"mprotect", "mremap", "madvise", "brk", "rt_sigaction", "rt_sigprocmask",
	"rt_sigreturn", "sigaltstack", "access", "faccessat", "faccessat2", "openat", "open",
	"getdents64", "readlink", "readlinkat", "getcwd", "getpid", "gettid", "getppid",
	"getuid", "geteuid", "getgid", "getegid", "getgroups", "exit", "exit_group", "execve",
	"arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "getrlimit",
	"getrandom", "futex", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
	"gettimeofday", "time", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "poll", "ppoll", "select", "pselect6", "recvmsg", "sendmsg", "recvfrom",
	"sendto", "connect", "getsockopt", "setsockopt", "getsockname", "getpeername",
	"shutdown", "fcntl", "dup", "dup2", "dup3", "pipe2", "uname", "sched_yield",
	"sched_getaffinity", "sysinfo", "restart_syscall", "membarrier", "umask", "chdir",
	NULL,
};

/* Allowlist; everything else kills the process (SIGSYS), which the supervisor
 * reports. Signals only to itself; sockets only AF_UNIX. */
static int seccomp_install(const char *extra)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	char buf[RF_SUP_SYSCALLS_MAX], *save = NULL, *tok;
	pid_t me = getpid();
	size_t i;
	int r = -ENOMEM;

	if (!f)
		return -ENOMEM;
	for (i = 0; base_syscalls[i]; i++) {
		int nr = seccomp_syscall_resolve_name(base_syscalls[i]);
		if (nr != __NR_SCMP_ERROR && (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0)) < 0)
			goto out;
	}
	if ((r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				  SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) < 0 ||
	    (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
				  SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) < 0 ||
	    (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)me))) < 0 ||
	    (r = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
				  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)me))) < 0)
		goto out;
	snprintf(buf, sizeof(buf), "%s", extra);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		int nr = seccomp_syscall_resolve_name(tok);
		if (nr == __NR_SCMP_ERROR) {
			r = -EINVAL;
			goto out;
		}
		if ((r = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0)) < 0)
			goto out;
	}
	r = seccomp_load(f);
out:
	seccomp_release(f);
	return r;
}

static int ll_allow(int rs, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr pb = {.allowed_access = access};
	struct stat st;
	int r;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(pb.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
		pb.allowed_access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
				     LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
				     LANDLOCK_ACCESS_FS_IOCTL_DEV;
	r = syscall(__NR_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0 ? -errno : 0;
	close(pb.parent_fd);
	return r;
}

#define RF_LANDLOCK_LOG_NEW_EXEC_ON (1u << 1) /* LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON, 6.15+ */

/* What every client may read (and execute) besides its own directory and content. */
static const char *const sandbox_ro[] = {"/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache", NULL};

bool rf_sup_sandbox_allows(struct rf_supervisor *s, const struct rf_sup_client *k,
			   const char *path)
{
	const struct rf_manifest *m = man_of(s, k);
	char dir[PATH_MAX], *slash;
	int i;

	for (i = 0; sandbox_ro[i]; i++)
		if (rf_path_under(path, sandbox_ro[i]))
			return true;
	if (rf_path_under(path, "/dev/null") || rf_path_under(path, "/dev/urandom") ||
	    rf_path_under(path, "/tmp") || rf_path_under(path, k->content))
		return true;
	if (!m)
		return false;
	snprintf(dir, sizeof(dir), "%s", m->exe);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = 0;
	return rf_path_under(path, dir);
}

/* In the child, before the allowlist (which forbids seccomp(2)): a filter that hands
 * every open to the supervisor, which only reports those outside the sandbox and
 * always lets the kernel decide (SECCOMP_USER_NOTIF_FLAG_CONTINUE): enforcement stays
 * with Landlock and the file permissions; this is the report of what they refuse
 * silently, e.g. /etc/shadow, which the permissions refuse before Landlock sees it.
 * The listener goes to the parent over REP; we wait for its acknowledgement, since
 * an open without a listener would fail. */
static int notify_install(int rep)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	char tag[] = "\001notify", ack;
	struct iovec iov = {.iov_base = tag, .iov_len = sizeof(tag)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
			    .msg_controllen = sizeof(cbuf.buf)};
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	struct cmsghdr *cm;
	int r, nfd;

	if (!f)
		return -ENOMEM;
	if ((r = seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(openat), 0)) < 0 ||
	    (r = seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(open), 0)) < 0 ||
	    (r = seccomp_rule_add(f, SCMP_ACT_NOTIFY, SCMP_SYS(openat2), 0)) < 0 ||
	    (r = seccomp_load(f)) < 0)
		goto out;
	nfd = seccomp_notify_fd(f);
	if (nfd < 0) {
		r = nfd;
		goto out;
	}
	memset(&cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &nfd, sizeof(int));
	if (sendmsg(rep, &mh, MSG_NOSIGNAL) < 0 || read(rep, &ack, 1) != 1)
		r = -EPIPE;
out:
	seccomp_release(f);
	return r;
}

static int landlock_install(int abi, const char *exe, const char *content)
{
	const uint64_t ro = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
			    LANDLOCK_ACCESS_FS_READ_DIR;
	uint64_t all = (1ULL << 13) - 1, rw;
	struct landlock_ruleset_attr ra;
	char dir[PATH_MAX], *slash;
	int rs, r = 0, i;

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	rw = all & ~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		     LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_IOCTL_DEV);
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = all;
	rs = (int)syscall(__NR_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rs < 0)
		return -errno;
	snprintf(dir, sizeof(dir), "%s", exe);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = 0;
	/* read-only: libraries, loader cache, the executable's directory, the content */
	for (i = 0; sandbox_ro[i]; i++)
		if ((r = ll_allow(rs, sandbox_ro[i], ro)))
			goto out;
	if ((r = ll_allow(rs, dir, ro)) || (content[0] && (r = ll_allow(rs, content, ro))) ||
	    (r = ll_allow(rs, "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE)) ||
	    (r = ll_allow(rs, "/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE)) ||
	    (r = ll_allow(rs, "/tmp", rw)))
		goto out;
	/* ABI 7+: log our denials after the exec too, for the incident report (incident.c) */
	if (syscall(__NR_landlock_restrict_self, rs, abi >= 7 ? RF_LANDLOCK_LOG_NEW_EXEC_ON : 0) < 0)
		r = -errno;
out:
	close(rs);
	return r;
}

/* Split args at spaces; {content} and {socket} replaced. argv[0] is the exe. */
static int build_argv(const struct rf_manifest *m, const char *content, const char *sock,
		      char *store, size_t storelen, char **argv)
{
	char *save = NULL, *tok, buf[RF_SUP_ARGS_MAX];
	size_t used = 0;
	int n = 0;

	argv[n++] = (char *)m->exe;
	snprintf(buf, sizeof(buf), "%s", m->args);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		const char *v = !strcmp(tok, "{content}") ? content : !strcmp(tok, "{socket}") ? sock : tok;
		size_t l = strlen(v) + 1;

		if (n >= (int)RF_SUP_ARGV_MAX || used + l > storelen)
			return -E2BIG;
		memcpy(store + used, v, l);
		argv[n++] = store + used;
		used += l;
	}
	argv[n] = NULL;
	return n;
}

/* In the child: everything that can fail is reported on fd `rep` as one line,
 * then _exit(127). */
static void __attribute__((noreturn)) child(struct rf_supervisor *s, struct rf_sup_client *k,
					    const struct rf_manifest *m, int rep)
{
	char store[RF_SUP_ARGS_MAX + 2 * PATH_MAX], *argv[RF_SUP_ARGV_MAX + 2], env_sock[PATH_MAX + 32],
		env_content[PATH_MAX + 32], msg[256], path[512];
	char *envp[] = {"PATH=/usr/bin:/bin", env_sock, env_content, NULL}, *slash;
	const char *step = "";
	struct rlimit rl;
	sigset_t all;
	int r = 0, cap, fd;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	rf_affinity_restore(); /* a client is not pinned with the daemon unless it asks */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	setsid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (k->cgroup[0]) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", k->cgroup);
		write_file(path, "0");
	}
	step = "argv";
	if (build_argv(m, k->content, s->sock_path, store, sizeof(store), argv) < 0)
		goto fail;
	snprintf(env_sock, sizeof(env_sock), "RINGFENCE_SOCKET=%s", s->sock_path);
	snprintf(env_content, sizeof(env_content), "RINGFENCE_CONTENT=%s", k->content);
	step = "private /tmp";
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto fail_errno;
	{
		/* what the client needs and that lies under /tmp (a build tree, a test's
		 * content or socket) stays visible under the private /tmp: bind it back */
		char keep[3][PATH_MAX];
		int kfd[3], nk = 0, j;

		snprintf(keep[0], sizeof(keep[0]), "%s", m->exe);
		if ((slash = strrchr(keep[0], '/')))
			*slash = 0;
		snprintf(keep[1], sizeof(keep[1]), "%s", k->content);
		snprintf(keep[2], sizeof(keep[2]), "%s", s->sock_path);
		if ((slash = strrchr(keep[2], '/')))
			*slash = 0;
		for (j = 0; j < 3; j++)
			if (rf_path_under(keep[j], "/tmp") && strcmp(keep[j], "/tmp") &&
			    (kfd[nk] = open(keep[j], O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0)
				memmove(keep[nk++], keep[j], strlen(keep[j]) + 1);
		/* noexec: a bind mount keeps the flags of its source, so the client still runs */
		if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16m,mode=1777") < 0)
			goto fail_errno;
		for (j = 0; j < nk; j++) {
			char src[64], *q;

			for (q = keep[j] + 1; (q = strchr(q, '/')); *q++ = '/') {
				*q = 0;
				mkdir(keep[j], 0755);
			}
			mkdir(keep[j], 0755);
			snprintf(src, sizeof(src), "/proc/self/fd/%d", kfd[j]);
			if (mount(src, keep[j], NULL, MS_BIND, NULL) < 0)
				goto fail_errno;
			close(kfd[j]);
		}
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	step = "rlimits";
	rl.rlim_cur = rl.rlim_max = m->mem_bytes;
	if (setrlimit(RLIMIT_AS, &rl) < 0)
		goto fail_errno;
	rl.rlim_cur = rl.rlim_max = m->nofile;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		goto fail_errno;
	rl.rlim_cur = rl.rlim_max = m->nproc;
	if (setrlimit(RLIMIT_NPROC, &rl) < 0)
		goto fail_errno;
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		goto fail_errno;
	step = "capabilities";
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			goto fail_errno;
	step = "user";
	if (setgroups(0, NULL) < 0 || setresgid(k->gid, k->gid, k->gid) < 0 ||
	    setresuid(k->uid, k->uid, k->uid) < 0)
		goto fail_errno;
	step = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail_errno;
	if (s->landlock_abi) {
		step = "landlock";
		r = landlock_install(s->landlock_abi, m->exe, k->content);
		if (r < 0)
			goto fail;
	}
	if (s->notify_ep >= 0) {
		step = "seccomp listener";
		r = notify_install(rep);
		if (r < 0)
			goto fail;
	}
	step = "fds";
	if (rep > 3)
		syscall(SYS_close_range, 3u, (unsigned)rep - 1, 0u);
	syscall(SYS_close_range, (unsigned)rep + 1, ~0u, 0u);
	step = "seccomp";
	r = seccomp_install(m->syscalls);
	if (r < 0)
		goto fail;
	execve(m->exe, argv, envp);
	/* nothing may be written here: write is allowed, but rep is closed */
	_exit(127);
fail_errno:
	r = -errno;
fail:
	snprintf(msg, sizeof(msg), "%s: %s\n", step, strerror(r < 0 ? -r : EINVAL));
	(void)!write(rep, msg, strlen(msg));
	_exit(127);
}

/* One message of the child's setup socket: an error line, or the seccomp listener
 * (*fd >= 0). Returns its length, 0 at exec (EOF), < 0 on error. */
static ssize_t recv_setup(int sock, char *msg, size_t len, int *fd)
{
	ssize_t n = rf_recv_with_fd(sock, msg, len, fd);

	if (*fd >= 0 && (n < 2 || msg[0] != '\001')) {
		close(*fd); /* only the listener message carries a descriptor */
		*fd = -1;
	}
	return n;
}

static void start_one(struct rf_supervisor *s, struct rf_sup_client *k)
{
	const struct rf_manifest *m = man_of(s, k);
	int pfd[2], r, nfd;
	char msg[256];
	ssize_t n;
	pid_t pid;

	if (!m) {
		rf_err("supervisor: client '%s' has no manifest any more: not started", k->name);
		k->state = RF_SUP_STOPPED;
		return;
	}
	r = content_resolve(m, k->content, sizeof(k->content));
	if (r < 0) {
		rf_err("supervisor: client '%s': no content to run (%s): quarantined", k->name,
		       strerror(-r));
		k->state = RF_SUP_QUARANTINED;
		return;
	}
	if (s->cg_ok) {
		snprintf(k->cgroup, sizeof(k->cgroup), "%s/%s", s->cg_base, k->name);
		if (mkdir(k->cgroup, 0755) < 0 && errno != EEXIST) {
			rf_warn("supervisor: cannot create cgroup %s: %s", k->cgroup, strerror(errno));
			k->cgroup[0] = 0;
		} else {
			char p[512], v[64];
			if (s->cg_mem) {
				snprintf(p, sizeof(p), "%s/memory.max", k->cgroup);
				snprintf(v, sizeof(v), "%llu", (unsigned long long)m->mem_bytes);
				write_file(p, v);
			}
			if (s->cg_cpu) {
				snprintf(p, sizeof(p), "%s/cpu.max", k->cgroup);
				snprintf(v, sizeof(v), "%u 100000", m->cpu_pct * 1000);
				write_file(p, v);
			}
		}
	}
	/* the child reports a failed setup step on this socket, and hands over its
	 * seccomp listener; exec closes it */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pfd) < 0) {
		rf_err("supervisor: socketpair: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		rf_err("supervisor: fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		k->next_start_ns = rf_mono_ns() + 1000000000ull;
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		child(s, k, m, pfd[1]);
	}
	close(pfd[1]);
	k->notify_fd = -1;
	while ((n = recv_setup(pfd[0], msg, sizeof(msg) - 1, &nfd)) > 0 && nfd >= 0) {
		if (k->notify_fd >= 0)
			close(k->notify_fd);
		k->notify_fd = nfd;
		(void)!write(pfd[0], "A", 1);
	}
	close(pfd[0]);
	if (k->notify_fd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = k};
		if (epoll_ctl(s->notify_ep, EPOLL_CTL_ADD, k->notify_fd, &ev) < 0) {
			rf_warn("supervisor: client '%s': cannot watch its opens: %s", k->name,
				strerror(errno));
			close(k->notify_fd);
			k->notify_fd = -1;
		}
	}
	k->pid = pid;
	k->state = RF_SUP_RUNNING;
	k->started_ns = k->progress_ns = rf_mono_ns();
	k->progress_wait_ns = 0; /* read at the first tick without progress */
	k->healthy = k->kill_sent = false;
	k->last_tail = 0;
	k->why_kill[0] = 0;
	if (n > 0) {
		msg[n] = 0;
		msg[strcspn(msg, "\n")] = 0;
		rf_err("supervisor: client '%s' (pid %d): sandbox setup failed at %s", k->name,
		       (int)pid, msg);
		snprintf(k->why_kill, sizeof(k->why_kill), "sandbox setup failed");
	}
	if (s->sensor)
		rf_sensor_exclude_pid(s->sensor, (uint32_t)pid, true);
	/* exec succeeded when the pipe closed without a message: measure what runs */
	if (n == 0) {
		rf_dattest_client(k->name, pid, m->exe);
		rf_dattest_content(RF_AT_CONTENT, m);
	}
	rf_info("supervisor: started client '%s' pid %d uid %u content %s", k->name, (int)pid,
		(unsigned)k->uid, k->content[0] ? k->content : "-");
}

/* ---- public -------------------------------------------------------------- */

int rf_sup_init(struct rf_supervisor *s, struct rf_broker *b, struct rf_sensor *sensor,
		const char *sock_path, bool safe_mode)
{
	size_t i, n = 0;

	memset(s, 0, sizeof(*s));
	s->audit_fd = -1;
	s->notify_ep = -1;
	s->b = b;
	s->sensor = sensor;
	s->sock_path = sock_path;
	s->safe_mode = safe_mode;
	for (i = 0; i < b->manifests.n; i++)
		n += b->manifests.v[i].start;
	if (!n)
		return 0;
	s->v = calloc(n, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	s->landlock_abi = landlock_abi();
	if (s->landlock_abi)
		rf_info("supervisor: Landlock ABI %d: clients get read-only access to their content "
			"and libraries", s->landlock_abi);
	else
		rf_warn("supervisor: the kernel has no Landlock: client filesystem access NOT restricted "
			"beyond their user's permissions");
	cgroup_detect(s);
	s->notify_ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->notify_ep < 0)
		rf_warn("supervisor: epoll: %s: opens outside the sandbox are not reported",
			strerror(errno));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (i = 0; i < b->manifests.n; i++) {
		struct rf_manifest *m = &b->manifests.v[i];
		struct rf_sup_client *k;
		char uname[64];

		if (!m->start)
			continue;
		k = &s->v[s->n++];
		snprintf(k->name, sizeof(k->name), "%s", m->name);
		k->backoff_ms = RF_SUP_BACKOFF_MIN_MS;
		k->state = RF_SUP_BACKOFF;
		k->next_start_ns = 0;
		if (resolve_user(m, uname, sizeof(uname), &k->uid, &k->gid) < 0) {
			k->state = RF_SUP_QUARANTINED;
			continue;
		}
		m->uid = k->uid; /* HELLO checks the peer against it */
		if (safe_mode && (m->content[0] || m->content_store[0])) {
			char what[2 * PATH_MAX + 8];
			int r = content_rollback(m, what, sizeof(what));
			if (r == 0)
				rf_err("SAFE MODE: client '%s' content rolled back to last known good: %s",
				       m->name, what);
		}
		if (safe_mode && !m->platform) {
			k->state = RF_SUP_STOPPED;
			rf_err("SAFE MODE: third-party client '%s' not started", m->name);
			continue;
		}
	}
	return 0;
}

void rf_sup_reload(struct rf_supervisor *s)
{
	size_t i;

	for (i = 0; i < s->b->manifests.n; i++) {
		struct rf_manifest *m = &s->b->manifests.v[i];
		struct rf_sup_client *k = rf_sup_find(s, m->name);

		if (k && m->auto_user)
			m->uid = k->uid;
		else if (!k && m->start)
			rf_warn("supervisor: SIGHUP: new started client '%s' is not started until the "
				"daemon restarts", m->name);
	}
}

struct rf_sup_client *rf_sup_find(struct rf_supervisor *s, const char *name)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	return NULL;
}

uint32_t rf_sup_features(const struct rf_supervisor *s)
{
	uint32_t f = 0;

	if (s->safe_mode)
		f |= RF_STATUS_SAFE_MODE;
	if (s->landlock_abi)
		f |= RF_STATUS_LANDLOCK;
	if (s->cg_ok)
		f |= RF_STATUS_CGROUP;
	if (s->cg_cpu)
		f |= RF_STATUS_CGROUP_CPU;
	if (s->cg_mem)
		f |= RF_STATUS_CGROUP_MEM;
	return f | RF_STATUS_SECCOMP;
}

static struct rf_conn *conn_of(struct rf_supervisor *s, const struct rf_sup_client *k)
{
	size_t i;

	for (i = 0; i < s->b->nconns; i++) {
		struct rf_conn *c = s->b->conns[i];
		if (c->identified && !c->dead && c->pid == k->pid && !strcmp(c->man.name, k->name))
			return c;
	}
	return NULL;
}

static void kill_client(struct rf_sup_client *k, const char *why)
{
	if (k->kill_sent || !k->pid)
		return;
	snprintf(k->why_kill, sizeof(k->why_kill), "%s", why);
	k->kill_sent = true;
	if (k->cgroup[0]) {
		char p[512];
		snprintf(p, sizeof(p), "%s/cgroup.kill", k->cgroup);
		write_file(p, "1");
	}
	kill(k->pid, SIGKILL);
}
/*
 * Whether client k made no progress for stall_ns. A client that made none only
 * because it got no CPU (an overloaded machine) is not stalled: the time it spent
 * runnable but waiting for a CPU since its last progress (schedstat) moves the
 * stall clock's start forward, so a client that is hung is still killed once it
 * has had stall_ns of CPU opportunity.
 */
static bool stalled(struct rf_sup_client *k, uint64_t now, uint64_t stall_ns)
{
	uint64_t wait;

	if (now - k->progress_ns <= stall_ns)
		return false;
	wait = rf_procfs_runq_wait_ns(k->pid);
	if (k->progress_wait_ns && wait > k->progress_wait_ns) {
		k->progress_ns += wait - k->progress_wait_ns;
		if (k->progress_ns > now)
			k->progress_ns = now;
		k->progress_wait_ns = wait;
	}
	return now - k->progress_ns > stall_ns;
}

void rf_sup_tick(struct rf_supervisor *s)
{
	uint64_t now = rf_mono_ns();
	size_t i;

	if (++s->fd_sample_ticks >= 1000 / RF_SUP_TICK_MS) {
		s->fd_sample_ticks = 0;
		rf_sup_sample_fds(s);
	}

	for (i = 0; i < s->n; i++) {
		struct rf_sup_client *k = &s->v[i];
		const struct rf_manifest *m = man_of(s, k);
		struct rf_conn *c;

		if (k->state == RF_SUP_BACKOFF && now >= k->next_start_ns) {
			if (k->next_start_ns)
				k->restarts++;
			start_one(s, k);
			continue;
		}
		if (k->state != RF_SUP_RUNNING || !k->pid || k->kill_sent || !m)
			continue;
		c = conn_of(s, k);
		if (!c || !c->classes) {
			if (now - k->started_ns > RF_SUP_START_TIMEOUT_S * 1000000000ull) {
				rf_warn("supervisor: client '%s' (pid %d) did not connect and subscribe "
					"within %u s: killed", k->name, (int)k->pid, RF_SUP_START_TIMEOUT_S);
				kill_client(k, "start timeout");
			}
			continue;
		}
		uint64_t tail = __atomic_load_n(&c->ring.hdr->tail, __ATOMIC_ACQUIRE);
		if (tail != k->last_tail || rf_ring_writer_used(&c->ring) == 0) {
			k->last_tail = tail;
			k->progress_ns = now;
			k->progress_wait_ns = 0;
		} else if (!k->progress_wait_ns) { /* the first tick without progress */
			k->progress_wait_ns = rf_procfs_runq_wait_ns(k->pid);
		}
		if (!k->healthy && (tail || c->heartbeats)) {
			k->healthy = true;
			k->healthy_ns = now;
			if (k->first_crash_ns) {
				k->recover_ms = (now - k->first_crash_ns) / 1000000ull;
				rf_info("supervisor: client '%s' healthy again %llu ms after its first crash "
					"(content %s)", k->name, (unsigned long long)k->recover_ms,
					k->content[0] ? k->content : "-");
				k->first_crash_ns = 0;
			}
		}
		if (k->healthy && !k->marked_good && !k->installing && now - k->healthy_ns >= m->healthy_s * 1000000000ull) {
			k->marked_good = true;
			k->backoff_ms = RF_SUP_BACKOFF_MIN_MS;
			k->rolled_back = false;
			content_mark_good(m);
		}
		if (stalled(k, now, m->stall_s * 1000000000ull)) {
			k->stalls++;
			rf_warn("supervisor: client '%s' (pid %d) made no progress for %u s with events "
				"pending: killed", k->name, (int)k->pid, m->stall_s);
			kill_client(k, "stalled");
		} else if (m->heartbeat_s) {
			uint64_t last = c->heartbeat_ns > k->started_ns ? c->heartbeat_ns : k->started_ns;
			if (now - last > m->heartbeat_s * 1000000000ull) {
				k->stalls++;
				rf_warn("supervisor: client '%s' (pid %d) sent no heartbeat for %u s: killed",
					k->name, (int)k->pid, m->heartbeat_s);
				kill_client(k, "no heartbeat");
			}
		}
	}
}

static void crashed(struct rf_supervisor *s, struct rf_sup_client *k, int status)
{
	const struct rf_manifest *m = man_of(s, k);
	uint64_t now = rf_mono_ns(), win;
	uint32_t i, recent = 0;
	char how[96];

	if (k->content_restart) { /* stopped for new content: start again at once */
		k->content_restart = false;
		k->state = RF_SUP_BACKOFF;
		k->next_start_ns = 0; /* 0: not counted as a restart */
		rf_info("supervisor: client '%s' (pid %d) stopped for new content; starting it again",
			k->name, (int)k->pid);
		return;
	}

	k->last_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	k->last_exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (k->why_kill[0])
		snprintf(how, sizeof(how), "%s", k->why_kill);
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by %s%s", strsignal(WTERMSIG(status)),
			 WTERMSIG(status) == SIGSYS ? " (forbidden system call: seccomp)" : "");
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	k->crashes++;
	s->crashes_total++;
	if (!k->first_crash_ns)
		k->first_crash_ns = now;
	k->crash_ns[k->ncrash++ % 64] = now;
	win = (m ? m->loop_window_s : RF_SUP_LOOP_WINDOW_S) * 1000000000ull;
	for (i = 0; i < 64 && i < k->ncrash; i++)
		recent += now - k->crash_ns[i] <= win;
	rf_warn("supervisor: client '%s' (pid %d) %s; crash %u, %u within %u s (t_ns=%llu)",
		k->name, (int)k->pid, how, k->crashes, recent,
		m ? m->loop_window_s : RF_SUP_LOOP_WINDOW_S, (unsigned long long)now);
	if (m && recent >= m->loop_crashes) {
		char what[2 * PATH_MAX + 8] = "";
		int r = -EALREADY;

		k->crash_loops++;
		k->ncrash = 0;
		if (!k->rolled_back)
			r = content_rollback(m, what, sizeof(what));
		if (r == 0) {
			k->rolled_back = true;
			k->rollbacks++;
			k->backoff_ms = RF_SUP_BACKOFF_MIN_MS;
			k->state = RF_SUP_BACKOFF;
			k->next_start_ns = now; /* at once, on the previous content */
			rf_err("supervisor: client '%s' is in a crash loop (%u crashes in %u s): content "
			       "rolled back to last known good (%s); restarting", k->name, recent,
			       m->loop_window_s, what);
			return;
		}
		k->state = RF_SUP_QUARANTINED;
		rf_err("supervisor: client '%s' is in a crash loop (%u crashes in %u s) %s: "
		       "QUARANTINED, not restarted (the host and other clients keep running)", k->name,
		       recent, m->loop_window_s,
		       k->rolled_back ? "after its content was rolled back"
				      : r == -ENOENT ? "and has no last known good content"
						     : "and its content is already the last known good");
		return;
	}
	k->state = RF_SUP_BACKOFF;
	k->next_start_ns = now + k->backoff_ms * 1000000ull;
	k->backoff_ms = k->backoff_ms * 2 > RF_SUP_BACKOFF_MAX_MS ? RF_SUP_BACKOFF_MAX_MS
								  : k->backoff_ms * 2;
}

int rf_sup_content_changed(struct rf_supervisor *s, const char *name)
{
	struct rf_sup_client *k = rf_sup_find(s, name);

	if (!k)
		return -ENOENT;
	k->installing = false;
	k->rolled_back = false;
	k->ncrash = 0;
	k->backoff_ms = RF_SUP_BACKOFF_MIN_MS;
	switch (k->state) {
	case RF_SUP_RUNNING:
		if (!k->pid)
			break;
		k->content_restart = true;
		if (k->kill_sent) /* already on its way out (stall, ...): restart it at once */
			break;
		k->kill_sent = true;
		snprintf(k->why_kill, sizeof(k->why_kill), "new content");
		if (k->cgroup[0]) {
			char p[512];
			snprintf(p, sizeof(p), "%s/cgroup.kill", k->cgroup);
			write_file(p, "1");
		}
		kill(k->pid, SIGKILL);
		break;
	case RF_SUP_BACKOFF:
	case RF_SUP_QUARANTINED:
		k->state = RF_SUP_BACKOFF;
		k->next_start_ns = 0;
		break;
	default: /* stopped (safe mode): stays stopped */
		break;
	}
	return 0;
}

void rf_sup_reap(struct rf_supervisor *s)
{
	int status;
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < s->n; i++) {
			struct rf_sup_client *k = &s->v[i];

			if (k->pid != pid)
				continue;
			if (s->sensor)
				rf_sensor_exclude_pid(s->sensor, (uint32_t)pid, false);
			if (k->cgroup[0]) { /* whatever it left behind goes with it */
				char p[512];
				snprintf(p, sizeof(p), "%s/cgroup.kill", k->cgroup);
				write_file(p, "1");
			}
			crashed(s, k, status);
			if (k->notify_fd >= 0)
				close(k->notify_fd);
			k->notify_fd = -1;
			k->pid = 0;
			k->healthy = k->marked_good = false;
			break;
		}
	}
}

void rf_sup_fini(struct rf_supervisor *s)
{
	uint64_t end;
	size_t i, alive;

	if (!s)
		return;
	if (s->audit_fd > 0) /* 0: never opened (a zeroed supervisor) */
		close(s->audit_fd);
	s->audit_fd = -1;
	if (s->notify_ep > 0) {
		/* clients still running block in an open until they die: answer no more */
		close(s->notify_ep);
		s->notify_ep = -1;
	}
	for (i = 0; i < s->n; i++)
		if (s->v[i].notify_fd > 0) {
			close(s->v[i].notify_fd); /* a pending open fails at once */
			s->v[i].notify_fd = -1;
		}
	for (i = 0; i < s->n; i++)
		if (s->v[i].pid)
			kill(s->v[i].pid, SIGTERM);
	end = rf_mono_ns() + RF_SUP_KILL_GRACE_MS * 1000000ull;
	do {
		int status;
		pid_t pid;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < s->n; i++)
				if (s->v[i].pid == pid)
					s->v[i].pid = 0;
		for (alive = 0, i = 0; i < s->n; i++)
			alive += s->v[i].pid != 0;
		if (alive)
			usleep(10000);
	} while (alive && rf_mono_ns() < end);
	for (i = 0; i < s->n; i++) {
		struct rf_sup_client *k = &s->v[i];
		if (k->pid) {
			kill(k->pid, SIGKILL);
			waitpid(k->pid, NULL, 0);
			k->pid = 0;
		}
		if (k->cgroup[0]) {
			char p[512];
			snprintf(p, sizeof(p), "%s/cgroup.kill", k->cgroup);
			write_file(p, "1");
			for (int t = 0; t < 100 && rmdir(k->cgroup) < 0 && errno == EBUSY; t++)
				usleep(10000);
		}
	}
	if (s->cg_base[0])
		rmdir(s->cg_base);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
