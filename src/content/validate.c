// SPDX-License-Identifier: MIT
/*
 * validate.c: content types, their validators, the sandbox the validators run in,
 * and the shadow run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "capture/capture.h"
#include "content/content.h"
#include "detect/detect.h"
#include "content/content_int.h"
#include "ringfence/schema.h"

/* --- fieldmap ------------------------------------------------------------------
 * Every top-level file named *.fm in the payload is read. A line is blank, a
 * comment (#...) or
 *     template NAME CLASS FIELD[:KIND] [FIELD[:KIND] ...]
 * NAME is [A-Za-z0-9_.-]+, CLASS an event class name, FIELD a decimal index into
 * the class's field table (header fields included, as rf_schema_class()->fields),
 * KIND one of int, str, path, ip: the type the template reads the field as. */
static int kind_ok(const char *kind, uint8_t type)
{
	bool num = type >= RF_FT_U8 && type <= RF_FT_BOOL;
	bool str = type == RF_FT_STR || type == RF_FT_PATH || type == RF_FT_ARGV;

	if (!strcmp(kind, "int"))
		return num;
	if (!strcmp(kind, "str"))
		return str;
	if (!strcmp(kind, "path"))
		return type == RF_FT_PATH;
	if (!strcmp(kind, "ip"))
		return type == RF_FT_IP;
	return -1;
}

static int fieldmap_line(const char *file, unsigned lineno, char *line, char *err,
			 size_t errlen)
{
	char *save = NULL, *tok, *name, *cls;
	const struct rf_class_desc *c;
	unsigned nf = 0;

	tok = strtok_r(line, " \t", &save);
	if (!tok || tok[0] == '#')
		return 0;
	if (strcmp(tok, "template")) {
		snprintf(err, errlen, "%s:%u: unknown directive '%.40s' (want 'template')", file,
			 lineno, tok);
		return -EINVAL;
	}
	name = strtok_r(NULL, " \t", &save);
	cls = strtok_r(NULL, " \t", &save);
	if (!name || !cls) {
		snprintf(err, errlen, "%s:%u: want 'template NAME CLASS FIELD...'", file, lineno);
		return -EINVAL;
	}
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
		    strlen(name) ||
	    strlen(name) > 64) {
		snprintf(err, errlen, "%s:%u: template name '%.64s' malformed", file, lineno, name);
		return -EINVAL;
	}
	c = rf_schema_class_by_name(cls);
	if (!c) {
		snprintf(err, errlen, "%s:%u: template '%s': no event class '%.40s' in schema %u",
			 file, lineno, name, cls, rf_schema_version());
		return -EINVAL;
	}
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *colon = strchr(tok, ':'), *end;
		unsigned long idx;

		if (tok[0] == '#')
			break;
		if (colon)
			*colon = 0;
		errno = 0;
		idx = strtoul(tok, &end, 10);
		if (!*tok || *end || errno || tok[0] == '-' || tok[0] == '+') {
			snprintf(err, errlen, "%s:%u: template '%s': field '%.20s' is not an index",
				 file, lineno, name, tok);
			return -EINVAL;
		}
		if (++nf > RF_FIELDMAP_FIELDS_MAX) {
			snprintf(err, errlen, "%s:%u: template '%s': more than %u fields", file,
				 lineno, name, RF_FIELDMAP_FIELDS_MAX);
			return -E2BIG;
		}
		if (idx >= c->nfields) {
			snprintf(err, errlen,
				 "%s:%u: template '%s': field %lu out of range: event class %s "
				 "supplies %u fields (0..%u)",
				 file, lineno, name, idx, c->name, c->nfields, c->nfields - 1);
			return -ERANGE;
		}
		if (colon) {
			int k = kind_ok(colon + 1, c->fields[idx].type);
			if (k < 0) {
				snprintf(err, errlen, "%s:%u: template '%s': unknown kind '%.10s' "
					 "(int, str, path, ip)", file, lineno, name, colon + 1);
				return -EINVAL;
			}
			if (!k) {
				snprintf(err, errlen,
					 "%s:%u: template '%s': field %lu (%s.%s) cannot be read "
					 "as %s: incompatible type",
					 file, lineno, name, idx, c->name, c->fields[idx].name,
					 colon + 1);
				return -EINVAL;
			}
		}
	}
	if (nf == 0) {
		snprintf(err, errlen, "%s:%u: template '%s' names no field", file, lineno, name);
		return -EINVAL;
	}
	return 0;
}

static int fieldmap_file(int dfd, const char *file, char *err, size_t errlen)
{
	char *buf = NULL, *p, *nl;
	unsigned lineno = 0;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > RF_FIELDMAP_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", file,
			 RF_FIELDMAP_FILE_MAX);
		r = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: short read", file);
		r = -EIO;
		goto out;
	}
	buf[n] = 0;
	if (memchr(buf, 0, (size_t)n)) {
		snprintf(err, errlen, "%s: NUL byte in a text file", file);
		r = -EINVAL;
		goto out;
	}
	for (p = buf; *p; p = nl) {
		nl = strchr(p, '\n');
		lineno++;
		if (nl)
			*nl++ = 0;
		else
			nl = p + strlen(p);
		if (strlen(p) >= RF_FIELDMAP_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line longer than %u bytes", file, lineno,
				 RF_FIELDMAP_LINE_MAX);
			r = -E2BIG;
			goto out;
		}
		r = fieldmap_line(file, lineno, p, err, errlen);
		if (r < 0)
			goto out;
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

int rf_fieldmap_validate(const char *payload_dir, char *err, size_t errlen)
{
	DIR *d = opendir(payload_dir);
	struct dirent *de;
	unsigned files = 0;
	int r = 0;

	if (!d) {
		snprintf(err, errlen, "%s: %s", payload_dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 3, ".fm"))
			continue;
		files++;
		r = fieldmap_file(dirfd(d), de->d_name, err, errlen);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r == 0 && files == 0) {
		snprintf(err, errlen, "fieldmap payload holds no *.fm file");
		r = -ENOENT;
	}
	return r;
}

/* --- sigma ------------------------------------------------------------------- */
/* rf-detect's compiler: the same code that will run the rules (src/detect) */
int (*rf_content_sigma_compile)(const char *payload_dir, char *err, size_t errlen) = rf_detect_validate_dir;

static int sigma_validate(const char *payload_dir, char *err, size_t errlen)
{
	if (!rf_content_sigma_compile) {
		snprintf(err, errlen,
			 "no sigma compiler linked: sigma content cannot be validated and is "
			 "refused (needs rf-detect, src/detect)");
		return -ENOSYS;
	}
	return rf_content_sigma_compile(payload_dir, err, errlen);
}

/* --- registry ------------------------------------------------------------------ */
static const struct rf_content_type builtin_types[] = {
	{"fieldmap", rf_fieldmap_validate},
	{"sigma", sigma_validate},
};
#define EXTRA_TYPES_MAX 8
static const struct rf_content_type *extra_types[EXTRA_TYPES_MAX];

const struct rf_content_type *rf_content_type_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(builtin_types) / sizeof(builtin_types[0]); i++)
		if (!strcmp(builtin_types[i].name, name))
			return &builtin_types[i];
	for (i = 0; i < EXTRA_TYPES_MAX && extra_types[i]; i++)
		if (!strcmp(extra_types[i]->name, name))
			return extra_types[i];
	return NULL;
}

int rf_content_type_register(const struct rf_content_type *t)
{
	size_t i;

	if (!t || !t->name || !t->validate)
		return -EINVAL;
	if (rf_content_type_find(t->name))
		return -EEXIST;
	for (i = 0; i < EXTRA_TYPES_MAX; i++)
		if (!extra_types[i]) {
			extra_types[i] = t;
			return 0;
		}
	return -ENOSPC;
}

/* --- sandbox ----------------------------------------------------------------- */
/* Exit codes of the validator child; anything else (a sanitizer's 1, a signal) is
 * a crash. */
#define VALIDATE_EXIT_INVALID 10
#define VALIDATE_EXIT_SANDBOX 11

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#if defined(__SANITIZE_ADDRESS__)
#define RF_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RF_UNDER_ASAN 1
#endif
#endif

/* Allowlist for the validator: read files, allocate, write its verdict, exit.
 * Anything else fails with EPERM (not a kill, so a sanitizer's extra calls at
 * exit do not turn a verdict into a crash). Opening for writing is refused. */
static int sandbox_enter(void)
{
	static const int allow[] = {
		SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(write), SCMP_SYS(close),
		SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lstat), SCMP_SYS(stat),
		SCMP_SYS(statx), SCMP_SYS(getdents64), SCMP_SYS(lseek), SCMP_SYS(mmap),
		SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(mprotect),
		SCMP_SYS(madvise), SCMP_SYS(exit), SCMP_SYS(exit_group),
		SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(sigaltstack), SCMP_SYS(futex), SCMP_SYS(getpid), SCMP_SYS(gettid),
		SCMP_SYS(clock_gettime), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
		SCMP_SYS(sched_yield), SCMP_SYS(getrlimit), SCMP_SYS(prlimit64),
		SCMP_SYS(uname), SCMP_SYS(fcntl), SCMP_SYS(getrandom),
	};
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return -ENOMEM;
	for (i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0)) < 0)
			goto out;
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
			     SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	if (r < 0)
		goto out;
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
			     SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	if (r < 0)
		goto out;
	/* abort() and a sanitizer's die path signal the process itself */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
			     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	if (r < 0)
		goto out;
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r;
}

static void limit(int res, rlim_t v)
{
	struct rlimit rl = {v, v};

	setrlimit(res, &rl);
}

int rf_content_validate_sandboxed(const char *type, const char *payload_dir,
				  unsigned timeout_ms, struct rf_content_err *e)
{
	const struct rf_content_type *t = rf_content_type_find(type);
	char msg[sizeof(e->msg)] = "";
	size_t got = 0;
	uint64_t deadline;
	int pfd[2], status = 0, r;
	pid_t pid;

	if (!t)
		return rf_content_err_set(e, RF_CE_UNKNOWN_TYPE, -ENOENT,
					  "no validator for content type '%s' (known: fieldmap, sigma)",
					  type);
	if (!timeout_ms)
		timeout_ms = RF_CONTENT_VALIDATE_TIMEOUT_MS;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return rf_content_err_set(e, RF_CE_IO, -errno, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return rf_content_err_set(e, RF_CE_IO, r, "fork: %s", strerror(-r));
	}
	if (pid == 0) {
		char err[sizeof(e->msg)] = "";
		int rc;

		static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP,
					   SIGSYS, SIGXCPU};
		size_t i;

		close(pfd[0]);
		/* the parent's handlers (a test framework's, a sanitizer's) must not
		 * turn a crash of the validator into anything but a crash */
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		limit(RLIMIT_CPU, RF_CONTENT_VALIDATE_CPU_S);
		limit(RLIMIT_FSIZE, 0);
		limit(RLIMIT_CORE, 0);
		limit(RLIMIT_NOFILE, 32);
		limit(RLIMIT_NPROC, 0);
#ifndef RF_UNDER_ASAN
		limit(RLIMIT_AS, RF_CONTENT_VALIDATE_AS);
#endif
		if (sandbox_enter() < 0) {
			static const char m[] = "could not enter the validator sandbox";
			(void)!write(pfd[1], m, sizeof(m) - 1);
			_exit(VALIDATE_EXIT_SANDBOX);
		}
		rc = t->validate(payload_dir, err, sizeof(err));
		if (rc < 0 && !err[0])
			snprintf(err, sizeof(err), "validator refused the content (%d)", rc);
		(void)!write(pfd[1], err, strlen(err));
		_exit(rc < 0 ? VALIDATE_EXIT_INVALID : 0);
	}
	close(pfd[1]);
	deadline = now_ms() + timeout_ms;
	for (;;) {
		uint64_t n = now_ms();
		struct pollfd p = {pfd[0], POLLIN, 0};
		ssize_t k;

		if (n >= deadline)
			break;
		if (poll(&p, 1, (int)(deadline - n)) <= 0)
			continue;
		k = read(pfd[0], msg + got, sizeof(msg) - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break; /* EOF: the child exited or closed its end */
		got += (size_t)k;
		if (got == sizeof(msg) - 1)
			break;
	}
	close(pfd[0]);
	msg[got] = 0;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			break;
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return rf_content_err_set(e, RF_CE_VALIDATOR_TIMEOUT, -ETIMEDOUT,
						  "validator for '%s' did not finish within %u ms: "
						  "content refused",
						  type, timeout_ms);
		}
		usleep(2000);
	}
	if (WIFSIGNALED(status))
		return rf_content_err_set(e,
					  WTERMSIG(status) == SIGXCPU ? RF_CE_VALIDATOR_TIMEOUT
								      : RF_CE_VALIDATOR_CRASH,
					  -ECHILD, "validator for '%s' died of signal %d (%s): "
					  "content refused",
					  type, WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		int code = WIFEXITED(status) && WEXITSTATUS(status) == VALIDATE_EXIT_INVALID
				   ? RF_CE_INVALID
				   : RF_CE_VALIDATOR_CRASH;
		return rf_content_err_set(e, code, -EINVAL, "%s content refused: %s", type,
					  msg[0] ? msg : "validator failed without a reason");
	}
	return 0;
}

/* --- shadow run ------------------------------------------------------------------ */
static char *subst(const char *arg, const char *content, const char *capture)
{
	struct rf_buf b = {0};
	const char *p = arg;

	while (*p) {
		if (!strncmp(p, "{content}", 9)) {
			rf_buf_add(&b, content, strlen(content));
			p += 9;
		} else if (!strncmp(p, "{capture}", 9)) {
			rf_buf_add(&b, capture, strlen(capture));
			p += 9;
		} else {
			rf_buf_add(&b, p++, 1);
		}
	}
	rf_buf_add(&b, "", 1);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return (char *)b.p;
}

/* Events in a capture file and the time between its first and last event. */
static int capture_span(const char *path, uint64_t *n, uint64_t *span_ms)
{
	struct rf_capture_reader *rd;
	const struct rf_event_hdr *ev;
	uint64_t first = 0, last = 0;
	char err[256];
	int r;

	if (rf_capture_open(path, &rd, err, sizeof(err)) < 0)
		return -EINVAL;
	while ((r = rf_capture_next(rd, &ev, err, sizeof(err))) == 1) {
		if (!(*n)++)
			first = ev->ts_ns;
		last = ev->ts_ns;
	}
	rf_capture_close(rd);
	*span_ms = last > first ? (last - first) / 1000000u : 0;
	return r < 0 ? -EINVAL : 0;
}

int rf_content_shadow_run(const struct rf_shadow *s, const char *content_dir,
			  struct rf_content_err *e)
{
	char **argv = NULL;
	size_t n = 0, i;
	uint64_t deadline;
	unsigned cpu = s->cpu_s ? s->cpu_s : RF_CONTENT_SHADOW_CPU_S;
	unsigned tmo = s->timeout_ms ? s->timeout_ms : RF_CONTENT_SHADOW_TIMEOUT_MS;
	unsigned pct = s->realtime_pct ? s->realtime_pct : RF_CONTENT_SHADOW_REALTIME_PCT;
	uint64_t span_ms = 0, nevents = 0, keep_up_ms = UINT64_MAX;
	int status = 0, r = 0;
	pid_t pid;

	if (!s->argv || !s->argv[0])
		return rf_content_err_set(e, RF_CE_SHADOW, -EINVAL, "shadow run: no command");
	while (s->argv[n])
		n++;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (!(argv[i] = subst(s->argv[i], content_dir, s->capture ? s->capture : ""))) {
			r = -ENOMEM;
			goto out;
		}
	if (s->capture && capture_span(s->capture, &nevents, &span_ms) == 0 && span_ms)
		keep_up_ms = RF_CONTENT_SHADOW_START_MS + span_ms * pct / 100;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = rf_content_err_set(e, RF_CE_IO, -errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		struct rlimit rl = {cpu, cpu + 1};
		int devnull = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		setrlimit(RLIMIT_CPU, &rl);
		limit(RLIMIT_CORE, 0);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	deadline = now_ms() + (keep_up_ms < tmo ? keep_up_ms : tmo);
	for (;;) {
		int w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			r = rf_content_err_set(e, RF_CE_SHADOW, -errno, "shadow run: waitpid: %s",
					       strerror(errno));
			goto out;
		}
		if (now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			if (keep_up_ms < tmo)
				r = rf_content_err_set(
					e, RF_CE_SHADOW, -ETIMEDOUT,
					"shadow run of %s fell behind: %llu events recorded over "
					"%llu ms were not processed within %u%% of that time plus "
					"%u ms start-up (latency budget): content refused",
					argv[0], (unsigned long long)nevents,
					(unsigned long long)span_ms, pct, RF_CONTENT_SHADOW_START_MS);
			else
				r = rf_content_err_set(e, RF_CE_SHADOW, -ETIMEDOUT,
						       "shadow run of %s exceeded its wall-clock budget "
						       "of %u ms: content refused",
						       argv[0], tmo);
			goto out;
		}
		usleep(2000);
	}
	kill(-pid, SIGKILL); /* anything it left behind */
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		if (sig == SIGXCPU)
			r = rf_content_err_set(e, RF_CE_SHADOW, -ECHILD,
					       "shadow run of %s exceeded its CPU budget of %u s: "
					       "content refused",
					       argv[0], cpu);
		else
			r = rf_content_err_set(e, RF_CE_SHADOW, -ECHILD,
					       "shadow run of %s crashed (signal %d, %s): content "
					       "refused",
					       argv[0], sig, strsignal(sig));
	} else if (WEXITSTATUS(status) != 0) {
		r = rf_content_err_set(e, RF_CE_SHADOW, -ECHILD,
				       "shadow run of %s exited with status %d: content refused",
				       argv[0], WEXITSTATUS(status));
	}
out:
	for (i = 0; argv && i < n; i++)
		free(argv[i]);
	free(argv);
	return r;
}
