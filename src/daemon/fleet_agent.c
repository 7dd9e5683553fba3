// SPDX-License-Identifier: MIT
/* fleet_agent.c: the endpoint agent of fleet rollout (fleet_agent.h, docs/fleet.md). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "content/content.h"
#include "daemon/affinity.h"
#include "daemon/fleet_agent.h"
#include "daemon/fleet_proto.h"
#include "daemon/recent.h"
#include "daemon/supervisor.h"
#include "common/clock.h"

int (*rf_fleet_attest_hook)(const uint8_t *nonce, size_t nonce_len, char **b64);

/* epoll data: kind in the high 32 bits, fd in the low */
enum { K_SCHED = 1, K_CURLTIMER = 2, K_INSTALL = 3, K_SOCK = 4 };
#define TAG(k, fd) (((uint64_t)(k) << 32) | (uint32_t)(fd))

struct failed {
	char client[RF_CONTENT_CLIENT_MAX];
	uint64_t version;
	bool retry;    /* download or I/O trouble: try again at the next assignment */
	char error[256];
};

/* what the install child sends back (fits in PIPE_BUF: one atomic write) */
struct install_result {
	int ret;
	struct rf_content_err e;
	struct rf_content_state st;
};

struct rf_fleet {
	struct rf_supervisor *sup;
	char url[RF_FLEET_URL_MAX], repo[RF_FLEET_URL_MAX], host[RF_FLEET_HOST_MAX];
	char state_dir[4096];
	bool internal, no_install;
	uint8_t sk[RF_SECKEY_LEN], pk[RF_PUBKEY_LEN];
	int ep, sched_fd, curl_tfd;
	CURLM *multi;
	/* report */
	CURL *rep;
	struct curl_slist *rep_hdrs;
	char *body;              /* the report in flight */
	char resp[RF_FLEET_RESPONSE_MAX + 1];
	size_t resp_len;
	bool resp_over;
	bool rep_busy;
	uint64_t seq, seq_skip;
	char nonce[RF_FLEET_NONCE_MAX];
	char ring[RF_FLEET_RING_MAX];
	unsigned poll_s, errors;
	uint64_t next_report_ns, last_report_ns;
	bool early;              /* an install or crash: report early */
	uint64_t reported_crashes; /* crashes + rollbacks in the last report */
	struct rf_agent_response last; /* last good response (assignments) */
	bool have_last;
	/* download */
	CURL *dl;
	uint8_t *dl_buf;
	size_t dl_len, dl_cap;
	bool dl_over, dl_busy;
	struct rf_agent_assign dl_what;
	/* install child */
	pid_t inst_pid;
	int inst_fd;
	uint64_t inst_start_ns;
	struct rf_agent_assign inst_what;
	struct failed failed[RF_FLEET_ASSIGN_MAX];
	size_t nfailed;
	/* CPU */
	uint64_t cpu_ticks_last, cpu_ns_last;
	uint64_t start_ns;
};

/* ---- files in the state directory ----------------------------------------- */

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

static int write_small(const char *dir, const char *name, const char *text)
{
	char path[4200], tmp[4200];
	size_t n = strlen(text);
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		r = -EIO;
	close(fd);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	return r;
}

static int load_key(struct rf_fleet *f, char *err, size_t errlen)
{
	char base[4200], sec[4300];
	int r;

	snprintf(base, sizeof(base), "%s/fleet", f->state_dir);
	snprintf(sec, sizeof(sec), "%s.sec", base);
	r = rf_key_read_secret(sec, f->sk);
	if (r == -ENOENT) {
		r = rf_key_generate(base, f->pk);
		if (r == 0) {
			r = rf_key_read_secret(sec, f->sk);
			if (r == 0) {
				char hex[2 * RF_PUBKEY_LEN + 1];
				rf_hex(f->pk, RF_PUBKEY_LEN, hex);
				rf_info("fleet: created the endpoint key %s.{sec,pub} (public %s)", base, hex);
			}
		}
	}
	if (r < 0) {
		snprintf(err, errlen, "fleet: cannot read or create the endpoint key %s: %s", sec,
			 strerror(-r));
		return r;
	}
	crypto_sign_ed25519_sk_to_pk(f->pk, f->sk);
	return 0;
}

static int host_id(struct rf_fleet *f, const char *given, char *err, size_t errlen)
{
	char buf[RF_FLEET_HOST_MAX + 2];
	size_t n;

	if (given) {
		snprintf(buf, sizeof(buf), "%s", given);
	} else if (read_small("/etc/machine-id", buf, sizeof(buf)) < 0) {
		snprintf(err, errlen, "fleet: cannot read /etc/machine-id: give --fleet-host ID");
		return -ENOENT;
	}
	n = strcspn(buf, "\n");
	buf[n] = 0;
	if (!n || n >= RF_FLEET_HOST_MAX ||
	    strspn(buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") != n) {
		snprintf(err, errlen, "fleet: host id '%.64s' is not 1..%u of [A-Za-z0-9._:-]", buf,
			 RF_FLEET_HOST_MAX - 1);
		return -EINVAL;
	}
	memcpy(f->host, buf, n + 1);
	return 0;
}

/* ---- scheduling ------------------------------------------------------------ */

static void arm(int tfd, uint64_t at_ns)
{
	struct itimerspec its = {0};

	if (at_ns) {
		its.it_value.tv_sec = (time_t)(at_ns / 1000000000ull);
		its.it_value.tv_nsec = (long)(at_ns % 1000000000ull);
	}
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* poll_s * (0.5 + random[0,1)) from now */
static void schedule_jitter(struct rf_fleet *f, uint64_t base_ms)
{
	uint64_t ms = base_ms / 2 + randombytes_uniform((uint32_t)(base_ms ? base_ms : 1));

	f->next_report_ns = rf_mono_ns() + ms * 1000000ull;
}

/* An install finished or a client crashed: report early, at most once per
 * RF_FLEET_EARLY_MIN_S. */
static void report_soon(struct rf_fleet *f)
{
	uint64_t at = f->last_report_ns + RF_FLEET_EARLY_MIN_S * 1000000000ull, now = rf_mono_ns();

	if (at < now)
		at = now;
	if (at < f->next_report_ns)
		f->next_report_ns = at;
}

/* ---- health ---------------------------------------------------------------- */

static uint64_t proc_ticks(const char *path, bool children)
{
	char buf[1024], *p;
	unsigned long long ut = 0, st = 0, cut = 0, cst = 0;

	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')'); /* comm may hold blanks */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
			 &ut, &st, &cut, &cst) < 2)
		return 0;
	return ut + st + (children ? cut + cst : 0);
}

/* CPU of the daemon and its running clients since the last report, percent of one
 * CPU. Clients that exited in between are counted through cutime/cstime. */
static double cpu_pct(struct rf_fleet *f)
{
	uint64_t ticks = proc_ticks("/proc/self/stat", true), now = rf_mono_ns();
	long hz = sysconf(_SC_CLK_TCK);
	double pct = 0;
	size_t i;

	for (i = 0; i < f->sup->n; i++) {
		char p[64];
		if (!f->sup->v[i].pid)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/stat", (int)f->sup->v[i].pid);
		ticks += proc_ticks(p, false);
	}
	if (f->cpu_ns_last && now > f->cpu_ns_last && ticks >= f->cpu_ticks_last && hz > 0)
		pct = 100.0 * ((double)(ticks - f->cpu_ticks_last) / (double)hz) /
		      ((double)(now - f->cpu_ns_last) / 1e9);
	f->cpu_ticks_last = ticks;
	f->cpu_ns_last = now;
	return pct;
}

static uint64_t crash_sum(const struct rf_supervisor *s)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		n += s->v[i].crashes + s->v[i].rollbacks;
	return n;
}

static const struct failed *failed_find(const struct rf_fleet *f, const char *client, uint64_t version)
{
	size_t i;

	for (i = 0; i < f->nfailed; i++)
		if (!strcmp(f->failed[i].client, client) && (!version || f->failed[i].version == version))
			return &f->failed[i];
	return NULL;
}

static void failed_forget(struct rf_fleet *f, const char *client)
{
	size_t i;

	for (i = 0; i < f->nfailed;)
		if (!strcmp(f->failed[i].client, client))
			f->failed[i] = f->failed[--f->nfailed];
		else
			i++;
}

static void health(struct rf_fleet *f, struct rf_agent_client_health *h, size_t *n)
{
	struct rf_supervisor *s = f->sup;
	size_t i;

	*n = 0;
	for (i = 0; i < s->n && *n < RF_FLEET_CLIENTS_MAX; i++) {
		const struct rf_sup_client *k = &s->v[i];
		const struct rf_manifest *m = rf_manifests_find(&s->b->manifests, k->name);
		struct rf_agent_client_health *c = &h[*n];
		struct rf_content_state st;
		const struct failed *fl;

		if (strlen(k->name) >= sizeof(c->client))
			continue; /* longer than a content client name: not a fleet client */
		memset(c, 0, sizeof(*c));
		snprintf(c->client, sizeof(c->client), "%s", k->name);
		if (m && m->content_store[0] && rf_content_state_read(m->content_store, k->name, &st) == 0) {
			c->version = st.current_version;
			c->good_version = st.good_version;
		}
		c->crashes = k->crashes;
		c->restarts = k->restarts;
		c->rollbacks = k->rollbacks;
		if (f->inst_pid && !strcmp(f->inst_what.client, k->name))
			c->state = "installing";
		else if (f->dl_busy && !strcmp(f->dl_what.client, k->name))
			c->state = "installing";
		else if ((fl = failed_find(f, k->name, 0)) && fl->version > c->version) {
			c->state = "install_failed";
			snprintf(c->error, sizeof(c->error), "%s", fl->error);
		} else if (k->state == RF_SUP_QUARANTINED)
			c->state = "quarantined";
		else if (k->state == RF_SUP_STOPPED)
			c->state = "stopped";
		else if (k->rolled_back)
			c->state = "crash_loop";
		else
			c->state = "running";
		(*n)++;
	}
}

/* ---- curl plumbing ---------------------------------------------------------- */

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct rf_fleet *f = userp;
	struct epoll_event ev = {.data.u64 = TAG(K_SOCK, s)};

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(f->ep, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(f->multi, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (socketp) {
		epoll_ctl(f->ep, EPOLL_CTL_MOD, s, &ev);
	} else {
		epoll_ctl(f->ep, EPOLL_CTL_ADD, s, &ev);
		curl_multi_assign(f->multi, s, (void *)1);
	}
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct rf_fleet *f = userp;

	(void)m;
	if (timeout_ms < 0)
		arm(f->curl_tfd, 0);
	else
		arm(f->curl_tfd, rf_mono_ns() + (uint64_t)timeout_ms * 1000000ull + 1);
	return 0;
}

static size_t resp_write(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct rf_fleet *f = userp;
	size_t n = size * nmemb;

	if (n > RF_FLEET_RESPONSE_MAX - f->resp_len) {
		f->resp_over = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	memcpy(f->resp + f->resp_len, ptr, n);
	f->resp_len += n;
	return n;
}

static size_t dl_write(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct rf_fleet *f = userp;
	size_t n = size * nmemb;

	if (n > RF_BUNDLE_MAX - f->dl_len) {
		f->dl_over = true;
		return 0;
	}
	if (f->dl_len + n > f->dl_cap) {
		size_t cap = f->dl_cap ? f->dl_cap : 65536;
		uint8_t *p;
		while (cap < f->dl_len + n)
			cap *= 2;
		if (cap > RF_BUNDLE_MAX)
			cap = RF_BUNDLE_MAX;
		p = realloc(f->dl_buf, cap);
		if (!p)
			return 0;
		f->dl_buf = p;
		f->dl_cap = cap;
	}
	memcpy(f->dl_buf + f->dl_len, ptr, n);
	f->dl_len += n;
	return n;
}

static void easy_common(CURL *e, long timeout_ms)
{
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(e, CURLOPT_USERAGENT, "ringfence-fleet-agent/1");
}

/* ---- install ----------------------------------------------------------------- */

static void __attribute__((noreturn)) install_child(struct rf_fleet *f, const struct rf_manifest *m,
						    int wfd)
{
	struct install_result res;
	struct rf_install_opts io = {.store = m->content_store};
	struct rf_shadow shadow = {0};
	uint8_t sum[RF_SHA256_LEN];
	char path[4300];
	sigset_t none;
	int fd;

	memset(&res, 0, sizeof(res));
	rf_affinity_restore();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* nothing of the daemon's (client sockets, rings, epoll) stays open in here */
	if (wfd != 3) {
		dup2(wfd, 3);
		wfd = 3;
	}
	syscall(SYS_close_range, 4u, ~0u, 0u);
	rf_sha256(f->dl_buf, f->dl_len, sum);
	if (memcmp(sum, f->dl_what.sha256, RF_SHA256_LEN)) {
		res.ret = -EBADMSG;
		rf_content_err_set(&res.e, RF_CE_HASH_MISMATCH, -EBADMSG,
				   "download: sha256 differs from the controller's (%zu bytes)", f->dl_len);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/fleet-download.%s.%llu.rfb", f->state_dir,
		 f->dl_what.client, (unsigned long long)f->dl_what.version);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, f->dl_buf, f->dl_len) != (ssize_t)f->dl_len) {
		res.ret = -EIO;
		rf_content_err_set(&res.e, RF_CE_IO, -EIO, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		goto out;
	}
	close(fd);
	if (m->shadow[0]) { /* the manifest's shadow command, split on blanks */
		static char cmd[RF_SUP_ARGS_MAX], *argv[RF_SUP_ARGV_MAX + 1];
		char *save = NULL, *tok;
		size_t n = 0;

		snprintf(cmd, sizeof(cmd), "%s", m->shadow);
		for (tok = strtok_r(cmd, " \t", &save); tok && n < RF_SUP_ARGV_MAX;
		     tok = strtok_r(NULL, " \t", &save))
			argv[n++] = tok;
		argv[n] = NULL;
		shadow.argv = argv;
		shadow.capture = m->shadow_capture;
		if (!m->shadow_capture[0]) {
			/* the daemon's recording of its recent events, as this fork of it
			 * holds it: the shadow run sees what the client would see */
			static char cap[4300];
			struct rf_recent_stats rs;
			int r = -ENODATA;

			snprintf(cap, sizeof(cap), "%s/fleet-shadow.%s.rfcap", f->state_dir, m->name);
			if (!f->sup->b->recent || (r = rf_recent_dump(f->sup->b->recent, cap, &rs)) < 0) {
				res.ret = r;
				rf_content_err_set(&res.e, RF_CE_SHADOW, r,
						   "shadow run: no recording of recent events to replay (%s); "
						   "give the manifest a shadow_capture or the daemon --recent-seconds",
						   strerror(-r));
				unlink(path);
				goto out;
			}
			shadow.capture = cap;
		}
		io.shadow = &shadow;
	}
	res.ret = rf_content_install(path, &io, &res.st, &res.e);
	unlink(path);
	if (shadow.capture && !m->shadow_capture[0])
		unlink(shadow.capture);
out:
	(void)!write(wfd, &res, sizeof(res));
	_exit(0);
}

static void install_start(struct rf_fleet *f)
{
	const struct rf_manifest *m = rf_manifests_find(&f->sup->b->manifests, f->dl_what.client);
	struct rf_sup_client *k = rf_sup_find(f->sup, f->dl_what.client);
	struct epoll_event ev = {.events = EPOLLIN};
	int pfd[2];
	pid_t pid;

	if (!m || !m->content_store[0])
		return;
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0) {
		rf_warn("fleet: pipe: %s", strerror(errno));
		return;
	}
	if (k)
		k->installing = true; /* no mark-good of what the child may activate */
	pid = fork();
	if (pid < 0) {
		rf_warn("fleet: fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		if (k)
			k->installing = false;
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		install_child(f, m, pfd[1]);
	}
	close(pfd[1]);
	f->inst_pid = pid;
	f->inst_fd = pfd[0];
	f->inst_start_ns = rf_mono_ns();
	f->inst_what = f->dl_what;
	ev.data.u64 = TAG(K_INSTALL, pfd[0]);
	epoll_ctl(f->ep, EPOLL_CTL_ADD, pfd[0], &ev);
	rf_info("fleet: installing '%s' version %llu (%zu bytes) in child %d%s", f->inst_what.client,
		(unsigned long long)f->inst_what.version, f->dl_len, (int)pid,
		m->shadow[0] ? "" : "; WITHOUT a shadow run (the manifest names no 'shadow')");
}

static void fail_record(struct rf_fleet *f, const struct rf_agent_assign *a, bool retry,
			const char *error)
{
	struct failed *x;

	failed_forget(f, a->client);
	if (f->nfailed >= RF_FLEET_ASSIGN_MAX)
		f->nfailed--;
	x = &f->failed[f->nfailed++];
	snprintf(x->client, sizeof(x->client), "%s", a->client);
	x->version = a->version;
	x->retry = retry;
	snprintf(x->error, sizeof(x->error), "%s", error);
}

static void consider_assignments(struct rf_fleet *f);

static void install_done(struct rf_fleet *f)
{
	struct install_result res;
	struct rf_sup_client *k = rf_sup_find(f->sup, f->inst_what.client);
	ssize_t n = read(f->inst_fd, &res, sizeof(res));
	char msg[600];

	if (n < 0 && errno == EAGAIN)
		return;
	epoll_ctl(f->ep, EPOLL_CTL_DEL, f->inst_fd, NULL);
	close(f->inst_fd);
	f->inst_fd = -1;
	f->inst_pid = 0; /* reaped by the supervisor's waitpid(-1) */
	if (n != (ssize_t)sizeof(res)) {
		memset(&res, 0, sizeof(res));
		res.ret = -EIO;
		rf_content_err_set(&res.e, RF_CE_IO, -EIO, "the install child died without a result");
	}
	if (res.ret == 0) {
		rf_info("fleet: installed '%s' version %llu (slot %c); restarting the client on it",
			f->inst_what.client, (unsigned long long)res.st.current_version,
			res.st.current_slot ? res.st.current_slot : '?');
		failed_forget(f, f->inst_what.client);
		if (rf_sup_content_changed(f->sup, f->inst_what.client) < 0)
			rf_warn("fleet: '%s' is not supervised: it runs the new content at its next start",
				f->inst_what.client);
	} else {
		snprintf(msg, sizeof(msg), "%s: %s", rf_content_code_name(res.e.code), res.e.msg);
		rf_warn("fleet: install of '%s' version %llu refused (%s)", f->inst_what.client,
			(unsigned long long)f->inst_what.version, msg);
		fail_record(f, &f->inst_what, res.e.code == RF_CE_IO, msg);
		if (k)
			k->installing = false;
	}
	report_soon(f);
	consider_assignments(f);
}

/* ---- download ------------------------------------------------------------------ */

static void download_start(struct rf_fleet *f, const struct rf_agent_assign *a)
{
	char url[RF_FLEET_URL_MAX + RF_FLEET_PATH_MAX + 2];

	snprintf(url, sizeof(url), "%s/%s", f->repo, a->path);
	f->dl_what = *a;
	f->dl_len = 0;
	f->dl_over = false;
	curl_easy_reset(f->dl);
	easy_common(f->dl, RF_FLEET_DOWNLOAD_TIMEOUT_MS);
	curl_easy_setopt(f->dl, CURLOPT_URL, url);
	curl_easy_setopt(f->dl, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(f->dl, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->dl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RF_BUNDLE_MAX);
	if (curl_multi_add_handle(f->multi, f->dl) != CURLM_OK) {
		rf_warn("fleet: cannot start the download of %s", url);
		return;
	}
	f->dl_busy = true;
	rf_info("fleet: assigned '%s' version %llu: downloading %s", a->client,
		(unsigned long long)a->version, url);
}

static void download_done(struct rf_fleet *f, CURLcode rc)
{
	long code = 0;
	char msg[300];

	curl_multi_remove_handle(f->multi, f->dl);
	f->dl_busy = false;
	curl_easy_getinfo(f->dl, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK || code != 200) {
		snprintf(msg, sizeof(msg), "IO: download of %s failed: %s", f->dl_what.path,
			 f->dl_over ? "larger than the bundle limit"
			 : rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP status not 200");
		if (rc == CURLE_OK)
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " (%ld)", code);
		rf_warn("fleet: %s", msg);
		fail_record(f, &f->dl_what, !f->dl_over, msg);
		report_soon(f);
	} else {
		install_start(f);
	}
	free(f->dl_buf); /* the child has its own copy */
	f->dl_buf = NULL;
	f->dl_len = f->dl_cap = 0;
}

/* Start the first assignment above what its client runs (one at a time). */
static void consider_assignments(struct rf_fleet *f)
{
	size_t i;

	if (!f->have_last || f->dl_busy || f->inst_pid || f->no_install)
		return;
	for (i = 0; i < f->last.nassign; i++) {
		const struct rf_agent_assign *a = &f->last.assign[i];
		const struct rf_manifest *m = rf_manifests_find(&f->sup->b->manifests, a->client);
		const struct failed *fl = failed_find(f, a->client, a->version);
		struct rf_content_state st;
		uint64_t cur = 0;

		if (!m || !m->content_store[0] || !rf_sup_find(f->sup, a->client))
			continue; /* not a supervised client with a content store here */
		if (a->no_sha256)
			continue; /* never installed without the download check */
		if (rf_content_state_read(m->content_store, a->client, &st) == 0)
			cur = st.highest_version > st.current_version ? st.highest_version
								       : st.current_version;
		if (a->version <= cur)
			continue; /* installed already, or a downgrade: never */
		if (fl && !fl->retry)
			continue; /* refused before: reported as install_failed */
		download_start(f, a);
		return;
	}
}

/* ---- report ----------------------------------------------------------------------- */

static void report_send(struct rf_fleet *f)
{
	struct rf_agent_client_health h[RF_FLEET_CLIENTS_MAX];
	struct rf_agent_report r = {0};
	struct rf_status_auth as = {0};
	char sig[2 * RF_SIG_LEN + 1], hdr[64 + sizeof(sig)], url[RF_FLEET_URL_MAX + 16], seqbuf[32];
	char *att = NULL;
	size_t cap;
	int n;

	health(f, h, &r.nclients);
	r.clients = h;
	r.host = f->host;
	memcpy(r.key, f->pk, RF_PUBKEY_LEN);
	r.seq = ++f->seq;
	r.time = (uint64_t)time(NULL);
	r.internal = f->internal;
	if (f->sup->b->auth.status) {
		f->sup->b->auth.status(f->sup->b->auth.ctx, &as);
		r.auth_misses = as.deadline_misses;
	}
	r.drops = f->sup->b->dropped_total;
	r.cpu_pct = cpu_pct(f);
	r.uptime_s = (rf_mono_ns() - f->start_ns) / 1000000000ull;
	r.nonce = f->nonce;
	if (rf_fleet_attest_hook) { /* issue 10: a quote over the controller's nonce */
		uint8_t raw[RF_FLEET_NONCE_MAX / 2];
		size_t rl = strlen(f->nonce) / 2;
		int ar = (rl && rf_unhex(f->nonce, raw, rl) < 0) ? -EINVAL
			 : rf_fleet_attest_hook(raw, rl, &att);
		if (ar < 0) { /* -ENODATA: no nonce yet (the first report) */
			if (ar != -ENODATA)
				rf_warn("fleet: no attestation for this report: %s", strerror(-ar));
			att = NULL;
		}
	}
	r.attestation = att;
	cap = att ? RF_FLEET_REPORT_ATTEST_MAX : RF_FLEET_REPORT_MAX;
	free(f->body);
	f->body = malloc(cap);
	if (!f->body)
		goto out;
	n = rf_agent_report_build(&r, f->body, cap);
	if (n < 0 || rf_agent_report_sign(f->body, (size_t)n, f->sk, sig) < 0) {
		rf_err("fleet: cannot build the report: %s", strerror(n < 0 ? -n : ENOMEM));
		goto out;
	}
	snprintf(seqbuf, sizeof(seqbuf), "%llu\n", (unsigned long long)f->seq);
	if (write_small(f->state_dir, "fleet.seq", seqbuf) < 0)
		rf_warn("fleet: cannot record the report sequence in %s/fleet.seq", f->state_dir);
	curl_slist_free_all(f->rep_hdrs);
	f->rep_hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	snprintf(hdr, sizeof(hdr), "X-Ringfence-Signature: %s", sig);
	f->rep_hdrs = curl_slist_append(f->rep_hdrs, hdr);
	f->rep_hdrs = curl_slist_append(f->rep_hdrs, "Expect:");
	snprintf(url, sizeof(url), "%s/v1/report", f->url);
	f->resp_len = 0;
	f->resp_over = false;
	curl_easy_reset(f->rep);
	easy_common(f->rep, RF_FLEET_HTTP_TIMEOUT_MS);
	curl_easy_setopt(f->rep, CURLOPT_URL, url);
	curl_easy_setopt(f->rep, CURLOPT_HTTPHEADER, f->rep_hdrs);
	curl_easy_setopt(f->rep, CURLOPT_POSTFIELDS, f->body);
	curl_easy_setopt(f->rep, CURLOPT_POSTFIELDSIZE, (long)n);
	curl_easy_setopt(f->rep, CURLOPT_WRITEFUNCTION, resp_write);
	curl_easy_setopt(f->rep, CURLOPT_WRITEDATA, f);
	if (curl_multi_add_handle(f->multi, f->rep) != CURLM_OK)
		goto out;
	f->rep_busy = true;
	f->last_report_ns = rf_mono_ns();
	f->early = false;
	f->reported_crashes = crash_sum(f->sup);
	rf_debug("fleet: report %llu: %d bytes", (unsigned long long)f->seq, n);
out:
	free(att);
	if (!f->rep_busy) /* try again later */
		schedule_jitter(f, 1000ull * (f->poll_s ? f->poll_s : 1));
}

static void report_done(struct rf_fleet *f, CURLcode rc)
{
	struct rf_agent_response resp;
	char err[256];
	long code = 0;
	uint64_t delay_s;

	curl_multi_remove_handle(f->multi, f->rep);
	f->rep_busy = false;
	curl_easy_getinfo(f->rep, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK && code == 200) {
		if (rf_agent_response_parse(f->resp, f->resp_len, &resp, err, sizeof(err)) == 0) {
			if (f->errors)
				rf_info("fleet: controller reachable again after %u failed reports", f->errors);
			f->errors = 0;
			f->seq_skip = 0;
			f->poll_s = resp.poll_s;
			snprintf(f->nonce, sizeof(f->nonce), "%s", resp.nonce);
			if (strcmp(f->ring, resp.ring))
				rf_info("fleet: this host is in ring '%s'", resp.ring);
			snprintf(f->ring, sizeof(f->ring), "%s", resp.ring);
			f->last = resp;
			f->have_last = true;
			schedule_jitter(f, 1000ull * f->poll_s);
			consider_assignments(f);
			return;
		}
		rf_warn("fleet: report %llu: refused the controller's response: %s",
			(unsigned long long)f->seq, err);
	} else if (rc != CURLE_OK) {
		rf_warn("fleet: report %llu failed: %s", (unsigned long long)f->seq,
			f->resp_over ? "response larger than the limit" : curl_easy_strerror(rc));
	} else {
		if (code == 409) { /* our seq is behind the controller's (state lost?): skip ahead */
			f->seq_skip = f->seq_skip ? f->seq_skip * 2 : RF_FLEET_SEQ_SKIP;
			if (f->seq_skip > (1ull << 40))
				f->seq_skip = 1ull << 40;
			f->seq += f->seq_skip;
		}
		f->resp[f->resp_len < RF_FLEET_RESPONSE_MAX ? f->resp_len : RF_FLEET_RESPONSE_MAX] = 0;
		f->resp[strcspn(f->resp, "\r\n")] = 0;
		rf_warn("fleet: report %llu: controller answered %ld%s%.120s", (unsigned long long)f->seq,
			code, f->resp_len ? ": " : "", f->resp_len ? f->resp : "");
	}
	/* any error: back off, doubling up to RF_FLEET_BACKOFF_MAX_S; the content
	 * that runs is not touched */
	f->errors++;
	delay_s = f->poll_s ? f->poll_s : 1;
	for (unsigned i = 1; i < f->errors && delay_s < RF_FLEET_BACKOFF_MAX_S; i++)
		delay_s *= 2;
	if (delay_s > RF_FLEET_BACKOFF_MAX_S)
		delay_s = RF_FLEET_BACKOFF_MAX_S;
	schedule_jitter(f, delay_s * 1000ull);
}

static void check_done(struct rf_fleet *f)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(f->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (msg->easy_handle == f->rep)
			report_done(f, msg->data.result);
		else if (msg->easy_handle == f->dl)
			download_done(f, msg->data.result);
	}
}

/* Once a second and at the report time: early reports, install time-outs, the
 * report itself. */
static void tick(struct rf_fleet *f)
{
	uint64_t now = rf_mono_ns(), next;

	if (crash_sum(f->sup) != f->reported_crashes && !f->early) {
		f->early = true;
		report_soon(f);
	}
	if (f->inst_pid && now - f->inst_start_ns > RF_FLEET_INSTALL_TIMEOUT_S * 1000000000ull) {
		rf_warn("fleet: install of '%s' version %llu ran over %u s: killed", f->inst_what.client,
			(unsigned long long)f->inst_what.version, RF_FLEET_INSTALL_TIMEOUT_S);
		kill(-f->inst_pid, SIGKILL);
		kill(f->inst_pid, SIGKILL);
		f->inst_start_ns = now; /* the pipe's EOF ends it */
	}
	if (!f->rep_busy && now >= f->next_report_ns)
		report_send(f);
	next = now + 1000000000ull;
	if (!f->rep_busy && f->next_report_ns < next)
		next = f->next_report_ns > now ? f->next_report_ns : now + 1000000ull;
	arm(f->sched_fd, next);
}

/* ---- public ------------------------------------------------------------------------- */

int rf_fleet_fd(const struct rf_fleet *f)
{
	return f->ep;
}

void rf_fleet_run(struct rf_fleet *f)
{
	struct epoll_event evs[16];
	int i, n, running;
	uint64_t x;

	n = epoll_wait(f->ep, evs, 16, 0);
	for (i = 0; i < n; i++) {
		int kind = (int)(evs[i].data.u64 >> 32), fd = (int)(uint32_t)evs[i].data.u64;

		switch (kind) {
		case K_SOCK: {
			int fl = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				 (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				 (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
			curl_multi_socket_action(f->multi, fd, fl, &running);
			break;
		}
		case K_CURLTIMER:
			(void)!read(f->curl_tfd, &x, sizeof(x));
			curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
			break;
		case K_INSTALL:
			if (f->inst_fd >= 0)
				install_done(f);
			break;
		case K_SCHED:
			(void)!read(f->sched_fd, &x, sizeof(x));
			break;
		}
		check_done(f);
	}
	tick(f);
}

int rf_fleet_open(const struct rf_fleet_opts *o, struct rf_supervisor *sup, struct rf_fleet **ret,
		  char *err, size_t errlen)
{
	struct rf_fleet *f;
	struct epoll_event ev = {.events = EPOLLIN};
	char path[4200], buf[64];
	int r = -ENOMEM;

	if (!o->url || !o->repo || strlen(o->url) >= RF_FLEET_URL_MAX ||
	    strlen(o->repo) >= RF_FLEET_URL_MAX || strlen(o->state_dir) >= 4096) {
		snprintf(err, errlen, "fleet: give --fleet URL and --fleet-repo URL (at most %u bytes each)",
			 RF_FLEET_URL_MAX - 1);
		return -EINVAL;
	}
	if (strncmp(o->url, "http://", 7) && strncmp(o->url, "https://", 8)) {
		snprintf(err, errlen, "fleet: --fleet wants an http:// or https:// URL");
		return -EINVAL;
	}
	if (strncmp(o->repo, "http://", 7) && strncmp(o->repo, "https://", 8)) {
		snprintf(err, errlen, "fleet: --fleet-repo wants an http:// or https:// URL");
		return -EINVAL;
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "fleet: libsodium failed to initialise");
		return -EIO;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "fleet: out of memory");
		return -ENOMEM;
	}
	f->sup = sup;
	f->ep = f->sched_fd = f->curl_tfd = f->inst_fd = -1;
	f->internal = o->internal;
	f->no_install = o->no_install;
	f->poll_s = o->poll_s ? o->poll_s : RF_FLEET_POLL_DEFAULT_S;
	f->start_ns = rf_mono_ns();
	snprintf(f->url, sizeof(f->url), "%s", o->url);
	snprintf(f->repo, sizeof(f->repo), "%s", o->repo);
	while (strlen(f->url) > 8 && f->url[strlen(f->url) - 1] == '/')
		f->url[strlen(f->url) - 1] = 0;
	while (strlen(f->repo) > 8 && f->repo[strlen(f->repo) - 1] == '/')
		f->repo[strlen(f->repo) - 1] = 0;
	snprintf(f->state_dir, sizeof(f->state_dir), "%s", o->state_dir);
	if (mkdir(f->state_dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "fleet: cannot create %s: %s", f->state_dir, strerror(errno));
		goto fail;
	}
	if ((r = host_id(f, o->host, err, errlen)) < 0 || (r = load_key(f, err, errlen)) < 0)
		goto fail;
	/* fleet.seq is written without fsync (once per report): after a power loss it
	 * may lag the last report sent, so a start skips ahead; the controller only
	 * wants each report's seq above the last it accepted */
	snprintf(path, sizeof(path), "%s/fleet.seq", f->state_dir);
	if (read_small(path, buf, sizeof(buf)) > 0)
		f->seq = strtoull(buf, NULL, 10) + RF_FLEET_SEQ_SKIP;
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	f->sched_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	f->curl_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (f->ep < 0 || f->sched_fd < 0 || f->curl_tfd < 0) {
		r = -errno;
		snprintf(err, errlen, "fleet: epoll/timerfd: %s", strerror(errno));
		goto fail;
	}
	ev.data.u64 = TAG(K_SCHED, f->sched_fd);
	epoll_ctl(f->ep, EPOLL_CTL_ADD, f->sched_fd, &ev);
	ev.data.u64 = TAG(K_CURLTIMER, f->curl_tfd);
	epoll_ctl(f->ep, EPOLL_CTL_ADD, f->curl_tfd, &ev);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(f->multi = curl_multi_init()) || !(f->rep = curl_easy_init()) ||
	    !(f->dl = curl_easy_init())) {
		r = -ENOMEM;
		snprintf(err, errlen, "fleet: libcurl failed to initialise");
		goto fail;
	}
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	f->next_report_ns = rf_mono_ns(); /* the first report at once */
	arm(f->sched_fd, f->next_report_ns + 1000);
	rf_info("fleet: host %s%s reports to %s every ~%u s; repository %s%s", f->host,
		f->internal ? " (internal)" : "", f->url, f->poll_s, f->repo,
		f->no_install ? "; SAFE MODE: nothing is installed" : "");
	*ret = f;
	return 0;
fail:
	rf_fleet_free(f);
	return r;
}

void rf_fleet_free(struct rf_fleet *f)
{
	if (!f)
		return;
	if (f->inst_pid > 0) {
		kill(-f->inst_pid, SIGKILL);
		kill(f->inst_pid, SIGKILL);
	}
	if (f->inst_fd >= 0)
		close(f->inst_fd);
	if (f->multi) {
		if (f->rep_busy)
			curl_multi_remove_handle(f->multi, f->rep);
		if (f->dl_busy)
			curl_multi_remove_handle(f->multi, f->dl);
	}
	if (f->rep)
		curl_easy_cleanup(f->rep);
	if (f->dl)
		curl_easy_cleanup(f->dl);
	if (f->multi)
		curl_multi_cleanup(f->multi);
	curl_slist_free_all(f->rep_hdrs);
	free(f->body);
	free(f->dl_buf);
	if (f->ep >= 0)
		close(f->ep);
	if (f->sched_fd >= 0)
		close(f->sched_fd);
	if (f->curl_tfd >= 0)
		close(f->curl_tfd);
	sodium_memzero(f->sk, sizeof(f->sk));
	free(f);
}
