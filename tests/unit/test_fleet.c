// SPDX-License-Identifier: MIT
/* Unit tests of the fleet endpoint protocol: report writer and signature, response
 * parser (every rejection path), repository path check. */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/fleet_proto.h"
#include "fleet/fleet.h"

#define SHA "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char err[256];

static int parse(const char *s, struct rf_agent_response *r)
{
	return rf_agent_response_parse(s, strlen(s), r, err, sizeof(err));
}

static void test_response_ok(void **state)
{
	struct rf_agent_response r;
	const char *s = "{\"v\": 1, \"ring\": \"canary\", \"poll_s\": 60, \"nonce\": \"00FFab\",\n"
			" \"unknown\": {\"a\": [1, 2.5e3, -3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"]},"
			" \"assign\": [{\"client\": \"detect\", \"version\": 8, \"path\": \"targets/detect/8.rfb\","
			" \"sha256\": \"" SHA "\", \"extra\": 1},"
			" {\"client\": \"fragile\", \"version\": 18446744073709551615,"
			" \"path\": \"targets/fragile/x.rfb\", \"sha256\": \"" SHA "\"}]} \n";

	(void)state;
	assert_int_equal(parse(s, &r), 0);
	assert_int_equal(r.v, 1);
	assert_string_equal(r.ring, "canary");
	assert_int_equal(r.poll_s, 60);
	assert_string_equal(r.nonce, "00ffab");
	assert_int_equal(r.nassign, 2);
	assert_string_equal(r.assign[0].client, "detect");
	assert_int_equal(r.assign[0].version, 8);
	assert_string_equal(r.assign[0].path, "targets/detect/8.rfb");
	assert_int_equal(r.assign[0].sha256[0], 0x00);
	assert_int_equal(r.assign[0].sha256[31], 0xff);
	assert_true(r.assign[1].version == UINT64_MAX);
	assert_false(r.assign[0].no_sha256);
	/* an empty sha256: parsed, marked, not installed by the agent */
	assert_int_equal(parse("{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,"
			       "\"path\":\"a.rfb\",\"sha256\":\"\"}]}", &r), 0);
	assert_true(r.assign[0].no_sha256);
	/* minimal: no ring, no nonce, no assignment */
	assert_int_equal(parse("{\"v\":1,\"poll_s\":1,\"assign\":[]}", &r), 0);
	assert_int_equal(r.nassign, 0);
	assert_string_equal(r.nonce, "");
}

/* every one of these must be refused */
static void test_response_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"[]",
		"{",
		"{}",                                            /* v, poll_s, assign missing */
		"{\"v\":1,\"poll_s\":1}",                        /* assign missing */
		"{\"v\":1,\"assign\":[]}",                       /* poll_s missing */
		"{\"poll_s\":1,\"assign\":[]}",                  /* v missing */
		"{\"v\":2,\"poll_s\":1,\"assign\":[]}",          /* another protocol version */
		"{\"v\":1,\"poll_s\":0,\"assign\":[]}",          /* poll out of range */
		"{\"v\":1,\"poll_s\":86401,\"assign\":[]}",
		"{\"v\":1,\"poll_s\":-1,\"assign\":[]}",
		"{\"v\":1,\"poll_s\":1.5,\"assign\":[]}",
		"{\"v\":1,\"poll_s\":1e2,\"assign\":[]}",
		"{\"v\":1,\"poll_s\":\"60\",\"assign\":[]}",
		"{\"v\":1,\"poll_s\":99999999999999999999999,\"assign\":[]}",
		"{\"v\":1,\"poll_s\":01,\"assign\":[]}",         /* leading zero */
		"{\"v\":1,\"v\":1,\"poll_s\":1,\"assign\":[]}",  /* known key twice */
		"{\"v\":1,\"poll_s\":1,\"assign\":[]} x",        /* trailing data */
		"{\"v\":1,\"poll_s\":1,\"assign\":[]}{}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[],}",         /* trailing comma */
		"{\"v\":1 \"poll_s\":1,\"assign\":[]}",          /* missing comma */
		"{\"v\" 1,\"poll_s\":1,\"assign\":[]}",          /* missing colon */
		"{v:1,\"poll_s\":1,\"assign\":[]}",              /* unquoted key */
		"{\"v\":1,\"poll_s\":1,\"assign\":{}}",          /* assign not an array */
		"{\"v\":1,\"poll_s\":1,\"assign\":[1]}",
		"{\"v\":1,\"poll_s\":1,\"nonce\":\"abc\",\"assign\":[]}",   /* odd hex */
		"{\"v\":1,\"poll_s\":1,\"nonce\":\"zz\",\"assign\":[]}",    /* not hex */
		"{\"v\":1,\"poll_s\":1,\"nonce\":7,\"assign\":[]}",
		"{\"v\":1,\"poll_s\":1,\"ring\":\"a b\",\"assign\":[]}",    /* not a ring name */
		"{\"v\":1,\"poll_s\":1,\"ring\":\"0123456789012345678901234567890123\",\"assign\":[]}",
		"{\"v\":1,\"poll_s\":1,\"x\":tru,\"assign\":[]}",           /* bad literal */
		"{\"v\":1,\"poll_s\":1,\"x\":\"\\x\",\"assign\":[]}",       /* bad escape */
		"{\"v\":1,\"poll_s\":1,\"x\":\"\\ud800\",\"assign\":[]}",   /* lone surrogate */
		"{\"v\":1,\"poll_s\":1,\"x\":\"\\udc00\",\"assign\":[]}",
		"{\"v\":1,\"poll_s\":1,\"x\":\"\\u00\",\"assign\":[]}",     /* short \\u */
		"{\"v\":1,\"poll_s\":1,\"x\":\"\\u0000\",\"assign\":[]}",   /* NUL */
		"{\"v\":1,\"poll_s\":1,\"x\":\"\xc0\xaf\",\"assign\":[]}",  /* overlong UTF-8 */
		"{\"v\":1,\"poll_s\":1,\"x\":\"\xed\xa0\x80\",\"assign\":[]}", /* UTF-8 surrogate */
		"{\"v\":1,\"poll_s\":1,\"x\":\"\xff\",\"assign\":[]}",
		"{\"v\":1,\"poll_s\":1,\"x\":\"\xe2\x82\",\"assign\":[]}",  /* truncated UTF-8 */
		"{\"v\":1,\"poll_s\":1,\"x\":\"a\tb\",\"assign\":[]}",      /* raw control char */
		"{\"v\":1,\"poll_s\":1,\"x\":\"abc",                       /* unterminated */
		"{\"v\":1,\"poll_s\":1,\"x\":-,\"assign\":[]}",
		"{\"v\":1,\"poll_s\":1,\"x\":1.,\"assign\":[]}",
		"{\"v\":1,\"poll_s\":1,\"x\":1e,\"assign\":[]}",
		"{\"v\":1,\"poll_s\":1,\"x\":[[[[[[[[[[1]]]]]]]]]],\"assign\":[]}", /* too deep */
		/* assignments */
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"version\":2,\"path\":\"a.rfb\",\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"path\":\"a.rfb\",\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"path\":\"a.rfb\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":0,\"path\":\"a.rfb\",\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c d\",\"version\":2,\"path\":\"a.rfb\",\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"012345678901234567890123456789012\",\"version\":2,\"path\":\"a.rfb\",\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"path\":\"../a.rfb\",\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"path\":\"/etc/passwd\",\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"path\":\"http://x/a\",\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"path\":\"a.rfb\",\"sha256\":\"00\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"path\":\"a.rfb\",\"sha256\":\"" SHA "0\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"path\":\"a.rfb\",\"sha256\":\"g" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"client\":\"d\",\"version\":2,\"path\":\"a.rfb\",\"sha256\":\"" SHA "\"}]}",
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"path\":\"a.rfb\",\"sha256\":\"" SHA "\"},"
		"{\"client\":\"c\",\"version\":3,\"path\":\"b.rfb\",\"sha256\":\"" SHA "\"}]}", /* client twice */
		"{\"v\":1,\"poll_s\":1,\"assign\":[{\"client\":\"c\",\"version\":2,\"path\":\"a.rfb\",\"sha256\":\"" SHA "\"},]}",
		NULL,
	};
	struct rf_agent_response r;
	size_t i;

	(void)state;
	for (i = 0; bad[i]; i++) {
		err[0] = 0;
		if (parse(bad[i], &r) == 0)
			fail_msg("accepted bad response %zu: %s", i, bad[i]);
		assert_true(strncmp(err, "offset ", 7) == 0);
		assert_int_equal(r.nassign, 0); /* nothing half-parsed is left */
	}
}

static void test_response_limits(void **state)
{
	static char big[RF_FLEET_RESPONSE_MAX + 64];
	struct rf_agent_response r;
	size_t n;
	int k;

	(void)state;
	/* over the size limit: refused before parsing */
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"v\":1,\"poll_s\":1,\"assign\":[]}", 30);
	assert_int_equal(rf_agent_response_parse(big, RF_FLEET_RESPONSE_MAX + 1, &r, err, sizeof(err)),
			 -EMSGSIZE);
	assert_int_equal(rf_agent_response_parse(big, RF_FLEET_RESPONSE_MAX, &r, err, sizeof(err)), 0);
	/* more than RF_FLEET_ASSIGN_MAX assignments */
	n = (size_t)snprintf(big, sizeof(big), "{\"v\":1,\"poll_s\":1,\"assign\":[");
	for (k = 0; k <= (int)RF_FLEET_ASSIGN_MAX; k++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
				      "%s{\"client\":\"c%d\",\"version\":2,\"path\":\"a\",\"sha256\":\"" SHA "\"}",
				      k ? "," : "", k);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "]}");
	assert_true(n < sizeof(big));
	assert_int_equal(rf_agent_response_parse(big, n, &r, err, sizeof(err)), -E2BIG);
	/* a path at the limit */
	char path[RF_FLEET_PATH_MAX + 1];
	memset(path, 'a', sizeof(path));
	path[RF_FLEET_PATH_MAX] = 0; /* RF_FLEET_PATH_MAX bytes: no room for the NUL */
	assert_false(rf_agent_path_ok(path));
	path[RF_FLEET_PATH_MAX - 1] = 0;
	assert_true(rf_agent_path_ok(path));
	/* not NUL-terminated: the parser never reads past len */
	assert_int_not_equal(rf_agent_response_parse("{\"v\":1,\"poll_s\":1,\"assign\":[]}", 29, &r,
						     err, sizeof(err)), 0);
}

static void test_paths(void **state)
{
	(void)state;
	assert_true(rf_agent_path_ok("targets/detect/8.rfb"));
	assert_true(rf_agent_path_ok("a"));
	assert_true(rf_agent_path_ok("a/.hidden/..x"));
	assert_false(rf_agent_path_ok(""));
	assert_false(rf_agent_path_ok("/a"));
	assert_false(rf_agent_path_ok("a//b"));
	assert_false(rf_agent_path_ok("a/"));
	assert_false(rf_agent_path_ok("./a"));
	assert_false(rf_agent_path_ok("a/./b"));
	assert_false(rf_agent_path_ok("a/.."));
	assert_false(rf_agent_path_ok("a/../b"));
	assert_false(rf_agent_path_ok("a?b"));
	assert_false(rf_agent_path_ok("a%2fb"));
	assert_false(rf_agent_path_ok("a b"));
}

static void test_report(void **state)
{
	struct rf_agent_client_health c[2] = {
		{.client = "detect", .version = 7, .good_version = 6, .state = "running",
		 .crashes = 1, .restarts = 2, .rollbacks = 3},
		{.client = "fragile", .version = 2, .state = "install_failed",
		 .error = "BAD_SIGNATURE: \"quoted\"\n"},
	};
	struct rf_agent_report r = {.host = "h-000001", .seq = 42, .time = 1763763000,
				    .internal = true, .clients = c, .nclients = 2, .auth_misses = 5,
				    .drops = 6, .cpu_pct = 1.25, .uptime_s = 1234, .nonce = "abcd"};
	uint8_t pk[RF_PUBKEY_LEN], sk[RF_SECKEY_LEN], sig[RF_SIG_LEN], *msg;
	char out[RF_FLEET_REPORT_MAX], hex[2 * RF_SIG_LEN + 1];
	int n;

	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_sign_ed25519_keypair(pk, sk);
	memcpy(r.key, pk, sizeof(pk));
	n = rf_agent_report_build(&r, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_non_null(strstr(out, "{\"v\":1,\"host\":\"h-000001\",\"key\":\""));
	assert_non_null(strstr(out, "\"seq\":42,\"time\":1763763000,\"internal\":true,\"clients\":[{"));
	assert_non_null(strstr(out, "{\"client\":\"detect\",\"version\":7,\"good_version\":6,"
				    "\"state\":\"running\",\"error\":\"\",\"crashes\":1,\"restarts\":2,"
				    "\"rollbacks\":3}"));
	assert_non_null(strstr(out, "\"error\":\"BAD_SIGNATURE: \\\"quoted\\\"\\n\""));
	assert_non_null(strstr(out, "\"auth_misses\":5,\"drops\":6,\"cpu_pct\":1.2"));
	assert_non_null(strstr(out, "\"uptime_s\":1234,\"nonce\":\"abcd\"}"));
	assert_null(strstr(out, "attestation"));
	/* the signature verifies over the context, a NUL, and the body */
	assert_int_equal(rf_agent_report_sign(out, (size_t)n, sk, hex), 0);
	assert_int_equal(strlen(hex), 2 * RF_SIG_LEN);
	assert_int_equal(rf_unhex(hex, sig, RF_SIG_LEN), 0);
	msg = malloc(sizeof(RF_FLEET_SIG_CONTEXT) + (size_t)n);
	memcpy(msg, RF_FLEET_SIG_CONTEXT, sizeof(RF_FLEET_SIG_CONTEXT));
	memcpy(msg + sizeof(RF_FLEET_SIG_CONTEXT), out, (size_t)n);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(RF_FLEET_SIG_CONTEXT) + (size_t)n, pk), 0);
	msg[sizeof(RF_FLEET_SIG_CONTEXT) + 5] ^= 1; /* any change breaks it */
	assert_int_not_equal(crypto_sign_verify_detached(sig, msg, sizeof(RF_FLEET_SIG_CONTEXT) + (size_t)n, pk), 0);
	free(msg);
	/* attestation present */
	r.attestation = "QUJD";
	assert_true(rf_agent_report_build(&r, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, ",\"attestation\":\"QUJD\"}"));
	/* too small a buffer: -ENOSPC, empty output */
	assert_int_equal(rf_agent_report_build(&r, out, 100), -ENOSPC);
	assert_string_equal(out, "");
	/* bad host and client names */
	r.host = "h 1";
	assert_int_equal(rf_agent_report_build(&r, out, sizeof(out)), -EINVAL);
	r.host = "";
	assert_int_equal(rf_agent_report_build(&r, out, sizeof(out)), -EINVAL);
	r.host = "h1";
	snprintf(c[1].client, sizeof(c[1].client), "a\"b");
	assert_int_equal(rf_agent_report_build(&r, out, sizeof(out)), -EINVAL);
}

/* The contract, both ways: what the agent writes, the controller's parser and
 * signature check accept with the same values; what the controller answers, the
 * agent's parser accepts. */
static void test_contract(void **state)
{
	struct rf_agent_client_health c = {.client = "fragile", .version = 3, .good_version = 2,
					   .state = "crash_loop", .crashes = 4, .restarts = 3,
					   .rollbacks = 1};
	struct rf_agent_report r = {.host = "h-000007", .seq = 9, .time = 1763763000, .internal = true,
				    .clients = &c, .nclients = 1, .auth_misses = 2, .drops = 11,
				    .cpu_pct = 3.5, .uptime_s = 77,
				    .nonce = "00112233445566778899aabbccddeeff"};
	struct rf_fleet_report fr;
	struct rf_fleet_answer ans = {.ring = RF_RING_EARLY, .poll_s = 7, .nassign = 1};
	struct rf_agent_response resp;
	uint8_t pk[RF_PUBKEY_LEN], sk[RF_SECKEY_LEN], nonce[16];
	char out[RF_FLEET_REPORT_MAX], sig[2 * RF_SIG_LEN + 1], js[RF_FLEET_RESPONSE_MAX];
	int n;

	(void)state;
	assert_true(sodium_init() >= 0);
	crypto_sign_ed25519_keypair(pk, sk);
	memcpy(r.key, pk, sizeof(pk));
	n = rf_agent_report_build(&r, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(rf_agent_report_sign(out, (size_t)n, sk, sig), 0);
	if (rf_fleet_report_parse(out, (size_t)n, &fr, err, sizeof(err)) != 0)
		fail_msg("the controller refuses the agent's report: %s", err);
	assert_int_equal(rf_fleet_report_verify(out, (size_t)n, fr.key, sig), 0);
	assert_memory_equal(fr.key, pk, sizeof(pk));
	assert_string_equal(fr.host, "h-000007");
	assert_true(fr.seq == 9 && fr.internal && fr.nclients == 1);
	assert_string_equal(fr.clients[0].client, "fragile");
	assert_true(fr.clients[0].version == 3 && fr.clients[0].good_version == 2);
	assert_int_equal(fr.clients[0].state, RF_CS_CRASH_LOOP);
	assert_true(fr.clients[0].crashes == 4 && fr.clients[0].restarts == 3 &&
		    fr.clients[0].rollbacks == 1);
	assert_true(fr.auth_misses == 2 && fr.drops == 11 && fr.uptime_s == 77);
	assert_true(fr.have_nonce && fr.nonce[0] == 0x00 && fr.nonce[15] == 0xff);
	out[10] ^= 1; /* a changed body no longer verifies */
	assert_int_not_equal(rf_fleet_report_verify(out, (size_t)n, fr.key, sig), 0);
	/* the first report carries an empty nonce */
	r.nonce = "";
	n = rf_agent_report_build(&r, out, sizeof(out));
	assert_true(n > 0);
	if (rf_fleet_report_parse(out, (size_t)n, &fr, err, sizeof(err)) != 0)
		fail_msg("the controller refuses a report without nonce: %s", err);
	/* the controller's answer */
	snprintf(ans.assign[0].client, sizeof(ans.assign[0].client), "fragile");
	ans.assign[0].version = 4;
	ans.assign[0].sha256 = SHA;
	memset(nonce, 0xab, sizeof(nonce));
	n = rf_fleet_answer_json(&ans, nonce, js, sizeof(js));
	assert_true(n > 0);
	if (rf_agent_response_parse(js, (size_t)n, &resp, err, sizeof(err)) != 0)
		fail_msg("the agent refuses the controller's answer: %s (%s)", err, js);
	assert_string_equal(resp.ring, "early");
	assert_int_equal(resp.poll_s, 7);
	assert_string_equal(resp.nonce, "abababababababababababababababab");
	assert_int_equal(resp.nassign, 1);
	assert_string_equal(resp.assign[0].client, "fragile");
	assert_true(resp.assign[0].version == 4);
	assert_string_equal(resp.assign[0].path, "targets/fragile/4.rfb");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_ok),
		cmocka_unit_test(test_response_refused),
		cmocka_unit_test(test_response_limits),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_contract),
	};
	return cmocka_run_group_tests_name("fleet", tests, NULL, NULL);
}
