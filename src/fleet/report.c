// SPDX-License-Identifier: MIT
/* report.c: the /v1/report body (untrusted JSON), its signature, and the answer.
 * The JSON reader is a small checked recursive-descent parser into a flat token
 * array: every index is checked against the body length, nesting is limited to
 * RF_FLEET_JSON_DEPTH and values to RF_FLEET_JSON_TOKENS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fleet/fleet.h"

#define SIG_CONTEXT "ringfence-report-v1"

enum { J_OBJ = 1, J_ARR, J_STR, J_NUM, J_TRUE, J_FALSE, J_NULL };

struct jtok {
	uint8_t type;
	uint32_t start, end; /* strings: inside the quotes */
	uint32_t next;       /* index of the token after this value and its children */
	uint32_t size;       /* members (objects: key/value pairs) */
	bool esc;            /* string has escapes */
};

struct jp {
	const char *s;
	size_t len, pos;
	struct jtok *t;
	uint32_t nt;
	const char *err;
};

static void ws(struct jp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int newtok(struct jp *p, uint8_t type)
{
	if (p->nt >= RF_FLEET_JSON_TOKENS) {
		p->err = "too many JSON values";
		return -1;
	}
	memset(&p->t[p->nt], 0, sizeof(p->t[0]));
	p->t[p->nt].type = type;
	p->t[p->nt].start = (uint32_t)p->pos;
	return (int)p->nt++;
}

static int hex4(const char *s)
{
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return -1;
	}
	return 0;
}

static int pstring(struct jp *p)
{
	int i = newtok(p, J_STR);

	if (i < 0)
		return -1;
	p->pos++; /* opening quote */
	p->t[i].start = (uint32_t)p->pos;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->t[i].end = (uint32_t)p->pos;
			p->pos++;
			return i;
		}
		if (c < 0x20) {
			p->err = "control character in a string";
			return -1;
		}
		if (c == '\\') {
			p->t[i].esc = true;
			if (p->pos + 1 >= p->len)
				break;
			c = (unsigned char)p->s[p->pos + 1];
			if (c == 'u') {
				if (p->pos + 6 > p->len || hex4(p->s + p->pos + 2) < 0) {
					p->err = "bad \\u escape";
					return -1;
				}
				p->pos += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", c) || !c) {
				p->err = "bad escape";
				return -1;
			}
			p->pos += 2;
			continue;
		}
		p->pos++;
	}
	p->err = "unterminated string";
	return -1;
}

static int pnumber(struct jp *p)
{
	int i = newtok(p, J_NUM);
	size_t d;

	if (i < 0)
		return -1;
	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '0') {
		p->pos++;
	} else {
		for (d = 0; p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9'; d++)
			p->pos++;
		if (!d)
			goto bad;
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		for (d = 0; p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9'; d++)
			p->pos++;
		if (!d)
			goto bad;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		for (d = 0; p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9'; d++)
			p->pos++;
		if (!d)
			goto bad;
	}
	p->t[i].end = (uint32_t)p->pos;
	return i;
bad:
	p->err = "malformed number";
	return -1;
}

static int pvalue(struct jp *p, unsigned depth);

static int pcontainer(struct jp *p, unsigned depth, bool obj)
{
	int i = newtok(p, obj ? J_OBJ : J_ARR);
	char close = obj ? '}' : ']';

	if (i < 0)
		return -1;
	if (depth >= RF_FLEET_JSON_DEPTH) {
		p->err = "JSON nested too deeply";
		return -1;
	}
	p->pos++;
	ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		goto done;
	}
	for (;;) {
		ws(p);
		if (obj) {
			if (p->pos >= p->len || p->s[p->pos] != '"') {
				p->err = "expected a key";
				return -1;
			}
			if (pstring(p) < 0)
				return -1;
			ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				p->err = "expected ':'";
				return -1;
			}
			p->pos++;
		}
		if (pvalue(p, depth + 1) < 0)
			return -1;
		p->t[i].size++;
		ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			break;
		}
		p->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
		return -1;
	}
done:
	p->t[i].end = (uint32_t)p->pos;
	p->t[i].next = p->nt;
	return i;
}

static int lit(struct jp *p, const char *w, uint8_t type)
{
	size_t n = strlen(w);
	int i;

	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n)) {
		p->err = "unexpected character";
		return -1;
	}
	i = newtok(p, type);
	if (i < 0)
		return -1;
	p->pos += n;
	p->t[i].end = (uint32_t)p->pos;
	return i;
}

static int pvalue(struct jp *p, unsigned depth)
{
	int i;

	ws(p);
	if (p->pos >= p->len) {
		p->err = "unexpected end";
		return -1;
	}
	switch (p->s[p->pos]) {
	case '{': return pcontainer(p, depth, true);
	case '[': return pcontainer(p, depth, false);
	case '"': i = pstring(p); break;
	case 't': i = lit(p, "true", J_TRUE); break;
	case 'f': i = lit(p, "false", J_FALSE); break;
	case 'n': i = lit(p, "null", J_NULL); break;
	default:
		if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
			i = pnumber(p);
		else {
			p->err = "unexpected character";
			i = -1;
		}
	}
	if (i >= 0)
		p->t[i].next = p->nt;
	return i;
}

/* --- typed access ------------------------------------------------------------- */
static bool key_is(const struct jp *p, uint32_t k, const char *name)
{
	size_t n = strlen(name);

	return !p->t[k].esc && p->t[k].end - p->t[k].start == n &&
	       !memcmp(p->s + p->t[k].start, name, n);
}

static int get_u64(const struct jp *p, uint32_t v, uint64_t *out)
{
	uint64_t x = 0;

	if (p->t[v].type != J_NUM)
		return -1;
	for (uint32_t i = p->t[v].start; i < p->t[v].end; i++) {
		char c = p->s[i];
		if (c < '0' || c > '9')
			return -1; /* negative, fraction or exponent */
		if (x > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(c - '0');
	}
	*out = x;
	return 0;
}

static int get_u32(const struct jp *p, uint32_t v, uint32_t *out)
{
	uint64_t x;

	if (get_u64(p, v, &x) < 0 || x > UINT32_MAX)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static int get_double(const struct jp *p, uint32_t v, double *out)
{
	char buf[64];
	uint32_t n = p->t[v].end - p->t[v].start;

	if (p->t[v].type != J_NUM || n >= sizeof(buf))
		return -1;
	memcpy(buf, p->s + p->t[v].start, n);
	buf[n] = 0;
	*out = strtod(buf, NULL);
	return 0;
}

/* A plain string of [A-Za-z0-9._:-], 1..max-1 bytes. */
static int get_name(const struct jp *p, uint32_t v, char *out, size_t max)
{
	uint32_t n = p->t[v].end - p->t[v].start;

	if (p->t[v].type != J_STR || p->t[v].esc || !n || n >= max)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		char c = p->s[p->t[v].start + i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == ':'))
			return -1;
	}
	memcpy(out, p->s + p->t[v].start, n);
	out[n] = 0;
	return 0;
}

static int get_hex(const struct jp *p, uint32_t v, uint8_t *out, size_t n)
{
	char buf[129];

	if (p->t[v].type != J_STR || p->t[v].esc || p->t[v].end - p->t[v].start != 2 * n ||
	    2 * n >= sizeof(buf))
		return -1;
	memcpy(buf, p->s + p->t[v].start, 2 * n);
	buf[2 * n] = 0;
	return sodium_hex2bin(out, n, buf, 2 * n, NULL, NULL, NULL) == 0 ? 0 : -1;
}

static const char *state_names[] = {"running", "installing", "install_failed", "crash_loop",
				    "quarantined", "stopped"};

static int get_state(const struct jp *p, uint32_t v, int *out)
{
	for (int i = 0; i < (int)(sizeof(state_names) / sizeof(state_names[0])); i++)
		if (p->t[v].type == J_STR && key_is(p, v, state_names[i])) {
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

static int parse_client(const struct jp *p, uint32_t o, struct rf_fleet_client_report *c,
			char *err, size_t errlen)
{
	uint32_t i = o + 1, seen = 0;
	int rc = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (p->t[o].type != J_OBJ)
		FAIL("clients: an entry is not an object");
	for (uint32_t m = 0; m < p->t[o].size; m++) {
		uint32_t k = i, v = i + 1, bit = 0;
		int bad = 0;
		if (key_is(p, k, "client"))
			bit = 1, bad = get_name(p, v, c->client, sizeof(c->client));
		else if (key_is(p, k, "version"))
			bit = 2, bad = get_u64(p, v, &c->version);
		else if (key_is(p, k, "good_version"))
			bit = 4, bad = get_u64(p, v, &c->good_version);
		else if (key_is(p, k, "state"))
			bit = 8, bad = get_state(p, v, &c->state);
		else if (key_is(p, k, "crashes"))
			bit = 16, bad = get_u32(p, v, &c->crashes);
		else if (key_is(p, k, "restarts"))
			bit = 32, bad = get_u32(p, v, &c->restarts);
		else if (key_is(p, k, "rollbacks"))
			bit = 64, bad = get_u32(p, v, &c->rollbacks);
		else if (key_is(p, k, "error"))
			bit = 128, bad = p->t[v].type != J_STR ||
					 p->t[v].end - p->t[v].start > RF_FLEET_ERROR_MAX;
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
	struct jtok toks[RF_FLEET_JSON_TOKENS];
	struct jp p = {.s = body, .len = len, .t = toks};
	uint32_t seen = 0, i;
	uint64_t v = 0;
	int rc = -EINVAL, root;

	memset(r, 0, sizeof(*r));
	if (len > RF_FLEET_REPORT_ATTEST_MAX)
		FAIL("report too large");
	root = pvalue(&p, 0);
	if (root < 0)
		FAIL("malformed JSON at byte %zu: %s", p.pos, p.err ? p.err : "?");
	ws(&p);
	if (p.pos != len)
		FAIL("trailing bytes after the JSON object at byte %zu", p.pos);
	if (toks[root].type != J_OBJ)
		FAIL("the report is not a JSON object");
	i = 1;
	for (uint32_t m = 0; m < toks[0].size; m++) {
		uint32_t k = i, val = i + 1, bit = 0;
		int bad = 0;
		if (key_is(&p, k, "v"))
			bit = 1, bad = get_u64(&p, val, &v);
		else if (key_is(&p, k, "host"))
			bit = 2, bad = get_name(&p, val, r->host, sizeof(r->host));
		else if (key_is(&p, k, "key"))
			bit = 4, bad = get_hex(&p, val, r->key, 32);
		else if (key_is(&p, k, "seq"))
			bit = 8, bad = get_u64(&p, val, &r->seq);
		else if (key_is(&p, k, "clients")) {
			bit = 16;
			if (toks[val].type != J_ARR)
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
		} else if (key_is(&p, k, "time")) {
			uint64_t t;
			bit = 32, bad = get_u64(&p, val, &t);
			r->time = (int64_t)(t & INT64_MAX);
		} else if (key_is(&p, k, "internal")) {
			bit = 64, bad = toks[val].type != J_TRUE && toks[val].type != J_FALSE;
			r->internal = toks[val].type == J_TRUE;
		} else if (key_is(&p, k, "auth_misses"))
			bit = 128, bad = get_u32(&p, val, &r->auth_misses);
		else if (key_is(&p, k, "drops"))
			bit = 256, bad = get_u64(&p, val, &r->drops);
		else if (key_is(&p, k, "cpu_pct"))
			bit = 512, bad = get_double(&p, val, &r->cpu_pct);
		else if (key_is(&p, k, "uptime_s"))
			bit = 1024, bad = get_u64(&p, val, &r->uptime_s);
		else if (key_is(&p, k, "nonce")) {
			bit = 2048;
			if (toks[val].type != J_STR)
				bad = 1;
			else if (toks[val].end > toks[val].start) {
				bad = get_hex(&p, val, r->nonce, 16);
				r->have_nonce = !bad;
			}
		} else if (key_is(&p, k, "attestation")) {
			bit = 4096;
			bad = toks[val].type != J_STR && toks[val].type != J_NULL;
			r->have_attestation = toks[val].type == J_STR;
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
