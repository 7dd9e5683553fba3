// SPDX-License-Identifier: MIT
/*
 * proctable.c: process table. Open hashing on pid with chains of slot indexes into
 * one preallocated slot array, so memory is bounded by `max` entries plus their
 * strings (each capped at the schema's limits).
 *
 * The strings (exe, cmdline, cgroup) are reference-counted and shared: a fork's child
 * shares its parent's, an exec keeps a string equal to the one it replaces, and the
 * empty string is one static value. A fork then allocates nothing and an exec at most
 * what changed (a fork+exec storm spent a tenth of the reader's time in malloc, free
 * and copies of strings it already had).
 *
 * Known weakness: eviction when full scans for the oldest exited entry, O(max); it
 * only happens when the table is full, which a sane host never reaches. Expiry scans
 * the slots up to the highest ever used (not all RF_PROC_TABLE_MAX), once a second.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/procfs.h"
#include "proctable/proctable.h"
#include "ringfence/limits.h"

#define NIL UINT32_MAX

struct slot {
	struct rf_proc p;
	uint32_t next; /* chain in bucket, or free list */
	bool used;
};

struct rf_proctable {
	struct slot *slots;
	uint32_t *buckets;
	uint32_t max, nbuckets, free_head;
	uint32_t hiwater; /* slots at and above this index were never used */
	struct rf_proctable_stats st;
};

static uint64_t tick_ns;

uint64_t rf_proctable_ticks_to_ns(uint64_t ticks)
{
	if (!tick_ns) {
		long hz = sysconf(_SC_CLK_TCK);
		tick_ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	}
	return ticks * tick_ns;
}

struct rf_proctable *rf_proctable_new(unsigned max)
{
	struct rf_proctable *t = calloc(1, sizeof(*t));
	uint32_t i;

	if (!t)
		return NULL;
	t->max = max ? max : RF_PROC_TABLE_MAX;
	for (t->nbuckets = 1; t->nbuckets < t->max; t->nbuckets <<= 1)
		;
	t->slots = calloc(t->max, sizeof(*t->slots));
	t->buckets = malloc(t->nbuckets * sizeof(*t->buckets));
	if (!t->slots || !t->buckets)
		return rf_proctable_free(t);
	for (i = 0; i < t->nbuckets; i++)
		t->buckets[i] = NIL;
	for (i = 0; i < t->max; i++)
		t->slots[i].next = i + 1 < t->max ? i + 1 : NIL;
	t->free_head = 0;
	rf_proctable_ticks_to_ns(0);
	return t;
}

/* A shared string: the entries point at s; the count says how many. */
struct pstr {
	uint32_t ref;
	char s[];
};

static char empty_str[1]; /* "", never counted or freed */

static struct pstr *pstr_of(char *s)
{
	return (struct pstr *)(s - offsetof(struct pstr, s));
}

static void str_unref(char *s)
{
	struct pstr *h;

	if (!s || s == empty_str)
		return;
	h = pstr_of(s);
	if (--h->ref == 0)
		free(h);
}

static char *str_ref(char *s)
{
	if (s && s != empty_str)
		pstr_of(s)->ref++;
	return s ? s : empty_str;
}

/* A new string of src cut at max - 1 bytes, or NULL when out of memory. */
static char *str_new(const char *src, size_t max)
{
	size_t n = strnlen(src, max - 1);
	struct pstr *h;

	if (!n)
		return empty_str;
	h = malloc(sizeof(*h) + n + 1);
	if (!h)
		return NULL;
	h->ref = 1;
	memcpy(h->s, src, n);
	h->s[n] = 0;
	return h->s;
}

static void clear_proc(struct rf_proc *p)
{
	str_unref(p->exe);
	str_unref(p->cmdline);
	str_unref(p->cgroup);
	memset(p, 0, sizeof(*p));
}

struct rf_proctable *rf_proctable_free(struct rf_proctable *t)
{
	uint32_t i;

	if (!t)
		return NULL;
	for (i = 0; t->slots && i < t->max; i++)
		if (t->slots[i].used)
			clear_proc(&t->slots[i].p);
	free(t->slots);
	free(t->buckets);
	free(t);
	return NULL;
}

static uint32_t bucket(const struct rf_proctable *t, uint32_t pid)
{
	return (pid * 2654435761u) & (t->nbuckets - 1);
}

static bool same_start(const struct rf_proc *p, uint64_t start_ns)
{
	if (p->start_ns == start_ns)
		return true;
	/* /proc gives ticks: compare at that resolution */
	return p->coarse && tick_ns && p->start_ns / tick_ns == start_ns / tick_ns;
}

struct rf_proc *rf_proctable_lookup(struct rf_proctable *t, uint32_t pid, uint64_t start_ns)
{
	struct rf_proc *best = NULL;
	uint32_t i;

	for (i = t->buckets[bucket(t, pid)]; i != NIL; i = t->slots[i].next) {
		struct rf_proc *p = &t->slots[i].p;
		if (p->pid != pid)
			continue;
		if (start_ns && same_start(p, start_ns))
			return p;
		if (!start_ns && (!best || p->start_ns > best->start_ns))
			best = p;
	}
	return best;
}

static void unlink_slot(struct rf_proctable *t, uint32_t idx)
{
	uint32_t *pp = &t->buckets[bucket(t, t->slots[idx].p.pid)];

	while (*pp != NIL && *pp != idx)
		pp = &t->slots[*pp].next;
	if (*pp == idx)
		*pp = t->slots[idx].next;
	if (!t->slots[idx].p.exited_ns)
		t->st.live--;
	clear_proc(&t->slots[idx].p);
	t->slots[idx].used = false;
	t->slots[idx].next = t->free_head;
	t->free_head = idx;
	t->st.entries--;
}

static struct rf_proc *insert(struct rf_proctable *t, uint32_t pid, uint64_t start_ns)
{
	uint32_t idx, b;
	struct slot *s;

	if (t->free_head == NIL) {
		/* full: evict the entry that exited longest ago, if any */
		uint32_t i, victim = NIL;
		for (i = 0; i < t->max; i++)
			if (t->slots[i].used && t->slots[i].p.exited_ns &&
			    (victim == NIL || t->slots[i].p.exited_ns < t->slots[victim].p.exited_ns))
				victim = i;
		if (victim == NIL) {
			t->st.full++;
			return NULL;
		}
		unlink_slot(t, victim);
		t->st.evicted++;
	}
	idx = t->free_head;
	s = &t->slots[idx];
	t->free_head = s->next;
	memset(&s->p, 0, sizeof(s->p));
	s->p.pid = pid;
	s->p.start_ns = start_ns;
	s->p.exe = s->p.cmdline = s->p.cgroup = empty_str;
	s->used = true;
	if (idx >= t->hiwater)
		t->hiwater = idx + 1;
	b = bucket(t, pid);
	s->next = t->buckets[b];
	t->buckets[b] = idx;
	t->st.entries++;
	t->st.live++;
	return &s->p;
}

/* Replace *dst with src (cut at max bytes): kept when equal, else a new string; keeps
 * the old value on ENOMEM. */
static void set_str(char **dst, const char *src, size_t max)
{
	char *n;

	if (!src)
		src = "";
	if (!strncmp(*dst, src, max - 1) && strnlen(*dst, max) < max)
		return;
	n = str_new(src, max);
	if (n) {
		str_unref(*dst);
		*dst = n;
	}
}

/* Point *dst at the string src (another entry's): shared, not copied. */
static void share_str(char **dst, char *src)
{
	char *n = str_ref(src);

	str_unref(*dst);
	*dst = n;
}

/* A live entry for pid with another start time is a process that has gone (we
 * missed its exit): mark it exited so lookups by key never confuse the two. */
static void retire_stale(struct rf_proctable *t, uint32_t pid, uint64_t start_ns)
{
	uint32_t i;

	for (i = t->buckets[bucket(t, pid)]; i != NIL; i = t->slots[i].next) {
		struct rf_proc *p = &t->slots[i].p;
		if (p->pid == pid && !p->exited_ns && !same_start(p, start_ns)) {
			p->exited_ns = 1; /* as old as possible: first to be evicted */
			t->st.live--;
		}
	}
}

int rf_proctable_fork(struct rf_proctable *t, uint32_t ppid, uint64_t pstart, uint32_t pid,
		      uint64_t start_ns)
{
	struct rf_proc *c, *par;

	if (rf_proctable_lookup(t, pid, start_ns))
		return 0;
	retire_stale(t, pid, start_ns);
	c = insert(t, pid, start_ns);
	if (!c)
		return -ENOSPC;
	c->ppid = ppid;
	c->parent_start_ns = pstart;
	par = rf_proctable_lookup(t, ppid, pstart);
	if (par) {
		c->uid = par->uid;
		share_str(&c->exe, par->exe);
		share_str(&c->cmdline, par->cmdline);
		share_str(&c->cgroup, par->cgroup);
	}
	return 0;
}

int rf_proctable_exec(struct rf_proctable *t, const struct rf_proc *np)
{
	struct rf_proc *p = rf_proctable_lookup(t, np->pid, np->start_ns);

	if (!p) {
		retire_stale(t, np->pid, np->start_ns);
		p = insert(t, np->pid, np->start_ns);
		if (!p)
			return -ENOSPC;
	}
	p->ppid = np->ppid;
	p->parent_start_ns = np->parent_start_ns;
	p->uid = np->uid;
	p->coarse = np->coarse;
	set_str(&p->exe, np->exe, RF_PATH_MAX);
	set_str(&p->cmdline, np->cmdline, RF_ARGV_MAX);
	set_str(&p->cgroup, np->cgroup, 128);
	return 0;
}

void rf_proctable_exit(struct rf_proctable *t, uint32_t pid, uint64_t start_ns, uint64_t now_ns)
{
	struct rf_proc *p = rf_proctable_lookup(t, pid, start_ns);

	if (p && !p->exited_ns) {
		p->exited_ns = now_ns ? now_ns : 1;
		t->st.live--;
	}
}

void rf_proctable_expire(struct rf_proctable *t, uint64_t now_ns)
{
	uint32_t i;

	for (i = 0; i < t->hiwater; i++) {
		struct rf_proc *p = &t->slots[i].p;
		if (t->slots[i].used && p->exited_ns && p->exited_ns + RF_PROC_EXITED_TTL_NS < now_ns) {
			unlink_slot(t, i);
			t->st.expired++;
		}
	}
}

void rf_proctable_stats(const struct rf_proctable *t, struct rf_proctable_stats *st)
{
	*st = t->st;
}

static int load_pid(struct rf_proctable *t, int procfd, const char *name)
{
	char stat[1024], buf[RF_ARGV_MAX], exe[RF_PATH_MAX], cg[256], *p;
	struct rf_proc np = {0};
	uint64_t start = 0;
	int dfd, ret = -1;
	ssize_t n;

	dfd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	if (rf_procfs_stat(dfd, &np.ppid, &start) < 0)
		goto out;
	np.pid = (uint32_t)strtoul(name, NULL, 10);
	np.start_ns = rf_proctable_ticks_to_ns(start);
	np.coarse = true;
	if (rf_read_small(dfd, "status", stat, sizeof(stat)) > 0 && (p = strstr(stat, "\nUid:")))
		np.uid = (uint32_t)strtoul(p + 5, NULL, 10);
	n = readlinkat(dfd, "exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	np.exe = exe;
	n = rf_read_small(dfd, "cmdline", buf, sizeof(buf));
	if (n < 0)
		n = 0;
	while (n > 0 && !buf[n - 1])
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = 0;
	np.cmdline = buf;
	rf_procfs_cgroup_leaf(dfd, cg, sizeof(cg));
	np.cgroup = cg;
	ret = rf_proctable_exec(t, &np);
out:
	close(dfd);
	return ret;
}

int rf_proctable_bootstrap(struct rf_proctable *t, const char *procfs)
{
	DIR *d = opendir(procfs);
	struct dirent *e;
	int added = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (load_pid(t, dirfd(d), e->d_name) == 0)
			added++;
	}
	closedir(d);
	t->st.bootstrapped += (uint64_t)added;
	/* parents' start times: fill from the table where known */
	for (uint32_t i = 0; i < t->max; i++) {
		struct rf_proc *p = &t->slots[i].p, *par;
		if (!t->slots[i].used || p->parent_start_ns)
			continue;
		par = rf_proctable_lookup(t, p->ppid, 0);
		if (par)
			p->parent_start_ns = par->start_ns;
	}
	return added;
}
