// SPDX-License-Identifier: MIT
/* source.c: synthetic and replayed event sources for the daemon (source.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/source.h"
#include "ringfence/schema.h"

#define SYNTH_PIDS 8u

struct rf_source {
	const char *name;
	uint64_t rate, count, produced, t0;
	bool started;
	/* events: synthetic templates (ncls * SYNTH_PIDS) or the replayed file */
	unsigned char **ev;
	size_t nev;
	unsigned ncls;  /* synthetic: classes in the rotation */
	bool synthetic;
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Build one synthetic event of class c for synthetic process number k. */
static unsigned char *synth_event(const struct rf_class_desc *c, unsigned k)
{
	unsigned char *buf = calloc(1, RF_EVENT_MAX);
	struct rf_event_hdr *h = (struct rf_event_hdr *)buf;
	size_t off = c->fixed_size;
	int i;

	if (!buf)
		return NULL;
	h->class_id = c->id;
	h->pid = h->tid = 1000 + k;
	h->start_ns = 1000 + k;
	for (i = 0; i < c->nfields; i++) {
		const struct rf_field_desc *f = &c->fields[i];
		char val[256];
		struct rf_str s;
		size_t n;

		if (f->source == RF_FS_HEADER || f->source == RF_FS_DERIVED)
			continue;
		if (f->type != RF_FT_STR && f->type != RF_FT_PATH && f->type != RF_FT_ARGV)
			continue;
		if (f->sigma && !strcmp(f->sigma, "Image"))
			n = (size_t)snprintf(val, sizeof(val), "/opt/rf-synth/bin%u", k);
		else if (f->sigma && !strcmp(f->sigma, "TargetFilename"))
			n = (size_t)snprintf(val, sizeof(val), "/tmp/rf-synth/file%u", k);
		else if (f->type == RF_FT_ARGV)
			n = (size_t)snprintf(val, sizeof(val), "rf-synth%c--id%c%u", 0, 0, k);
		else if (f->type == RF_FT_PATH)
			n = (size_t)snprintf(val, sizeof(val), "/opt/rf-synth/%s", f->name);
		else
			n = (size_t)snprintf(val, sizeof(val), "synth");
		if (n + 1 > f->max)
			n = f->max - 1;
		s.off = (uint16_t)off;
		s.len = (uint16_t)n;
		memcpy(buf + off, val, n);
		buf[off + n] = 0;
		memcpy(buf + f->offset, &s, sizeof(s));
		off += n + 1;
	}
	h->size = (uint16_t)((off + 7) & ~(size_t)7);
	return buf;
}

int rf_source_synthetic(uint64_t classes, uint64_t rate, uint64_t count, struct rf_source **ret,
			char *err, size_t errlen)
{
	struct rf_source *s = calloc(1, sizeof(*s));
	unsigned id, k;
	const char *why;

	if (!s)
		return -ENOMEM;
	s->name = "synthetic";
	s->synthetic = true;
	s->rate = rate;
	s->count = count;
	for (id = 1; id < 64; id++)
		if ((classes >> id) & 1)
			s->ncls++;
	if (!s->ncls) {
		snprintf(err, errlen, "no event classes given");
		free(s);
		return -EINVAL;
	}
	s->ev = calloc(s->ncls * SYNTH_PIDS, sizeof(*s->ev));
	if (!s->ev)
		goto nomem;
	/* index: (i / ncls % SYNTH_PIDS) * ncls + i % ncls */
	for (k = 0; k < SYNTH_PIDS; k++) {
		unsigned n = 0;
		for (id = 1; id < 64; id++) {
			const struct rf_class_desc *c;
			if (!((classes >> id) & 1))
				continue;
			c = rf_schema_class(id);
			if (!c) {
				snprintf(err, errlen, "unknown class id %u", id);
				rf_source_free(s);
				return -EINVAL;
			}
			s->ev[k * s->ncls + n] = synth_event(c, k);
			if (!s->ev[k * s->ncls + n])
				goto nomem;
			if (rf_event_validate(s->ev[k * s->ncls + n], RF_EVENT_MAX, &why) < 0) {
				snprintf(err, errlen, "synthetic %s event invalid: %s", c->name, why);
				rf_source_free(s);
				return -EINVAL;
			}
			n++;
		}
	}
	s->nev = s->ncls * SYNTH_PIDS;
	*ret = s;
	return 0;
nomem:
	rf_source_free(s);
	return -ENOMEM;
}

void rf_source_start(struct rf_source *s, uint64_t now_ns)
{
	if (!s->started) {
		s->started = true;
		s->t0 = now_ns;
	}
}

const char *rf_source_name(const struct rf_source *s)
{
	return s->name;
}

uint64_t rf_source_pump(struct rf_source *s, uint64_t now_ns, uint64_t max, rf_source_cb cb,
			void *ctx, uint64_t *next_ns)
{
	uint64_t due, n = 0, ts = 0;
	uint64_t total = s->count ? s->count : (s->synthetic ? UINT64_MAX : s->nev);

	if (!s->started)
		rf_source_start(s, now_ns);
	if (s->produced >= total || !s->nev) {
		*next_ns = UINT64_MAX;
		return 0;
	}
	if (s->rate) {
		long double d = (long double)(now_ns - s->t0) * s->rate / 1e9L;
		due = (uint64_t)d + 1;
		if (due > total)
			due = total;
		due = due > s->produced ? due - s->produced : 0;
	} else {
		due = total - s->produced;
	}
	if (due > max)
		due = max;
	for (n = 0; n < due; n++) {
		uint64_t i = s->produced++;
		struct rf_event_hdr *h;

		if (s->synthetic)
			h = (struct rf_event_hdr *)s->ev[((i / s->ncls) % SYNTH_PIDS) * s->ncls + i % s->ncls];
		else
			h = (struct rf_event_hdr *)s->ev[i % s->nev];
		/* Above 100,000 events/s one clock read per 64 events: a clock read (50 ns
		 * and more on some virtual machines) costs more than copying a small event. */
		if ((s->rate && s->rate <= 100000) || (n & 63) == 0)
			ts = realtime_ns();
		h->ts_ns = ts;
		h->seq = i + 1;
		cb(h, ctx);
	}
	if (s->produced >= total)
		*next_ns = UINT64_MAX;
	else if (!s->rate)
		*next_ns = 0;
	else
		*next_ns = s->t0 + (uint64_t)((long double)s->produced * 1e9L / s->rate);
	return n;
}

struct rf_source *rf_source_free(struct rf_source *s)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; s->ev && i < (s->synthetic ? s->ncls * SYNTH_PIDS : s->nev); i++)
		free(s->ev[i]);
	free(s->ev);
	free(s);
	return NULL;
}

int rf_source_add_event(struct rf_source *s, const struct rf_event_hdr *ev)
{
	unsigned char **v;

	if (s->nev >= RF_REPLAY_EVENTS_MAX)
		return -E2BIG;
	if ((s->nev & (s->nev - 1)) == 0) { /* grow at powers of two */
		v = realloc(s->ev, (s->nev ? s->nev * 2 : 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->ev = v;
	}
	s->ev[s->nev] = malloc(ev->size);
	if (!s->ev[s->nev])
		return -ENOMEM;
	memcpy(s->ev[s->nev], ev, ev->size);
	((struct rf_event_hdr *)s->ev[s->nev])->flags |= RF_EVF_REPLAYED;
	s->nev++;
	return 0;
}

int rf_source_replay(const char *path, uint64_t rate, uint64_t count, struct rf_source **ret,
		     char *err, size_t errlen)
{
	struct rf_source *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->name = "replay";
	s->rate = rate;
	s->count = count;
	r = rf_source_replay_load(s, path, err, errlen);
	if (r < 0) {
		rf_source_free(s);
		return r;
	}
	*ret = s;
	return 0;
}
