// SPDX-License-Identifier: MIT
/* auth.c: AUTH requests from fanotify permission events (auth.h, docs/auth.md). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/path.h"
#include "common/log.h"
#include "daemon/auth.h"
#include "ringfence/ringfence.h"
#include "common/clock.h"

_Static_assert(sizeof(struct rf_ev_auth_exec) == sizeof(struct rf_ev_auth_open),
	       "auth_exec and auth_open share one layout");
_Static_assert((RF_AUTH_PENDING_MAX & (RF_AUTH_PENDING_MAX - 1)) == 0, "pending table power of two");
_Static_assert((RF_AUTH_CACHE_MAX & (RF_AUTH_CACHE_MAX - 1)) == 0, "cache power of two");

#define LAT_RING 4096u

struct pend {
	uint64_t id;        /* 0: free slot */
	int fd;             /* the fanotify event's file */
	uint32_t pid;
	uint8_t cls_ix;     /* 0 exec, 1 open */
	bool fail_closed, deny, cacheable, have_key;
	uint64_t t0, sent, deadline;
	uint64_t st_rt;     /* CLOCK_REALTIME of the fstat (the cache's racy rule) */
	uint64_t cache_gen; /* auth->cache_gen when asked: a verdict given while the clients
			     * or their mutes changed is not cached, grants nothing */
	struct stat st;     /* file identity for the cache */
	unsigned char *ev;  /* the request event, for the report to NOTIFY subscribers */
	/* `ringfence auth test`: no kernel request; the answers go back to requester */
	bool test;
	/* exec: some AUTH client of the class was not asked or did not allow in time
	 * (muted, ring full, missed, denied): the exec grants nothing for its open */
	bool not_all;
	bool covered;       /* open: the clients that allowed its exec were not asked */
	uint32_t requester, req_msg_id, nres;
	struct rf_auth_result_entry *res;
	uint32_t nwait;
	/* last: a new request clears everything before it (offsetof(struct pend, wait)) */
	uint32_t wait[RF_CLIENTS_MAX]; /* conn ids that still owe a verdict */
};

struct cache_ent {
	uint64_t gen;       /* == auth->cache_gen when valid */
	dev_t dev;
	ino_t ino;
	struct timespec ctime, mtime;
	off_t size;
	uint8_t cls_ix, deny, fail_closed;
};

/* An allowed exec covers the open of the same file that the kernel asks about
 * right after it (docs/auth.md, "An exec's open"). */
struct exec_grant {
	uint64_t gen;       /* == auth->cache_gen: the same AUTH clients as at the exec */
	uint64_t until;     /* CLOCK_MONOTONIC; 0: unused */
	uint32_t pid;
	dev_t dev;
	ino_t ino;
};

struct rf_auth {
	struct rf_auth_opts o;
	struct rf_broker *b;
	int fan, tfd;
	pid_t self, parent;
	struct pend *pend;      /* RF_AUTH_PENDING_MAX */
	uint32_t *freelist, nfree;
	uint64_t gen;           /* request id = gen * RF_AUTH_PENDING_MAX + slot */
	uint64_t armed;         /* deadline the timer is set to (0: none) */
	struct cache_ent *cache; /* RF_AUTH_CACHE_MAX */
	struct exec_grant grants[RF_AUTH_EXEC_GRANTS_MAX]; /* by pid */
	int fan_flags;          /* F_GETFL of the event files: the group's, read once */
	uint64_t cache_gen;
	uint64_t mask;          /* fanotify events marked now */
	struct rf_status_auth st;
	uint32_t *lat;          /* last LAT_RING decision times (µs) */
	uint32_t nlat;
	/* daemon-side round trips (ns) per kind, RF_AUTH_RT_RING each */
	uint32_t *rt[4];
	/* kernel-level cache: the mark flags that work here (0: off), marks added */
	unsigned kc_flags;
	uint32_t kc_n;
	unsigned char evbuf[RF_EVENT_MAX] __attribute__((aligned(8))); /* events are 8-aligned */
};

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

static void arm(struct rf_auth *a, uint64_t when)
{
	struct itimerspec its = {{0, 0}, {0, 0}};

	if (a->armed && a->armed <= when)
		return;
	a->armed = when;
	its.it_value.tv_sec = (time_t)(when / 1000000000ull);
	its.it_value.tv_nsec = (long)(when % 1000000000ull);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	timerfd_settime(a->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static bool default_deny(const struct rf_auth *a, const struct pend *p)
{
	return p->fail_closed || a->o.default_deny;
}

/* Returns the time of the answer (CLOCK_MONOTONIC), taken right before the write:
 * the write wakes the waiting task, which may preempt the daemon before the write
 * returns, and its run is not the daemon's round trip. */
static uint64_t answer_kernel(struct rf_auth *a, int fd, bool deny)
{
	struct fanotify_response r = {.fd = fd, .response = deny ? FAN_DENY : FAN_ALLOW};
	uint64_t t = rf_mono_ns();

	/* The group is non-blocking; a write of a response never waits. A failure
	 * (the event is gone) leaves nothing to do but count it. */
	if (write(a->fan, &r, sizeof(r)) != sizeof(r))
		rf_warn("auth: answering the kernel for fd %d failed: %s", fd, strerror(errno));
	if (deny)
		a->st.denied++;
	else
		a->st.allowed++;
	return t;
}

static size_t cache_ix(dev_t dev, ino_t ino, unsigned cls_ix)
{
	/* the class goes into the mixed bits too: an exec's two requests (exec, then
	 * open of the same file) must not share, and evict each other from, one slot */
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev * 0xC2B2AE3D27D4EB4Full ^
		     (uint64_t)(cls_ix + 1) * 0x165667B19E3779F9ull;

	return (size_t)(h >> 17) & (RF_AUTH_CACHE_MAX - 1);
}

/* The daemon-side round trip of one request: from reading its event to writing
 * the answer (kind RF_AUTH_RT_*; t_ans from answer_kernel). */
static void record_rt(struct rf_auth *a, unsigned kind, uint64_t t_read, uint64_t t_ans)
{
	uint64_t ns = t_ans - t_read;

	a->rt[kind][a->st.rt[kind].n++ % RF_AUTH_RT_RING] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	if (ns > a->st.rt[kind].max_ns)
		a->st.rt[kind].max_ns = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* ---- kernel-level verdict cache (docs/auth.md, "Verdict cache") ----------------
 * An allow that may be cached becomes a fanotify ignore mark on the file's inode for
 * the event type: the kernel then lets later execs (opens) of that inode through
 * without asking the daemon. The ignore mask is added without
 * FAN_MARK_IGNORED_SURV_MODIFY, so the kernel clears it at the next modification of
 * the file (write, truncate); marks are evictable (they do not pin the inode). Every
 * change that could change a verdict flushes them all (kcache_flush). */

#ifndef FAN_MARK_IGNORE
#define FAN_MARK_IGNORE 0x00000400
#endif
#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200
#endif

static void kcache_flush(struct rf_auth *a)
{
	if (!a->kc_n)
		return;
	/* without FAN_MARK_MOUNT: every inode mark of the group (the only inode marks
	 * are the ignore marks; the mounts stay marked) */
	if (fanotify_mark(a->fan, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL) < 0) {
		/* the marks stay: nothing may be answered from them any more */
		rf_err("auth: cannot flush the kernel verdict cache: %s; kernel cache off",
		       strerror(errno));
		a->kc_flags = 0;
		a->st.kcache_on = 0;
	}
	a->kc_n = 0;
	a->st.kcache_marks = 0;
	a->st.kcache_flushes++;
}

static bool same_file_state(const struct stat *x, const struct stat *y)
{
	return x->st_dev == y->st_dev && x->st_ino == y->st_ino && x->st_size == y->st_size &&
	       ts_ns(&x->st_mtim) == ts_ns(&y->st_mtim) && ts_ns(&x->st_ctim) == ts_ns(&y->st_ctim);
}

/* May an allow of class cls_ix for a file be answered by the kernel from now on?
 * Never with NOTIFY subscribers of the class (they would miss the reports), never
 * under a fail-closed prefix. */
static bool kcache_ok(const struct rf_auth *a, unsigned cls_ix, bool fail_closed)
{
	return a->kc_flags && !a->o.no_cache && !fail_closed &&
	       !a->b->nsubs[cls_ix ? RF_CLASS_AUTH_OPEN : RF_CLASS_AUTH_EXEC];
}

/* fd: the event's file; st: its state the verdict is about. */
static void kcache_add(struct rf_auth *a, int fd, unsigned cls_ix, const struct stat *st)
{
	uint64_t ev = cls_ix ? FAN_OPEN_PERM : FAN_OPEN_EXEC_PERM;
	struct stat now;
	int tries;

	if (a->kc_n >= RF_AUTH_KMARKS_MAX) {
		kcache_flush(a);
		a->st.kcache_full++;
	}
	for (tries = 0; a->kc_flags && tries < 4; tries++) {
		if (fanotify_mark(a->fan, FAN_MARK_ADD | a->kc_flags, ev, fd, NULL) == 0)
			break;
		if (errno == EINVAL && (a->kc_flags & FAN_MARK_EVICTABLE)) {
			a->kc_flags &= ~(unsigned)FAN_MARK_EVICTABLE; /* before 5.19 */
		} else if (errno == EINVAL && (a->kc_flags & FAN_MARK_IGNORE)) {
			/* before 6.0: the legacy ignored mask (the same meaning on files) */
			a->kc_flags = FAN_MARK_IGNORED_MASK | FAN_MARK_EVICTABLE;
		} else if (errno == ENOSPC && a->kc_n) {
			kcache_flush(a); /* the group's mark limit: start over */
			a->st.kcache_full++;
		} else {
			rf_warn("auth: cannot add a kernel ignore mark: %s; kernel cache off",
				strerror(errno));
			kcache_flush(a);
			a->kc_flags = 0;
			a->st.kcache_on = 0;
			return;
		}
	}
	if (!a->kc_flags || tries == 4)
		return;
	a->kc_n++;
	a->st.kcache_marks = a->kc_n;
	a->st.kcache_added++;
	/* A modification before the mark existed did not clear it: one that happened
	 * after the fstat the verdict is about shows in a second fstat now (the racy
	 * rule makes sure it changes the timestamps), and the mark is taken back. */
	if (fstat(fd, &now) < 0 || !same_file_state(&now, st)) {
		fanotify_mark(a->fan, FAN_MARK_REMOVE | (a->kc_flags & ~(unsigned)FAN_MARK_EVICTABLE),
			      ev, fd, NULL);
		a->st.kcache_raced++;
	}
}

/* 1 hit (*deny and *fail_closed set), 0 miss. */
static int cache_lookup(struct rf_auth *a, const struct stat *st, unsigned cls_ix, bool *deny,
			bool *fail_closed)
{
	struct cache_ent *e = &a->cache[cache_ix(st->st_dev, st->st_ino, cls_ix)];

	if (e->gen != a->cache_gen || e->dev != st->st_dev || e->ino != st->st_ino ||
	    e->cls_ix != cls_ix) {
		a->st.cache_misses++;
		return 0;
	}
	if (ts_ns(&e->ctime) != ts_ns(&st->st_ctim) || ts_ns(&e->mtime) != ts_ns(&st->st_mtim) ||
	    e->size != st->st_size) {
		e->gen = 0; /* the file changed since the verdict */
		a->st.cache_invalidated++;
		a->st.cache_misses++;
		return 0;
	}
	a->st.cache_hits++;
	*deny = e->deny;
	*fail_closed = e->fail_closed;
	return 1;
}

static void cache_store(struct rf_auth *a, const struct pend *p)
{
	struct cache_ent *e;
	uint64_t changed = ts_ns(&p->st.st_ctim) > ts_ns(&p->st.st_mtim) ? ts_ns(&p->st.st_ctim)
									  : ts_ns(&p->st.st_mtim);

	if (a->o.no_cache || !p->have_key || !p->cacheable || p->cache_gen != a->cache_gen)
		return;
	/* Timestamps are coarse (a jiffy on many file systems): a file changed within
	 * RF_AUTH_CACHE_RACY_NS may change again without a visible difference, so its
	 * verdict is not cached (the same rule git uses for racy index entries). The
	 * rule is about the time of the fstat: a change after it then always shows. */
	if (p->st_rt < changed + RF_AUTH_CACHE_RACY_NS)
		return;
	e = &a->cache[cache_ix(p->st.st_dev, p->st.st_ino, p->cls_ix)];
	e->gen = a->cache_gen;
	e->dev = p->st.st_dev;
	e->ino = p->st.st_ino;
	e->ctime = p->st.st_ctim;
	e->mtime = p->st.st_mtim;
	e->size = p->st.st_size;
	e->cls_ix = p->cls_ix;
	e->deny = p->deny;
	e->fail_closed = p->fail_closed;
	if (!p->deny && kcache_ok(a, p->cls_ix, p->fail_closed))
		kcache_add(a, p->fd, p->cls_ix, &p->st);
}

static void record_latency(struct rf_auth *a, uint64_t t0, uint64_t t_ans)
{
	uint64_t us = (t_ans - t0) / 1000;

	if (us > a->st.max_us)
		a->st.max_us = us;
	a->lat[a->nlat++ % LAT_RING] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Report the decision to NOTIFY subscribers of the class (the request event with
 * verdict set), and log a denial. */
static void report(struct rf_auth *a, unsigned char *ev, bool deny, bool cached)
{
	struct rf_ev_auth_exec *e = (struct rf_ev_auth_exec *)ev;

	e->verdict = deny ? RF_VERDICT_DENY : RF_VERDICT_ALLOW;
	e->cached = cached;
	if (deny) {
		const char *path = (const char *)ev + e->path.off;
		rf_warn("auth: denied %s of %s by pid %u%s",
			e->hdr.class_id == RF_CLASS_AUTH_EXEC ? "exec" : "open", path,
			(unsigned)e->hdr.pid, cached ? " (cached verdict)" : "");
	}
	rf_broker_dispatch(a->b, &e->hdr);
	a->b->source_events--; /* not a source event */
}

static struct rf_auth_result_entry *res_of(struct pend *p, uint32_t conn_id)
{
	uint32_t i;

	for (i = 0; p->res && i < p->nres; i++)
		if (p->res[i].client_id == conn_id)
			return &p->res[i];
	return NULL;
}

/* Send the AUTH_RESULT of a test request to whoever asked, if still connected. */
static void finish_test(struct rf_auth *a, struct pend *p)
{
	size_t len = sizeof(struct rf_msg_auth_result) + p->nres * sizeof(struct rf_auth_result_entry);
	struct rf_msg_auth_result *r = calloc(1, len);
	size_t i;

	for (i = 0; r && i < a->b->nconns; i++) {
		struct rf_conn *c = a->b->conns[i];

		if (c->id != p->requester || c->dead)
			continue;
		r->hdr.magic = RF_PROTO_MAGIC;
		r->hdr.type = RF_MSG_AUTH_RESULT;
		r->hdr.size = (uint32_t)len;
		r->hdr.id = p->req_msg_id;
		r->verdict = p->deny ? RF_VERDICT_DENY : RF_VERDICT_ALLOW;
		r->nclients = p->nres;
		r->entry_size = sizeof(struct rf_auth_result_entry);
		r->fail_closed = p->fail_closed;
		if (p->nres)
			memcpy(r + 1, p->res, p->nres * sizeof(struct rf_auth_result_entry));
		a->b->send(a->b->send_ctx, c, r, len);
		break;
	}
	free(r);
}

/* Every AUTH client of auth_exec allowed pid's exec of this file (or the cache
 * did for them): they are not asked about the open the kernel asks about next. */
static void give_grant(struct rf_auth *a, uint32_t pid, const struct stat *st)
{
	struct exec_grant *g = &a->grants[pid & (RF_AUTH_EXEC_GRANTS_MAX - 1)];

	g->gen = a->cache_gen;
	g->until = rf_mono_ns() + RF_AUTH_EXEC_GRANT_NS;
	g->pid = pid;
	g->dev = st->st_dev;
	g->ino = st->st_ino;
}

static void finish(struct rf_auth *a, struct pend *p)
{
	uint32_t slot = (uint32_t)(p - a->pend);
	uint64_t t_ans;

	if (p->test) {
		finish_test(a, p);
		free(p->res);
		p->res = NULL;
		p->id = 0;
		a->st.pending--;
		a->freelist[a->nfree++] = slot;
		return;
	}
	t_ans = answer_kernel(a, p->fd, p->deny);
	record_latency(a, p->t0, t_ans);
	record_rt(a, p->cls_ix ? RF_AUTH_RT_OPEN : RF_AUTH_RT_EXEC, p->t0, t_ans);
	cache_store(a, p); /* may add a kernel ignore mark through p->fd */
	close(p->fd);
	if (p->cls_ix == 0 && !p->deny && !p->not_all && p->have_key && p->cache_gen == a->cache_gen)
		give_grant(a, p->pid, &p->st);
	if (p->ev) {
		report(a, p->ev, p->deny, p->covered);
		rf_broker_flush(a->b);
		free(p->ev);
	}
	p->id = 0;
	p->ev = NULL;
	a->st.pending--;
	a->freelist[a->nfree++] = slot;
}

/* Client c did not (and now will not) answer p: the default verdict stands in. */
static void miss(struct rf_auth *a, struct pend *p, uint32_t k, struct rf_conn *c, bool count)
{
	struct rf_auth_result_entry *re = res_of(p, p->wait[k]);

	p->wait[k] = p->wait[--p->nwait];
	p->deny |= default_deny(a, p);
	p->cacheable = false;
	p->not_all = true;
	if (p->test) { /* a dry run costs no client a miss */
		if (re)
			re->result = count ? RF_AUTH_RES_MISSED : RF_AUTH_RES_GONE;
		return;
	}
	a->st.deadline_misses++;
	if (!c || !count)
		return;
	c->deadline_misses++;
	c->auth_miss_run++;
	if (!a->o.miss_limit || c->auth_miss_run < a->o.miss_limit || c->auth_demoted)
		return;
	if (a->o.miss_policy == RF_AUTH_MISS_DISCONNECT) {
		rf_warn("auth: client '%s' (pid %d) missed %u deadlines in a row: disconnected",
			c->man.name, (int)c->pid, c->auth_miss_run);
		c->dead = true;
		a->b->any_dead = true;
	} else {
		rf_warn("auth: client '%s' (pid %d) missed %u deadlines in a row: demoted to NOTIFY",
			c->man.name, (int)c->pid, c->auth_miss_run);
		c->modes = (c->modes & ~RF_SUB_AUTH) | RF_SUB_NOTIFY;
		c->auth_demoted = true;
		rf_broker_resubscribe(a->b);
	}
}

static bool exempt(const struct rf_auth *a, uint32_t pid)
{
	size_t i;

	if (pid == (uint32_t)a->self || pid == (uint32_t)a->parent)
		return true;
	for (i = 0; i < a->o.nexempt; i++)
		if (pid == (uint32_t)a->o.exempt[i])
			return true;
	/* Identified clients only: anybody may connect to the socket, but only a peer
	 * that passed its manifest's identity check is a client. O(clients). */
	for (i = 0; i < a->b->nconns; i++)
		if (a->b->conns[i]->identified && (uint32_t)a->b->conns[i]->pid == pid)
			return true;
	return false;
}

static bool is_fail_closed(const struct rf_auth *a, const char *path)
{
	unsigned i;

	for (i = 0; i < a->o.nfail_closed; i++)
		if (rf_path_under(path, a->o.fail_closed[i]))
			return true;
	return false;
}

static size_t put_str(unsigned char *buf, size_t off, struct rf_str *s, const char *v, size_t n)
{
	if (n > RF_PATH_MAX - 1)
		n = RF_PATH_MAX - 1;
	s->off = (uint16_t)off;
	s->len = (uint16_t)n;
	memcpy(buf + off, v, n);
	buf[off + n] = 0;
	return off + n + 1;
}

/* Build the request event into a->evbuf; returns its size. */
static size_t build_event(struct rf_auth *a, const struct fanotify_event_metadata *m,
			  unsigned cls, const char *path, size_t plen, bool fail_closed,
			  uint64_t id, uint64_t deadline)
{
	struct rf_ev_auth_exec *e = (struct rf_ev_auth_exec *)a->evbuf;
	char link[64], exe[RF_PATH_MAX];
	struct stat pst;
	ssize_t n;
	size_t off = sizeof(*e);
	int flags;

	memset(e, 0, sizeof(*e));
	e->hdr.class_id = (uint16_t)cls;
	e->hdr.ts_ns = real_ns();
	e->hdr.pid = e->hdr.tid = (uint32_t)m->pid;
	/* start_ns stays 0 (any process with this pid): reading it from /proc costs a
	 * file read per request; the live sensor's process table could supply it. */
	e->request_id = id;
	e->deadline_ns = deadline;
	snprintf(link, sizeof(link), "/proc/%u", (unsigned)m->pid);
	e->uid = stat(link, &pst) == 0 ? (uint32_t)pst.st_uid : UINT32_MAX;
	/* the event file's flags are the group's (fanotify_init), the same for every
	 * event: one fcntl, not one per request */
	if (m->fd >= 0 && a->fan_flags < 0 && (flags = fcntl(m->fd, F_GETFL)) >= 0)
		a->fan_flags = flags;
	e->flags = m->fd < 0 || a->fan_flags < 0 ? 0 : (uint32_t)a->fan_flags;
	e->fail_closed = fail_closed;
	off = put_str(a->evbuf, off, &e->path, path, plen);
	snprintf(link, sizeof(link), "/proc/%u/exe", (unsigned)m->pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n < 0)
		n = 0;
	off = put_str(a->evbuf, off, &e->exe, exe, (size_t)n);
	e->hdr.size = (uint16_t)((off + 7) & ~(size_t)7);
	return e->hdr.size;
}

/* The exec that pid just had allowed, if it was of this file: consumed. */
static bool take_grant(struct rf_auth *a, uint32_t pid, const struct stat *st)
{
	struct exec_grant *g = &a->grants[pid & (RF_AUTH_EXEC_GRANTS_MAX - 1)];

	if (!g->until || g->pid != pid || g->gen != a->cache_gen || g->dev != st->st_dev ||
	    g->ino != st->st_ino || rf_mono_ns() > g->until)
		return false;
	g->until = 0;
	return true;
}

/* Every AUTH client of the open class also allowed the exec this open belongs to
 * (or is gone), and nobody reads reports of it: nobody to ask, nothing to build. */
static bool covered_for_all(const struct rf_auth *a)
{
	uint32_t i;

	if (a->b->nsubs[RF_CLASS_AUTH_OPEN])
		return false;
	for (i = 0; i < a->b->nasubs[RF_CLASS_AUTH_OPEN]; i++) {
		const struct rf_conn *c = a->b->asubs[RF_CLASS_AUTH_OPEN][i];

		if (!c->dead && !(((c->classes >> RF_CLASS_AUTH_EXEC) & 1) && (c->modes & RF_SUB_AUTH)))
			return false;
	}
	return true;
}

/* t_read: when the event was read (CLOCK_MONOTONIC), the start of its round trip. */
static void handle(struct rf_auth *a, const struct fanotify_event_metadata *m, uint64_t t_read)
{
	unsigned cls_ix = (m->mask & FAN_OPEN_EXEC_PERM) ? 0 : 1;
	unsigned cls = cls_ix ? RF_CLASS_AUTH_OPEN : RF_CLASS_AUTH_EXEC;
	char link[64], path[RF_PATH_MAX];
	struct pend *p;
	struct stat st;
	bool deny, fc, have_key, covered = false;
	uint64_t t0 = t_read, id, st_rt;
	uint32_t slot, i, n;
	ssize_t plen;
	size_t evsize;

	a->st.requests++;
	if (exempt(a, (uint32_t)m->pid)) {
		a->st.exempt++;
		answer_kernel(a, m->fd, false);
		close(m->fd);
		return;
	}
	if (a->b->safe_mode) {
		/* SAFE MODE: no client is asked, not even a platform one; the default
		 * verdict for the path stands (fail-closed prefixes deny). No verdict is
		 * cached in safe mode; were any ignore mark left, it would go now. */
		kcache_flush(a);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", m->fd);
		plen = readlink(link, path, sizeof(path) - 1);
		path[plen > 0 ? plen : 0] = 0;
		a->st.unasked++;
		answer_kernel(a, m->fd, is_fail_closed(a, path) || a->o.default_deny);
		close(m->fd);
		return;
	}
	if (!a->b->nasubs[cls] && !a->b->nsubs[cls]) {
		a->st.unasked++;
		answer_kernel(a, m->fd, false);
		close(m->fd);
		return;
	}
	have_key = fstat(m->fd, &st) == 0;
	st_rt = real_ns();
	if (cls_ix == 1 && have_key && a->b->nasubs[cls])
		covered = take_grant(a, (uint32_t)m->pid, &st);
	if (covered && covered_for_all(a)) {
		/* the exec's open: its verdict is the exec's (docs/auth.md); answered before
		 * anything else is looked at, it costs the exec one short round trip */
		a->st.covered++;
		record_rt(a, RF_AUTH_RT_COVERED, t_read, answer_kernel(a, m->fd, false));
		close(m->fd);
		return;
	}
	if (have_key && a->b->nasubs[cls] && !a->o.no_cache &&
	    cache_lookup(a, &st, cls_ix, &deny, &fc)) {
		record_rt(a, RF_AUTH_RT_HIT, t_read, answer_kernel(a, m->fd, deny));
		/* not in the kernel cache (flushed, full, or not allowed there): now it is */
		if (!deny && kcache_ok(a, cls_ix, fc))
			kcache_add(a, m->fd, cls_ix, &st);
		if (cls_ix == 0 && !deny)
			give_grant(a, (uint32_t)m->pid, &st);
		if (a->b->nsubs[cls] || deny) { /* report; a hit costs the path only then */
			snprintf(link, sizeof(link), "/proc/self/fd/%d", m->fd);
			plen = readlink(link, path, sizeof(path) - 1);
			if (plen < 0)
				plen = 0;
			path[plen] = 0;
			build_event(a, m, cls, path, (size_t)plen, is_fail_closed(a, path), 0, 0);
			report(a, a->evbuf, deny, true);
			rf_broker_flush(a->b);
		}
		close(m->fd);
		return;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", m->fd);
	plen = readlink(link, path, sizeof(path) - 1);
	if (plen < 0)
		plen = 0;
	path[plen] = 0;
	if (!a->nfree) {
		bool fc = is_fail_closed(a, path);
		a->st.overflow++;
		rf_warn("auth: %u requests pending: %s of %s gets the default verdict (%s)",
			RF_AUTH_PENDING_MAX, cls_ix ? "open" : "exec", path,
			fc || a->o.default_deny ? "deny" : "allow");
		answer_kernel(a, m->fd, fc || a->o.default_deny);
		close(m->fd);
		return;
	}
	slot = a->freelist[--a->nfree];
	p = &a->pend[slot];
	id = ++a->gen * RF_AUTH_PENDING_MAX + slot;
	memset(p, 0, offsetof(struct pend, wait));
	p->id = id;
	p->fd = m->fd;
	p->pid = (uint32_t)m->pid;
	p->cls_ix = (uint8_t)cls_ix;
	p->fail_closed = is_fail_closed(a, path);
	/* never cached when covered: the exec's verdict is about this open only, not
	 * about later plain opens of the file */
	p->cacheable = !covered;
	p->covered = covered;
	p->have_key = have_key;
	if (have_key)
		p->st = st;
	p->st_rt = st_rt;
	p->cache_gen = a->cache_gen;
	p->t0 = t0;
	p->deadline = t0 + (uint64_t)a->o.deadline_ms[cls_ix] * 1000000ull;
	a->st.pending++;
	evsize = build_event(a, m, cls, path, (size_t)plen, p->fail_closed, id, p->deadline);
	if (a->b->nsubs[cls]) {
		p->ev = malloc(evsize);
		if (p->ev)
			memcpy(p->ev, a->evbuf, evsize);
	}
	n = a->b->nasubs[cls];
	p->sent = rf_mono_ns();
	for (i = 0; i < n; i++) {
		struct rf_conn *c = a->b->asubs[cls][i];
		const struct rf_event_hdr *ev = (const struct rf_event_hdr *)a->evbuf;
		int r;

		if (c->dead) {
			p->not_all = true;
			p->cacheable = false;
			continue;
		}
		/* it allowed this file's exec by this process a moment ago */
		if (covered && ((c->classes >> RF_CLASS_AUTH_EXEC) & 1) && (c->modes & RF_SUB_AUTH))
			continue;
		if ((c->mutes.total || c->mutes.inverted) && rf_broker_muted(a->b, c, ev)) {
			/* a mute depends on the process or the path, a cached verdict on
			 * neither: a verdict without this client's is not cached */
			c->muted++;
			p->not_all = true;
			p->cacheable = false;
			continue;
		}
		r = rf_ring_writer_put(&c->ring, ev, ev->size, ++c->seq, ++c->class_seq[cls]);
		if (r == 0) {
			c->delivered++;
			c->class_delivered[cls]++;
			c->auth_asked++;
			p->wait[p->nwait++] = c->id;
		} else {
			/* ring full (or corrupt): the client cannot answer; the default
			 * verdict stands in for it, counted as a miss. */
			if (r == -ENOSPC) {
				c->dropped++;
				a->b->dropped_total++;
				c->class_dropped[cls]++;
			} else {
				c->dead = true;
				a->b->any_dead = true;
			}
			p->deny |= default_deny(a, p);
			p->cacheable = false;
			p->not_all = true;
			c->deadline_misses++;
			a->st.deadline_misses++;
		}
	}
	if (!p->nwait) {
		if (!n)
			a->st.unasked++;
		finish(a, p);
		return;
	}
	for (i = 0; i < n; i++)
		rf_ring_writer_publish(&a->b->asubs[cls][i]->ring);
	arm(a, p->deadline);
}

void rf_auth_read(struct rf_auth *a)
{
	char buf[RF_AUTH_READ_BATCH * sizeof(struct fanotify_event_metadata)]
		__attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	ssize_t len;
	int rounds;

	for (rounds = 0; rounds < 16; rounds++) {
		const struct fanotify_event_metadata *m = (const void *)buf;
		/* the round trip starts before the read: it creates the events' fds */
		uint64_t t_read = rf_mono_ns();

		len = read(a->fan, buf, sizeof(buf));
		if (len <= 0)
			return;
		/* room for another event left: the queue was empty; epoll tells us when
		 * more come (saves the read that would fail with EAGAIN) */
		bool drained = (size_t)len + FAN_EVENT_METADATA_LEN <= sizeof(buf);
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers != FANOTIFY_METADATA_VERSION) {
				rf_err("auth: fanotify metadata version %u, expected %u",
				       m->vers, FANOTIFY_METADATA_VERSION);
				if (m->fd >= 0)
					close(m->fd);
				continue;
			}
			if (m->fd < 0) /* FAN_NOFD: queue overflow (no permission event is lost) */
				continue;
			if (!(m->mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM))) {
				close(m->fd);
				continue;
			}
			handle(a, m, t_read);
		}
		if (drained)
			return;
	}
}

void rf_auth_expire(struct rf_auth *a)
{
	uint64_t now = rf_mono_ns(), next = UINT64_MAX, x;
	uint32_t s, k;

	(void)!read(a->tfd, &x, sizeof(x));
	a->armed = 0;
	/* O(pending): RF_AUTH_PENDING_MAX slots at most, and only when a deadline
	 * passed; clients that answer keep the table nearly empty. */
	for (s = 0; s < RF_AUTH_PENDING_MAX; s++) {
		struct pend *p = &a->pend[s];

		if (!p->id)
			continue;
		if (p->deadline > now) {
			if (p->deadline < next)
				next = p->deadline;
			continue;
		}
		for (k = p->nwait; k-- > 0;) {
			struct rf_conn *c = rf_broker_conn_by_id(a->b, p->wait[k]);
			if (c)
				rf_info("auth: client '%s' missed the deadline of request %llu",
					c->man.name, (unsigned long long)p->id);
			miss(a, p, k, c, true);
		}
		finish(a, p);
	}
	if (next != UINT64_MAX)
		arm(a, next);
}

static struct pend *lookup(struct rf_auth *a, uint64_t id)
{
	struct pend *p = &a->pend[id & (RF_AUTH_PENDING_MAX - 1)];

	return p->id == id ? p : NULL;
}

static void on_verdict(void *ctx, struct rf_conn *c, const struct rf_msg_verdict *v)
{
	struct rf_auth *a = ctx;
	struct pend *p = lookup(a, v->request_id);
	uint32_t k;
	uint64_t us;

	if (p)
		for (k = 0; k < p->nwait; k++)
			if (p->wait[k] == c->id)
				break;
	if (!p || k == p->nwait) {
		c->auth_late++; /* after its deadline, twice, or never asked */
		return;
	}
	p->wait[k] = p->wait[--p->nwait];
	us = (rf_mono_ns() - p->sent) / 1000;
	if (p->test) {
		struct rf_auth_result_entry *re = res_of(p, c->id);

		if (re) {
			re->result = v->verdict == RF_VERDICT_DENY ? RF_AUTH_RES_DENY : RF_AUTH_RES_ALLOW;
			re->answer_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
			re->cacheable = !!(v->flags & RF_VERDICT_F_CACHE);
		}
		p->deny |= v->verdict == RF_VERDICT_DENY;
		if (!p->nwait)
			finish(a, p);
		return;
	}
	c->auth_lat_us[c->auth_nlat++ % 256] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	c->auth_miss_run = 0;
	if (v->verdict == RF_VERDICT_DENY) {
		c->auth_denied++;
		p->deny = true;
	} else {
		c->auth_allowed++;
	}
	if (!(v->flags & RF_VERDICT_F_CACHE))
		p->cacheable = false;
	if (!p->nwait)
		finish(a, p);
}

/* A client goes away: every request it still owes gets the default verdict for it
 * now, not at the deadline (a crashed engine must not cost the machine its
 * deadlines). */
static void on_conn_gone(void *ctx, struct rf_conn *c)
{
	struct rf_auth *a = ctx;
	uint32_t s, k;

	for (s = 0; s < RF_AUTH_PENDING_MAX && a->st.pending; s++) {
		struct pend *p = &a->pend[s];

		if (!p->id)
			continue;
		for (k = 0; k < p->nwait; k++)
			if (p->wait[k] == c->id) {
				if (!p->test)
					c->deadline_misses++;
				miss(a, p, k, c, false);
				break;
			}
		if (!p->nwait)
			finish(a, p);
	}
}

/* `ringfence auth test PATH`: a request like a kernel one (same muting, same
 * deadline, same combination) with test = 1, answered to the requester instead of
 * the kernel; it neither counts misses nor fills the cache. */
static int on_test(void *ctx, struct rf_conn *req, uint32_t msg_id, uint32_t class_id,
		   const char *path, char *why, size_t whylen)
{
	struct rf_auth *a = ctx;
	unsigned cls_ix = class_id == RF_CLASS_AUTH_EXEC ? 0 : 1;
	struct fanotify_event_metadata m = {.fd = -1, .pid = (int32_t)req->pid};
	struct rf_ev_auth_exec *e = (struct rf_ev_auth_exec *)a->evbuf;
	struct pend *p;
	uint32_t slot, i, n = a->b->nasubs[class_id];

	if (!a->nfree) {
		snprintf(why, whylen, "%u AUTH requests pending: try again", RF_AUTH_PENDING_MAX);
		return RF_E_LIMIT;
	}
	slot = a->freelist[--a->nfree];
	p = &a->pend[slot];
	memset(p, 0, offsetof(struct pend, wait));
	p->id = ++a->gen * RF_AUTH_PENDING_MAX + slot;
	p->fd = -1;
	p->test = true;
	p->requester = req->id;
	p->req_msg_id = msg_id;
	p->cls_ix = (uint8_t)cls_ix;
	p->fail_closed = is_fail_closed(a, path);
	p->t0 = p->sent = rf_mono_ns();
	p->deadline = p->t0 + (uint64_t)a->o.deadline_ms[cls_ix] * 1000000ull;
	p->res = calloc(n ? n : 1, sizeof(*p->res));
	a->st.pending++;
	build_event(a, &m, class_id, path, strlen(path), p->fail_closed, p->id, p->deadline);
	e->test = 1;
	for (i = 0; i < n; i++) {
		struct rf_conn *c = a->b->asubs[class_id][i];
		struct rf_auth_result_entry *re = p->res ? &p->res[p->nres++] : NULL;
		int r;

		if (re) {
			memcpy(re->name, c->man.name, sizeof(re->name));
			re->client_id = c->id;
			re->result = RF_AUTH_RES_MISSED;
		}
		if (c->dead)
			continue;
		if ((c->mutes.total || c->mutes.inverted) && rf_broker_muted(a->b, c, &e->hdr)) {
			if (re)
				re->result = RF_AUTH_RES_MUTED;
			continue;
		}
		r = rf_ring_writer_put(&c->ring, &e->hdr, e->hdr.size, ++c->seq, ++c->class_seq[class_id]);
		if (r == 0) {
			c->delivered++;
			c->class_delivered[class_id]++;
			p->wait[p->nwait++] = c->id;
		} else {
			p->deny |= default_deny(a, p);
		}
	}
	for (i = 0; i < n; i++)
		rf_ring_writer_publish(&a->b->asubs[class_id][i]->ring);
	if (!p->nwait)
		finish(a, p); /* nobody to ask: the result goes out now */
	else
		arm(a, p->deadline);
	return 0;
}

/* Mark only what somebody wants: no subscriber of auth_open, no FAN_OPEN_PERM (an
 * unwanted permission event still costs the opener a round trip to the daemon). */
static int update_marks(struct rf_auth *a)
{
	const struct rf_broker *b = a->b;
	uint64_t want = 0, add, del;
	unsigned i;
	int r = 0;

	if (b->nasubs[RF_CLASS_AUTH_EXEC] || b->nsubs[RF_CLASS_AUTH_EXEC])
		want |= FAN_OPEN_EXEC_PERM;
	if (b->nasubs[RF_CLASS_AUTH_OPEN] || b->nsubs[RF_CLASS_AUTH_OPEN])
		want |= FAN_OPEN_PERM;
	add = want & ~a->mask;
	del = a->mask & ~want;
	for (i = 0; i < a->o.nmounts; i++) {
		if (add && fanotify_mark(a->fan, FAN_MARK_ADD | FAN_MARK_MOUNT, add, AT_FDCWD,
					 a->o.mounts[i]) < 0)
			r = -errno;
		if (del && fanotify_mark(a->fan, FAN_MARK_REMOVE | FAN_MARK_MOUNT, del, AT_FDCWD,
					 a->o.mounts[i]) < 0 && errno != ENOENT)
			r = -errno;
	}
	if (r < 0)
		rf_err("auth: cannot update the marks: %s", strerror(-r));
	a->mask = want;
	return r;
}

static void on_subs_changed(void *ctx)
{
	struct rf_auth *a = ctx;

	/* Another set of clients may judge differently, and NOTIFY subscribers need
	 * every request to reach the daemon: forget every verdict, in both levels. */
	a->cache_gen++;
	kcache_flush(a);
	update_marks(a);
}

/* A client's mutes changed: who is asked about what changed. */
static void on_forget(void *ctx)
{
	struct rf_auth *a = ctx;

	a->cache_gen++;
	kcache_flush(a);
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t p = *(const uint32_t *)x, q = *(const uint32_t *)y;
	return p < q ? -1 : p > q;
}

static void on_status(void *ctx, struct rf_status_auth *out)
{
	struct rf_auth *a = ctx;
	uint32_t n = a->nlat < LAT_RING ? a->nlat : LAT_RING;
	uint32_t *v = malloc(RF_AUTH_RT_RING * sizeof(*v) > LAT_RING * sizeof(*v)
				     ? RF_AUTH_RT_RING * sizeof(*v) : LAT_RING * sizeof(*v));
	unsigned k;

	*out = a->st;
	out->deadline_exec_ms = a->o.deadline_ms[0];
	out->deadline_open_ms = a->o.deadline_ms[1];
	out->marks = a->o.nmounts;
	if (!v)
		return;
	if (n) {
		memcpy(v, a->lat, n * sizeof(*v));
		qsort(v, n, sizeof(*v), cmp_u32);
		out->p50_us = v[n / 2];
		out->p99_us = v[(n * 99) / 100];
	}
	for (k = 0; k < 4; k++) {
		n = a->st.rt[k].n < RF_AUTH_RT_RING ? (uint32_t)a->st.rt[k].n : RF_AUTH_RT_RING;
		if (!n)
			continue;
		memcpy(v, a->rt[k], n * sizeof(*v));
		qsort(v, n, sizeof(*v), cmp_u32);
		out->rt[k].p50_ns = v[n / 2];
		out->rt[k].p99_ns = v[(n * 99) / 100];
	}
	free(v);
}

int rf_auth_open(const struct rf_auth_opts *opts, struct rf_broker *b, struct rf_auth **ret,
		 char *err, size_t errlen)
{
	struct rf_auth *a = calloc(1, sizeof(*a));
	unsigned i;
	int r = -ENOMEM;

	if (!a)
		goto fail_msg;
	a->o = *opts;
	a->b = b;
	a->fan = a->tfd = -1;
	a->self = getpid();
	a->parent = getppid();
	a->pend = calloc(RF_AUTH_PENDING_MAX, sizeof(*a->pend));
	a->freelist = calloc(RF_AUTH_PENDING_MAX, sizeof(*a->freelist));
	a->cache = calloc(RF_AUTH_CACHE_MAX, sizeof(*a->cache));
	a->lat = calloc(LAT_RING, sizeof(*a->lat));
	if (!a->pend || !a->freelist || !a->cache || !a->lat)
		goto fail_msg;
	for (i = 0; i < 4; i++)
		if (!(a->rt[i] = calloc(RF_AUTH_RT_RING, sizeof(*a->rt[i]))))
			goto fail_msg;
	/* the kernel-level cache: ignore marks as on 6.0 and later; kcache_add falls
	 * back to the legacy ignored mask on older kernels */
	if (!opts->no_cache && !opts->no_kcache) {
		a->kc_flags = FAN_MARK_IGNORE | FAN_MARK_EVICTABLE;
		a->st.kcache_on = 1;
	}
	for (i = 0; i < RF_AUTH_PENDING_MAX; i++)
		a->freelist[a->nfree++] = RF_AUTH_PENDING_MAX - 1 - i;
	a->cache_gen = 1;
	a->fan_flags = -1;
	a->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (a->fan < 0) {
		r = -errno;
		snprintf(err, errlen, "auth: fanotify_init: %s (AUTH needs root and CONFIG_FANOTIFY_ACCESS_PERMISSIONS)",
			 strerror(errno));
		goto fail;
	}
	a->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (a->tfd < 0) {
		r = -errno;
		snprintf(err, errlen, "auth: timerfd_create: %s", strerror(errno));
		goto fail;
	}
	/* Check every mount now (a typo must stop the daemon); the marks stay empty
	 * until a client subscribes (update_marks). */
	for (i = 0; i < opts->nmounts; i++) {
		if (fanotify_mark(a->fan, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC_PERM,
				  AT_FDCWD, opts->mounts[i]) < 0 ||
		    fanotify_mark(a->fan, FAN_MARK_REMOVE | FAN_MARK_MOUNT, FAN_OPEN_EXEC_PERM,
				  AT_FDCWD, opts->mounts[i]) < 0) {
			r = -errno;
			snprintf(err, errlen, "auth: cannot mark mount %s: %s", opts->mounts[i],
				 strerror(errno));
			goto fail;
		}
	}
	b->auth.ctx = a;
	b->auth.verdict = on_verdict;
	b->auth.conn_gone = on_conn_gone;
	b->auth.subs_changed = on_subs_changed;
	b->auth.forget = on_forget;
	b->auth.status = on_status;
	b->auth.test = on_test;
	*ret = a;
	return 0;
fail_msg:
	snprintf(err, errlen, "auth: out of memory");
fail:
	rf_auth_free(a);
	return r;
}

void rf_auth_free(struct rf_auth *a)
{
	uint32_t s;

	if (!a)
		return;
	if (a->b && a->b->auth.ctx == a)
		memset(&a->b->auth, 0, sizeof(a->b->auth));
	for (s = 0; a->pend && s < RF_AUTH_PENDING_MAX; s++) {
		struct pend *p = &a->pend[s];

		if (!p->id)
			continue;
		answer_kernel(a, p->fd, default_deny(a, p));
		close(p->fd);
		free(p->ev);
	}
	if (a->fan >= 0)
		close(a->fan); /* the kernel allows whatever is still queued */
	if (a->tfd >= 0)
		close(a->tfd);
	free(a->pend);
	free(a->freelist);
	free(a->cache);
	free(a->lat);
	for (s = 0; s < 4; s++)
		free(a->rt[s]);
	free(a);
}

int rf_auth_fanotify_fd(const struct rf_auth *a)
{
	return a->fan;
}

int rf_auth_timer_fd(const struct rf_auth *a)
{
	return a->tfd;
}
