// SPDX-License-Identifier: MIT
/* report.c: the /v1/report body (untrusted JSON), its signature, and the answer.
 * The body is read with libringfence's checked JSON reader (ringfence/json.h),
 * nesting limited to RF_FLEET_JSON_DEPTH and values to RF_FLEET_JSON_TOKENS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fleet/fleet.h"
#include "ringfence/json.h"

#define SIG_CONTEXT "ringfence-report-v1"

/* --- typed access over the checked reader (ringfence/json.h) ------------------- */
static int get_u64(const struct rf_json *j, uint32_t v, uint64_t *out)
{
	return rf_json_uint(j, v, 0, UINT64_MAX, out) ? -1 : 0;
}

static int get_u32(const struct rf_json *j, uint32_t v, uint32_t *out)
{
	uint64_t x;

	if (rf_json_uint(j, v, 0, UINT32_MAX, &x))
		return -1;
	*out = (uint32_t)x;
	return 0;
}

/* A plain string of [A-Za-z0-9._:-], 1..max-1 bytes. */
static int get_name(const struct rf_json *j, uint32_t v, char *out, size_t max)
{
	int n = rf_json_string(j, v, out, max);

	if (n <= 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char c = out[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == ':'))
			return -1;
	}
	return 0;
}

static int get_hex(const struct rf_json *j, uint32_t v, uint8_t *out, size_t n)
{
	char buf[129];

	if (2 * n >= sizeof(buf) || rf_json_string(j, v, buf, sizeof(buf)) != (int)(2 * n))
		return -1;
	return sodium_hex2bin(out, n, buf, 2 * n, NULL, NULL, NULL) == 0 ? 0 : -1;
}

static const char *state_names[] = {"running", "installing", "install_failed", "crash_loop",
				    "quarantined", "stopped"};

static int get_state(const struct rf_json *j, uint32_t v, int *out)
{
	for (int i = 0; i < (int)(sizeof(state_names) / sizeof(state_names[0])); i++)
		if (rf_json_key_is(j, v, state_names[i])) {
			*out = i;
			return 0;
		}
	return -1;
}

#define FAIL(...)                                        \
	do {                                             \
		snprintf(err, errlen, __VA_ARGS__);      \
		goto out;                                \
	} while (0)

static int parse_client(const struct rf_json *p, uint32_t o, struct rf_fleet_client_report *c,
			char *err, size_t errlen)
{
	uint32_t i = o + 1, seen = 0;
	int rc = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (p->t[o].type != RF_JSON_OBJECT)
		FAIL("clients: an entry is not an object");
	for (uint32_t m = 0; m < p->t[o].size; m++) {
		uint32_t k = i, v = i + 1, bit = 0;
		int bad = 0;
		if (rf_json_key_is(p, k, "client"))
			bit = 1, bad = get_name(p, v, c->client, sizeof(c->client));
		else if (rf_json_key_is(p, k, "version"))
			bit = 2, bad = get_u64(p, v, &c->version);
		else if (rf_json_key_is(p, k, "good_version"))
			bit = 4, bad = get_u64(p, v, &c->good_version);
		else if (rf_json_key_is(p, k, "state"))
			bit = 8, bad = get_state(p, v, &c->state);
		else if (rf_json_key_is(p, k, "crashes"))
			bit = 16, bad = get_u32(p, v, &c->crashes);
		else if (rf_json_key_is(p, k, "restarts"))
			bit = 32, bad = get_u32(p, v, &c->restarts);
		else if (rf_json_key_is(p, k, "rollbacks"))
			bit = 64, bad = get_u32(p, v, &c->rollbacks);
		else if (rf_json_key_is(p, k, "error")) {
			char e[RF_FLEET_ERROR_MAX + 1];
			bit = 128, bad = rf_json_string(p, v, e, sizeof(e)) < 0;
		}
		if (bad)
			FAIL("clients: bad value of \"%.*s\"", (int)(p->t[k].end - p->t[k].start),
			     p->s + p->t[k].start);
		if (seen & bit)
			FAIL("clients: duplicate key \"%.*s\"", (int)(p->t[k].end - p->t[k].start),
			     p->s + p->t[k].start);
		seen |= bit;
		i = p->t[v].next;
	}
	if ((seen & 3) != 3)
		FAIL("clients: an entry lacks \"client\" or \"version\"");
	rc = 0;
out:
	return rc;
}

int rf_fleet_report_parse(const char *body, size_t len, struct rf_fleet_report *r, char *err,
			  size_t errlen)
{
	struct rf_json_tok toks[RF_FLEET_JSON_TOKENS];
	struct rf_json p;
	uint32_t seen = 0, i;
	uint64_t v = 0;
	int rc = -EINVAL;

	memset(r, 0, sizeof(*r));
	if (len > RF_FLEET_REPORT_ATTEST_MAX)
		FAIL("report too large");
	if (rf_json_parse(&p, body, len, toks, RF_FLEET_JSON_TOKENS, RF_FLEET_JSON_DEPTH) < 0)
		FAIL("malformed JSON at byte %zu: %s", p.err_pos, p.err ? p.err : "?");
	if (toks[0].type != RF_JSON_OBJECT)
		FAIL("the report is not a JSON object");
	i = 1;
	for (uint32_t m = 0; m < toks[0].size; m++) {
		uint32_t k = i, val = i + 1, bit = 0;
		int bad = 0;
		if (rf_json_key_is(&p, k, "v"))
			bit = 1, bad = get_u64(&p, val, &v);
		else if (rf_json_key_is(&p, k, "host"))
			bit = 2, bad = get_name(&p, val, r->host, sizeof(r->host));
		else if (rf_json_key_is(&p, k, "key"))
			bit = 4, bad = get_hex(&p, val, r->key, 32);
		else if (rf_json_key_is(&p, k, "seq"))
			bit = 8, bad = get_u64(&p, val, &r->seq);
		else if (rf_json_key_is(&p, k, "clients")) {
			bit = 16;
			if (toks[val].type != RF_JSON_ARRAY)
				bad = 1;
			else if (toks[val].size > RF_FLEET_CLIENTS_MAX)
				FAIL("more than %u clients", RF_FLEET_CLIENTS_MAX);
			else {
				uint32_t c = val + 1;
				for (uint32_t n = 0; n < toks[val].size; n++) {
					if (parse_client(&p, c, &r->clients[n], err, errlen) < 0)
						goto out;
					c = toks[c].next;
				}
				r->nclients = toks[val].size;
			}
		} else if (rf_json_key_is(&p, k, "time")) {
			uint64_t t;
			bit = 32, bad = get_u64(&p, val, &t);
			r->time = (int64_t)(t & INT64_MAX);
		} else if (rf_json_key_is(&p, k, "internal")) {
			bit = 64, bad = toks[val].type != RF_JSON_TRUE && toks[val].type != RF_JSON_FALSE;
			r->internal = toks[val].type == RF_JSON_TRUE;
		} else if (rf_json_key_is(&p, k, "auth_misses"))
			bit = 128, bad = get_u32(&p, val, &r->auth_misses);
		else if (rf_json_key_is(&p, k, "drops"))
			bit = 256, bad = get_u64(&p, val, &r->drops);
		else if (rf_json_key_is(&p, k, "cpu_pct"))
			bit = 512, bad = rf_json_double(&p, val, &r->cpu_pct);
		else if (rf_json_key_is(&p, k, "uptime_s"))
			bit = 1024, bad = get_u64(&p, val, &r->uptime_s);
		else if (rf_json_key_is(&p, k, "nonce")) {
			bit = 2048;
			if (toks[val].type != RF_JSON_STRING)
				bad = 1;
			else if (toks[val].end > toks[val].start) {
				bad = get_hex(&p, val, r->nonce, 16);
				r->have_nonce = !bad;
			}
		} else if (rf_json_key_is(&p, k, "attestation")) {
			bit = 4096;
			bad = toks[val].type != RF_JSON_STRING && toks[val].type != RF_JSON_NULL;
			r->have_attestation = toks[val].type == RF_JSON_STRING;
			if (r->have_attestation) { /* base64: no escapes; a "\/" fails as not base64 */
				r->attestation = body + toks[val].start;
				r->attestation_len = (size_t)(toks[val].end - toks[val].start);
			}
		}
		if (bad)
			FAIL("bad value of \"%.*s\"", (int)(toks[k].end - toks[k].start),
			     body + toks[k].start);
		if (seen & bit)
			FAIL("duplicate key \"%.*s\"", (int)(toks[k].end - toks[k].start),
			     body + toks[k].start);
		seen |= bit;
		i = toks[val].next;
	}
	if ((seen & 31) != 31)
		FAIL("missing one of the required keys v, host, key, seq, clients");
	if (v != 1)
		FAIL("unsupported report version %llu (this controller speaks 1)",
		     (unsigned long long)v);
	if (!r->have_attestation && len > RF_FLEET_REPORT_MAX)
		FAIL("report over %u bytes without an attestation", RF_FLEET_REPORT_MAX);
	for (unsigned a = 0; a < r->nclients; a++)
		for (unsigned b = a + 1; b < r->nclients; b++)
			if (!strcmp(r->clients[a].client, r->clients[b].client))
				FAIL("client \"%s\" listed twice", r->clients[a].client);
	r->v = 1;
	rc = 0;
out:
	return rc;
}

static uint8_t *signed_message(const char *body, size_t len, size_t *mlen)
{
	size_t cl = sizeof(SIG_CONTEXT); /* includes the NUL */
	uint8_t *m = malloc(cl + len + 1);

	if (!m)
		return NULL;
	memcpy(m, SIG_CONTEXT, cl);
	memcpy(m + cl, body, len);
	*mlen = cl + len;
	return m;
}

int rf_fleet_report_verify(const char *body, size_t len, const uint8_t key[32],
			   const char *sighex)
{
	uint8_t sig[64], *m;
	size_t mlen;
	int r;

	if (!sighex || strlen(sighex) != 128 ||
	    sodium_hex2bin(sig, sizeof(sig), sighex, 128, NULL, NULL, NULL) != 0)
		return -EINVAL;
	m = signed_message(body, len, &mlen);
	if (!m)
		return -ENOMEM;
	r = crypto_sign_verify_detached(sig, m, mlen, key) == 0 ? 0 : -EBADMSG;
	free(m);
	return r;
}

void rf_fleet_report_mac(const char *body, size_t len, const uint8_t key[32], uint8_t mac[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)SIG_CONTEXT, sizeof(SIG_CONTEXT));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
}

void rf_fleet_report_sign(const char *body, size_t len, const uint8_t sk[64], char out[129])
{
	uint8_t sig[64], *m;
	size_t mlen;

	out[0] = 0;
	m = signed_message(body, len, &mlen);
	if (!m)
		return;
	crypto_sign_detached(sig, NULL, m, mlen, sk);
	free(m);
	sodium_bin2hex(out, 129, sig, sizeof(sig));
}

int rf_fleet_answer_json(const struct rf_fleet_answer *a, const uint8_t nonce[16], char *out,
			 size_t outsz)
{
	char nhex[33];
	size_t off;
	int n;

	sodium_bin2hex(nhex, sizeof(nhex), nonce, 16);
	n = snprintf(out, outsz, "{\"v\":1,\"ring\":\"%s\",\"poll_s\":%u,\"nonce\":\"%s\",\"assign\":[",
		     rf_fleet_ring_name(a->ring), a->poll_s, nhex);
	if (n < 0 || (size_t)n >= outsz)
		return -ENOSPC;
	off = (size_t)n;
	for (unsigned i = 0; i < a->nassign; i++) {
		const struct rf_fleet_assign *s = &a->assign[i];
		n = snprintf(out + off, outsz - off,
			     "%s{\"client\":\"%s\",\"version\":%llu,\"path\":\"targets/%s/%llu.rfb\",\"sha256\":\"%s\"}",
			     i ? "," : "", s->client, (unsigned long long)s->version, s->client,
			     (unsigned long long)s->version, s->sha256 ? s->sha256 : "");
		if (n < 0 || (size_t)n >= outsz - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	n = snprintf(out + off, outsz - off, "]}");
	if (n < 0 || (size_t)n >= outsz - off)
		return -ENOSPC;
	return (int)(off + (size_t)n);
}
