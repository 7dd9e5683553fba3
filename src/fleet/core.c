// SPDX-License-Identifier: MIT
/* core.c: rings, stages, health gates, halt and rollback decision (docs/fleet.md).
 * Pure: no I/O, explicit time. The server and the simulator call the same code. */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fleet/fleet.h"

#define TR RF_FLEET_TRACKS_MAX

struct host {
	char id[RF_FLEET_HOST_MAX + 1];
	uint64_t hash;
	uint8_t key[32];
	uint64_t seq;
	int64_t last_seen;
	uint32_t last_epoch, fail_epoch; /* epoch index + 1 of the last report / failure */
	uint32_t given;                  /* rollout id in which the canary gave it the target */
	uint8_t ring, override, internal, have_key, pinned, dirty, failing;
	uint64_t running[TR];
	uint64_t pin[TR];
	uint32_t fails[TR]; /* crashes + restarts + rollbacks last reported */
};

struct track {
	char client[RF_FLEET_CLIENT_NAME_MAX];
	int stage;
	uint64_t stable, target, bad, highest;
	int64_t stage_start, rollout_start, halt_time, done_time;
	uint32_t canary_given, epochs_in_stage;
	bool rollback_requested;
	unsigned nrel;
	struct rf_fleet_release rel[RF_FLEET_RELEASES_MAX];
	unsigned nhist;
	struct { uint64_t version; uint32_t hosts; } hist[16];
	uint32_t hist_other;
	char reason[200];
};

struct ringc {
	uint32_t size, reported, failing, on_target;
	uint32_t prev_size, prev_reported, prev_failing;
};

struct rf_fleet_core {
	struct rf_fleet_config cfg;
	uint32_t epoch_s;
	struct host *hosts;
	uint32_t nhosts, cap;
	uint64_t *table; /* (index + 1) | hash high bits << 32; 0 empty */
	uint32_t tmask;
	uint32_t *dirty;
	uint32_t ndirty;
	struct track tracks[TR];
	unsigned ntracks;
	int active; /* track in a rollout, or -1 */
	uint32_t rollout_id;
	uint32_t cur_epoch; /* epoch index + 1; 0 before the first call */
	bool rolled;
	struct ringc ring[RF_FLEET_RINGS];
	struct rf_fleet_event ev[RF_FLEET_EVENTS_MAX];
	uint64_t nev;
	uint64_t accepted, key_conflicts, seq_conflicts;
	uint64_t attest_failed; /* reports counted failing for their attestation */
	char runbuf[TR * (RF_FLEET_CLIENT_NAME_MAX + 24)];
};

static const char *ring_names[] = {"canary", "early", "broad", "holdback"};
static const char *stage_names[] = {"idle", "canary", "early", "broad", "halted", "rollback"};

const char *rf_fleet_ring_name(int ring)
{
	return ring >= 0 && ring < (int)RF_FLEET_RINGS ? ring_names[ring] : "none";
}

int rf_fleet_ring_parse(const char *name)
{
	for (int i = 0; i < (int)RF_FLEET_RINGS; i++)
		if (!strcmp(name, ring_names[i]))
			return i;
	return !strcmp(name, "none") ? RF_RING_NONE : -EINVAL;
}

const char *rf_fleet_stage_name(int stage)
{
	return stage >= 0 && stage <= RF_STAGE_ROLLBACK ? stage_names[stage] : "?";
}

void rf_fleet_config_default(struct rf_fleet_config *c)
{
	memset(c, 0, sizeof(*c));
	c->poll_s = 60;
	c->silence_polls = 3;
	c->canary_pct = 1.0;
	c->canary_max_pct = 1.0;
	c->early_pct = 10.0;
	c->holdback_pct = 2.0;
	c->bake_s[0] = 1800;
	c->bake_s[1] = 3600;
	c->bake_s[2] = 3600;
	c->margin = 0.02;
	c->adopt_pct = 90.0;
	c->min_epochs = 1;
	c->auth_miss_limit = 0;
	c->rollback_bake_s = 600;
	c->internal_canary = true;
	memcpy(c->salt, "ringfence-rings!", 16);
}

static uint64_t host_hash(const struct rf_fleet_config *c, const char *id)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, (const uint8_t *)id, strlen(id), c->salt);
	memcpy(&h, out, sizeof(h));
	return h;
}

static int ring_of_hash(const struct rf_fleet_config *c, uint64_t h, bool internal)
{
	double p = (double)(h >> 11) * (100.0 / 9007199254740992.0);

	if (internal && c->internal_canary)
		return RF_RING_CANARY;
	if (p < c->canary_pct)
		return RF_RING_CANARY;
	if (p < c->canary_pct + c->early_pct)
		return RF_RING_EARLY;
	if (p >= 100.0 - c->holdback_pct)
		return RF_RING_HOLDBACK;
	return RF_RING_BROAD;
}

int rf_fleet_ring_of(const struct rf_fleet_config *c, const char *host, bool internal)
{
	return ring_of_hash(c, host_hash(c, host), internal);
}

int rf_fleet_core_new(const struct rf_fleet_config *c, struct rf_fleet_core **ret)
{
	struct rf_fleet_core *fc;

	if (sodium_init() < 0)
		return -EIO;
	if (!c->poll_s || !c->silence_polls || c->margin < 0 || c->canary_pct < 0 ||
	    c->early_pct < 0 || c->holdback_pct < 0 ||
	    c->canary_pct + c->early_pct + c->holdback_pct > 100.0)
		return -EINVAL;
	fc = calloc(1, sizeof(*fc));
	if (!fc)
		return -ENOMEM;
	fc->cfg = *c;
	fc->epoch_s = c->poll_s * c->silence_polls;
	fc->active = -1;
	fc->tmask = 1023;
	fc->table = calloc(fc->tmask + 1, sizeof(uint64_t));
	if (!fc->table) {
		free(fc);
		return -ENOMEM;
	}
	*ret = fc;
	return 0;
}

void rf_fleet_core_free(struct rf_fleet_core *fc)
{
	if (!fc)
		return;
	free(fc->hosts);
	free(fc->table);
	free(fc->dirty);
	free(fc);
}

const struct rf_fleet_config *rf_fleet_core_config(const struct rf_fleet_core *fc)
{
	return &fc->cfg;
}

static void logev(struct rf_fleet_core *fc, int64_t now, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logev(struct rf_fleet_core *fc, int64_t now, const char *fmt, ...)
{
	struct rf_fleet_event *e = &fc->ev[fc->nev % RF_FLEET_EVENTS_MAX];
	va_list ap;

	e->time = now;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	fc->nev++;
}

/* --- host table ------------------------------------------------------------- */
/* Table slots hold the host index and the hash's high half, so a probe that misses
 * does not touch the host array. */
static struct host *lookup(struct rf_fleet_core *fc, const char *id, uint64_t h)
{
	uint32_t i = (uint32_t)h & fc->tmask, hi = (uint32_t)(h >> 32);

	while (fc->table[i]) {
		if ((uint32_t)(fc->table[i] >> 32) == hi) {
			struct host *x = &fc->hosts[(uint32_t)fc->table[i] - 1];
			if (x->hash == h && !strcmp(x->id, id))
				return x;
		}
		i = (i + 1) & fc->tmask;
	}
	return NULL;
}

static uint64_t slot_of(uint32_t k, uint64_t h)
{
	return (uint64_t)(k + 1) | (h >> 32) << 32;
}

static int grow_table(struct rf_fleet_core *fc)
{
	uint32_t nmask = fc->tmask * 2 + 1;
	uint64_t *t = calloc((size_t)nmask + 1, sizeof(uint64_t));

	if (!t)
		return -ENOMEM;
	for (uint32_t k = 0; k < fc->nhosts; k++) {
		uint32_t i = (uint32_t)fc->hosts[k].hash & nmask;
		while (t[i])
			i = (i + 1) & nmask;
		t[i] = slot_of(k, fc->hosts[k].hash);
	}
	free(fc->table);
	fc->table = t;
	fc->tmask = nmask;
	return 0;
}

static int active_is(const struct rf_fleet_core *fc, int k)
{
	return fc->active == k;
}

static int stat_ring(const struct host *h)
{
	return h->pinned ? RF_RING_NONE : h->ring;
}

static void hist_add(struct track *t, uint64_t v, int d)
{
	unsigned i;

	if (!v)
		return;
	for (i = 0; i < t->nhist; i++)
		if (t->hist[i].version == v) {
			t->hist[i].hosts += d;
			return;
		}
	if (d > 0) {
		for (i = 0; i < t->nhist; i++)
			if (!t->hist[i].hosts) {
				t->hist[i].version = v;
				t->hist[i].hosts = d;
				return;
			}
		if (t->nhist < 16) {
			t->hist[t->nhist].version = v;
			t->hist[t->nhist++].hosts = d;
			return;
		}
	}
	t->hist_other += d;
}

/* Add (d = 1) or remove (d = -1) a host's share of the counters. */
static void account(struct rf_fleet_core *fc, struct host *h, int d)
{
	int r = stat_ring(h);

	for (unsigned k = 0; k < fc->ntracks; k++)
		hist_add(&fc->tracks[k], h->running[k], d);
	if (r == RF_RING_NONE)
		return;
	fc->ring[r].size += d;
	if (h->last_epoch == fc->cur_epoch && fc->cur_epoch)
		fc->ring[r].reported += d;
	if (h->fail_epoch == fc->cur_epoch && fc->cur_epoch)
		fc->ring[r].failing += d;
	if (fc->active >= 0 && fc->tracks[fc->active].target &&
	    h->running[fc->active] == fc->tracks[fc->active].target)
		fc->ring[r].on_target += d;
}

static void mark_dirty(struct rf_fleet_core *fc, struct host *h)
{
	if (h->dirty)
		return;
	h->dirty = 1;
	fc->dirty[fc->ndirty++] = (uint32_t)(h - fc->hosts);
}

static struct host *get_host(struct rf_fleet_core *fc, const char *id, bool create)
{
	uint64_t h = host_hash(&fc->cfg, id);
	struct host *x = lookup(fc, id, h);
	uint32_t i;

	if (x || !create)
		return x;
	if (fc->nhosts >= RF_FLEET_HOSTS_MAX)
		return NULL;
	if (fc->nhosts == fc->cap) {
		uint32_t ncap = fc->cap ? fc->cap * 2 : 1024;
		struct host *nh = realloc(fc->hosts, (size_t)ncap * sizeof(*nh));
		uint32_t *nd;
		if (!nh)
			return NULL;
		fc->hosts = nh;
		nd = realloc(fc->dirty, (size_t)ncap * sizeof(*nd));
		if (!nd)
			return NULL;
		fc->dirty = nd;
		fc->cap = ncap;
	}
	if ((fc->nhosts + 1) * 2 > fc->tmask && grow_table(fc) < 0)
		return NULL;
	if (strlen(id) > RF_FLEET_HOST_MAX)
		return NULL;
	x = &fc->hosts[fc->nhosts];
	memset(x, 0, sizeof(*x));
	snprintf(x->id, sizeof(x->id), "%s", id);
	x->hash = h;
	x->override = RF_RING_NONE;
	x->ring = (uint8_t)ring_of_hash(&fc->cfg, h, false);
	i = (uint32_t)h & fc->tmask;
	while (fc->table[i])
		i = (i + 1) & fc->tmask;
	fc->table[i] = slot_of(fc->nhosts++, h);
	account(fc, x, 1);
	return x;
}

static void set_ring(struct rf_fleet_core *fc, struct host *h)
{
	int r = h->override != RF_RING_NONE ? h->override
					    : ring_of_hash(&fc->cfg, h->hash, h->internal);
	if (r == h->ring)
		return;
	account(fc, h, -1);
	h->ring = (uint8_t)r;
	account(fc, h, 1);
}

/* --- tracks and releases ------------------------------------------------------ */
static int find_track(const struct rf_fleet_core *fc, const char *client)
{
	for (unsigned k = 0; k < fc->ntracks; k++)
		if (!strcmp(fc->tracks[k].client, client))
			return (int)k;
	return -1;
}

static int get_track(struct rf_fleet_core *fc, const char *client)
{
	int k = find_track(fc, client);

	if (k >= 0)
		return k;
	if (fc->ntracks >= TR || strlen(client) >= RF_FLEET_CLIENT_NAME_MAX || !client[0])
		return -ENOSPC;
	k = (int)fc->ntracks++;
	memset(&fc->tracks[k], 0, sizeof(fc->tracks[k]));
	snprintf(fc->tracks[k].client, sizeof(fc->tracks[k].client), "%s", client);
	return k;
}

static const struct rf_fleet_release *release_of(const struct track *t, uint64_t v)
{
	for (unsigned i = 0; i < t->nrel; i++)
		if (t->rel[i].version == v)
			return &t->rel[i];
	return NULL;
}

/* Recount on_target after the target changed (O(hosts), once per stage change). */
static void recount_target(struct rf_fleet_core *fc)
{
	for (unsigned r = 0; r < RF_FLEET_RINGS; r++)
		fc->ring[r].on_target = 0;
	if (fc->active < 0 || !fc->tracks[fc->active].target)
		return;
	for (uint32_t i = 0; i < fc->nhosts; i++) {
		struct host *h = &fc->hosts[i];
		int r = stat_ring(h);
		if (r != RF_RING_NONE && h->running[fc->active] == fc->tracks[fc->active].target)
			fc->ring[r].on_target++;
	}
}

int rf_fleet_core_release(struct rf_fleet_core *fc, const struct rf_fleet_release *rel,
			  const char *client, int64_t now)
{
	int k = get_track(fc, client);
	struct track *t;
	unsigned i;

	if (k < 0)
		return k;
	t = &fc->tracks[k];
	if (!rel->version)
		return -EINVAL;
	for (i = 0; i < t->nrel; i++)
		if (t->rel[i].version == rel->version) {
			t->rel[i] = *rel; /* e.g. the hash became known */
			return 0;
		}
	if (t->nrel == RF_FLEET_RELEASES_MAX) {
		/* forget the oldest that no stage refers to */
		unsigned o = 0;
		for (i = 1; i < t->nrel; i++)
			if (t->rel[i].version < t->rel[o].version)
				o = i;
		t->rel[o] = t->rel[--t->nrel];
	}
	t->rel[t->nrel++] = *rel;
	if (rel->version > t->highest)
		t->highest = rel->version;
	if (!t->stable && t->stage == RF_STAGE_IDLE && !rel->rollback_of) {
		/* the first release a track sees is where it starts */
		t->stable = rel->version;
		logev(fc, now, "%s: v%llu is the starting version", t->client,
		      (unsigned long long)rel->version);
		return 0;
	}
	if (rel->rollback_of && t->stage == RF_STAGE_HALTED && rel->version > t->bad) {
		t->stage = RF_STAGE_ROLLBACK;
		t->target = rel->version;
		t->stage_start = now;
		recount_target(fc);
		logev(fc, now, "%s: rollback v%llu (content of v%llu) goes to every ring",
		      t->client, (unsigned long long)rel->version,
		      (unsigned long long)rel->rollback_of);
	}
	return 0;
}

/* --- reports ---------------------------------------------------------------- */
static void roll_epoch(struct rf_fleet_core *fc, int64_t now)
{
	uint32_t e = (uint32_t)(now / fc->epoch_s) + 1;

	if (!fc->cur_epoch) {
		fc->cur_epoch = e;
		return;
	}
	if (e <= fc->cur_epoch)
		return;
	for (unsigned r = 0; r < RF_FLEET_RINGS; r++) {
		struct ringc *c = &fc->ring[r];
		c->prev_size = c->size;
		c->prev_reported = e == fc->cur_epoch + 1 ? c->reported : 0;
		c->prev_failing = e == fc->cur_epoch + 1 ? c->failing : 0;
		c->reported = c->failing = 0;
	}
	fc->cur_epoch = e;
	fc->rolled = true;
}

static uint64_t assign_version(struct rf_fleet_core *fc, struct host *h, unsigned k,
			       int64_t now)
{
	struct track *t = &fc->tracks[k];
	uint32_t cap;

	if (h->pin[k])
		return h->pin[k];
	if (!active_is(fc, (int)k))
		return t->stable;
	switch (t->stage) {
	case RF_STAGE_CANARY:
		if (h->ring != RF_RING_CANARY)
			return t->stable;
		if (h->given == fc->rollout_id || h->running[k] == t->target)
			return t->target;
		/* internal hosts first: the rest of the ring waits one health epoch */
		if (!h->internal && now < t->stage_start + (int64_t)fc->epoch_s)
			return t->stable;
		cap = (uint32_t)(fc->cfg.canary_max_pct / 100.0 * fc->nhosts);
		if (cap < 1)
			cap = 1;
		if (t->canary_given >= cap)
			return t->stable;
		t->canary_given++;
		h->given = fc->rollout_id;
		return t->target;
	case RF_STAGE_EARLY:
		return h->ring <= RF_RING_EARLY ? t->target : t->stable;
	case RF_STAGE_BROAD:
		return h->ring <= RF_RING_BROAD ? t->target : t->stable;
	case RF_STAGE_ROLLBACK:
		return t->target;
	default:
		return t->stable;
	}
}

int rf_fleet_core_report(struct rf_fleet_core *fc, const struct rf_fleet_report *r,
			 int64_t now, struct rf_fleet_answer *ans)
{
	struct host *h;
	bool fail = false, first;
	unsigned i;

	memset(ans, 0, sizeof(*ans));
	roll_epoch(fc, now);
	h = get_host(fc, r->host, true);
	if (!h)
		return -ENOSPC;
	if (h->have_key && memcmp(h->key, r->key, 32)) {
		fc->key_conflicts++;
		return -EKEYREJECTED;
	}
	if (h->have_key && r->seq <= h->seq) {
		fc->seq_conflicts++;
		return -ESTALE;
	}
	first = !h->have_key;
	account(fc, h, -1);
	if (!h->have_key) {
		memcpy(h->key, r->key, 32);
		h->have_key = 1;
	}
	h->seq = r->seq;
	h->last_seen = now;
	if (h->internal != r->internal) {
		h->internal = r->internal;
		if (h->override == RF_RING_NONE)
			h->ring = (uint8_t)ring_of_hash(&fc->cfg, h->hash, h->internal);
	}
	if (r->auth_misses > fc->cfg.auth_miss_limit)
		fail = true;
	if (r->attest_failed && !first) { /* the first report had no nonce to quote */
		fail = true;
		fc->attest_failed++;
	}
	for (i = 0; i < r->nclients; i++) {
		const struct rf_fleet_client_report *c = &r->clients[i];
		int k = find_track(fc, c->client);
		uint32_t sum = c->crashes + c->restarts + c->rollbacks;

		if (c->state == RF_CS_INSTALL_FAILED || c->state == RF_CS_CRASH_LOOP ||
		    c->state == RF_CS_QUARANTINED)
			fail = true;
		if (k < 0)
			continue;
		/* counters run since the daemon started: a drop is a daemon restart */
		if (h->last_epoch && sum > h->fails[k])
			fail = true;
		h->fails[k] = sum;
		h->running[k] = c->version;
	}
	if (fail)
		h->fail_epoch = fc->cur_epoch;
	h->failing = fail;
	h->last_epoch = fc->cur_epoch;
	account(fc, h, 1);
	mark_dirty(fc, h);
	fc->accepted++;

	ans->ring = h->ring;
	ans->poll_s = fc->cfg.poll_s;
	for (unsigned k = 0; k < fc->ntracks; k++) {
		uint64_t v = assign_version(fc, h, k, now);
		const struct rf_fleet_release *rel;
		if (!v)
			continue;
		rel = release_of(&fc->tracks[k], v);
		snprintf(ans->assign[ans->nassign].client, RF_FLEET_CLIENT_NAME_MAX, "%s",
			 fc->tracks[k].client);
		ans->assign[ans->nassign].version = v;
		ans->assign[ans->nassign].sha256 = rel ? rel->sha256 : "";
		ans->nassign++;
	}
	return 0;
}

/* --- gates ------------------------------------------------------------------ */
static int stage_ring(int stage)
{
	return stage == RF_STAGE_CANARY ? RF_RING_CANARY
	       : stage == RF_STAGE_EARLY ? RF_RING_EARLY
					 : RF_RING_BROAD;
}

/* failure rate of the last complete epoch over rings [lo, hi] */
static double prev_rate(const struct rf_fleet_core *fc, int lo, int hi, uint32_t *n)
{
	uint64_t size = 0, bad = 0;

	for (int r = lo; r <= hi; r++) {
		const struct ringc *c = &fc->ring[r];
		size += c->prev_size;
		bad += c->prev_failing + (c->prev_size > c->prev_reported
						  ? c->prev_size - c->prev_reported : 0);
	}
	*n = (uint32_t)size;
	return size ? (double)bad / (double)size : 0.0;
}

static void halt(struct rf_fleet_core *fc, struct track *t, int64_t now,
		 struct rf_fleet_action *act, const char *why)
{
	t->bad = t->target;
	t->stage = RF_STAGE_HALTED;
	t->halt_time = now;
	t->stage_start = now;
	snprintf(t->reason, sizeof(t->reason), "halted v%llu: %s", (unsigned long long)t->bad,
		 why);
	logev(fc, now, "%s: %s", t->client, t->reason);
	recount_target(fc);
	if (!t->rollback_requested) {
		t->rollback_requested = true;
		act->publish_rollback = true;
		snprintf(act->client, sizeof(act->client), "%s", t->client);
		act->version = t->highest + 1;
		act->rollback_of = t->stable;
	}
}

static void gate(struct rf_fleet_core *fc, struct track *t, int64_t now,
		 struct rf_fleet_action *act)
{
	int r = stage_ring(t->stage);
	int clo = r == RF_RING_BROAD ? RF_RING_HOLDBACK : r + 1;
	uint32_t nring, nctl;
	double ctl = prev_rate(fc, clo, RF_RING_HOLDBACK, &nctl), ring;
	const struct ringc *c = &fc->ring[r];
	char why[160];
	uint32_t need;

	/* a complete epoch inside the stage */
	bool full = fc->rolled && (int64_t)(fc->cur_epoch - 2) * fc->epoch_s >= t->stage_start;

	if (full)
		t->epochs_in_stage++;
	if (!c->size)
		goto advance; /* an empty ring (small fleets): nothing to gate, bake only */
	/* the current epoch so far: a lower bound of the ring's failure rate */
	ring = (double)c->failing / (double)c->size;
	if (c->failing && ring > ctl + fc->cfg.margin) {
		snprintf(why, sizeof(why),
			 "%s ring %.1f%% failing (%u of %u) in this epoch, control %.1f%% + margin %.1f%%",
			 rf_fleet_ring_name(r), 100 * ring, c->failing, c->size, 100 * ctl,
			 100 * fc->cfg.margin);
		halt(fc, t, now, act, why);
		return;
	}
	if (full) {
		ring = prev_rate(fc, r, r, &nring);
		if (nring && ring > ctl + fc->cfg.margin) {
			snprintf(why, sizeof(why),
				 "%s ring %.1f%% failing or silent over an epoch, control %.1f%% + margin %.1f%%",
				 rf_fleet_ring_name(r), 100 * ring, 100 * ctl,
				 100 * fc->cfg.margin);
			halt(fc, t, now, act, why);
			return;
		}
	}
advance:
	if (now < t->stage_start + (int64_t)fc->cfg.bake_s[t->stage - RF_STAGE_CANARY] ||
	    t->epochs_in_stage < fc->cfg.min_epochs)
		return;
	need = c->size;
	if (r == RF_RING_CANARY) {
		uint32_t cap = (uint32_t)(fc->cfg.canary_max_pct / 100.0 * fc->nhosts);
		if (cap < 1)
			cap = 1;
		if (need > cap)
			need = cap;
	}
	if ((double)c->on_target < fc->cfg.adopt_pct / 100.0 * need)
		return;
	if (t->stage == RF_STAGE_BROAD) {
		logev(fc, now, "%s: v%llu passed every gate; stable for all rings", t->client,
		      (unsigned long long)t->target);
		t->stable = t->target;
		t->target = 0;
		t->stage = RF_STAGE_IDLE;
		t->done_time = now;
		snprintf(t->reason, sizeof(t->reason), "v%llu rolled out",
			 (unsigned long long)t->stable);
		fc->active = -1;
		recount_target(fc);
		return;
	}
	t->stage++;
	t->stage_start = now;
	t->epochs_in_stage = 0;
	snprintf(t->reason, sizeof(t->reason), "v%llu passed %s: %u of %u on it",
		 (unsigned long long)t->target, rf_fleet_ring_name(r), c->on_target, c->size);
	logev(fc, now, "%s: %s; opening %s", t->client, t->reason,
	      rf_fleet_ring_name(stage_ring(t->stage)));
}

static uint32_t hosts_on(const struct track *t, uint64_t v)
{
	for (unsigned i = 0; i < t->nhist; i++)
		if (t->hist[i].version == v)
			return t->hist[i].hosts;
	return 0;
}

void rf_fleet_core_tick(struct rf_fleet_core *fc, int64_t now, struct rf_fleet_action *act)
{
	memset(act, 0, sizeof(*act));
	roll_epoch(fc, now);
	if (fc->active < 0) {
		for (unsigned k = 0; k < fc->ntracks; k++) {
			struct track *t = &fc->tracks[k];
			const struct rf_fleet_release *rel = release_of(t, t->highest);
			if (t->stage != RF_STAGE_IDLE || !t->stable || t->highest <= t->stable ||
			    t->highest <= t->bad || (rel && rel->rollback_of))
				continue;
			fc->active = (int)k;
			fc->rollout_id++;
			t->target = t->highest;
			t->stage = RF_STAGE_CANARY;
			t->stage_start = t->rollout_start = now;
			t->halt_time = t->done_time = 0;
			t->canary_given = 0;
			t->epochs_in_stage = 0;
			t->rollback_requested = false;
			snprintf(t->reason, sizeof(t->reason), "rolling out v%llu (from v%llu)",
				 (unsigned long long)t->target, (unsigned long long)t->stable);
			logev(fc, now, "%s: %s: canary first", t->client, t->reason);
			recount_target(fc);
			break;
		}
	}
	if (fc->active >= 0) {
		struct track *t = &fc->tracks[fc->active];
		switch (t->stage) {
		case RF_STAGE_CANARY:
		case RF_STAGE_EARLY:
		case RF_STAGE_BROAD:
			gate(fc, t, now, act);
			break;
		case RF_STAGE_ROLLBACK:
			if (!hosts_on(t, t->bad) ||
			    now >= t->stage_start + (int64_t)fc->cfg.rollback_bake_s) {
				logev(fc, now, "%s: rollback v%llu done, %u hosts still report v%llu",
				      t->client, (unsigned long long)t->target, hosts_on(t, t->bad),
				      (unsigned long long)t->bad);
				t->stable = t->target;
				t->target = 0;
				t->stage = RF_STAGE_IDLE;
				t->done_time = now;
				fc->active = -1;
				recount_target(fc);
			}
			break;
		default:
			break;
		}
	}
	fc->rolled = false;
}

/* --- operator controls and restore ------------------------------------------- */
int rf_fleet_core_override(struct rf_fleet_core *fc, const char *host, int ring)
{
	struct host *h;

	if (ring != RF_RING_NONE && (ring < 0 || ring >= (int)RF_FLEET_RINGS))
		return -EINVAL;
	if (!host[0] || strlen(host) > RF_FLEET_HOST_MAX)
		return -EINVAL;
	h = get_host(fc, host, true);
	if (!h)
		return -ENOSPC;
	h->override = (uint8_t)ring;
	set_ring(fc, h);
	mark_dirty(fc, h);
	return 0;
}

int rf_fleet_core_pin(struct rf_fleet_core *fc, const char *host, const char *client,
		      uint64_t version)
{
	struct host *h;
	int k;
	bool any = false;

	if (!host[0] || strlen(host) > RF_FLEET_HOST_MAX)
		return -EINVAL;
	k = get_track(fc, client);
	if (k < 0)
		return k;
	h = get_host(fc, host, true);
	if (!h)
		return -ENOSPC;
	account(fc, h, -1);
	h->pin[k] = version;
	for (unsigned i = 0; i < TR; i++)
		any |= h->pin[i] != 0;
	h->pinned = any;
	account(fc, h, 1);
	mark_dirty(fc, h);
	return 0;
}

int rf_fleet_core_restore_host(struct rf_fleet_core *fc, const char *host, const uint8_t key[32],
			       uint64_t seq, bool internal, int64_t last_seen, const char *running)
{
	struct host *h;
	const char *p = running;

	if (!host[0] || strlen(host) > RF_FLEET_HOST_MAX)
		return -EINVAL;
	h = get_host(fc, host, true);
	if (!h)
		return -ENOSPC;
	if (key) {
		memcpy(h->key, key, 32);
		h->have_key = 1;
	}
	h->seq = seq;
	h->last_seen = last_seen;
	h->internal = internal;
	set_ring(fc, h);
	/* "client:version,...": what it ran when it last reported (known tracks only) */
	account(fc, h, -1);
	while (p && *p) {
		char name[RF_FLEET_CLIENT_NAME_MAX];
		const char *colon = strchr(p, ':'), *end = strchr(p, ',');
		size_t n = colon ? (size_t)(colon - p) : 0;
		int k;
		if (!colon || n >= sizeof(name) || (end && end < colon))
			break;
		memcpy(name, p, n);
		name[n] = 0;
		k = find_track(fc, name);
		if (k >= 0)
			h->running[k] = strtoull(colon + 1, NULL, 10);
		p = end ? end + 1 : NULL;
	}
	account(fc, h, 1);
	return 0;
}

int rf_fleet_core_restore_track(struct rf_fleet_core *fc, const struct rf_fleet_track_info *ti)
{
	int k = get_track(fc, ti->client);
	struct track *t;

	if (k < 0)
		return k;
	t = &fc->tracks[k];
	t->stage = ti->stage;
	t->stable = ti->stable;
	t->target = ti->target;
	t->bad = ti->bad;
	if (ti->highest > t->highest)
		t->highest = ti->highest;
	t->stage_start = ti->stage_start;
	t->rollout_start = ti->rollout_start;
	t->halt_time = ti->halt_time;
	t->done_time = ti->done_time;
	t->canary_given = ti->canary_given;
	snprintf(t->reason, sizeof(t->reason), "%s", ti->reason);
	if (t->stage != RF_STAGE_IDLE) {
		fc->active = k;
		fc->rollout_id++;
		/* a halted track asks again for its rollback after a restart */
		t->rollback_requested = false;
		if (t->stage == RF_STAGE_HALTED)
			t->halt_time = t->halt_time ? t->halt_time : ti->stage_start;
		recount_target(fc);
	}
	return 0;
}

/* --- views ------------------------------------------------------------------ */
unsigned rf_fleet_core_ntracks(const struct rf_fleet_core *fc)
{
	return fc->ntracks;
}

void rf_fleet_core_track(const struct rf_fleet_core *fc, unsigned k,
			 struct rf_fleet_track_info *ti)
{
	const struct track *t = &fc->tracks[k];

	memset(ti, 0, sizeof(*ti));
	snprintf(ti->client, sizeof(ti->client), "%s", t->client);
	ti->stage = t->stage;
	ti->stable = t->stable;
	ti->target = t->target;
	ti->bad = t->bad;
	ti->highest = t->highest;
	ti->stage_start = t->stage_start;
	ti->rollout_start = t->rollout_start;
	ti->halt_time = t->halt_time;
	ti->done_time = t->done_time;
	ti->canary_given = t->canary_given;
	ti->on_bad = t->bad ? hosts_on(t, t->bad) : 0;
	for (unsigned i = 0; i < t->nhist; i++)
		if (t->hist[i].hosts && ti->nversions < 16) {
			ti->versions[ti->nversions].version = t->hist[i].version;
			ti->versions[ti->nversions++].hosts = t->hist[i].hosts;
		}
	snprintf(ti->reason, sizeof(ti->reason), "%s", t->reason);
}

void rf_fleet_core_ring(const struct rf_fleet_core *fc, int ring, struct rf_fleet_ring_stats *s)
{
	const struct ringc *c = &fc->ring[ring];

	s->size = c->size;
	s->reported = c->reported;
	s->failing = c->failing;
	s->prev_size = c->prev_size;
	s->prev_reported = c->prev_reported;
	s->prev_failing = c->prev_failing;
	s->on_target = c->on_target;
}

uint32_t rf_fleet_core_nhosts(const struct rf_fleet_core *fc)
{
	return fc->nhosts;
}

unsigned rf_fleet_core_events(const struct rf_fleet_core *fc, uint64_t *cursor,
			      struct rf_fleet_event *out, unsigned max)
{
	uint64_t i = *cursor;
	unsigned n = 0;

	if (fc->nev > RF_FLEET_EVENTS_MAX && i < fc->nev - RF_FLEET_EVENTS_MAX)
		i = fc->nev - RF_FLEET_EVENTS_MAX;
	for (; i < fc->nev && n < max; i++)
		out[n++] = fc->ev[i % RF_FLEET_EVENTS_MAX];
	*cursor = i;
	return n;
}

void rf_fleet_core_counters(const struct rf_fleet_core *fc, uint64_t *accepted,
			    uint64_t *key_conflicts, uint64_t *seq_conflicts)
{
	*accepted = fc->accepted;
	*key_conflicts = fc->key_conflicts;
	*seq_conflicts = fc->seq_conflicts;
}

uint64_t rf_fleet_core_attest_failed(const struct rf_fleet_core *fc)
{
	return fc->attest_failed;
}

unsigned rf_fleet_core_drain_dirty(struct rf_fleet_core *fc, rf_fleet_row_cb cb, void *ctx,
				   unsigned max)
{
	unsigned n = 0;

	while (fc->ndirty && n < max) {
		struct host *h = &fc->hosts[fc->dirty[--fc->ndirty]];
		struct rf_fleet_host_row row;
		size_t off = 0;

		fc->runbuf[0] = 0;
		for (unsigned k = 0; k < fc->ntracks; k++)
			if (h->running[k] && off < sizeof(fc->runbuf))
				off += (size_t)snprintf(fc->runbuf + off, sizeof(fc->runbuf) - off,
							"%s%s:%llu", off ? "," : "",
							fc->tracks[k].client,
							(unsigned long long)h->running[k]);
		row.host = h->id;
		row.key = h->have_key ? h->key : NULL;
		row.seq = h->seq;
		row.last_seen = h->last_seen;
		row.internal = h->internal;
		row.ring = h->ring;
		row.running = fc->runbuf;
		row.failing = h->failing;
		h->dirty = 0;
		cb(ctx, &row);
		n++;
	}
	return n;
}
