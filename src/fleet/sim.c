// SPDX-License-Identifier: MIT
/*
 * sim.c: `ringfence fleet sim`: N simulated endpoints, each a small state machine
 * with failure models, driven through the real rollout core (core.c) on a
 * simulated clock. What the sim skips is the transport: JSON, HTTP and signatures
 * (bench/fleet.sh measures those against the real server).
 *
 * Endpoint model (per host):
 *   - reports every poll_s * (0.5 + U[0,1)) seconds, as the agent does; a "slow"
 *     host (slow_frac) every 2.5 times that; early (5 s) after an install or crash;
 *   - installs an assigned version above the one it runs after 5-30 s (download,
 *     verify, validate, shadow run), never one at or below its highest installed;
 *   - background: a client crash with p_crash per report; goes offline for 10-60
 *     min with p_offline per report (silence);
 *   - bad content (scenario bad): bad_frac of the hosts that install it crash
 *     10-120 s later; the supervisor's crash-loop rollback makes the host run its
 *     last known good version (state crash_loop, crashes + 3); bad_silent of those
 *     hosts instead hang and stay silent for 5-30 minutes, then come back still on
 *     the bad version and crash again.
 * Time is advanced second by second through a timing wheel of host events.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "fleet/fleet.h"
#include "fleet/sim.h"

#define WHEEL 8192u
#define NIL 0xffffffffu

struct shost {
	uint64_t running, good, highest;
	uint32_t next;          /* next host in the same wheel slot */
	int64_t offline_until;  /* silent until */
	int64_t install_at;     /* pending install completes */
	uint64_t installing;
	int64_t crash_at;       /* bad content crashes the client */
	uint64_t seq;
	uint32_t crashes;
	uint8_t slow, ever_bad, state, internal;
};

struct sim {
	struct rf_fleet_core *fc;
	struct shost *h;
	char (*ids)[12];
	uint32_t n;
	uint32_t head[WHEEL];
	uint64_t rng;
	int64_t now;
	/* model */
	double p_crash, p_offline, slow_frac, bad_frac, bad_silent, internal_frac;
	uint64_t bad_version, target;
	/* results */
	uint64_t reports;
	uint32_t ever_bad, on_target, on_bad;
	int64_t t_release, t_halt, t_done, t_all, t_999, t_rollback_done, t_nobad;
	uint64_t rollback_version;
};

static uint64_t rnd(struct sim *s)
{
	/* splitmix64 */
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double unif(struct sim *s)
{
	return (double)(rnd(s) >> 11) * (1.0 / 9007199254740992.0);
}

static void schedule(struct sim *s, uint32_t i, int64_t at)
{
	uint32_t slot;

	if (at <= s->now)
		at = s->now + 1;
	if (at > s->now + (int64_t)WHEEL - 1)
		at = s->now + (int64_t)WHEEL - 1;
	slot = (uint32_t)(at % WHEEL);
	s->h[i].next = s->head[slot];
	s->head[slot] = i;
}

static void set_running(struct sim *s, struct shost *h, uint64_t v)
{
	if (h->running == s->target && s->target)
		s->on_target--;
	if (h->running == s->bad_version && s->bad_version)
		s->on_bad--;
	h->running = v;
	if (v == s->target && s->target)
		s->on_target++;
	if (v == s->bad_version && s->bad_version) {
		s->on_bad++;
		if (!h->ever_bad) {
			h->ever_bad = 1;
			s->ever_bad++;
		}
	}
}

static void host_event(struct sim *s, uint32_t i, unsigned poll_s)
{
	struct shost *h = &s->h[i];
	static struct rf_fleet_report r;
	struct rf_fleet_answer a;
	double interval = poll_s * (0.5 + unif(s)) * (h->slow ? 2.5 : 1.0);
	int64_t next = s->now + (int64_t)ceil(interval);

	if (h->offline_until > s->now) {
		schedule(s, i, h->offline_until);
		return;
	}
	/* a pending install finishes */
	if (h->installing && s->now >= h->install_at) {
		uint64_t v = h->installing;
		h->installing = 0;
		if (v > h->highest) {
			h->good = h->running; /* the supervisor's known good until proven */
			h->highest = v;
			set_running(s, h, v);
			h->state = RF_CS_RUNNING;
			if (v == s->bad_version && unif(s) < s->bad_frac)
				h->crash_at = s->now + 10 + (int64_t)(unif(s) * 110);
			else
				h->good = v;
		}
		next = s->now + 5; /* early report after an install */
	}
	/* bad content crashes the client */
	if (h->crash_at && s->now >= h->crash_at) {
		h->crash_at = 0;
		if (unif(s) < s->bad_silent) {
			/* the host hangs; it comes back on the same content */
			h->offline_until = s->now + 300 + (int64_t)(unif(s) * 1500);
			h->crash_at = h->offline_until + 10 + (int64_t)(unif(s) * 110);
			schedule(s, i, h->offline_until);
			return;
		}
		h->crashes += 3;
		h->state = RF_CS_CRASH_LOOP;
		set_running(s, h, h->good); /* crash-loop rollback to last known good */
		next = s->now + 5;
	} else if (unif(s) < s->p_crash) {
		h->crashes++;
	}
	/* only the fields the core reads; the rest stays zero from the first call */
	r.v = 1;
	memcpy(r.host, s->ids[i], sizeof(s->ids[i]));
	memcpy(r.key, &i, sizeof(i));
	r.seq = ++h->seq;
	r.time = s->now;
	r.internal = h->internal;
	r.nclients = 1;
	snprintf(r.clients[0].client, sizeof(r.clients[0].client), "detect");
	r.clients[0].version = h->running;
	r.clients[0].good_version = h->good;
	r.clients[0].state = h->state;
	r.clients[0].crashes = h->crashes;
	if (rf_fleet_core_report(s->fc, &r, s->now, &a) == 0) {
		s->reports++;
		if (h->state == RF_CS_CRASH_LOOP)
			h->state = RF_CS_RUNNING;
		for (unsigned k = 0; k < a.nassign; k++) {
			uint64_t v = a.assign[k].version;
			if (v > h->running && v > h->highest && !h->installing && !h->crash_at) {
				h->installing = v;
				h->install_at = s->now + 5 + (int64_t)(unif(s) * 25);
				if (next > h->install_at)
					next = h->install_at;
			}
		}
	}
	if (unif(s) < s->p_offline) {
		h->offline_until = s->now + 600 + (int64_t)(unif(s) * 3000);
		next = h->offline_until;
	}
	schedule(s, i, next);
}

static void fmt_t(char *b, size_t n, int64_t t)
{
	if (t < 0)
		snprintf(b, n, "never");
	else
		snprintf(b, n, "%lldh%02lldm%02llds (%lld s)", (long long)(t / 3600),
			 (long long)(t / 60 % 60), (long long)(t % 60), (long long)t);
}

int rf_fleet_sim_main(int argc, char **argv)
{
	struct rf_fleet_config cfg;
	struct sim s;
	const char *scenario = "bad", *config = NULL;
	unsigned long n = 1000000;
	double hours = 12;
	bool quiet = false;
	char err[300], b1[64];
	struct rf_fleet_release rel = {0};
	struct timespec t0, t1;
	int i, rc = 0, r;

	memset(&s, 0, sizeof(s));
	s.rng = 1;
	s.p_crash = 0.0005;
	s.p_offline = 0.0002;
	s.slow_frac = 0.02;
	s.bad_frac = 1.0;
	s.bad_silent = 0.2;
	s.internal_frac = 0.0005;
	rf_fleet_config_default(&cfg);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--quiet")) {
			quiet = true;
			continue;
		}
		if (!v) {
			rf_err("fleet sim: %s needs a value ('ringfence fleet --help')", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--endpoints"))
			n = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--scenario"))
			scenario = v;
		else if (!strcmp(a, "--config"))
			config = v;
		else if (!strcmp(a, "--seed"))
			s.rng = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--hours"))
			hours = atof(v);
		else if (!strcmp(a, "--bad-fraction"))
			s.bad_frac = atof(v);
		else if (!strcmp(a, "--bad-silent"))
			s.bad_silent = atof(v);
		else if (!strcmp(a, "--crash-rate"))
			s.p_crash = atof(v);
		else if (!strcmp(a, "--internal-fraction"))
			s.internal_frac = atof(v);
		else if (!strcmp(a, "--offline-rate"))
			s.p_offline = atof(v);
		else {
			rf_err("fleet sim: unknown option %s ('ringfence fleet --help')", a);
			return 2;
		}
	}
	if (n < 100 || n > RF_FLEET_HOSTS_MAX || (strcmp(scenario, "good") && strcmp(scenario, "bad")) ||
	    hours <= 0 || hours > 24 * 14) {
		rf_err("fleet sim: --endpoints 100..%u, --scenario good|bad, --hours up to 336",
		       RF_FLEET_HOSTS_MAX);
		return 2;
	}
	if (config && rf_fleet_config_load(config, &cfg, err, sizeof(err)) < 0) {
		rf_err("fleet sim: %s", err);
		return 2;
	}
	r = rf_fleet_core_new(&cfg, &s.fc);
	if (r < 0) {
		rf_err("fleet sim: configuration refused (%s)", strerror(-r));
		return 2;
	}
	s.n = (uint32_t)n;
	s.h = calloc(n, sizeof(*s.h));
	s.ids = calloc(n, sizeof(*s.ids));
	if (!s.h || !s.ids) {
		free(s.h);
		free(s.ids);
		rf_fleet_core_free(s.fc);
		return 1;
	}
	for (uint32_t w = 0; w < WHEEL; w++)
		s.head[w] = NIL;
	/* v1 runs everywhere; v2 is released at t = 0 */
	rel.version = 1;
	rf_fleet_core_release(s.fc, &rel, "detect", 0);
	for (uint32_t k = 0; k < s.n; k++) {
		struct shost *h = &s.h[k];
		snprintf(s.ids[k], sizeof(s.ids[k]), "h-%07u", k);
		h->running = h->good = h->highest = 1;
		h->slow = unif(&s) < s.slow_frac;
		h->internal = unif(&s) < s.internal_frac;
		s.now = 0;
		schedule(&s, k, 1 + (int64_t)(unif(&s) * cfg.poll_s));
	}
	s.target = 2;
	s.bad_version = !strcmp(scenario, "bad") ? 2 : 0;
	s.t_halt = s.t_done = s.t_all = s.t_999 = s.t_rollback_done = s.t_nobad = -1;
	/* a warm-up on v1 (five health epochs) so the control group has history */
	s.t_release = 5 * (int64_t)cfg.poll_s * cfg.silence_polls;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (s.now = 1; s.now <= s.t_release + (int64_t)(hours * 3600); s.now++) {
		uint32_t slot = (uint32_t)(s.now % WHEEL), k = s.head[slot];
		s.head[slot] = NIL;
		while (k != NIL) {
			uint32_t nx = s.h[k].next;
			host_event(&s, k, cfg.poll_s);
			k = nx;
		}
		if (s.now == s.t_release) {
			rel.version = 2;
			rf_fleet_core_release(s.fc, &rel, "detect", s.now);
		}
		if (s.now % 5 == 0) {
			struct rf_fleet_action act;
			struct rf_fleet_track_info ti;
			rf_fleet_core_tick(s.fc, s.now, &act);
			if (act.publish_rollback) {
				struct rf_fleet_release rb = {.version = act.version,
							      .rollback_of = act.rollback_of};
				s.rollback_version = act.version;
				rf_fleet_core_release(s.fc, &rb, act.client, s.now);
			}
			rf_fleet_core_track(s.fc, 0, &ti);
			if (ti.halt_time && s.t_halt < 0)
				s.t_halt = ti.halt_time - s.t_release;
			if (s.now > s.t_release && ti.stage == RF_STAGE_IDLE && ti.done_time &&
			    ti.stable == 2 && s.t_done < 0)
				s.t_done = ti.done_time - s.t_release;
			if (s.rollback_version && ti.stage == RF_STAGE_IDLE && s.t_rollback_done < 0)
				s.t_rollback_done = s.now - s.t_release;
			if (!s.bad_version && s.on_target == s.n && s.t_all < 0)
				s.t_all = s.now - s.t_release;
			if (!s.bad_version && s.on_target >= s.n - s.n / 1000 && s.t_999 < 0)
				s.t_999 = s.now - s.t_release;
			if (s.bad_version && s.t_halt >= 0 && !s.on_bad && s.t_nobad < 0)
				s.t_nobad = s.now - s.t_release;
			/* stop once the outcome cannot change any more */
			if (!s.bad_version && s.t_999 >= 0 && s.t_done >= 0)
				break;
			if (s.bad_version && s.t_rollback_done >= 0 && s.t_nobad >= 0)
				break;
			if (!quiet && s.now % 1800 == 0)
				printf("sim: t=%+.1fh stage %s, %u on v2, %u ever on bad, %u on bad, %llu reports\n",
				       (s.now - s.t_release) / 3600.0, rf_fleet_stage_name(ti.stage),
				       s.on_target, s.ever_bad, s.on_bad,
				       (unsigned long long)s.reports);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	{
		double wall = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		uint64_t ev = 0;
		struct rf_fleet_event e[RF_FLEET_EVENTS_MAX];
		unsigned ne = rf_fleet_core_events(s.fc, &ev, e, RF_FLEET_EVENTS_MAX);

		if (!quiet)
			for (unsigned k = 0; k < ne; k++)
				printf("sim: decision at %+llds: %s\n",
				       (long long)(e[k].time - s.t_release), e[k].text);
		printf("sim: scenario %s, %u endpoints, %llu reports through the core in %.1f s "
		       "(%.0f reports/s)\n",
		       scenario, s.n, (unsigned long long)s.reports, wall, s.reports / wall);
		if (!s.bad_version) {
			fmt_t(b1, sizeof(b1), s.t_done);
			printf("sim: time to full rollout (controller: broad passed) %s\n", b1);
			fmt_t(b1, sizeof(b1), s.t_999);
			printf("sim: time until 99.9%% of endpoints ran v2 %s\n", b1);
			fmt_t(b1, sizeof(b1), s.t_all);
			printf("sim: time until every endpoint ran v2 %s%s\n", b1,
			       s.t_all < 0 ? " within the run (offline endpoints)" : "");
			printf("sim: halted %s\n", s.t_halt >= 0 ? "YES (false halt)" : "no");
			printf("sim: goal good update rolls out without a halt: %s\n",
			       s.t_halt < 0 && s.t_done >= 0 ? "met" : "MISSED");
			rc = s.t_halt < 0 && s.t_done >= 0 ? 0 : 1;
		} else {
			double blast = 100.0 * s.ever_bad / s.n;
			fmt_t(b1, sizeof(b1), s.t_halt);
			printf("sim: time to halt %s\n", b1);
			printf("sim: blast radius %u endpoints (%.3f%% of the fleet) ever ran the bad version\n",
			       s.ever_bad, blast);
			printf("sim: rollback v%llu published; rollback done at %+llds\n",
			       (unsigned long long)s.rollback_version, (long long)s.t_rollback_done);
			fmt_t(b1, sizeof(b1), s.t_nobad);
			printf("sim: no endpoint on the bad version after %s\n", b1);
			printf("sim: endpoints left on bad content after rollback %u\n", s.on_bad);
			printf("sim: goal blast radius <= 1%%: %s\n", blast <= 1.0 ? "met" : "MISSED");
			printf("sim: goal zero left on bad content: %s\n", !s.on_bad ? "met" : "MISSED");
			rc = s.t_halt >= 0 && blast <= 1.0 && !s.on_bad ? 0 : 1;
		}
	}
	free(s.h);
	free(s.ids);
	rf_fleet_core_free(s.fc);
	return rc;
}
