// SPDX-License-Identifier: MIT
/* Unit tests of the fleet controller: report parser (every refusal), signature,
 * rings, pins and overrides, trust on first use, gates, halt and rollback, store. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "fleet/fleet.h"
#include "fleet/store.h"

static const char KEYHEX[] = "5ddb93adff6b28625e18eef6569f243e069676e811173e164dfb493b02790a03";

static char *body(const char *extra_top, const char *clients)
{
	static char b[4096];
	snprintf(b, sizeof(b),
		 "{\"v\":1,\"host\":\"h-1\",\"key\":\"%s\",\"seq\":42,\"time\":1763763000,"
		 "\"internal\":false,\"clients\":[%s],\"auth_misses\":0,\"drops\":0,\"cpu_pct\":1.5,"
		 "\"uptime_s\":1234,\"nonce\":\"\"%s}",
		 KEYHEX, clients, extra_top);
	return b;
}

static const char GOODCLIENT[] =
	"{\"client\":\"detect\",\"version\":7,\"good_version\":6,\"state\":\"running\","
	"\"error\":\"\",\"crashes\":1,\"restarts\":2,\"rollbacks\":3}";

static int parse(const char *s, struct rf_fleet_report *r)
{
	char err[256];
	int rc = rf_fleet_report_parse(s, strlen(s), r, err, sizeof(err));
	if (rc < 0)
		printf("# refused: %s\n", err);
	return rc;
}

static void test_parse_ok(void **state)
{
	struct rf_fleet_report r;

	assert_int_equal(parse(body(",\"unknown\":{\"x\":[1,2,{}]},\"attestation\":null", GOODCLIENT), &r), 0);
	assert_string_equal(r.host, "h-1");
	assert_int_equal(r.seq, 42);
	assert_int_equal(r.nclients, 1);
	assert_string_equal(r.clients[0].client, "detect");
	assert_int_equal(r.clients[0].version, 7);
	assert_int_equal(r.clients[0].good_version, 6);
	assert_int_equal(r.clients[0].crashes, 1);
	assert_int_equal(r.clients[0].restarts, 2);
	assert_int_equal(r.clients[0].rollbacks, 3);
	assert_false(r.have_nonce);
	assert_int_equal(r.key[0], 0x5d);
	/* the minimal report */
	{
		char m[300];
		snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\",\"key\":\"%s\",\"seq\":1,\"clients\":[]}", KEYHEX);
		assert_int_equal(parse(m, &r), 0);
	}
}

static void test_parse_refusals(void **state)
{
	struct rf_fleet_report r;
	char big[RF_FLEET_REPORT_MAX + 200], m[600];
	const char *bad[] = {
		"", "[]", "{", "{}", "{\"v\":1", "nul", "{\"v\":1}x",
		"{\"v\":1,}", "{\"v\" 1}", "{\"v\":01}", "{\"v\":1.}", "{\"v\":-}", "{\"v\":1e}",
		"{\"v\":\"\\x\"}", "{\"v\":\"\\u12\"}", "{\"v\":\"a\x01\"}", "{\"v\":\"abc}",
		"{\"v\":[[[[[[[[[[1]]]]]]]]]]}", "{\"v\":tru}", "{1:2}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &r), -EINVAL);
	/* missing required keys */
	snprintf(m, sizeof(m), "{\"v\":1,\"key\":\"%s\",\"seq\":1,\"clients\":[]}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\",\"seq\":1,\"clients\":[]}");
	assert_int_equal(parse(m, &r), -EINVAL);
	/* wrong version, types, names, hex, numbers */
	assert_int_equal(parse(body(",\"v\":2", GOODCLIENT), &r), -EINVAL); /* duplicate */
	snprintf(m, sizeof(m), "{\"v\":2,\"host\":\"a\",\"key\":\"%s\",\"seq\":1,\"clients\":[]}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a b\",\"key\":\"%s\",\"seq\":1,\"clients\":[]}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\\n\",\"key\":\"%s\",\"seq\":1,\"clients\":[]}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\",\"key\":\"%.62s\",\"seq\":1,\"clients\":[]}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\",\"key\":\"zz%.62s\",\"seq\":1,\"clients\":[]}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\",\"key\":\"%s\",\"seq\":-1,\"clients\":[]}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\",\"key\":\"%s\",\"seq\":18446744073709551616,\"clients\":[]}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\",\"key\":\"%s\",\"seq\":1.5,\"clients\":[]}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\",\"key\":\"%s\",\"seq\":1,\"clients\":{}}", KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"%0100d\",\"key\":\"%s\",\"seq\":1,\"clients\":[]}", 0, KEYHEX);
	assert_int_equal(parse(m, &r), -EINVAL);
	assert_int_equal(parse(body(",\"internal\":1", GOODCLIENT), &r), -EINVAL);
	assert_int_equal(parse(body(",\"nonce2\":1,\"auth_misses\":4294967296", GOODCLIENT), &r), -EINVAL);
	/* clients */
	assert_int_equal(parse(body("", "1"), &r), -EINVAL);
	assert_int_equal(parse(body("", "{\"version\":1}"), &r), -EINVAL);
	assert_int_equal(parse(body("", "{\"client\":\"d\"}"), &r), -EINVAL);
	assert_int_equal(parse(body("", "{\"client\":\"d\",\"version\":1,\"state\":\"dancing\"}"), &r), -EINVAL);
	assert_int_equal(parse(body("", "{\"client\":\"d\",\"version\":1,\"version\":2}"), &r), -EINVAL);
	assert_int_equal(parse(body("", "{\"client\":\"d\",\"version\":1},{\"client\":\"d\",\"version\":1}"), &r), -EINVAL);
	assert_int_equal(parse(body("", "{\"client\":\"d\",\"version\":1,\"crashes\":-1}"), &r), -EINVAL);
	assert_int_equal(parse(body("", "{\"client\":\"0123456789012345678901234567890123\",\"version\":1}"), &r), -EINVAL);
	{
		char cl[2000] = "";
		for (int i = 0; i < 9; i++)
			snprintf(cl + strlen(cl), sizeof(cl) - strlen(cl), "%s{\"client\":\"c%d\",\"version\":1}", i ? "," : "", i);
		assert_int_equal(parse(body("", cl), &r), -EINVAL);
	}
	/* size: over 16 KiB without an attestation */
	memset(big, ' ', sizeof(big));
	snprintf(m, sizeof(m), "{\"v\":1,\"host\":\"a\",\"key\":\"%s\",\"seq\":1,\"clients\":[]", KEYHEX);
	memcpy(big, m, strlen(m));
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = 0;
	assert_int_equal(parse(big, &r), -EINVAL);
	/* too many values */
	{
		char *many = malloc(8000);
		size_t o = (size_t)snprintf(many, 8000, "{\"v\":1,\"host\":\"a\",\"key\":\"%s\",\"seq\":1,\"clients\":[],\"x\":[", KEYHEX);
		for (int i = 0; i < 600; i++)
			o += (size_t)snprintf(many + o, 8000 - o, "%s1", i ? "," : "");
		snprintf(many + o, 8000 - o, "]}");
		assert_int_equal(parse(many, &r), -EINVAL);
		free(many);
	}
}

static void test_signature(void **state)
{
	uint8_t pk[32], sk[64];
	char sig[129];
	const char *b = "{\"v\":1}";

	crypto_sign_keypair(pk, sk);
	rf_fleet_report_sign(b, strlen(b), sk, sig);
	assert_int_equal(rf_fleet_report_verify(b, strlen(b), pk, sig), 0);
	assert_int_equal(rf_fleet_report_verify("{\"v\":2}", 7, pk, sig), -EBADMSG);
	sig[5] = sig[5] == '0' ? '1' : '0';
	assert_int_equal(rf_fleet_report_verify(b, strlen(b), pk, sig), -EBADMSG);
	assert_int_equal(rf_fleet_report_verify(b, strlen(b), pk, "abc"), -EINVAL);
	assert_int_equal(rf_fleet_report_verify(b, strlen(b), pk, NULL), -EINVAL);
	sig[0] = 'x';
	assert_int_equal(rf_fleet_report_verify(b, strlen(b), pk, sig), -EINVAL);
}

/* --- core --------------------------------------------------------------------- */
static struct rf_fleet_config small_cfg(void)
{
	struct rf_fleet_config c;

	rf_fleet_config_default(&c);
	c.poll_s = 10;
	c.silence_polls = 3; /* epoch 30 s */
	c.canary_pct = 5;
	c.canary_max_pct = 5;
	c.early_pct = 20;
	c.holdback_pct = 10;
	c.bake_s[0] = c.bake_s[1] = c.bake_s[2] = 60;
	c.internal_canary = false;
	return c;
}

static int report(struct rf_fleet_core *fc, unsigned i, uint64_t seq, uint64_t ver,
		  uint32_t crashes, int64_t now, struct rf_fleet_answer *a)
{
	struct rf_fleet_report r;

	memset(&r, 0, sizeof(r));
	r.v = 1;
	snprintf(r.host, sizeof(r.host), "host-%u", i);
	memcpy(r.key, &i, sizeof(i));
	r.seq = seq;
	r.nclients = 1;
	strcpy(r.clients[0].client, "detect");
	r.clients[0].version = ver;
	r.clients[0].crashes = crashes;
	return rf_fleet_core_report(fc, &r, now, a);
}

static void test_rings(void **state)
{
	struct rf_fleet_config c = small_cfg();
	unsigned n[RF_FLEET_RINGS] = {0};
	char id[32];

	for (unsigned i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "host-%u", i);
		int r = rf_fleet_ring_of(&c, id, false);
		assert_true(r >= 0 && r < (int)RF_FLEET_RINGS);
		assert_int_equal(r, rf_fleet_ring_of(&c, id, false)); /* deterministic */
		n[r]++;
	}
	/* 5 %, 20 %, 65 %, 10 % within a few standard deviations */
	assert_in_range(n[0], 800, 1200);
	assert_in_range(n[1], 3600, 4400);
	assert_in_range(n[3], 1750, 2250);
	c.internal_canary = true;
	assert_int_equal(rf_fleet_ring_of(&c, "host-1", true), RF_RING_CANARY);
	/* another salt, another assignment */
	memcpy(c.salt, "another-fleet!!!", 16);
	{
		unsigned same = 0;
		struct rf_fleet_config d = small_cfg();
		for (unsigned i = 0; i < 1000; i++) {
			snprintf(id, sizeof(id), "host-%u", i);
			same += rf_fleet_ring_of(&c, id, false) == rf_fleet_ring_of(&d, id, false);
		}
		assert_true(same < 900);
	}
	assert_int_equal(rf_fleet_ring_parse("early"), RF_RING_EARLY);
	assert_int_equal(rf_fleet_ring_parse("none"), RF_RING_NONE);
	assert_int_equal(rf_fleet_ring_parse("bogus"), -EINVAL);
}

static void test_tofu_and_seq(void **state)
{
	struct rf_fleet_config c = small_cfg();
	struct rf_fleet_core *fc;
	struct rf_fleet_answer a;
	struct rf_fleet_report r;
	uint64_t acc, kc, sc;

	assert_int_equal(rf_fleet_core_new(&c, &fc), 0);
	assert_int_equal(report(fc, 1, 5, 1, 0, 100, &a), 0);
	assert_int_equal(report(fc, 1, 5, 1, 0, 101, &a), -ESTALE); /* replay */
	assert_int_equal(report(fc, 1, 4, 1, 0, 101, &a), -ESTALE); /* reordered */
	assert_int_equal(report(fc, 1, 6, 1, 0, 102, &a), 0);
	memset(&r, 0, sizeof(r));
	strcpy(r.host, "host-1");
	r.key[0] = 0xee; /* another key for the same host */
	r.seq = 100;
	assert_int_equal(rf_fleet_core_report(fc, &r, 103, &a), -EKEYREJECTED);
	rf_fleet_core_counters(fc, &acc, &kc, &sc);
	assert_int_equal(acc, 2);
	assert_int_equal(kc, 1);
	assert_int_equal(sc, 2);
	rf_fleet_core_free(fc);
	rf_fleet_core_free(NULL);
	c.poll_s = 0;
	assert_int_equal(rf_fleet_core_new(&c, &fc), -EINVAL);
	c = small_cfg();
	c.early_pct = 95;
	assert_int_equal(rf_fleet_core_new(&c, &fc), -EINVAL);
}

static uint64_t assigned(const struct rf_fleet_answer *a)
{
	for (unsigned i = 0; i < a->nassign; i++)
		if (!strcmp(a->assign[i].client, "detect"))
			return a->assign[i].version;
	return 0;
}

#define N 400

/* Every host reports every 10 s; hosts in BAD_RING running version BAD crash. */
static void run(struct rf_fleet_core *fc, int64_t from, int64_t to, uint64_t *running,
		uint64_t *seq, uint32_t *crashes, uint64_t bad, struct rf_fleet_action *last)
{
	struct rf_fleet_answer a;
	struct rf_fleet_action act;

	for (int64_t t = from; t < to; t += 10) {
		for (unsigned i = 0; i < N; i++) {
			if (bad && running[i] == bad)
				crashes[i]++;
			assert_int_equal(report(fc, i, ++seq[i], running[i], crashes[i], t + i % 10, &a), 0);
			if (assigned(&a) > running[i])
				running[i] = assigned(&a);
		}
		rf_fleet_core_tick(fc, t + 10, &act);
		if (act.publish_rollback)
			*last = act;
	}
}

static void test_good_rollout(void **state)
{
	struct rf_fleet_config c = small_cfg();
	struct rf_fleet_core *fc;
	struct rf_fleet_release rel = {.version = 1};
	struct rf_fleet_track_info ti;
	struct rf_fleet_action last = {0};
	uint64_t running[N], seq[N] = {0};
	uint32_t crashes[N] = {0};

	for (unsigned i = 0; i < N; i++)
		running[i] = 1;
	assert_int_equal(rf_fleet_core_new(&c, &fc), 0);
	assert_int_equal(rf_fleet_core_release(fc, &rel, "detect", 0), 0);
	run(fc, 0, 100, running, seq, crashes, 0, &last);
	rel.version = 2;
	assert_int_equal(rf_fleet_core_release(fc, &rel, "detect", 100), 0);
	run(fc, 100, 160, running, seq, crashes, 0, &last);
	rf_fleet_core_track(fc, 0, &ti);
	assert_int_equal(ti.stage, RF_STAGE_CANARY);
	assert_int_equal(ti.target, 2);
	/* only canary hosts (at most 5 %) have v2 during the canary stage */
	{
		unsigned on = 0;
		for (unsigned i = 0; i < N; i++)
			on += running[i] == 2;
		assert_in_range(on, 1, N * 5 / 100);
	}
	run(fc, 160, 1000, running, seq, crashes, 0, &last);
	rf_fleet_core_track(fc, 0, &ti);
	assert_int_equal(ti.stage, RF_STAGE_IDLE);
	assert_int_equal(ti.stable, 2);
	assert_int_equal(ti.bad, 0);
	assert_false(last.publish_rollback);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(running[i], 2);
	rf_fleet_core_free(fc);
}

static void test_bad_rollout_halts(void **state)
{
	struct rf_fleet_config c = small_cfg();
	struct rf_fleet_core *fc;
	struct rf_fleet_release rel = {.version = 1};
	struct rf_fleet_track_info ti;
	struct rf_fleet_action last = {0};
	uint64_t running[N], seq[N] = {0}, ever = 0;
	uint32_t crashes[N] = {0};

	for (unsigned i = 0; i < N; i++)
		running[i] = 1;
	assert_int_equal(rf_fleet_core_new(&c, &fc), 0);
	assert_int_equal(rf_fleet_core_release(fc, &rel, "detect", 0), 0);
	run(fc, 0, 100, running, seq, crashes, 0, &last);
	rel.version = 2;
	rf_fleet_core_release(fc, &rel, "detect", 100);
	run(fc, 100, 200, running, seq, crashes, 2, &last);
	rf_fleet_core_track(fc, 0, &ti);
	assert_int_equal(ti.stage, RF_STAGE_HALTED);
	assert_int_equal(ti.bad, 2);
	assert_true(last.publish_rollback);
	assert_int_equal(last.version, 3);
	assert_int_equal(last.rollback_of, 1);
	assert_string_equal(last.client, "detect");
	for (unsigned i = 0; i < N; i++)
		ever += running[i] == 2;
	assert_in_range(ever, 1, N * 5 / 100); /* only the canary got it */
	/* halted: nobody else is offered v2 */
	run(fc, 200, 300, running, seq, crashes, 2, &last);
	for (unsigned i = 0; i < N; i++)
		assert_true(running[i] <= 2);
	/* the rollback version is published: it goes everywhere */
	rel.version = 3;
	rel.rollback_of = 1;
	assert_int_equal(rf_fleet_core_release(fc, &rel, "detect", 300), 0);
	rf_fleet_core_track(fc, 0, &ti);
	assert_int_equal(ti.stage, RF_STAGE_ROLLBACK);
	run(fc, 300, 400, running, seq, crashes, 2, &last);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(running[i], 3);
	rf_fleet_core_track(fc, 0, &ti);
	assert_int_equal(ti.stage, RF_STAGE_IDLE);
	assert_int_equal(ti.stable, 3);
	assert_int_equal(ti.on_bad, 0);
	/* a later release rolls out again; v2 never does */
	rel.version = 4;
	rel.rollback_of = 0;
	rf_fleet_core_release(fc, &rel, "detect", 400);
	run(fc, 400, 420, running, seq, crashes, 0, &last);
	rf_fleet_core_track(fc, 0, &ti);
	assert_int_equal(ti.target, 4);
	rf_fleet_core_free(fc);
}

static void test_silence_halts(void **state)
{
	struct rf_fleet_config c = small_cfg();
	struct rf_fleet_core *fc;
	struct rf_fleet_release rel = {.version = 1};
	struct rf_fleet_track_info ti;
	struct rf_fleet_answer a;
	struct rf_fleet_action act;
	uint64_t running[N], seq[N] = {0};
	uint32_t crashes[N] = {0};
	bool silent[N] = {0};

	for (unsigned i = 0; i < N; i++)
		running[i] = 1;
	assert_int_equal(rf_fleet_core_new(&c, &fc), 0);
	rf_fleet_core_release(fc, &rel, "detect", 0);
	run(fc, 0, 100, running, seq, crashes, 0, &act);
	rel.version = 2;
	rf_fleet_core_release(fc, &rel, "detect", 100);
	/* hosts that take v2 fall silent (a hang): no crash is ever reported */
	for (int64_t t = 100; t < 300; t += 10) {
		for (unsigned i = 0; i < N; i++) {
			if (silent[i])
				continue;
			assert_int_equal(report(fc, i, ++seq[i], running[i], 0, t, &a), 0);
			if (assigned(&a) == 2)
				silent[i] = true;
		}
		rf_fleet_core_tick(fc, t + 10, &act);
	}
	rf_fleet_core_track(fc, 0, &ti);
	assert_int_equal(ti.stage, RF_STAGE_HALTED);
	assert_non_null(strstr(ti.reason, "silent"));
	rf_fleet_core_free(fc);
}

static void test_pin_override(void **state)
{
	struct rf_fleet_config c = small_cfg();
	struct rf_fleet_core *fc;
	struct rf_fleet_release rel = {.version = 1};
	struct rf_fleet_answer a;
	struct rf_fleet_action act;
	uint64_t running[N], seq[N] = {0};
	uint32_t crashes[N] = {0};
	unsigned h = 0;
	char id[32];

	for (unsigned i = 0; i < N; i++)
		running[i] = 1;
	assert_int_equal(rf_fleet_core_new(&c, &fc), 0);
	rf_fleet_core_release(fc, &rel, "detect", 0);
	/* find a broad host, move it to canary; pin host 0 to version 1 */
	for (h = 1; h < N; h++) {
		snprintf(id, sizeof(id), "host-%u", h);
		if (rf_fleet_ring_of(&c, id, false) == RF_RING_BROAD)
			break;
	}
	assert_int_equal(rf_fleet_core_override(fc, id, RF_RING_CANARY), 0);
	assert_int_equal(rf_fleet_core_override(fc, id, 7), -EINVAL);
	assert_int_equal(rf_fleet_core_pin(fc, "host-0", "detect", 1), 0);
	run(fc, 0, 100, running, seq, crashes, 0, &act);
	rel.version = 2;
	rf_fleet_core_release(fc, &rel, "detect", 100);
	run(fc, 100, 170, running, seq, crashes, 0, &act);
	assert_int_equal(running[h], 2); /* overridden into canary */
	assert_int_equal(report(fc, h, ++seq[h], 2, 0, 175, &a), 0);
	assert_int_equal(a.ring, RF_RING_CANARY);
	run(fc, 170, 1000, running, seq, crashes, 0, &act);
	assert_int_equal(running[0], 1); /* pinned */
	assert_int_equal(running[1 + (h == 1)], 2);
	/* unpin: it follows the stable version */
	assert_int_equal(rf_fleet_core_pin(fc, "host-0", "detect", 0), 0);
	assert_int_equal(report(fc, 0, ++seq[0], 1, 0, 1001, &a), 0);
	assert_int_equal(assigned(&a), 2);
	rf_fleet_core_free(fc);
}

/* An empty ring (a fleet of a few hosts) does not stop the rollout: bake only. */
static void test_empty_ring(void **state)
{
	struct rf_fleet_config c = small_cfg();
	struct rf_fleet_core *fc;
	struct rf_fleet_release rel = {.version = 1};
	struct rf_fleet_track_info ti;
	struct rf_fleet_action last = {0};
	uint64_t running[N], seq[N] = {0};
	uint32_t crashes[N] = {0};

	c.canary_pct = 50;
	c.early_pct = 0; /* the early ring is empty */
	c.holdback_pct = 0;
	for (unsigned i = 0; i < N; i++)
		running[i] = 1;
	assert_int_equal(rf_fleet_core_new(&c, &fc), 0);
	rf_fleet_core_release(fc, &rel, "detect", 0);
	run(fc, 0, 100, running, seq, crashes, 0, &last);
	rel.version = 2;
	rf_fleet_core_release(fc, &rel, "detect", 100);
	run(fc, 100, 1000, running, seq, crashes, 0, &last);
	rf_fleet_core_track(fc, 0, &ti);
	assert_int_equal(ti.stage, RF_STAGE_IDLE);
	assert_int_equal(ti.stable, 2);
	rf_fleet_core_free(fc);
}

static void test_answer_json(void **state)
{
	struct rf_fleet_answer a = {.ring = RF_RING_EARLY, .poll_s = 60, .nassign = 1};
	uint8_t nonce[16] = {1, 2};
	char out[RF_FLEET_RESPONSE_MAX];

	strcpy(a.assign[0].client, "detect");
	a.assign[0].version = 8;
	a.assign[0].sha256 = "ab";
	assert_true(rf_fleet_answer_json(&a, nonce, out, sizeof(out)) > 0);
	assert_string_equal(out, "{\"v\":1,\"ring\":\"early\",\"poll_s\":60,\"nonce\":"
				 "\"01020000000000000000000000000000\",\"assign\":[{\"client\":"
				 "\"detect\",\"version\":8,\"path\":\"targets/detect/8.rfb\","
				 "\"sha256\":\"ab\"}]}");
	assert_int_equal(rf_fleet_answer_json(&a, nonce, out, 40), -ENOSPC);
}

static void test_config(void **state)
{
	struct rf_fleet_config c;
	char path[] = "/tmp/rf-fleet-cfg.XXXXXX", err[300];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	rf_fleet_config_default(&c);
	fprintf(f, "# test\npoll_s = 5\nmargin=0.05\n internal_canary = false \ncanary_bake_s = 7\n");
	fclose(f);
	assert_int_equal(rf_fleet_config_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.poll_s, 5);
	assert_int_equal(c.bake_s[0], 7);
	assert_false(c.internal_canary);
	assert_true(c.margin > 0.049 && c.margin < 0.051);
	const char *bad[] = {"poll_s = 0\n", "poll_s = 1.5\n", "margin = 2\n", "nothing\n",
			     "bogus = 1\n", "internal_canary = yes\n", "early_pct = 99\n",
			     "ring_salt =\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		rf_fleet_config_default(&c);
		assert_int_equal(rf_fleet_config_load(path, &c, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, path));
	}
	unlink(path);
	assert_true(rf_fleet_config_load("/nonexistent/x", &c, err, sizeof(err)) < 0);
}

static void row_count(void *ctx, const struct rf_fleet_host_row *row)
{
	struct rf_fleet_store *s = ctx;
	assert_int_equal(rf_fleet_store_put_host(s, row), 0);
}

static void test_store_sqlite(void **state)
{
	char dir[] = "/tmp/rf-fleet-store.XXXXXX", url[300], err[300], wal[400];
	struct rf_fleet_config c = small_cfg();
	struct rf_fleet_core *fc, *fc2;
	struct rf_fleet_store *s;
	struct rf_fleet_answer a;
	struct rf_fleet_track_info ti = {.client = "detect", .stage = RF_STAGE_HALTED, .stable = 1,
					 .target = 2, .bad = 2, .highest = 2, .reason = "x"};
	uint64_t n;

	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "sqlite:%s/fleet.db", dir);
	assert_int_equal(rf_fleet_store_open(url, &s, err, sizeof(err)), 0);
	assert_string_equal(rf_fleet_store_kind(s), "sqlite");
	assert_int_equal(rf_fleet_core_new(&c, &fc), 0);
	for (unsigned i = 0; i < 1200; i++) /* more than one multi-row batch */
		assert_int_equal(report(fc, i, 7, 1, 0, 100, &a), 0);
	assert_int_equal(rf_fleet_store_begin(s), 0);
	assert_int_equal(rf_fleet_core_drain_dirty(fc, row_count, s, 100000), 1200);
	assert_int_equal(rf_fleet_store_put_track(s, &ti), 0);
	assert_int_equal(rf_fleet_store_put_event(s, 5, "halted v2: \"quoted\""), 0);
	assert_int_equal(rf_fleet_store_commit(s), 0);
	assert_int_equal(rf_fleet_store_put_pin(s, "host-3", "detect", 1), 0);
	assert_int_equal(rf_fleet_store_put_pin(s, "host-4", "detect", 1), 0);
	assert_int_equal(rf_fleet_store_put_pin(s, "host-4", "detect", 0), 0);
	assert_int_equal(rf_fleet_store_put_override(s, "host-5", RF_RING_CANARY), 0);
	assert_int_equal(rf_fleet_store_count(s, "hosts", &n), 0);
	assert_int_equal(n, 1200);
	assert_int_equal(rf_fleet_store_count(s, "pins", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rf_fleet_store_count(s, "bogus; drop", &n), -EINVAL);
	rf_fleet_store_close(s);
	/* reopen into a new core: keys, sequences, pins, overrides, the halted track */
	assert_int_equal(rf_fleet_store_open(url, &s, err, sizeof(err)), 0);
	assert_int_equal(rf_fleet_core_new(&c, &fc2), 0);
	assert_int_equal(rf_fleet_store_load(s, fc2, 200), 0);
	assert_int_equal(rf_fleet_core_nhosts(fc2), 1200);
	assert_int_equal(report(fc2, 9, 7, 1, 0, 201, &a), -ESTALE);
	assert_int_equal(report(fc2, 9, 8, 1, 0, 201, &a), 0);
	assert_int_equal(report(fc2, 5, 8, 1, 0, 201, &a), 0);
	assert_int_equal(a.ring, RF_RING_CANARY);
	rf_fleet_core_track(fc2, 0, &ti);
	assert_int_equal(ti.stage, RF_STAGE_HALTED);
	assert_int_equal(ti.bad, 2);
	rf_fleet_store_close(s);
	rf_fleet_store_close(NULL);
	rf_fleet_core_free(fc);
	rf_fleet_core_free(fc2);
	/* refusals */
	assert_true(rf_fleet_store_open("sqlite:/nonexistent/dir/x.db", &s, err, sizeof(err)) < 0);
	assert_true(rf_fleet_store_open("postgresql:///nodb?host=/nonexistent", &s, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "PostgreSQL"));
	snprintf(wal, sizeof(wal), "rm -rf '%s'", dir);
	assert_int_equal(system(wal), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_rings),
		cmocka_unit_test(test_tofu_and_seq),
		cmocka_unit_test(test_good_rollout),
		cmocka_unit_test(test_bad_rollout_halts),
		cmocka_unit_test(test_silence_halts),
		cmocka_unit_test(test_pin_override),
		cmocka_unit_test(test_empty_ring),
		cmocka_unit_test(test_answer_json),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_store_sqlite),
	};
	return cmocka_run_group_tests_name("fleet_controller", tests, NULL, NULL);
}
