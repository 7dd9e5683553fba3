// SPDX-License-Identifier: MIT
/* broker.c: connections, identification, subscriptions, muting, fan-out (broker.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "daemon/broker.h"
#include "daemon/recent.h"
#include "daemon/supervisor.h"
#include "proctable/proctable.h"
#include "ringfence/ringfence.h"
#include "common/clock.h"

#define RF_AUTH_CLASSES ((1ull << RF_CLASS_AUTH_EXEC) | (1ull << RF_CLASS_AUTH_OPEN))

int rf_broker_init(struct rf_broker *b, struct rf_manifests *ms, const char *config_dir)
{
	unsigned i;

	memset(b, 0, sizeof(*b));
	b->cpu = -1;
	b->manifests = *ms;
	memset(ms, 0, sizeof(*ms));
	snprintf(b->config_dir, sizeof(b->config_dir), "%s", config_dir ? config_dir : "");
	b->start_ns = rf_mono_ns();
	snprintf(b->source_name, sizeof(b->source_name), "none");
	for (i = 1; i < RF_CLASSES_MAX && i < rf_schema_class_count(); i++) {
		const struct rf_class_desc *c = rf_schema_class(i);
		int k;

		if (!c)
			continue;
		k = rf_schema_field_by_sigma(c, "Image");
		if (k >= 0 && c->fields[k].source != RF_FS_DERIVED && c->fields[k].type == RF_FT_PATH)
			b->exe_field[i] = &c->fields[k];
		k = rf_schema_field_by_sigma(c, "TargetFilename");
		if (k >= 0 && c->fields[k].source != RF_FS_DERIVED && c->fields[k].type == RF_FT_PATH)
			b->target_field[i] = &c->fields[k];
	}
	return 0;
}

static void path_list_free(struct rf_path_list *l)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->len);
	memset(l, 0, sizeof(*l));
}

static void mutes_free(struct rf_mutes *m)
{
	free(m->procs);
	path_list_free(&m->exe_lit);
	path_list_free(&m->exe_pre);
	path_list_free(&m->tgt_lit);
	path_list_free(&m->tgt_pre);
	memset(m, 0, sizeof(*m));
}

void rf_broker_fini(struct rf_broker *b)
{
	while (b->nconns)
		rf_broker_conn_free(b, b->conns[b->nconns - 1]);
	rf_manifests_free(&b->manifests);
}

/* A signature of who is subscribed to what with AUTH, and who reads the AUTH
 * classes with NOTIFY: when it changes, the AUTH module drops its verdict cache and
 * adjusts its fanotify marks. */
static uint64_t auth_signature(const struct rf_broker *b)
{
	uint64_t sig = (uint64_t)b->nsubs[RF_CLASS_AUTH_EXEC] << 40 ^
		       (uint64_t)b->nsubs[RF_CLASS_AUTH_OPEN] << 48;
	unsigned k, i;

	for (k = 1; k < RF_CLASSES_MAX; k++)
		for (i = 0; i < b->nasubs[k]; i++)
			sig += ((uint64_t)b->asubs[k][i]->id * 0x9E3779B97F4A7C15ull) ^ k;
	return sig;
}

static void rebuild_subs(struct rf_broker *b)
{
	size_t i;
	unsigned k;
	uint64_t before = auth_signature(b);

	memset(b->nsubs, 0, sizeof(b->nsubs));
	memset(b->nasubs, 0, sizeof(b->nasubs));
	for (i = 0; i < b->nconns; i++) {
		struct rf_conn *c = b->conns[i];

		if (!c->identified || c->dead)
			continue;
		for (k = 1; k < RF_CLASSES_MAX; k++) {
			if (!((c->classes >> k) & 1))
				continue;
			if (c->modes & RF_SUB_NOTIFY)
				b->subs[k][b->nsubs[k]++] = c;
			if ((c->modes & RF_SUB_AUTH) && (RF_AUTH_CLASSES >> k & 1))
				b->asubs[k][b->nasubs[k]++] = c;
		}
	}
	if (b->auth.subs_changed && auth_signature(b) != before)
		b->auth.subs_changed(b->auth.ctx);
}

/* c's mutes changed: if it answers AUTH requests, cached verdicts may no longer be
 * what it would answer (whom it is asked about changed). */
static void auth_forget(struct rf_broker *b, const struct rf_conn *c)
{
	if (b->auth.forget && (c->modes & RF_SUB_AUTH) && (c->classes & RF_AUTH_CLASSES))
		b->auth.forget(b->auth.ctx);
}

void rf_broker_resubscribe(struct rf_broker *b)
{
	rebuild_subs(b);
}

struct rf_conn *rf_broker_conn_by_id(struct rf_broker *b, uint32_t id)
{
	size_t i;

	for (i = 0; i < b->nconns; i++)
		if (b->conns[i]->id == id && b->conns[i]->identified && !b->conns[i]->dead)
			return b->conns[i];
	return NULL;
}

struct rf_conn *rf_broker_conn_new(struct rf_broker *b, int fd, pid_t pid, uid_t uid, gid_t gid)
{
	struct rf_conn *c;
	size_t i, pending = 0;

	for (i = 0; i < b->nconns; i++)
		pending += !b->conns[i]->identified;
	if (pending >= RF_CTL_PENDING_MAX || b->nconns >= sizeof(b->conns) / sizeof(b->conns[0]))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->pid = pid;
	c->uid = uid;
	c->gid = gid;
	c->id = ++b->next_id;
	b->conns[b->nconns++] = c;
	return c;
}

void rf_broker_conn_free(struct rf_broker *b, struct rf_conn *c)
{
	size_t i;

	if (!c)
		return;
	if (c->identified && b->auth.conn_gone)
		b->auth.conn_gone(b->auth.ctx, c);
	if (c->identified && b->net.conn_gone)
		b->net.conn_gone(b->net.ctx, c);
	for (i = 0; i < b->nconns; i++)
		if (b->conns[i] == c) {
			b->conns[i] = b->conns[--b->nconns];
			break;
		}
	if (c->identified) {
		rf_ring_writer_destroy(&c->ring);
		rebuild_subs(b);
	}
	mutes_free(&c->mutes);
	free(c);
}

/* ---- muting -------------------------------------------------------------- */

static bool path_match(const struct rf_path_list *l, const char *s, size_t len, bool prefix)
{
	uint32_t i;

	/* O(entries): fine for the few hundred entries engines mute in practice; a
	 * sorted array or trie would be the next step. */
	for (i = 0; i < l->n; i++) {
		if (prefix ? (l->len[i] <= len && !memcmp(s, l->v[i], l->len[i]))
			   : (l->len[i] == len && !memcmp(s, l->v[i], len)))
			return true;
	}
	return false;
}

static bool set_mutes(bool matched, bool inverted)
{
	return inverted ? !matched : matched;
}

bool rf_broker_muted(const struct rf_broker *b, const struct rf_conn *c,
		     const struct rf_event_hdr *ev)
{
	const struct rf_mutes *m = &c->mutes;
	const struct rf_field_desc *f;
	const char *s;
	size_t len;
	uint32_t i;
	bool hit = false;

	for (i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid == ev->pid &&
		    (!m->procs[i].start_ns || m->procs[i].start_ns == ev->start_ns)) {
			hit = true;
			break;
		}
	if (set_mutes(hit, m->inverted & (1u << RF_MUTESET_PROCESS)))
		return true;
	f = ev->class_id < RF_CLASSES_MAX ? b->exe_field[ev->class_id] : NULL;
	len = 0;
	if (f) {
		if (rf_event_str(ev, f, &s, &len) < 0)
			len = 0;
	} else if (b->proctable && (m->exe_lit.n || m->exe_pre.n ||
				    (m->inverted & (1u << RF_MUTESET_EXE)))) {
		/* no executable in the event: the acting process's, from the table */
		const struct rf_proc *p = rf_proctable_lookup(b->proctable, ev->pid, ev->start_ns);
		if (p && p->exe[0]) {
			s = p->exe;
			len = strlen(s);
		}
	}
	if (len) {
		hit = path_match(&m->exe_lit, s, len, false) || path_match(&m->exe_pre, s, len, true);
		if (set_mutes(hit, m->inverted & (1u << RF_MUTESET_EXE)))
			return true;
	}
	f = ev->class_id < RF_CLASSES_MAX ? b->target_field[ev->class_id] : NULL;
	if (f && rf_event_str(ev, f, &s, &len) == 0 && len) {
		hit = path_match(&m->tgt_lit, s, len, false) || path_match(&m->tgt_pre, s, len, true);
		if (set_mutes(hit, m->inverted & (1u << RF_MUTESET_TARGET)))
			return true;
	}
	return false;
}

static struct rf_path_list *list_of(struct rf_mutes *m, unsigned kind)
{
	switch (kind) {
	case RF_MUTE_EXE_LITERAL:
		return &m->exe_lit;
	case RF_MUTE_EXE_PREFIX:
		return &m->exe_pre;
	case RF_MUTE_TARGET_LITERAL:
		return &m->tgt_lit;
	case RF_MUTE_TARGET_PREFIX:
		return &m->tgt_pre;
	}
	return NULL;
}

/* Returns 0 or an rf_error code. */
static int mute_apply(struct rf_mutes *m, const struct rf_msg *msg, const char **why)
{
	const struct rf_msg_mute *mu = &msg->u.mute;
	struct rf_path_list *l;
	uint32_t i;

	if (mu->kind == RF_MUTE_PROCESS) {
		if (mu->op == RF_MUTE_OP_CLEAR) {
			m->total -= m->nprocs;
			m->nprocs = 0;
			return 0;
		}
		for (i = 0; i < m->nprocs; i++)
			if (m->procs[i].pid == mu->pid && m->procs[i].start_ns == mu->start_ns)
				break;
		if (mu->op == RF_MUTE_OP_REMOVE) {
			if (i == m->nprocs) {
				*why = "that process is not muted";
				return RF_E_STATE;
			}
			m->procs[i] = m->procs[--m->nprocs];
			m->total--;
			return 0;
		}
		if (i < m->nprocs)
			return 0; /* already muted */
		if (m->nprocs >= RF_MUTE_MAX) {
			*why = "too many muted processes (RF_MUTE_MAX)";
			return RF_E_LIMIT;
		}
		if (m->nprocs == m->capprocs) {
			uint32_t cap = m->capprocs ? m->capprocs * 2 : 16;
			void *p = realloc(m->procs, cap * sizeof(*m->procs));
			if (!p) {
				*why = "out of memory";
				return RF_E_INTERNAL;
			}
			m->procs = p;
			m->capprocs = cap;
		}
		m->procs[m->nprocs].pid = mu->pid;
		m->procs[m->nprocs].start_ns = mu->start_ns;
		m->nprocs++;
		m->total++;
		return 0;
	}
	l = list_of(m, mu->kind);
	if (mu->op == RF_MUTE_OP_CLEAR) {
		m->total -= l->n;
		path_list_free(l);
		return 0;
	}
	size_t len = mu->path_len - 1;
	for (i = 0; i < l->n; i++)
		if (l->len[i] == len && !memcmp(l->v[i], msg->path, len))
			break;
	if (mu->op == RF_MUTE_OP_REMOVE) {
		if (i == l->n) {
			*why = "that path is not muted";
			return RF_E_STATE;
		}
		free(l->v[i]);
		l->v[i] = l->v[l->n - 1];
		l->len[i] = l->len[l->n - 1];
		l->n--;
		m->total--;
		return 0;
	}
	if (i < l->n)
		return 0;
	if (l->n >= RF_MUTE_MAX) {
		*why = "too many muted paths of this kind (RF_MUTE_MAX)";
		return RF_E_LIMIT;
	}
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (v)
			l->v = v;
		uint16_t *ln = v ? realloc(l->len, cap * sizeof(*ln)) : NULL;
		if (!v || !ln) {
			*why = "out of memory";
			return RF_E_INTERNAL;
		}
		l->len = ln;
		l->cap = cap;
	}
	l->v[l->n] = strndup(msg->path, len);
	if (!l->v[l->n]) {
		*why = "out of memory";
		return RF_E_INTERNAL;
	}
	l->len[l->n] = (uint16_t)len;
	l->n++;
	m->total++;
	return 0;
}

/* ---- control ------------------------------------------------------------- */

static void reply_hdr(struct rf_msg_hdr *h, unsigned type, size_t size, uint32_t id)
{
	memset(h, 0, sizeof(*h));
	h->magic = RF_PROTO_MAGIC;
	h->type = type;
	h->size = (uint32_t)size;
	h->id = id;
}

__attribute__((format(printf, 4, 5)))
static size_t reply_error(void *out, uint32_t id, int code, const char *fmt, ...)
{
	struct rf_msg_error *e = out;
	va_list ap;

	memset(e, 0, sizeof(*e));
	reply_hdr(&e->hdr, RF_MSG_ERROR, sizeof(*e), id);
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return sizeof(*e);
}

static size_t reply_ok(void *out, uint32_t id)
{
	reply_hdr(out, RF_MSG_OK, sizeof(struct rf_msg_hdr), id);
	return sizeof(struct rf_msg_hdr);
}

static size_t identified_count(const struct rf_broker *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->nconns; i++)
		n += b->conns[i]->identified;
	return n;
}

static size_t do_hello(struct rf_broker *b, struct rf_conn *c, const struct rf_msg *m, void *out,
		       int fds[2], int *nfds)
{
	const struct rf_msg_hello *h = &m->u.hello;
	const struct rf_manifest *man;
	struct rf_msg_welcome *w = out;
	char link[64], exe[RF_PATH_MAX];
	uint64_t want;
	ssize_t n;
	int r;

	if (c->identified)
		return reply_error(out, h->hdr.id, RF_E_STATE, "HELLO twice on one connection");
	if (h->abi_version != RF_ABI_VERSION) {
		b->refused++;
		return reply_error(out, h->hdr.id, RF_E_ABI, "ABI version %u not supported (daemon: %u)",
				   h->abi_version, RF_ABI_VERSION);
	}
	man = rf_manifests_find(&b->manifests, h->name);
	if (!man) {
		b->refused++;
		return reply_error(out, h->hdr.id, RF_E_UNKNOWN_CLIENT,
				   "no manifest named '%.64s' in %.80s/clients.d", h->name, b->config_dir);
	}
	if (b->safe_mode && !man->platform) {
		b->refused++;
		return reply_error(out, h->hdr.id, RF_E_STATE,
				   "SAFE MODE: third-party client '%.64s' is not admitted", h->name);
	}
	if (c->uid != man->uid) {
		b->refused++;
		return reply_error(out, h->hdr.id, RF_E_IDENTITY,
				   "peer uid %u is not the manifest's user (uid %u)", (unsigned)c->uid,
				   (unsigned)man->uid);
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)c->pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n < 0 || (exe[n] = 0, strcmp(exe, man->exe))) {
		b->refused++;
		return reply_error(out, h->hdr.id, RF_E_IDENTITY,
				   "peer executable %.60s is not the manifest's %.60s",
				   n < 0 ? "(unreadable)" : exe, man->exe);
	}
	if (identified_count(b) >= RF_CLIENTS_MAX) {
		b->refused++;
		return reply_error(out, h->hdr.id, RF_E_TOO_MANY, "%u clients connected already",
				   RF_CLIENTS_MAX);
	}
	want = man->ring_bytes;
	if (h->ring_bytes && h->ring_bytes < want)
		want = rf_ring_size_round(h->ring_bytes);
	r = rf_ring_writer_create(&c->ring, want);
	if (r < 0)
		return reply_error(out, h->hdr.id, RF_E_INTERNAL, "cannot create the ring: %s",
				   strerror(-r));
	c->man = *man;
	c->identified = true;
	memset(w, 0, sizeof(*w));
	reply_hdr(&w->hdr, RF_MSG_WELCOME, sizeof(*w), h->hdr.id);
	w->abi_version = RF_ABI_VERSION;
	w->client_id = c->id;
	w->data_bytes = c->ring.size;
	w->entitled_classes = man->classes;
	w->entitled_modes = man->modes;
	w->cpu_plus_one = b->cpu >= 0 ? (uint32_t)b->cpu + 1 : 0;
	fds[0] = rf_ring_writer_take_memfd(&c->ring);
	fds[1] = c->ring.efd;
	*nfds = 2;
	return sizeof(*w);
}

static size_t do_stats(struct rf_broker *b, struct rf_conn *c, uint32_t id, void *out)
{
	struct rf_msg_stats *s = out;

	memset(s, 0, sizeof(*s));
	reply_hdr(&s->hdr, RF_MSG_STATS, sizeof(*s), id);
	s->delivered = c->delivered;
	s->dropped = c->dropped;
	s->muted = c->muted;
	s->deadline_misses = c->deadline_misses;
	s->ring_used = rf_ring_writer_used(&c->ring);
	s->ring_bytes = c->ring.size;
	s->nclasses = RF_CLASSES_MAX;
	memcpy(s->class_delivered, c->class_delivered, sizeof(s->class_delivered));
	memcpy(s->class_dropped, c->class_dropped, sizeof(s->class_dropped));
	return sizeof(*s);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* p50/p99 of the last answer times of c (a copy sorted; at most 256 entries). */
static void lat_pcts(const struct rf_conn *c, uint64_t *p50, uint64_t *p99)
{
	uint32_t v[256], n = c->auth_nlat < 256 ? c->auth_nlat : 256;

	*p50 = *p99 = 0;
	if (!n)
		return;
	memcpy(v, c->auth_lat_us, n * sizeof(v[0]));
	qsort(v, n, sizeof(v[0]), cmp_u32);
	*p50 = v[n / 2];
	*p99 = v[(n * 99) / 100];
}

static void sup_fill(struct rf_status_client *e, const struct rf_sup_client *k)
{
	e->sup_state = k->state;
	e->restarts = k->restarts;
	e->crashes = k->crashes;
	e->crash_loops = k->crash_loops;
	e->rollbacks = k->rollbacks;
	e->stalls = k->stalls;
	e->last_signal = k->last_signal;
	e->last_exit = k->crashes ? k->last_exit : -1;
	e->recover_ms = k->recover_ms;
	e->incidents = k->incidents;
}

static size_t do_status(struct rf_broker *b, uint32_t id, void *out)
{
	struct rf_msg_status *s = out;
	unsigned char *p = (unsigned char *)(s + 1);
	size_t i, n = 0;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < b->nconns; i++) {
		struct rf_conn *c = b->conns[i];
		struct rf_status_client e;

		if (!c->identified)
			continue;
		memset(&e, 0, sizeof(e));
		e.client_id = c->id;
		e.pid = (uint32_t)c->pid;
		e.uid = (uint32_t)c->uid;
		e.modes = c->modes;
		memcpy(e.name, c->man.name, sizeof(e.name));
		e.classes = c->classes;
		e.delivered = c->delivered;
		e.dropped = c->dropped;
		e.muted = c->muted;
		e.events_per_s = c->eps;
		e.ring_used = rf_ring_writer_used(&c->ring);
		e.ring_bytes = c->ring.size;
		e.mutes = c->mutes.total;
		e.inverted = c->mutes.inverted;
		e.deadline_misses = c->deadline_misses;
		e.auth_asked = c->auth_asked;
		e.auth_allowed = c->auth_allowed;
		e.auth_denied = c->auth_denied;
		e.auth_late = c->auth_late;
		e.auth_demoted = c->auth_demoted;
		lat_pcts(c, &e.auth_p50_us, &e.auth_p99_us);
		e.last_exit = -1;
		struct rf_sup_client *k = rf_sup_find(b->sup, c->man.name);
		if (k && k->pid == c->pid)
			sup_fill(&e, k);
		memcpy(p + n * sizeof(e), &e, sizeof(e));
		n++;
	}
	/* supervised clients that are not connected */
	for (i = 0; b->sup && i < b->sup->n && n < RF_CLIENTS_MAX; i++) {
		struct rf_sup_client *k = &b->sup->v[i];
		struct rf_status_client e;
		size_t j;
		bool listed = false;

		for (j = 0; j < b->nconns; j++)
			listed |= b->conns[j]->identified && k->pid && b->conns[j]->pid == k->pid &&
				  !strcmp(b->conns[j]->man.name, k->name);
		if (listed)
			continue;
		memset(&e, 0, sizeof(e));
		memcpy(e.name, k->name, sizeof(e.name));
		e.pid = (uint32_t)k->pid;
		e.uid = (uint32_t)k->uid;
		sup_fill(&e, k);
		memcpy(p + n * sizeof(e), &e, sizeof(e));
		n++;
	}
	reply_hdr(&s->hdr, RF_MSG_STATUS, sizeof(*s) + n * sizeof(struct rf_status_client), id);
	s->nclients = (uint32_t)n;
	s->entry_size = sizeof(struct rf_status_client);
	s->uptime_ns = rf_mono_ns() - b->start_ns;
	s->source_events = b->source_events;
	s->source_per_s = b->source_per_s;
	s->refused = b->refused;
	s->disconnected = b->disconnected;
	s->source_dropped = b->source_dropped;
	s->flags = b->sup ? rf_sup_features(b->sup) : 0;
	if (b->safe_mode)
		s->flags |= RF_STATUS_SAFE_MODE;
	snprintf(s->source, sizeof(s->source), "%s", b->source_name);
	if (b->auth.status)
		b->auth.status(b->auth.ctx, &s->auth);
	if (b->net.status)
		b->net.status(b->net.ctx, &s->auth);
	return s->hdr.size;
}

/* RECENT_REQ: the recording, dumped into a sealed memfd that goes with the reply. */
static size_t do_recent(struct rf_broker *b, uint32_t id, void *out, int fds[2], int *nfds)
{
	struct rf_msg_recent *m = out;
	struct rf_recent_stats st;
	char path[64];
	int fd, r;

	if (!b->recent)
		return reply_error(out, id, RF_E_UNSUPPORTED,
				   "the daemon records no recent events (--recent-seconds 0)");
	rf_broker_flush(b); /* the staged batch belongs to the recording too */
	fd = memfd_create("ringfence-recent", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return reply_error(out, id, RF_E_INTERNAL, "memfd: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = rf_recent_dump(b->recent, path, &st);
	if (r == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return reply_error(out, id, RF_E_INTERNAL, "recording: %s", strerror(-r));
	}
	memset(m, 0, sizeof(*m));
	m->hdr = (struct rf_msg_hdr){.magic = RF_PROTO_MAGIC, .type = RF_MSG_RECENT,
				     .size = sizeof(*m), .id = id};
	m->events = st.events;
	m->bytes = st.bytes;
	m->oldest_ns = st.oldest_ns;
	m->newest_ns = st.newest_ns;
	m->window_s = b->recent_window_s;
	fds[0] = fd;
	*nfds = 1;
	return sizeof(*m);
}

size_t rf_broker_control(struct rf_broker *b, struct rf_conn *c, const void *buf, size_t n,
			 void *out, size_t outsz, int fds[2], int *nfds)
{
	struct rf_msg m;
	const char *why = NULL;
	uint32_t id = 0;
	int code;

	*nfds = 0;
	if (outsz < RF_BROKER_REPLY_MAX)
		return 0;
	if (n >= sizeof(struct rf_msg_hdr))
		memcpy(&id, (const unsigned char *)buf + offsetof(struct rf_msg_hdr, id), sizeof(id));
	if (n > RF_CTL_MSG_MAX || rf_proto_parse(buf, n, &m, &why) < 0) {
		c->proto_errors++;
		return reply_error(out, id, RF_E_PROTO, "malformed message: %s",
				   why ? why : "longer than RF_CTL_MSG_MAX");
	}
	switch (m.hdr.type) {
	case RF_MSG_HELLO:
		return do_hello(b, c, &m, out, fds, nfds);
	case RF_MSG_STATUS_REQ:
		if (c->uid != 0 && c->uid != geteuid())
			return reply_error(out, id, RF_E_NOT_ENTITLED,
					   "status is for root and the daemon's user only");
		return do_status(b, id, out);
	case RF_MSG_RECENT_REQ:
		if (c->uid != 0 && c->uid != geteuid())
			return reply_error(out, id, RF_E_NOT_ENTITLED,
					   "the recording is for root and the daemon's user only");
		return do_recent(b, id, out, fds, nfds);
	case RF_MSG_AUTH_TEST: {
		char why2[160];

		if (c->uid != 0 && c->uid != geteuid())
			return reply_error(out, id, RF_E_NOT_ENTITLED,
					   "auth test is for root and the daemon's user only");
		if (!b->auth.test || !b->send)
			return reply_error(out, id, RF_E_UNSUPPORTED,
					   "AUTH is off: the daemon runs without --auth-mount");
		code = b->auth.test(b->auth.ctx, c, id, m.u.auth_test.class_id, m.path, why2, sizeof(why2));
		return code ? reply_error(out, id, code, "%s", why2) : 0;
	}
	case RF_MSG_SUBSCRIBE:
	case RF_MSG_MUTE:
	case RF_MSG_INVERT:
	case RF_MSG_STATS_REQ:
	case RF_MSG_CLEAR_CACHE:
	case RF_MSG_VERDICT:
	case RF_MSG_NETRULE:
	case RF_MSG_HEARTBEAT:
		if (!c->identified)
			return reply_error(out, id, RF_E_STATE, "%s before HELLO",
					   rf_proto_type_name(m.hdr.type));
		break;
	default:
		return reply_error(out, id, RF_E_PROTO, "%s is not a request",
				   rf_proto_type_name(m.hdr.type));
	}
	switch (m.hdr.type) {
	case RF_MSG_SUBSCRIBE:
		if ((m.u.subscribe.classes & ~c->man.classes) || (m.u.subscribe.modes & ~c->man.modes))
			return reply_error(out, id, RF_E_NOT_ENTITLED,
					   "manifest '%s' allows classes %#llx modes %#x; asked %#llx %#x",
					   c->man.name, (unsigned long long)c->man.classes, c->man.modes,
					   (unsigned long long)m.u.subscribe.classes, m.u.subscribe.modes);
		if ((m.u.subscribe.modes & RF_SUB_AUTH) && !(m.u.subscribe.modes & RF_SUB_NOTIFY) &&
		    (m.u.subscribe.classes & ~RF_AUTH_CLASSES))
			return reply_error(out, id, RF_E_UNSUPPORTED,
					   "AUTH exists for auth_exec and auth_open only: subscribe other classes with NOTIFY");
		if ((m.u.subscribe.modes & RF_SUB_AUTH) && c->auth_demoted)
			return reply_error(out, id, RF_E_STATE,
					   "demoted to NOTIFY for missing AUTH deadlines: reconnect to use AUTH");
		c->classes = m.u.subscribe.classes;
		c->modes = m.u.subscribe.modes;
		rebuild_subs(b);
		return reply_ok(out, id);
	case RF_MSG_MUTE:
		code = mute_apply(&c->mutes, &m, &why);
		if (!code)
			auth_forget(b, c);
		return code ? reply_error(out, id, code, "%s", why) : reply_ok(out, id);
	case RF_MSG_INVERT:
		if (m.u.invert.on)
			c->mutes.inverted |= 1u << m.u.invert.set;
		else
			c->mutes.inverted &= ~(1u << m.u.invert.set);
		auth_forget(b, c);
		return reply_ok(out, id);
	case RF_MSG_STATS_REQ:
		return do_stats(b, c, id, out);
	case RF_MSG_CLEAR_CACHE:
		/* only a client whose verdicts can be cached may drop them: anyone else
		 * could make every request a round trip to the clients again */
		if (!(c->man.modes & RF_SUB_AUTH))
			return reply_error(out, id, RF_E_NOT_ENTITLED,
					   "manifest '%s' has no AUTH mode: no verdicts of its own to forget",
					   c->man.name);
		if (b->auth.forget)
			b->auth.forget(b->auth.ctx);
		return reply_ok(out, id);
	case RF_MSG_VERDICT: /* no reply (proto.h) */
		if (b->auth.verdict)
			b->auth.verdict(b->auth.ctx, c, &m.u.verdict);
		else
			c->auth_late++;
		return 0;
	case RF_MSG_NETRULE: {
		char why2[160];

		if (!(c->man.modes & RF_SUB_AUTH))
			return reply_error(out, id, RF_E_NOT_ENTITLED,
					   "network rules need 'modes = auth' in manifest '%s'", c->man.name);
		if (!b->net.rule)
			return reply_error(out, id, RF_E_UNSUPPORTED,
					   "network policy is off: the daemon runs without --net-policy");
		code = b->net.rule(b->net.ctx, c, &m.u.netrule, why2, sizeof(why2));
		return code ? reply_error(out, id, code, "%s", why2) : reply_ok(out, id);
	}
	case RF_MSG_HEARTBEAT:
		c->heartbeat_ns = rf_mono_ns();
		c->heartbeats++;
		return reply_ok(out, id);
	default:
		return reply_error(out, id, RF_E_UNSUPPORTED, "%s is reserved and not implemented yet",
				   rf_proto_type_name(m.hdr.type));
	}
}

/* ---- fan-out ------------------------------------------------------------- */

/* The staged batch into the recording (one copy) and into each subscriber's ring:
 * one pass over the batch per client, so that its ring, counters and subscription
 * stay in registers and cache while it runs; no per-event function calls.
 * Known cost: an event is copied twice on its way into the recording (into the
 * stage, then with the batch); staging directly in the recording's newest chunk
 * would save one copy (noticeable for exec-sized events, ~256 bytes). */
static void fanout(struct rf_broker *b)
{
	const unsigned char *end = b->stage + b->stage_used, *p;
	size_t i;

	if (!b->stage_n)
		return;
	if (b->recent)
		rf_recent_add_batch(b->recent, b->stage, b->stage_used, b->stage_n, b->stage_max_ts);
	for (i = 0; i < b->nconns; i++) {
		struct rf_conn *c = b->conns[i];
		uint64_t want = c->classes & b->stage_classes & ~1ull; /* as rebuild_subs */
		bool mutes = c->mutes.total || c->mutes.inverted;

		if (!c->identified || c->dead || !(c->modes & RF_SUB_NOTIFY) || !want)
			continue;
		for (p = b->stage; p < end; p += RF_RING_ALIGN(((const struct rf_event_hdr *)p)->size)) {
			const struct rf_event_hdr *ev = (const struct rf_event_hdr *)p;
			unsigned cls = ev->class_id;
			int r;

			if (!((want >> cls) & 1))
				continue;
			if (mutes && rf_broker_muted(b, c, ev)) {
				c->muted++;
				continue;
			}
			r = rf_ring_writer_put(&c->ring, ev, ev->size, ++c->seq, ++c->class_seq[cls]);
			if (r == 0) {
				c->delivered++;
				c->class_delivered[cls]++;
			} else if (r == -ENOSPC) {
				c->dropped++;
				b->dropped_total++;
				c->class_dropped[cls]++;
			} else {
				c->dead = true; /* corrupt ring: daemon.c disconnects it */
				b->any_dead = true;
				break;
			}
		}
	}
	b->stage_used = 0;
	b->stage_n = 0;
	b->stage_classes = 0;
	b->stage_max_ts = 0;
}

void rf_broker_dispatch(struct rf_broker *b, const struct rf_event_hdr *ev)
{
	unsigned cls = ev->class_id;
	size_t len = ev->size, need = RF_RING_ALIGN(len);
	unsigned char *d;

	b->source_events++;
	if (cls >= RF_CLASSES_MAX || len < sizeof(*ev) || len > RF_EVENT_MAX)
		return;
	if (!b->recent && !b->nsubs[cls])
		return; /* nobody wants it */
	if (b->stage_used + need > sizeof(b->stage))
		fanout(b);
	d = b->stage + b->stage_used;
	/* no stale bytes of other events in the padding: zero the last word first */
	memset(d + need - 8, 0, 8);
	memcpy(d, ev, len);
	b->stage_used += need;
	b->stage_n++;
	b->stage_classes |= 1ull << cls;
	if (ev->ts_ns > b->stage_max_ts)
		b->stage_max_ts = ev->ts_ns;
}

void rf_broker_flush(struct rf_broker *b)
{
	size_t i;

	fanout(b);
	for (i = 0; i < b->nconns; i++)
		if (b->conns[i]->identified)
			rf_ring_writer_publish(&b->conns[i]->ring);
	if (b->any_dead)
		rebuild_subs(b);
}

void rf_broker_tick(struct rf_broker *b)
{
	size_t i;

	for (i = 0; i < b->nconns; i++) {
		struct rf_conn *c = b->conns[i];

		if (!c->identified && ++c->age_s > RF_CTL_HELLO_TIMEOUT_S) {
			c->dead = true; /* holds a pending slot without identifying */
			b->any_dead = true;
		}
		c->eps = c->delivered - c->last_delivered;
		c->last_delivered = c->delivered;
		/* A ring that is never full would never have its tail checked by the
		 * writer: check every client once a second. */
		if (c->identified && !c->dead && rf_ring_writer_check(&c->ring) < 0) {
			c->dead = true;
			b->any_dead = true;
		}
	}
	b->source_per_s = b->source_events - b->last_source;
	b->last_source = b->source_events;
}
