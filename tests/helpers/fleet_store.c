// SPDX-License-Identifier: MIT
/*
 * fleet_store URL [HOSTS]: the controller store's tests against any back end
 * (tests/integration/fleet_store.sh runs it on SQLite and on a private PostgreSQL
 * server). Prints TAP. With HOSTS, also times one batched flush of HOSTS rows
 * (printed as a diagnostic, never a pass/fail criterion).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/fleet.h"
#include "fleet/store.h"

static int n, failed;

static void check(bool c, const char *what, const char *detail)
{
	n++;
	if (c) {
		printf("ok %d - %s\n", n, what);
	} else {
		failed++;
		printf("not ok %d - %s%s%s\n", n, what, detail ? ": " : "", detail ? detail : "");
	}
}

static int report(struct rf_fleet_core *fc, unsigned i, uint64_t seq, int64_t now,
		  struct rf_fleet_answer *a)
{
	struct rf_fleet_report r;

	memset(&r, 0, sizeof(r));
	r.v = 1;
	snprintf(r.host, sizeof(r.host), "host-%u", i);
	memcpy(r.key, &i, sizeof(i));
	r.seq = seq;
	r.internal = i % 100 == 7;
	r.nclients = 1;
	strcpy(r.clients[0].client, "detect");
	r.clients[0].version = 1;
	return rf_fleet_core_report(fc, &r, now, a);
}

static struct rf_fleet_store *cur;
static int put_err;

static void put(void *ctx, const struct rf_fleet_host_row *row)
{
	(void)ctx;
	if (rf_fleet_store_put_host(cur, row) < 0)
		put_err = 1;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct rf_fleet_config c;
	struct rf_fleet_core *fc = NULL, *fc2 = NULL;
	struct rf_fleet_store *s = NULL;
	struct rf_fleet_answer a;
	struct rf_fleet_track_info ti = {.client = "detect", .stage = RF_STAGE_HALTED, .stable = 1,
					 .target = 2, .bad = 2, .highest = 2, .halt_time = 77,
					 .reason = "halted v2: 'quoted' \"text\""};
	char err[300];
	uint64_t cnt;
	unsigned big = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: fleet_store URL [HOSTS]\n");
		return 2;
	}
	rf_fleet_config_default(&c);
	r = rf_fleet_store_open(argv[1], &s, err, sizeof(err));
	check(r == 0, "open the store and create the schema", err);
	if (r < 0)
		goto out;
	printf("# back end: %s\n", rf_fleet_store_kind(s));
	r = rf_fleet_core_new(&c, &fc);
	{
		struct rf_fleet_release rel = {.version = 1};
		r |= rf_fleet_core_release(fc, &rel, "detect", 99);
	}
	for (unsigned i = 0; i < 1200; i++)
		r |= report(fc, i, 7, 100, &a);
	check(r == 0, "1200 reports into a core", NULL);
	cur = s;
	r = rf_fleet_store_begin(s);
	check(rf_fleet_core_drain_dirty(fc, put, NULL, 100000) == 1200 && !put_err,
	      "1200 dirty hosts written in batches", rf_fleet_store_error(s));
	r |= rf_fleet_store_put_track(s, &ti);
	r |= rf_fleet_store_put_event(s, 5, "halted v2: 'quoted' \"text\"");
	r |= rf_fleet_store_commit(s);
	check(r == 0, "track and event committed", rf_fleet_store_error(s));
	/* a batch that fails rolls back as a whole */
	r = rf_fleet_store_begin(s);
	for (unsigned i = 0; i < 3; i++)
		r |= report(fc, 5000 + i, 1, 101, &a);
	rf_fleet_core_drain_dirty(fc, put, NULL, 100000);
	rf_fleet_store_rollback(s);
	rf_fleet_store_count(s, "hosts", &cnt);
	check(cnt == 1200, "a rolled back batch leaves nothing behind", NULL);
	check(rf_fleet_store_put_pin(s, "host-3", "detect", 1) == 0 &&
	      rf_fleet_store_put_pin(s, "host-3", "detect", 4) == 0 &&
	      rf_fleet_store_put_pin(s, "host-4", "detect", 1) == 0 &&
	      rf_fleet_store_put_pin(s, "host-4", "detect", 0) == 0,
	      "pins upserted and deleted", rf_fleet_store_error(s));
	check(rf_fleet_store_put_override(s, "host-5", RF_RING_CANARY) == 0 &&
	      rf_fleet_store_put_override(s, "host-6", RF_RING_EARLY) == 0 &&
	      rf_fleet_store_put_override(s, "host-6", RF_RING_NONE) == 0,
	      "overrides upserted and deleted", rf_fleet_store_error(s));
	check(rf_fleet_store_count(s, "hosts", &cnt) == 0 && cnt == 1200, "1200 host rows", NULL);
	check(rf_fleet_store_count(s, "pins", &cnt) == 0 && cnt == 1, "1 pin row", NULL);
	check(rf_fleet_store_count(s, "overrides", &cnt) == 0 && cnt == 1, "1 override row", NULL);
	check(rf_fleet_store_count(s, "x; drop table hosts", &cnt) == -EINVAL,
	      "count refuses unknown tables", NULL);
	rf_fleet_store_close(s);
	s = NULL;

	r = rf_fleet_store_open(argv[1], &s, err, sizeof(err));
	check(r == 0, "reopen (schema exists)", err);
	if (r < 0)
		goto out;
	rf_fleet_core_new(&c, &fc2);
	r = rf_fleet_store_load(s, fc2, 200);
	check(r == 0 && rf_fleet_core_nhosts(fc2) == 1200, "load: 1200 hosts back",
	      rf_fleet_store_error(s));
	check(report(fc2, 9, 7, 201, &a) == -ESTALE, "load: sequence numbers kept", NULL);
	{
		struct rf_fleet_report x;
		memset(&x, 0, sizeof(x));
		strcpy(x.host, "host-9");
		x.key[0] = 0xee;
		x.seq = 100;
		check(rf_fleet_core_report(fc2, &x, 201, &a) == -EKEYREJECTED,
		      "load: key bindings kept", NULL);
	}
	check(report(fc2, 5, 8, 201, &a) == 0 && a.ring == RF_RING_CANARY, "load: override kept",
	      NULL);
	check(report(fc2, 3, 8, 201, &a) == 0 && a.nassign == 1 && a.assign[0].version == 4,
	      "load: pin kept", NULL);
	rf_fleet_core_track(fc2, 0, &ti);
	check(ti.nversions == 1 && ti.versions[0].version == 1 && ti.versions[0].hosts == 1200,
	      "load: running versions come back (1200 hosts on v1)", NULL);
	check(ti.stage == RF_STAGE_HALTED && ti.bad == 2 && ti.halt_time == 77 &&
		      !strcmp(ti.reason, "halted v2: 'quoted' \"text\""),
	      "load: the halted track comes back", ti.reason);
	if (big) {
		rf_fleet_core_free(fc);
		rf_fleet_core_new(&c, &fc);
		for (unsigned i = 0; i < big; i++)
			report(fc, 100000 + i, 1, 300, &a);
		double t0 = mono();
		put_err = 0;
		rf_fleet_store_begin(s);
		rf_fleet_core_drain_dirty(fc, put, NULL, big);
		r = rf_fleet_store_commit(s);
		printf("# %s: one flush of %u host rows in %.3f s\n", rf_fleet_store_kind(s), big,
		       mono() - t0);
		check(r == 0 && !put_err, "a large flush commits", rf_fleet_store_error(s));
	}
out:
	rf_fleet_store_close(s);
	rf_fleet_core_free(fc);
	rf_fleet_core_free(fc2);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
