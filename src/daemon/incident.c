// SPDX-License-Identifier: MIT
/*
 * incident.c: reporting what the kernel refuses our clients without killing them
 * (incident.h, docs/supervisor.md "Incidents").
 *
 * Landlock denials: each client restricts itself with
 * LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (supervisor.c), so its denials reach the
 * audit subsystem (kernel 6.15+, audit enabled). We listen on NETLINK_AUDIT's
 * read-only multicast group, which does not compete with auditd. A denial record
 * (LANDLOCK_ACCESS) names the domain, not the process; the domain's first denial is
 * followed, in the same audit event, by a LANDLOCK_DOMAIN "allocated" record naming
 * the pid that created it: our client, which restricted itself and then exec'd in
 * place. Denials whose domain is not known yet wait (a few) for that record or for
 * the event's SYSCALL record, which also names the pid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/log.h"
#include "daemon/incident.h"
#include "daemon/supervisor.h"
#include "common/clock.h"

#ifndef NETLINK_AUDIT
#define NETLINK_AUDIT 9
#endif
#define AUDIT_NLGRP_READLOG_BIT 1u /* group 1: read-only log listeners */
#define AUDIT_MSG_MAX 8970         /* MAX_AUDIT_MESSAGE_LENGTH */

/* ---- record parser (kernel text, carrying user-chosen paths) ---------------- */

/* Copy value V (VLEN bytes) into OUT: quoted strings without their quotes, bare
 * values as they are, or hex-decoded when HEX and the value is valid hex. */
static void copy_value(const char *v, size_t vlen, char *out, size_t outsz, bool hex)
{
	size_t i, o = 0;

	if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
		v++;
		vlen -= 2;
		hex = false;
	}
	if (hex && vlen % 2 == 0 && vlen) {
		for (i = 0; i < vlen; i++)
			if (rf_hexval(v[i]) < 0)
				hex = false;
	} else {
		hex = false;
	}
	if (hex) {
		for (i = 0; i + 1 < vlen && o + 1 < outsz; i += 2) {
			char c = (char)(rf_hexval(v[i]) << 4 | rf_hexval(v[i + 1]));
			out[o++] = c ? c : '?';
		}
	} else {
		for (i = 0; i < vlen && o + 1 < outsz; i++)
			out[o++] = v[i];
	}
	out[o] = 0;
}

int rf_audit_parse(const char *t, size_t len, struct rf_audit_rec *r)
{
	size_t i = 0, colon;
	const char *end = t + len;

	memset(r, 0, sizeof(*r));
	if (len < 9 || memcmp(t, "audit(", 6))
		return -EBADMSG;
	for (i = 6; i < len && t[i] != ')'; i++)
		;
	if (i >= len)
		return -EBADMSG;
	for (colon = i; colon > 6 && t[colon] != ':'; colon--)
		;
	if (t[colon] != ':')
		return -EBADMSG;
	for (size_t k = colon + 1; k < i; k++) {
		if (t[k] < '0' || t[k] > '9')
			return -EBADMSG;
		r->serial = r->serial * 10 + (uint64_t)(t[k] - '0');
	}
	t += i + 1;
	while (t < end) {
		const char *key, *eq, *v;
		size_t klen, vlen;

		while (t < end && (*t == ' ' || *t == ':' || *t == '\n' || *t == '\0'))
			t++;
		key = t;
		while (t < end && *t != '=' && *t != ' ')
			t++;
		if (t >= end || *t != '=')
			continue; /* a word without a value */
		eq = t;
		klen = (size_t)(eq - key);
		v = ++t;
		if (t < end && *t == '"') { /* quoted: up to the closing quote */
			t++;
			while (t < end && *t != '"')
				t++;
			if (t < end)
				t++;
		} else {
			while (t < end && *t != ' ')
				t++;
		}
		vlen = (size_t)(t - v);
#define KEY(s) (klen == sizeof(s) - 1 && !memcmp(key, s, sizeof(s) - 1))
		if (KEY("domain")) {
			uint64_t d = 0;
			size_t k;
			for (k = 0; k < vlen && k < 16 && rf_hexval(v[k]) >= 0; k++)
				d = d << 4 | (uint64_t)rf_hexval(v[k]);
			r->domain = k == vlen ? d : 0;
		} else if (KEY("pid")) {
			long p = 0;
			size_t k;
			for (k = 0; k < vlen && k < 10 && v[k] >= '0' && v[k] <= '9'; k++)
				p = p * 10 + (v[k] - '0');
			r->pid = k == vlen ? p : 0;
		} else if (KEY("status")) {
			copy_value(v, vlen, r->status, sizeof(r->status), false);
		} else if (KEY("blockers")) {
			copy_value(v, vlen, r->blockers, sizeof(r->blockers), false);
		} else if (KEY("path") || KEY("name")) {
			copy_value(v, vlen, r->path, sizeof(r->path), true);
		}
#undef KEY
	}
	return 0;
}

/* ---- incidents ---------------------------------------------------------------- */

static struct rf_sup_client *client_by_pid(struct rf_supervisor *s, pid_t pid)
{
	size_t i;

	for (i = 0; pid > 0 && i < s->n; i++)
		if (s->v[i].pid == pid)
			return &s->v[i];
	return NULL;
}

void rf_sup_incident(struct rf_supervisor *s, pid_t pid, const char *fmt, ...)
{
	struct rf_sup_client *k = client_by_pid(s, pid);
	uint64_t now = rf_mono_ns();
	char what[512];
	va_list ap;

	if (!k)
		return;
	k->incidents++;
	if (now - k->incident_minute_ns > 60000000000ull) {
		if (k->incidents_logged > RF_SUP_INCIDENT_LOG_MAX)
			rf_warn("supervisor: incident: client '%s': %u more incidents not logged",
				k->name, k->incidents_logged - RF_SUP_INCIDENT_LOG_MAX);
		k->incident_minute_ns = now;
		k->incidents_logged = 0;
	}
	if (++k->incidents_logged > RF_SUP_INCIDENT_LOG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	rf_warn("supervisor: incident: client '%s' (pid %d): %s (incident %u)", k->name, (int)pid,
		what, k->incidents);
}

int rf_sup_audit_open(struct rf_supervisor *s)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = AUDIT_NLGRP_READLOG_BIT};
	int fd, rcv = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	s->audit_fd = fd;
	return fd;
}

static pid_t domain_owner(struct rf_supervisor *s, uint64_t domain)
{
	unsigned i;

	for (i = 0; i < RF_SUP_LANDLOCK_DOMAINS; i++)
		if (s->domains[i].domain == domain)
			return s->domains[i].pid;
	return 0;
}

/* The open that the seccomp listener reported a moment ago, denied now by Landlock:
 * one incident, not two. */
static bool merged_with_open(struct rf_supervisor *s, pid_t pid, const char *path)
{
	struct rf_sup_client *k = client_by_pid(s, pid);

	return k && path[0] && !strcmp(k->last_open_incident, path) &&
	       rf_mono_ns() - k->last_open_incident_ns < 2000000000ull;
}

static void report_denial(struct rf_supervisor *s, pid_t pid, const char *blockers,
			  const char *path)
{
	if (!merged_with_open(s, pid, path))
		rf_sup_incident(s, pid, "denied by the sandbox (Landlock %s): %s", blockers,
				path[0] ? path : "-");
}

static void domain_learn(struct rf_supervisor *s, uint64_t domain, pid_t pid)
{
	unsigned i;

	if (!domain || !client_by_pid(s, pid) || domain_owner(s, domain))
		return;
	i = s->ndomains_next++ % RF_SUP_LANDLOCK_DOMAINS;
	s->domains[i].domain = domain;
	s->domains[i].pid = pid;
	/* denials of this domain that waited for it */
	for (i = 0; i < RF_SUP_AUDIT_PENDING; i++)
		if (s->pending[i].domain == domain) {
			report_denial(s, pid, s->pending[i].blockers, s->pending[i].path);
			s->pending[i].domain = 0;
		}
}

static void domain_forget(struct rf_supervisor *s, uint64_t domain)
{
	unsigned i;

	for (i = 0; i < RF_SUP_LANDLOCK_DOMAINS; i++)
		if (s->domains[i].domain == domain)
			s->domains[i].domain = 0;
}

static void on_record(struct rf_supervisor *s, int type, const char *text, size_t len)
{
	struct rf_audit_rec r;
	unsigned i;
	pid_t pid;

	if (rf_audit_parse(text, len, &r) < 0)
		return;
	if (type == RF_AUDIT_LANDLOCK_DOMAIN) {
		if (!strcmp(r.status, "allocated"))
			domain_learn(s, r.domain, (pid_t)r.pid);
		else if (!strcmp(r.status, "deallocated"))
			domain_forget(s, r.domain);
		return;
	}
	if (type == RF_AUDIT_SYSCALL) {
		for (i = 0; i < RF_SUP_AUDIT_PENDING; i++)
			if (s->pending[i].domain && s->pending[i].serial == r.serial)
				domain_learn(s, s->pending[i].domain, (pid_t)r.pid);
		return;
	}
	if (!r.domain)
		return;
	pid = domain_owner(s, r.domain);
	if (pid) {
		report_denial(s, pid, r.blockers, r.path);
		return;
	}
	i = s->npending_next++ % RF_SUP_AUDIT_PENDING;
	s->pending[i].serial = r.serial;
	s->pending[i].domain = r.domain;
	snprintf(s->pending[i].blockers, sizeof(s->pending[i].blockers), "%s", r.blockers);
	snprintf(s->pending[i].path, sizeof(s->pending[i].path), "%s", r.path);
}

void rf_sup_audit_read(struct rf_supervisor *s)
{
	static char buf[AUDIT_MSG_MAX + 256] __attribute__((aligned(8)));
	bool want_syscall;
	unsigned i;

	for (;;) {
		ssize_t n = recv(s->audit_fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < 0) {
			if (errno == ENOBUFS)
				rf_warn("supervisor: audit records lost (socket buffer full): "
					"sandbox denials may go unreported");
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			return; /* EAGAIN */
		}
		if ((size_t)n < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > (size_t)n)
			continue;
		want_syscall = false;
		for (i = 0; i < RF_SUP_AUDIT_PENDING; i++)
			want_syscall |= s->pending[i].domain != 0;
		if (h->nlmsg_type == RF_AUDIT_LANDLOCK_ACCESS || h->nlmsg_type == RF_AUDIT_LANDLOCK_DOMAIN ||
		    (h->nlmsg_type == RF_AUDIT_SYSCALL && want_syscall))
			on_record(s, h->nlmsg_type, (const char *)NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN);
	}
}

static unsigned count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

void rf_sup_sample_fds(struct rf_supervisor *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct rf_sup_client *k = &s->v[i];
		const struct rf_manifest *m = rf_manifests_find(&s->b->manifests, k->name);
		unsigned n;

		if (k->state != RF_SUP_RUNNING || !k->pid)
			continue;
		if (!m || !m->nofile)
			continue;
		n = count_fds(k->pid);
		if (n >= m->nofile && !k->at_fd_limit)
			rf_sup_incident(s, k->pid, "at its descriptor limit (%u open, nofile = %u): "
				       "further opens fail with EMFILE", n, m->nofile);
		k->at_fd_limit = n >= m->nofile;
	}
}

/* ---- opens outside the sandbox (seccomp user notification) -------------------- */

/* Lexically normalise absolute PATH in place: "//", "." and ".." removed. */
static void normalise(char *path)
{
	char *out = path, *p = path;

	while (*p) {
		while (*p == '/')
			p++;
		char *seg = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - seg);
		if (!n || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > path && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		memmove(out, seg, n);
		out += n;
	}
	if (out == path)
		*out++ = '/';
	*out = 0;
}

/* The path argument of the open in REQ, made absolute (relative to the directory
 * descriptor or the cwd of the caller). Returns 0 or -errno. */
static int open_path(const struct seccomp_notif *req, char *out, size_t len)
{
	int nr = req->data.nr, dirfd = AT_FDCWD, fd;
	uint64_t addr;
	char buf[PATH_MAX], link[64], base[PATH_MAX];
	ssize_t n;

	if (nr == __NR_open) {
		addr = req->data.args[0];
	} else {
		addr = req->data.args[1];
		dirfd = (int)req->data.args[0];
	}
	snprintf(link, sizeof(link), "/proc/%u/mem", req->pid);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, sizeof(buf) - 1, (off_t)addr);
	close(fd);
	if (n <= 0)
		return -EFAULT;
	buf[n] = 0;
	if (strnlen(buf, (size_t)n) == (size_t)n)
		return -ENAMETOOLONG;
	if (buf[0] == '/') {
		snprintf(out, len, "%s", buf);
	} else {
		if (dirfd == AT_FDCWD)
			snprintf(link, sizeof(link), "/proc/%u/cwd", req->pid);
		else
			snprintf(link, sizeof(link), "/proc/%u/fd/%d", req->pid, dirfd);
		n = readlink(link, base, sizeof(base) - 1);
		if (n <= 0)
			return -errno;
		base[n] = 0;
		snprintf(out, len, "%s/%s", base, buf);
	}
	normalise(out);
	return 0;
}

static void notify_one(struct rf_supervisor *s, struct rf_sup_client *k)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	char path[PATH_MAX];
	int r;

	if (seccomp_notify_alloc(&req, &resp) < 0)
		return;
	if (seccomp_notify_receive(k->notify_fd, req) < 0)
		goto out;
	r = open_path(req, path, sizeof(path));
	/* the path was read from a live process: only trust it while the request is */
	if (r == 0 && seccomp_notify_id_valid(k->notify_fd, req->id) == 0 &&
	    !rf_sup_sandbox_allows(s, k, path)) {
		snprintf(k->last_open_incident, sizeof(k->last_open_incident), "%s", path);
		k->last_open_incident_ns = rf_mono_ns();
		rf_sup_incident(s, (pid_t)req->pid, "tried to open %s, outside its sandbox "
				"(the kernel refuses it)", path);
	}
	resp->id = req->id;
	resp->error = 0;
	resp->val = 0;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE; /* the kernel decides */
	(void)seccomp_notify_respond(k->notify_fd, resp);
out:
	seccomp_notify_free(req, resp);
}

int rf_sup_notify_fd(const struct rf_supervisor *s)
{
	return s->notify_ep;
}

void rf_sup_notify_read(struct rf_supervisor *s)
{
	struct epoll_event ev[16];
	int n, i, rounds;

	for (rounds = 0; rounds < 64; rounds++) {
		n = epoll_wait(s->notify_ep, ev, 16, 0);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			struct rf_sup_client *k = ev[i].data.ptr;

			if (k->notify_fd < 0)
				continue;
			if (ev[i].events & EPOLLIN)
				notify_one(s, k);
			else if (ev[i].events & (EPOLLHUP | EPOLLERR)) {
				epoll_ctl(s->notify_ep, EPOLL_CTL_DEL, k->notify_fd, NULL);
			}
		}
	}
}
