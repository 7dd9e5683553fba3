// SPDX-License-Identifier: MIT
/*
 * correlate.c: correlation rules over sliding time windows, per group-by key.
 *
 * Each correlation keeps a table of at most RF_CORR_GROUPS_MAX groups. When the table
 * is full, groups whose window has passed are purged; if it is still full the new
 * group is dropped and counted (stats.groups_dropped): memory stays bounded whatever
 * the event stream does. A correlation fires when its condition holds for the window
 * that ends at the current event, then its group starts over (one hit per burst).
 * Known weakness: event time is the event's own timestamp; events that arrive out of
 * order by more than the window are counted as if in order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/correlate.h"

struct corr_group {
	char *key;          /* NULL: free slot */
	uint64_t hash;
	uint64_t last_ns;
	uint64_t *ts;       /* event_count: timestamps; value_count: per value */
	char **vals;        /* value_count */
	unsigned n, cap;
	uint64_t *seen;     /* temporal: per referenced rule, last time (0 never);
	                       temporal_ordered: start of the chain through step k */
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

int rf_corr_init_(struct corr *c)
{
	c->groups = calloc(RF_CORR_GROUPS_MAX, sizeof(*c->groups));
	return c->groups ? 0 : -ENOMEM;
}

static void group_clear(struct corr_group *g)
{
	unsigned i;

	for (i = 0; g->vals && i < g->n; i++)
		free(g->vals[i]);
	g->n = 0;
}

static void group_free(struct corr_group *g)
{
	group_clear(g);
	free(g->key);
	free(g->ts);
	free(g->vals);
	free(g->seen);
	memset(g, 0, sizeof(*g));
}

void rf_corr_free_groups_(struct corr *c)
{
	unsigned i;

	for (i = 0; c->groups && i < RF_CORR_GROUPS_MAX; i++)
		if (c->groups[i].key)
			group_free(&c->groups[i]);
}

/* Remove groups whose window has passed, re-placing the others. */
static void purge(struct corr *c, uint64_t now)
{
	struct corr_group *old = c->groups, *nw = calloc(RF_CORR_GROUPS_MAX, sizeof(*nw));
	unsigned i, j;

	if (!nw)
		return;
	c->ngroups = 0;
	for (i = 0; i < RF_CORR_GROUPS_MAX; i++) {
		if (!old[i].key)
			continue;
		if (old[i].last_ns + c->span_ns < now) {
			group_free(&old[i]);
			continue;
		}
		j = (unsigned)old[i].hash & (RF_CORR_GROUPS_MAX - 1);
		while (nw[j].key)
			j = (j + 1) & (RF_CORR_GROUPS_MAX - 1);
		nw[j] = old[i];
		c->ngroups++;
	}
	free(old);
	c->groups = nw;
}

static struct corr_group *group_get(struct rf_detect *d, struct corr *c, const char *key, uint64_t now)
{
	uint64_t h = fnv(key);
	unsigned j = (unsigned)h & (RF_CORR_GROUPS_MAX - 1);
	struct corr_group *g;

	while (c->groups[j].key) {
		if (c->groups[j].hash == h && !strcmp(c->groups[j].key, key))
			return &c->groups[j];
		j = (j + 1) & (RF_CORR_GROUPS_MAX - 1);
	}
	if (c->ngroups >= RF_CORR_GROUPS_MAX * 3 / 4) {
		purge(c, now);
		if (c->ngroups >= RF_CORR_GROUPS_MAX * 3 / 4) {
			d->st.groups_dropped++;
			return NULL;
		}
		return group_get(d, c, key, now);
	}
	g = &c->groups[j];
	memset(g, 0, sizeof(*g));
	g->key = strdup(key);
	if (!g->key)
		return NULL;
	g->hash = h;
	c->ngroups++;
	return g;
}

static const char *field_for(const struct corr *c, const struct rule *base, const char *f)
{
	unsigned a;

	for (a = 0; a < c->naliases; a++)
		if (!strcmp(c->alias_name[a], f) && base->name && !strcmp(c->alias_rule[a], base->name))
			return c->alias_field[a];
	return f;
}

/* Value of Sigma field F of the current event ("" when its class lacks it). */
static int value_of(struct rf_detect *d, const char *f, const char **s, size_t *len)
{
	int k = rf_schema_field_by_sigma(d->evc, f);
	struct fval *v;

	*s = "";
	*len = 0;
	if (k < 0)
		return 0;
	if (rf_detect_field_(d, k, &v) < 0)
		return -ENOMEM;
	*s = v->s;
	*len = v->len;
	return 0;
}

static bool cond_ok(const struct corr *c, int64_t n)
{
	if ((c->condmask & 1) && !(n > c->gt)) return false;
	if ((c->condmask & 2) && !(n >= c->gte)) return false;
	if ((c->condmask & 4) && !(n < c->lt)) return false;
	if ((c->condmask & 8) && !(n <= c->lte)) return false;
	if ((c->condmask & 16) && !(n == c->eq)) return false;
	if ((c->condmask & 32) && !(n != c->neq)) return false;
	return true;
}

static int grow(struct corr_group *g, bool vals)
{
	unsigned nc;
	void *q;

	if (g->n < g->cap)
		return 0;
	if (g->cap >= RF_CORR_EVENTS_MAX)
		return -E2BIG;
	nc = g->cap ? g->cap * 2 : 8;
	if (nc > RF_CORR_EVENTS_MAX)
		nc = RF_CORR_EVENTS_MAX;
	q = realloc(g->ts, nc * sizeof(*g->ts));
	if (!q)
		return -ENOMEM;
	g->ts = q;
	if (vals) {
		q = realloc(g->vals, nc * sizeof(*g->vals));
		if (!q)
			return -ENOMEM;
		g->vals = q;
	}
	g->cap = nc;
	return 0;
}

/* Drop entries older than the window ending at NOW. */
static void expire(struct corr *c, struct corr_group *g, uint64_t now)
{
	unsigned i, o = 0;

	for (i = 0; i < g->n; i++) {
		if (now > g->ts[i] && now - g->ts[i] > c->span_ns) {
			if (g->vals)
				free(g->vals[i]);
			continue;
		}
		g->ts[o] = g->ts[i];
		if (g->vals)
			g->vals[o] = g->vals[i];
		o++;
	}
	g->n = o;
}

int rf_corr_feed_(struct rf_detect *d, int corr_rule, int base, rf_detect_hit_cb cb, void *ctx)
{
	struct rule *cr = &d->rules[corr_rule], *b = &d->rules[base];
	struct corr *c = cr->corr;
	uint64_t now = d->ev->ts_ns;
	struct corr_group *g;
	size_t kl = 0, gl = 0;
	unsigned i, count = 0;
	bool fire = false;

	if (!cr->ok || !c || !c->groups)
		return 0;
	/* group key */
	d->groupbuf[0] = 0;
	for (i = 0; i < c->ngroupby; i++) {
		const char *s;
		size_t len;
		int w;
		if (value_of(d, field_for(c, b, c->groupby[i]), &s, &len) < 0)
			return -ENOMEM;
		{
			/* values longer than the key has room for are cut (RF_CORR_KEY_MAX);
			 * kl stays below sizeof(keybuf) so that the final NUL fits */
			size_t room = sizeof(d->keybuf) - kl;
			if (room < 2)
				len = 0;
			else if (len > room - 2)
				len = room - 2;
		}
		memcpy(d->keybuf + kl, s, len);
		kl += len;
		if (kl + 1 < sizeof(d->keybuf))
			d->keybuf[kl++] = '\x1f';
		w = snprintf(d->groupbuf + gl, sizeof(d->groupbuf) - gl, "%s%s=%.*s", i ? ", " : "",
			     c->groupby[i], (int)(len > 200 ? 200 : len), s);
		if (w > 0 && gl + (size_t)w < sizeof(d->groupbuf))
			gl += (size_t)w;
	}
	d->keybuf[kl] = 0;
	/* a NUL inside a value would cut the key; values are C strings, so it cannot happen */
	g = group_get(d, c, d->keybuf, now);
	if (!g)
		return 0;
	g->last_ns = now;
	switch (c->type) {
	case C_EVENT_COUNT:
		expire(c, g, now);
		if (grow(g, false) < 0) {
			/* window full at the limit: the oldest entry makes room */
			memmove(g->ts, g->ts + 1, (g->n - 1) * sizeof(*g->ts));
			g->n--;
		}
		g->ts[g->n++] = now;
		count = g->n;
		fire = cond_ok(c, count);
		break;
	case C_VALUE_COUNT: {
		const char *s;
		size_t len;
		if (value_of(d, field_for(c, b, c->value_field), &s, &len) < 0)
			return -ENOMEM;
		expire(c, g, now);
		for (i = 0; i < g->n; i++)
			if (strlen(g->vals[i]) == len && !memcmp(g->vals[i], s, len))
				break;
		if (i < g->n) {
			g->ts[i] = now;
		} else {
			char *v = strndup(s, len);
			if (!v)
				return -ENOMEM;
			if (grow(g, true) < 0) {
				free(g->vals[0]);
				memmove(g->ts, g->ts + 1, (g->n - 1) * sizeof(*g->ts));
				memmove(g->vals, g->vals + 1, (g->n - 1) * sizeof(*g->vals));
				g->n--;
			}
			g->ts[g->n] = now;
			g->vals[g->n++] = v;
		}
		count = g->n;
		fire = cond_ok(c, count);
		break;
	}
	case C_TEMPORAL:
	case C_TEMPORAL_ORDERED: {
		unsigned k;
		if (!g->seen && !(g->seen = calloc(c->nrefs, sizeof(*g->seen))))
			return -ENOMEM;
		if (c->type == C_TEMPORAL) {
			for (k = 0; k < c->nrefs; k++)
				if (c->ref_rule[k] == base)
					g->seen[k] = now ? now : 1;
			for (k = 0; k < c->nrefs; k++)
				if (g->seen[k] && now - g->seen[k] <= c->span_ns)
					count++;
			fire = c->has_cond ? cond_ok(c, count) : count == c->nrefs;
		} else {
			/* seen[k]: start time of the newest chain that reached step k */
			for (k = c->nrefs; k-- > 0;) {
				if (c->ref_rule[k] != base)
					continue;
				if (k == 0) {
					g->seen[0] = now ? now : 1;
				} else if (g->seen[k - 1] && now - g->seen[k - 1] <= c->span_ns) {
					g->seen[k] = g->seen[k - 1];
					if (k == c->nrefs - 1)
						fire = true;
				}
			}
			count = c->nrefs;
		}
		if (fire)
			memset(g->seen, 0, c->nrefs * sizeof(*g->seen));
		break;
	}
	}
	if (!fire)
		return 0;
	if (c->type == C_EVENT_COUNT || c->type == C_VALUE_COUNT)
		group_clear(g);
	if (cr->emit) {
		struct rf_detect_hit h = {
			.rule_id = cr->id ? cr->id : "",
			.rule_title = cr->title,
			.level = cr->level ? cr->level : "",
			.tags = (const char *const *)cr->tags,
			.ntags = cr->ntags,
			.file = cr->file,
			.correlation = true,
			.group = d->groupbuf,
			.count = count,
		};
		if (cb)
			cb(&h, d->ev, ctx);
		d->st.correlation_hits++;
		return 1;
	}
	return 0;
}
