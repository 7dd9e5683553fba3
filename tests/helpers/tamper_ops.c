// SPDX-License-Identifier: MIT
/*
 * tamper_ops: perform the operations the tamper classes report, with raw syscalls so
 * that the exact arguments are known, for tests/integration/sensor_tamper.sh.
 *
 *   tamper_ops OP ARGS... [OP ARGS...]...
 *
 * Operations run in order; each prints one line "OP key=value..." with what the test
 * needs to compare (results as 0 or -errno, addresses and ids in decimal). Operations
 * that fail are not errors: their failure is what some tests look for. Exit status 2
 * on bad usage only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long res(long r)
{
	return r < 0 ? -errno : r;
}

static long num(const char *s)
{
	return strtol(s, NULL, 0);
}

static int capset_change(int cap, int raise)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	if (raise) {
		d[cap / 32].permitted |= 1u << (cap % 32);
		d[cap / 32].effective |= 1u << (cap % 32);
	} else {
		d[cap / 32].effective &= ~(1u << (cap % 32));
	}
	printf("capset effective=%llu permitted=%llu inheritable=%llu ",
	       d[0].effective | (unsigned long long)d[1].effective << 32,
	       d[0].permitted | (unsigned long long)d[1].permitted << 32,
	       d[0].inheritable | (unsigned long long)d[1].inheritable << 32);
	return (int)res(syscall(SYS_capset, &h, d));
}

static long bpf_load(const char *name, int bad, int *id)
{
	struct bpf_insn ok[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	/* r0 never written: the verifier refuses */
	struct bpf_insn nok[] = {{.code = BPF_JMP | BPF_EXIT}};
	union bpf_attr a;
	struct bpf_prog_info info;
	long fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uintptr_t)(bad ? nok : ok);
	a.insn_cnt = bad ? 1 : 2;
	a.license = (uintptr_t) "GPL";
	snprintf(a.prog_name, sizeof(a.prog_name), "%s", name);
	fd = res(syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a)));
	*id = 0;
	if (fd >= 0) {
		memset(&info, 0, sizeof(info));
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = fd;
		a.info.info_len = sizeof(info);
		a.info.info = (uintptr_t)&info;
		if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)) == 0)
			*id = info.id;
	}
	return fd;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: tamper_ops OP ARGS... (setuid ID, setgid ID, setreuid R E, setregid R E,\n"
		"  setresuid R E S, setresgid R E S, setfsuid ID, setfsgid ID, capdrop CAP, capraise CAP,\n"
		"  attach PID, seize PID OPTIONS, traceme, bpf NAME, bpfbad NAME, memfd NAME FLAGS,\n"
		"  mmapx, mprotectx, mmapfile FILE, mprotectfile FILE, mmaprw, kill PID SIG,\n"
		"  tkill TID SIG, tgkill PID TID SIG, sigqueue PID SIG, tgsigqueue PID TID SIG,\n"
		"  mount SRC TARGET FSTYPE FLAGS, umount TARGET FLAGS, killself SIG, pidfd PID SIG, newmount SRC TARGET FSTYPE, sleep MS)\n");
	return 2;
}

/* how many arguments each operation takes */
static int nargs(const char *op)
{
	static const struct {
		const char *op;
		int n;
	} t[] = {{"setuid", 1},   {"setgid", 1},     {"setreuid", 2},   {"setregid", 2},
		 {"setresuid", 3}, {"setresgid", 3},  {"setfsuid", 1},   {"setfsgid", 1},
		 {"capdrop", 1},  {"capraise", 1},   {"attach", 1},     {"seize", 2},
		 {"traceme", 0},  {"bpf", 1},        {"bpfbad", 1},     {"memfd", 2},
		 {"mmapx", 0},    {"mprotectx", 0},  {"mmapfile", 1},   {"mprotectfile", 1},
		 {"mmaprw", 0},   {"kill", 2},       {"tkill", 2},      {"tgkill", 3},
		 {"sigqueue", 2}, {"tgsigqueue", 3}, {"mount", 4},      {"umount", 2},
		 {"sleep", 1},     {"killself", 1},  {"pidfd", 2},      {"newmount", 3}};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].op, op))
			return t[i].n;
	return -1;
}

int main(int argc, char **argv)
{
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (i < argc) {
		const char *op = argv[i];
		int n = nargs(op);
		char **a = argv + i + 1;
		long r = 0;

		if (n < 0 || i + 1 + n > argc)
			return usage();
		i += 1 + n;
		if (!strcmp(op, "setuid"))
			r = res(syscall(SYS_setuid, num(a[0])));
		else if (!strcmp(op, "setgid"))
			r = res(syscall(SYS_setgid, num(a[0])));
		else if (!strcmp(op, "setreuid"))
			r = res(syscall(SYS_setreuid, num(a[0]), num(a[1])));
		else if (!strcmp(op, "setregid"))
			r = res(syscall(SYS_setregid, num(a[0]), num(a[1])));
		else if (!strcmp(op, "setresuid"))
			r = res(syscall(SYS_setresuid, num(a[0]), num(a[1]), num(a[2])));
		else if (!strcmp(op, "setresgid"))
			r = res(syscall(SYS_setresgid, num(a[0]), num(a[1]), num(a[2])));
		else if (!strcmp(op, "setfsuid"))
			r = syscall(SYS_setfsuid, num(a[0]));
		else if (!strcmp(op, "setfsgid"))
			r = syscall(SYS_setfsgid, num(a[0]));
		else if (!strcmp(op, "capdrop") || !strcmp(op, "capraise"))
			r = capset_change((int)num(a[0]), op[3] == 'r');
		else if (!strcmp(op, "attach") || !strcmp(op, "seize")) {
			pid_t p = (pid_t)num(a[0]);
			int st;

			if (op[0] == 'a')
				r = res(ptrace(PTRACE_ATTACH, p, 0, 0));
			else
				r = res(ptrace(PTRACE_SEIZE, p, 0, num(a[1])));
			if (r == 0) {
				/* detaching needs a stopped tracee; a seized one is not stopped yet */
				if (op[0] == 's')
					ptrace(PTRACE_INTERRUPT, p, 0, 0);
				waitpid(p, &st, __WALL);
				ptrace(PTRACE_DETACH, p, 0, 0);
			}
		} else if (!strcmp(op, "traceme")) {
			pid_t c = fork();
			int st;

			if (c == 0)
				_exit(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0 ? 0 : 1);
			waitpid(c, &st, 0);
			printf("traceme child=%d ", c);
			r = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
		} else if (!strcmp(op, "bpf") || !strcmp(op, "bpfbad")) {
			int id;

			r = bpf_load(a[0], op[3] == 'b', &id);
			printf("bpf prog_id=%d ", id);
		} else if (!strcmp(op, "memfd"))
			r = res(syscall(SYS_memfd_create, a[0], (unsigned)num(a[1])));
		else if (!strcmp(op, "mmapx")) {
			void *p = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			r = p == MAP_FAILED ? -errno : (long)(uintptr_t)p;
		} else if (!strcmp(op, "mmaprw")) {
			void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			r = p == MAP_FAILED ? -errno : (long)(uintptr_t)p;
		} else if (!strcmp(op, "mprotectx")) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			printf("mprotectx addr=%lu ", (unsigned long)(uintptr_t)p);
			r = res(mprotect(p, 4096, PROT_READ | PROT_EXEC));
		} else if (!strcmp(op, "mmapfile") || !strcmp(op, "mprotectfile")) {
			int fd = open(a[0], O_RDONLY);
			void *p = mmap(NULL, 4096, PROT_READ | (op[1] == 'm' ? PROT_EXEC : 0), MAP_PRIVATE,
				       fd, 0);
			r = p == MAP_FAILED ? -errno : 0;
			if (!r && op[1] == 'p')
				r = res(mprotect(p, 4096, PROT_READ | PROT_EXEC));
			close(fd);
		} else if (!strcmp(op, "kill"))
			r = res(syscall(SYS_kill, num(a[0]), num(a[1])));
		else if (!strcmp(op, "tkill"))
			r = res(syscall(SYS_tkill, num(a[0]), num(a[1])));
		else if (!strcmp(op, "tgkill"))
			r = res(syscall(SYS_tgkill, num(a[0]), num(a[1]), num(a[2])));
		else if (!strcmp(op, "sigqueue") || !strcmp(op, "tgsigqueue")) {
			siginfo_t si;
			int tg = op[0] == 't';

			memset(&si, 0, sizeof(si));
			si.si_signo = (int)num(a[tg ? 2 : 1]);
			si.si_code = SI_QUEUE;
			si.si_pid = getpid();
			si.si_uid = getuid();
			if (tg)
				r = res(syscall(SYS_rt_tgsigqueueinfo, num(a[0]), num(a[1]), num(a[2]), &si));
			else
				r = res(syscall(SYS_rt_sigqueueinfo, num(a[0]), num(a[1]), &si));
		} else if (!strcmp(op, "mount"))
			r = res(mount(a[0], a[1], a[2], (unsigned long)num(a[3]), NULL));
		else if (!strcmp(op, "umount"))
			r = res(umount2(a[0], (int)num(a[1])));
		else if (!strcmp(op, "killself")) { /* its own process, its own thread, a pidfd of itself */
			int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

			r = res(syscall(SYS_kill, getpid(), num(a[0])) ?:
				syscall(SYS_tgkill, getpid(), gettid(), num(a[0])) ?:
				syscall(SYS_pidfd_send_signal, fd, num(a[0]), NULL, 0));
			close(fd);
		} else if (!strcmp(op, "pidfd")) {
			int fd = (int)syscall(SYS_pidfd_open, (pid_t)num(a[0]), 0);

			r = fd < 0 ? -errno : res(syscall(SYS_pidfd_send_signal, fd, num(a[1]), NULL, 0));
			if (fd >= 0)
				close(fd);
		}
		else if (!strcmp(op, "newmount")) { /* fsopen, fsconfig, fsmount, move_mount */
			int fs = fsopen(a[2], FSOPEN_CLOEXEC), m = -1;

			r = fs < 0 ? -errno : 0;
			if (!r && (fsconfig(fs, FSCONFIG_SET_STRING, "source", a[0], 0) < 0 ||
				   fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
				   (m = fsmount(fs, FSMOUNT_CLOEXEC, 0)) < 0))
				r = -errno;
			if (!r)
				r = res(move_mount(m, "", AT_FDCWD, a[1], MOVE_MOUNT_F_EMPTY_PATH));
			if (m >= 0)
				close(m);
			if (fs >= 0)
				close(fs);
		} else if (!strcmp(op, "sleep"))
			usleep((useconds_t)num(a[0]) * 1000);
		printf("%s result=%ld\n", op, r);
	}
	return 0;
}
