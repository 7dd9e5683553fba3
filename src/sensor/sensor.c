// SPDX-License-Identifier: MIT
/*
 * sensor.c: load the eBPF sensor (bpf/sensor.bpf.c), consume its ring buffer and
 * account its drops; fall back to the process connector when eBPF is impossible.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "ringfence/schema.h"
#include "sensor/sensor_int.h"
#include "common/clock.h"
#include "sensor_bpf.h"  /* bpf/: struct rf_cpu_stats */
#include "sensor.skel.h" /* generated from bpf/sensor.bpf.c */

static char libbpf_last[512];

/* libbpf's messages: keep the last warning (it names the cause of a failed load) and
 * show everything only with RINGFENCE_DEBUG. */
static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;
	va_list cp;

	if (getenv("RINGFENCE_DEBUG")) { /* whole messages: verifier logs are long */
		va_copy(cp, ap);
		vfprintf(stderr, fmt, cp);
		va_end(cp);
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	if (lvl == LIBBPF_WARN && n)
		snprintf(libbpf_last, sizeof(libbpf_last), "%s", line);
	return 0;
}

/* Does sched_process_exit pass group_dead (kernel 6.16+)? Ask the kernel's BTF. */
static bool exit_has_group_dead(const struct btf *btf)
{
	const struct btf_type *t;
	bool has = false;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
	if (id > 0) {
		t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type); /* pointer */
		if (t && btf_is_ptr(t)) {
			t = btf__type_by_id(btf, t->type);
			has = t && btf_is_func_proto(t) && btf_vlen(t) >= 3;
		}
	}
	return has;
}

/* Does the kernel have the bpf_rdonly_cast kfunc (6.2+), for the open programs that
 * read kernel memory with plain loads? RINGFENCE_PATH_WALK=probe says no (tests and
 * benchmarks run both ways). */
static bool btf_walk_in(const struct btf *btf)
{
	const char *env = getenv("RINGFENCE_PATH_WALK");

	if (!btf || (env && !strcmp(env, "probe")))
		return false;
	return btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
}

bool rf_sensor_btf_walk(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool has = btf_walk_in(btf);

	btf__free(btf);
	return has;
}

/* Root, or CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON in the effective set. */
static bool have_bpf_caps(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f;

	if (geteuid() == 0)
		return true;
	f = fopen("/proc/self/status", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff & (1ull << 21)) || ((eff & (1ull << 39)) && (eff & (1ull << 38)));
}

static void read_kernel_drops(struct rf_sensor *s)
{
	int ncpu = libbpf_num_possible_cpus(), fd, c;
	unsigned k;
	struct rf_cpu_stats *v;
	__u32 key = 0;

	if (ncpu <= 0)
		return;
	v = calloc((size_t)ncpu, sizeof(*v));
	fd = bpf_map__fd(s->skel->maps.rf_stats);
	if (!v || bpf_map_lookup_elem(fd, &key, v) < 0) {
		free(v);
		return;
	}
	for (k = 0; k < RF_CLASS_COUNT; k++) {
		uint64_t sum = 0;
		for (c = 0; c < ncpu; c++)
			sum += v[c].dropped[k];
		if (sum > s->kdropped_class[k]) {
			rf_sensor_account_drops(s, k, sum - s->kdropped_class[k]);
			s->kdropped_class[k] = sum;
		}
	}
	free(v);
}

/* The kernel dropped something since we last looked (its drop hint moved): account
 * the drops now, so the gap comes before the events that came after them. */
static void check_drops(struct rf_sensor *s)
{
	uint64_t hint = __atomic_load_n(&s->skel->bss->rf_drop_hint, __ATOMIC_RELAXED);

	if (hint != s->last_drop_hint) {
		s->last_drop_hint = hint;
		read_kernel_drops(s);
	}
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct rf_sensor *s = ctx;

	check_drops(s);
	return rf_sensor_deliver(s, data, len);
}

static const char *const default_excl[] = {"/proc/", "/sys/"};

static int set_path_excl(struct rf_sensor *s, struct rf_sensor_bpf *skel, char *why, size_t whylen)
{
	const char *const *list = s->opts.path_excl ? s->opts.path_excl : default_excl;
	unsigned n = s->opts.path_excl ? s->opts.npath_excl : 2, i;

	if (n > RF_PATH_EXCL_MAX) {
		snprintf(why, whylen, "too many path exclusions (%u; at most %u)", n, RF_PATH_EXCL_MAX);
		return -E2BIG;
	}
	for (i = 0; i < n; i++)
		if (!list[i][0] || strlen(list[i]) >= RF_PATH_EXCL_LEN || list[i][0] != '/') {
			snprintf(why, whylen, "bad path exclusion '%s': an absolute path prefix shorter than %u bytes",
				 list[i], RF_PATH_EXCL_LEN);
			return -EINVAL;
		}
	skel->rodata->rf_path_excl_count = n;
	return (int)n;
}

/* After load: the exclusion prefixes into their map. */
static void fill_path_excl(struct rf_sensor *s)
{
	const char *const *list = s->opts.path_excl ? s->opts.path_excl : default_excl;
	unsigned n = s->opts.path_excl ? s->opts.npath_excl : 2, i;
	int fd = bpf_map__fd(s->skel->maps.rf_path_excl);

	for (i = 0; i < n && i < RF_PATH_EXCL_MAX; i++) {
		struct rf_path_excl e = {0};
		__u32 key = i;
		e.len = (__u32)strlen(list[i]);
		memcpy(e.p, list[i], e.len);
		bpf_map_update_elem(fd, &key, &e, BPF_ANY);
	}
}

/* Syscall tracepoints need tracefs; mount it where libbpf looks when it is missing. */
static const char *ensure_tracefs(void)
{
	static char err[128];

	if (access("/sys/kernel/tracing/events/syscalls", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK) == 0)
		return NULL;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    access("/sys/kernel/tracing/events/syscalls", F_OK) == 0)
		return NULL;
	snprintf(err, sizeof(err), "tracefs is not mounted and cannot be mounted (%s)", strerror(errno));
	return err;
}

/*
 * Which classes each syscall program serves, so that a program is attached only once
 * some class it serves is wanted: attaching and detaching a syscall tracepoint each
 * cost the kernel a grace period (tens of ms), and an unwanted program would cost the
 * syscall for nothing. Programs not listed are attached at once.
 */
#define C(x) (1ull << RF_CLASS_##x)
static const struct {
	const char *sys;
	uint64_t classes;
} prog_classes[] = {
	{"openat", C(FILE_CREATE) | C(FILE_OPEN_WRITE)}, {"open", C(FILE_CREATE) | C(FILE_OPEN_WRITE)},
	{"creat", C(FILE_CREATE) | C(FILE_OPEN_WRITE)}, {"openat2", C(FILE_CREATE) | C(FILE_OPEN_WRITE)},
	{"unlink", C(FILE_UNLINK)}, {"unlinkat", C(FILE_UNLINK)}, {"rmdir", C(FILE_UNLINK)},
	{"rename", C(FILE_RENAME)}, {"renameat", C(FILE_RENAME)}, {"renameat2", C(FILE_RENAME)},
	{"link", C(FILE_LINK)}, {"linkat", C(FILE_LINK)}, {"symlink", C(FILE_LINK)},
	{"symlinkat", C(FILE_LINK)}, {"chmod", C(FILE_CHMOD)}, {"fchmodat", C(FILE_CHMOD)},
	{"fchmod", C(FILE_CHMOD)}, {"chown", C(FILE_CHOWN)}, {"lchown", C(FILE_CHOWN)},
	{"fchownat", C(FILE_CHOWN)}, {"fchown", C(FILE_CHOWN)},
	{"connect", C(NET_CONNECT)}, {"accept", C(NET_ACCEPT)}, {"accept4", C(NET_ACCEPT)},
	{"bind", C(NET_BIND)}, {"listen", C(NET_LISTEN)},
	{"setuid", C(CRED_SETID)}, {"setgid", C(CRED_SETID)}, {"setreuid", C(CRED_SETID)},
	{"setregid", C(CRED_SETID)}, {"setresuid", C(CRED_SETID)}, {"setresgid", C(CRED_SETID)},
	{"setfsuid", C(CRED_SETID)}, {"setfsgid", C(CRED_SETID)}, {"capset", C(CRED_CAPSET)},
	{"ptrace", C(PTRACE)}, {"bpf", C(BPF_PROG_LOAD)}, {"memfd_create", C(MEMFD_CREATE)},
	{"mount", C(MOUNT)}, {"move_mount", C(MOUNT)}, {"umount", C(UMOUNT)},
	{"kill", C(SIGNAL_SEND)}, {"tkill", C(SIGNAL_SEND)}, {"tgkill", C(SIGNAL_SEND)},
	{"rt_sigqueueinfo", C(SIGNAL_SEND)}, {"rt_tgsigqueueinfo", C(SIGNAL_SEND)},
	{"pidfd_send_signal", C(SIGNAL_SEND)}, {"mmap", C(MEM_EXEC)}, {"mprotect", C(MEM_EXEC)},
	{"pkey_mprotect", C(MEM_EXEC)}, {"init_module", C(MODULE_LOAD)},
	{"finit_module", C(MODULE_LOAD)}, {"module_load", C(MODULE_LOAD)},
};
#undef C

static uint64_t classes_of(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog), *sys = strrchr(sec, '/');
	size_t i;

	if (strncmp(sec, "tp/", 3) || !sys)
		return ~0ull; /* process programs and the raw hook: always */
	sys++;
	if (!strncmp(sys, "sys_enter_", 10) || !strncmp(sys, "sys_exit_", 9))
		sys = strchr(sys + 4, '_') + 1;
	for (i = 0; i < sizeof(prog_classes) / sizeof(prog_classes[0]); i++)
		if (!strcmp(prog_classes[i].sys, sys))
			return prog_classes[i].classes;
	return ~0ull;
}

/* Attach the loaded programs that serve a class in `mask` and are not attached yet,
 * each on its own, so that one missing tracepoint costs only the events it would have
 * given. The process programs are essential: failing them fails the sensor. */
static int attach_for(struct rf_sensor *s, uint64_t mask, char *why, size_t whylen)
{
	struct bpf_program *prog;
	size_t u = strlen(s->unavailable); /* may already name programs left out at load */
	unsigned i = 0;

	bpf_object__for_each_program(prog, s->skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		struct bpf_link *l;
		unsigned idx = i++;

		if (idx >= RF_SENSOR_PROGS_MAX || s->attached[idx] || !bpf_program__autoload(prog) ||
		    prog == s->skel->progs.rf_bench_emit || !(classes_of(prog) & mask))
			continue; /* attached, not loaded, run on demand, or not wanted yet */
		s->attached[idx] = true; /* tried: a failure is reported once */
		if (!strncmp(sec, "tp/", 3) && s->tracefs_err) {
			l = NULL;
			errno = ENOENT;
		} else {
			l = bpf_program__attach(prog);
		}
		if (!l) {
			int e = errno;
			if (!strncmp(sec, "tp_btf/", 7)) {
				snprintf(why, whylen, "cannot attach %s (%s)%s%s", sec, strerror(e),
					 libbpf_last[0] ? ": " : "", libbpf_last);
				return -e;
			}
			if (u < sizeof(s->unavailable))
				u += (size_t)snprintf(s->unavailable + u, sizeof(s->unavailable) - u, "%s%s",
						      u ? ", " : "", sec);
			continue;
		}
		if (s->nlinks < sizeof(s->links) / sizeof(s->links[0]))
			s->links[s->nlinks++] = l;
	}
	if (s->no_modules && (mask & (1ull << RF_CLASS_MODULE_LOAD)) && !strstr(s->unavailable, "module_load") &&
	    u < sizeof(s->unavailable))
		u += (size_t)snprintf(s->unavailable + u, sizeof(s->unavailable) - u,
				      "%stp/module/module_load (the kernel has no module support)", u ? ", " : "");
	if (s->tracefs_err && !strstr(s->unavailable, s->tracefs_err) && u && u < sizeof(s->unavailable))
		snprintf(s->unavailable + u, sizeof(s->unavailable) - u, " (%s)", s->tracefs_err);
	return 0;
}

static int attach_all(struct rf_sensor *s, char *why, size_t whylen)
{
	s->tracefs_err = ensure_tracefs();
	fill_path_excl(s);
	return attach_for(s, s->opts.class_mask ? s->opts.class_mask : ~0ull, why, whylen);
}

/* The process classes always flow from the kernel: the process table needs them.
 * Classes nobody asked for are dropped in user space before numbering. */
static uint64_t kernel_mask(uint64_t want)
{
	if (!want)
		return ~0ull;
	return want | (1ull << RF_CLASS_PROCESS_EXEC) | (1ull << RF_CLASS_PROCESS_FORK) |
	       (1ull << RF_CLASS_PROCESS_EXIT);
}

/* The classes whose records wake a sleeping reader: those someone wants. Records the
 * process table alone needs (fork and exit, unless asked for) wait in the ring for the
 * next wanted record or the reader's own timeout (bpf/common.bpf.h, "Wake-ups"): an
 * exec storm then costs one wake-up an exec, not three. */
static uint64_t wake_mask(uint64_t want)
{
	return want ? want : ~0ull;
}

static int bpf_open(struct rf_sensor *s, char *why, size_t whylen)
{
	struct btf *vmlinux;
	struct rf_sensor_bpf *skel;
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(why, whylen, "the kernel has no BTF (/sys/kernel/btf/vmlinux missing): "
				      "needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	if (!have_bpf_caps()) {
		snprintf(why, whylen, "no privilege to load eBPF: run as root (or with "
				      "CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE)");
		return -EPERM;
	}
	libbpf_set_print(libbpf_print);
	skel = rf_sensor_bpf__open();
	if (!skel) {
		snprintf(why, whylen, "cannot open the eBPF object: %s", strerror(errno));
		return -errno;
	}
	if (s->opts.ring_bytes &&
	    (err = bpf_map__set_max_entries(skel->maps.rf_events, s->opts.ring_bytes)) < 0) {
		snprintf(why, whylen, "bad ring buffer size %u: %s", s->opts.ring_bytes, strerror(-err));
		rf_sensor_bpf__destroy(skel);
		return err;
	}
	skel->rodata->rf_self_tgid = (__u32)getpid();
	if ((err = set_path_excl(s, skel, why, whylen)) < 0) {
		rf_sensor_bpf__destroy(skel);
		return err;
	}
	bpf_program__set_autoload(skel->progs.rf_bench_emit, s->opts.bench);
	/* the syscall programs need bpf_get_current_task_btf (5.11); without it they are
	 * left out and named, and the process programs run on their own */
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_task_btf, NULL) <= 0) {
		struct bpf_program *prog;
		bpf_object__for_each_program(prog, skel->obj)
			if (!strncmp(bpf_program__section_name(prog), "tp/", 3) ||
			    !strncmp(bpf_program__section_name(prog), "raw_tp", 6))
				bpf_program__set_autoload(prog, false);
		snprintf(s->unavailable, sizeof(s->unavailable),
			 "file, network and tamper programs (the kernel lacks bpf_get_current_task_btf, 5.11)");
	}
	/* a kernel built without module support (no /proc/modules) loads no modules:
	 * nothing to watch there, and nothing missing to report */
	if (access("/proc/modules", F_OK) != 0) {
		s->no_modules = true; /* said when module_load is wanted (attach_for) */
		bpf_program__set_autoload(skel->progs.rf_module_load, false);
		bpf_program__set_autoload(skel->progs.rf_exit_finit_module, false);
		bpf_program__set_autoload(skel->progs.rf_exit_init_module, false);
	}
	/* the open programs come twice (bpf/file.bpf.h): with plain loads where the kernel
	 * has bpf_rdonly_cast, else with bpf_probe_read_kernel; the raw sys_exit hook
	 * replaces the open-family tracepoints, on request */
	vmlinux = btf__load_vmlinux_btf(); /* parsed once, for both questions */
	s->btf_walk = btf_walk_in(vmlinux);
	{
		bool tp = !s->opts.raw_syscall_hooks, b = s->btf_walk;
		bpf_program__set_autoload(skel->progs.rf_exit_openat, tp && !b);
		bpf_program__set_autoload(skel->progs.rf_exit_open, tp && !b);
		bpf_program__set_autoload(skel->progs.rf_exit_creat, tp && !b);
		bpf_program__set_autoload(skel->progs.rf_exit_openat2, tp && !b);
		bpf_program__set_autoload(skel->progs.rf_raw_sys_exit, !tp && !b);
		bpf_program__set_autoload(skel->progs.rfb_exit_openat, tp && b);
		bpf_program__set_autoload(skel->progs.rfb_exit_open, tp && b);
		bpf_program__set_autoload(skel->progs.rfb_exit_creat, tp && b);
		bpf_program__set_autoload(skel->progs.rfb_exit_openat2, tp && b);
		bpf_program__set_autoload(skel->progs.rfb_raw_sys_exit, !tp && b);
		bpf_program__set_autoload(skel->progs.rf_exit_connect, !b);
		bpf_program__set_autoload(skel->progs.rfb_exit_connect, b);
	}
	skel->rodata->rf_exit_has_group_dead = exit_has_group_dead(vmlinux);
	btf__free(vmlinux);
	skel->data->rf_class_mask = kernel_mask(s->opts.class_mask);
	skel->data->rf_wake_mask = wake_mask(s->opts.class_mask);
	err = rf_sensor_bpf__load(skel);
	if (err) {
		snprintf(why, whylen, "the kernel refused the eBPF sensor (%s)%s%s", strerror(-err),
			 libbpf_last[0] ? ": " : "", libbpf_last);
		rf_sensor_bpf__destroy(skel);
		return err;
	}
	s->skel = skel;
	err = attach_all(s, why, whylen);
	if (err)
		return err;
	s->rb = ring_buffer__new(bpf_map__fd(skel->maps.rf_events), on_sample, s, NULL);
	if (!s->rb) {
		err = -errno;
		snprintf(why, whylen, "cannot map the eBPF ring buffer: %s", strerror(-err));
		return err;
	}
	/* the consumer and producer positions, read-only, for rf_sensor_idle() */
	s->rb_pagesz = (size_t)sysconf(_SC_PAGESIZE);
	void *c = mmap(NULL, s->rb_pagesz, PROT_READ, MAP_SHARED, bpf_map__fd(skel->maps.rf_events), 0);
	void *p = mmap(NULL, s->rb_pagesz, PROT_READ, MAP_SHARED, bpf_map__fd(skel->maps.rf_events),
		       (off_t)s->rb_pagesz);
	if (c == MAP_FAILED || p == MAP_FAILED) {
		err = -errno;
		if (c != MAP_FAILED)
			munmap(c, s->rb_pagesz);
		if (p != MAP_FAILED)
			munmap(p, s->rb_pagesz);
		snprintf(why, whylen, "cannot map the eBPF ring buffer's positions: %s",
			 strerror(-err));
		return err;
	}
	s->rb_cons = c;
	s->rb_prod = p;
	return 0;
}

static void unmap_positions(struct rf_sensor *s)
{
	if (s->rb_cons)
		munmap((void *)s->rb_cons, s->rb_pagesz);
	if (s->rb_prod)
		munmap((void *)s->rb_prod, s->rb_pagesz);
	s->rb_cons = s->rb_prod = NULL;
}

/* Anything in the ring: a record, or one still being written. */
static bool ring_pending(const struct rf_sensor *s)
{
	return __atomic_load_n(s->rb_prod, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(s->rb_cons, __ATOMIC_ACQUIRE);
}

/*
 * The reader is about to wait (bpf/common.bpf.h, "Wake-ups"). While records come
 * fast (RF_SENSOR_NAP_PER_MS or more within a millisecond; then, napping, as long as
 * each nap finds any), it does not ask the writers for a wake-up: it naps
 * RF_SENSOR_NAP_US and polls again, so that a storm costs the
 * writing CPUs no interrupts (a wake-up each cost the open storm about 250 ns an
 * event) and the reader one timer a nap. Spinning instead was measured slower: the
 * spinning CPU slows the storm's on this VM. At lower rates (10,000 events/s: about
 * 100 us apart) it sleeps at once, and the next record wakes it. Returns true when
 * the caller should poll instead of waiting.
 */
bool rf_sensor_idle(struct rf_sensor *s)
{
	if (!s->rb || !s->rb_prod)
		return false;
	if (ring_pending(s))
		return true;
	if (s->napping ? s->last_batch > 0 : s->hot) {
		struct timespec ts = {0, RF_SENSOR_NAP_US * 1000l};

		if (!s->napping)
			prctl(PR_SET_TIMERSLACK, 1000ul); /* the nap's own length, not 50 us more */
		s->napping = true;
		s->last_batch = 0;
		nanosleep(&ts, NULL);
		return true;
	}
	s->napping = s->hot = false;
	__atomic_store_n(&s->skel->bss->rf_reader_sleeping, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (ring_pending(s)) {
		__atomic_store_n(&s->skel->bss->rf_reader_sleeping, 0, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

void rf_sensor_awake(struct rf_sensor *s)
{
	if (s->skel && s->rb_prod)
		__atomic_store_n(&s->skel->bss->rf_reader_sleeping, 0, __ATOMIC_RELAXED);
}

int rf_sensor_open(const struct rf_sensor_opts *opts, rf_sensor_cb cb, void *ctx,
		   struct rf_sensor **ret, char *why, size_t whylen)
{
	struct rf_sensor *s = calloc(1, sizeof(*s));
	char bpf_why[512] = "";
	int err;

	if (!s) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	s->cb = cb;
	s->ctx = ctx;
	s->opts = *opts;
	s->nl_fd = -1;
	s->boot_to_epoch_ns = rf_sensor_clock_offset(CLOCK_BOOTTIME, CLOCK_REALTIME);
	s->mono_to_boot_ns = rf_sensor_clock_offset(CLOCK_MONOTONIC, CLOCK_BOOTTIME);
	s->pt = rf_proctable_new(0);
	if (!s->pt) {
		free(s);
		snprintf(why, whylen, "out of memory for the process table");
		return -ENOMEM;
	}
	/* bootstrap before the sensor starts, so no exec can slip between the two
	 * unseen; events for processes that start meanwhile update the table anyway */
	if (opts->bootstrap)
		(void)rf_proctable_bootstrap(s->pt, "/proc");

	if (opts->no_bpf) {
		snprintf(bpf_why, sizeof(bpf_why), "--no-bpf given");
		err = -ENOTSUP;
	} else {
		err = bpf_open(s, bpf_why, sizeof(bpf_why));
	}
	if (err) {
		if (s->skel) {
			unmap_positions(s);
			ring_buffer__free(s->rb);
			for (unsigned i = 0; i < s->nlinks; i++)
				bpf_link__destroy(s->links[i]);
			s->nlinks = 0;
			rf_sensor_bpf__destroy(s->skel);
			s->rb = NULL;
			s->skel = NULL;
		}
		snprintf(s->degraded, sizeof(s->degraded), "%s", bpf_why);
		err = rf_sensor_fallback_open(s, why, whylen);
		if (err) {
			char fb[256];
			snprintf(fb, sizeof(fb), "%s", why);
			snprintf(why, whylen, "eBPF sensor unavailable (%s) and the fallback failed too (%s)",
				 bpf_why, fb);
			rf_sensor_free(s);
			return err;
		}
	}
	*ret = s;
	return 0;
}

int rf_sensor_fd(const struct rf_sensor *s)
{
	return s->rb ? ring_buffer__epoll_fd(s->rb) : s->nl_fd;
}

int rf_sensor_poll(struct rf_sensor *s, int timeout_ms)
{
	int n;

	if (!s->rb)
		return rf_sensor_fallback_poll(s, timeout_ms);
	/* Writers wake us only when we said we sleep (rf_sensor_idle; bpf/common.bpf.h,
	 * "Wake-ups"): no record waits for a timer. Not waiting at all, read what is
	 * there without the epoll round trip. */
	n = ring_buffer__consume(s->rb);
	if (n == 0 && timeout_ms != 0 && !rf_sensor_idle(s)) {
		n = ring_buffer__poll(s->rb, timeout_ms);
		rf_sensor_awake(s);
	}
	if (n >= 0)
		s->last_batch = n;
	if (n > 0) { /* records in the current millisecond: hot above RF_SENSOR_NAP_PER_MS */
		uint64_t t = rf_mono_ns();

		if (t - s->win_start_ns >= 1000000ull) {
			s->win_start_ns = t;
			s->win_count = 0;
		}
		s->win_count += (unsigned)n;
		if (s->win_count >= RF_SENSOR_NAP_PER_MS)
			s->hot = true;
	}
	/* drops at the very end of a burst show up only in the counters */
	if (n >= 0)
		check_drops(s);
	return n;
}

void rf_sensor_stats(struct rf_sensor *s, struct rf_sensor_stats *st)
{
	if (s->skel)
		read_kernel_drops(s);
	*st = s->st;
}

const char *rf_sensor_degraded(const struct rf_sensor *s)
{
	return s->degraded[0] ? s->degraded : NULL;
}

int rf_sensor_set_classes(struct rf_sensor *s, uint64_t class_mask)
{
	char why[256];

	s->opts.class_mask = class_mask;
	if (s->skel) /* programs for newly wanted classes; they stay attached after */
		(void)attach_for(s, class_mask ? class_mask : ~0ull, why, sizeof(why));
	if (s->skel) {
		__atomic_store_n(&s->skel->data->rf_class_mask, kernel_mask(class_mask),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&s->skel->data->rf_wake_mask, wake_mask(class_mask), __ATOMIC_RELAXED);
	}
	return 0;
}

int rf_sensor_bench_emit(struct rf_sensor *s, unsigned runs)
{
	int fd;

	if (!s->skel || !s->opts.bench)
		return -EINVAL;
	fd = bpf_program__fd(s->skel->progs.rf_bench_emit);
	while (runs--) { /* raw_tp test runs take no repeat count */
		LIBBPF_OPTS(bpf_test_run_opts, o);
		if (bpf_prog_test_run_opts(fd, &o) < 0)
			return -errno;
	}
	return 0;
}

int rf_sensor_exclude_pid(struct rf_sensor *s, uint32_t pid, bool exclude)
{
	int fd;
	__u8 one = 1;

	if (!s->skel)
		return 0; /* the fallback reports process events only, and does not filter */
	fd = bpf_map__fd(s->skel->maps.rf_excluded);
	if (exclude) {
		if (bpf_map_update_elem(fd, &pid, &one, BPF_NOEXIST) < 0)
			return errno == EEXIST ? 0 : -errno;
		__atomic_add_fetch(&s->skel->bss->rf_excluded_count, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (bpf_map_delete_elem(fd, &pid) < 0)
		return errno == ENOENT ? 0 : -errno;
	__atomic_sub_fetch(&s->skel->bss->rf_excluded_count, 1, __ATOMIC_RELAXED);
	return 0;
}

const char *rf_sensor_unavailable(const struct rf_sensor *s)
{
	return s->unavailable[0] ? s->unavailable : NULL;
}

struct rf_proctable *rf_sensor_proctable(struct rf_sensor *s)
{
	return s->pt;
}

struct rf_sensor *rf_sensor_free(struct rf_sensor *s)
{
	if (!s)
		return NULL;
	unmap_positions(s);
	ring_buffer__free(s->rb);
	for (unsigned i = 0; i < s->nlinks; i++)
		bpf_link__destroy(s->links[i]);
	rf_sensor_bpf__destroy(s->skel);
	rf_sensor_fallback_close(s);
	rf_proctable_free(s->pt);
	free(s);
	return NULL;
}
