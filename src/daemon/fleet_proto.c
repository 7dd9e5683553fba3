// SPDX-License-Identifier: MIT
/* fleet_proto.c: report writer and signer, checked response parser (fleet_proto.h). */
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "daemon/fleet_proto.h"
#include "ringfence/json.h"

/* ---- report ---------------------------------------------------------------- */

struct wb {
	char *o;
	size_t n, cap;
	bool full;
};

static void wb_raw(struct wb *w, const char *s, size_t len)
{
	if (w->full || len >= w->cap - w->n) {
		w->full = true;
		return;
	}
	memcpy(w->o + w->n, s, len);
	w->n += len;
	w->o[w->n] = 0;
}

static void __attribute__((format(printf, 2, 3))) wb_fmt(struct wb *w, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof(tmp)) {
		w->full = true;
		return;
	}
	wb_raw(w, tmp, (size_t)k);
}

static void wb_str(struct wb *w, const char *s)
{
	int k;

	if (w->full)
		return;
	k = rf_json_escape(s, strlen(s), w->o + w->n, w->cap - w->n);
	if (k < 0) {
		w->full = true;
		w->o[w->n] = 0;
		return;
	}
	w->n += (size_t)k;
}

static bool name_ok(const char *s, size_t max, bool colon)
{
	size_t i, n = strlen(s);

	if (!n || n >= max)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || (colon && c == ':')))
			return false;
	}
	return true;
}

int rf_agent_report_build(const struct rf_agent_report *r, char *out, size_t outsz)
{
	struct wb w = {out, 0, outsz, false};
	char key[2 * RF_PUBKEY_LEN + 1];
	double cpu = r->cpu_pct;
	size_t i;

	if (!outsz)
		return -ENOSPC;
	out[0] = 0;
	if (!r->host || !name_ok(r->host, RF_FLEET_HOST_MAX, true))
		return -EINVAL;
	for (i = 0; i < r->nclients; i++)
		if (!name_ok(r->clients[i].client, RF_CONTENT_CLIENT_MAX, false))
			return -EINVAL;
	if (!isfinite(cpu) || cpu < 0)
		cpu = 0;
	if (cpu > 1e6)
		cpu = 1e6;
	rf_hex(r->key, RF_PUBKEY_LEN, key);
	wb_fmt(&w, "{\"v\":1,\"host\":");
	wb_str(&w, r->host);
	wb_fmt(&w, ",\"key\":\"%s\",\"seq\":%llu,\"time\":%llu,\"internal\":%s,\"clients\":[", key,
	       (unsigned long long)r->seq, (unsigned long long)r->time,
	       r->internal ? "true" : "false");
	for (i = 0; i < r->nclients; i++) {
		const struct rf_agent_client_health *c = &r->clients[i];

		wb_fmt(&w, "%s{\"client\":", i ? "," : "");
		wb_str(&w, c->client);
		wb_fmt(&w, ",\"version\":%llu,\"good_version\":%llu,\"state\":",
		       (unsigned long long)c->version, (unsigned long long)c->good_version);
		wb_str(&w, c->state ? c->state : "running");
		wb_fmt(&w, ",\"error\":");
		wb_str(&w, c->error);
		wb_fmt(&w, ",\"crashes\":%u,\"restarts\":%u,\"rollbacks\":%u}", c->crashes,
		       c->restarts, c->rollbacks);
	}
	wb_fmt(&w, "],\"auth_misses\":%llu,\"drops\":%llu,\"cpu_pct\":%.1f,\"uptime_s\":%llu,"
	       "\"nonce\":", (unsigned long long)r->auth_misses, (unsigned long long)r->drops, cpu,
	       (unsigned long long)r->uptime_s);
	wb_str(&w, r->nonce ? r->nonce : "");
	if (r->attestation) {
		wb_fmt(&w, ",\"attestation\":");
		wb_str(&w, r->attestation);
	}
	wb_raw(&w, "}", 1);
	if (w.full) {
		out[0] = 0;
		return -ENOSPC;
	}
	return (int)w.n;
}

int rf_agent_report_sign(const char *body, size_t len, const uint8_t sk[RF_SECKEY_LEN],
			 char out[2 * RF_SIG_LEN + 1])
{
	static const char ctx[] = RF_FLEET_SIG_CONTEXT; /* sizeof includes the NUL */
	uint8_t sig[RF_SIG_LEN], *msg;

	msg = malloc(sizeof(ctx) + len);
	if (!msg)
		return -ENOMEM;
	memcpy(msg, ctx, sizeof(ctx));
	memcpy(msg + sizeof(ctx), body, len);
	crypto_sign_detached(sig, NULL, msg, sizeof(ctx) + len, sk);
	free(msg);
	rf_hex(sig, RF_SIG_LEN, out);
	return 0;
}

/* ---- response parser (over libringfence's checked JSON reader) ------------- */

struct jp {
	const struct rf_json *j;
	char *err;
	size_t errlen;
};

/* "offset N: what" for the value at token v (N = its first byte). */
static int __attribute__((format(printf, 4, 5)))
jerr(struct jp *p, int ret, uint32_t v, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "offset %zu: %s",
			 v < p->j->nt ? (size_t)p->j->t[v].start : p->j->len, msg);
	return ret;
}

static int juint(struct jp *p, uint32_t v, const char *key, uint64_t lo, uint64_t hi,
		 uint64_t *out)
{
	if (rf_json_uint(p->j, v, lo, hi, out) < 0)
		return jerr(p, -EINVAL, v, "\"%s\": integer %llu..%llu expected", key,
			    (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

/* A string value that must fit (too long is an error, not a truncation). */
static int jstr_fit(struct jp *p, uint32_t v, const char *key, char *out, size_t outsz)
{
	int r = rf_json_string(p->j, v, out, outsz);

	if (r == -E2BIG)
		return jerr(p, -E2BIG, v, "\"%s\": longer than %zu bytes", key, outsz - 1);
	if (r < 0)
		return jerr(p, -EINVAL, v, "\"%s\": string expected", key);
	return 0;
}

static bool hex_ok(const char *s)
{
	for (; *s; s++)
		if (rf_hexval(*s) < 0)
			return false;
	return true;
}

bool rf_agent_path_ok(const char *p)
{
	size_t i, n = strlen(p), comp = 0;

	if (!n || n >= RF_FLEET_PATH_MAX || p[0] == '/')
		return false;
	for (i = 0; i <= n; i++) {
		char c = p[i];
		if (c == '/' || c == 0) {
			if (comp == 0)
				return false; /* empty component: "//" or a trailing '/' */
			if ((comp == 1 && p[i - 1] == '.') ||
			    (comp == 2 && p[i - 1] == '.' && p[i - 2] == '.'))
				return false;
			comp = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
		comp++;
	}
	return true;
}

enum { A_CLIENT = 1, A_VERSION = 2, A_PATH = 4, A_SHA = 8 };

static int parse_assign(struct jp *p, uint32_t o, struct rf_agent_assign *a)
{
	const struct rf_json *j = p->j;
	char hex[2 * RF_SHA256_LEN + 1];
	unsigned seen = 0;
	uint32_t k = o + 1;
	int r;

	memset(a, 0, sizeof(*a));
	if (j->t[o].type != RF_JSON_OBJECT)
		return jerr(p, -EINVAL, o, "an assignment is not an object");
	for (uint32_t m = 0; m < j->t[o].size; m++, k = j->t[k + 1].next) {
		uint32_t v = k + 1;
		unsigned bit = rf_json_key_is(j, k, "client")  ? A_CLIENT
			     : rf_json_key_is(j, k, "version") ? A_VERSION
			     : rf_json_key_is(j, k, "path")    ? A_PATH
			     : rf_json_key_is(j, k, "sha256")  ? A_SHA : 0;

		if (!bit)
			continue; /* unknown keys are ignored */
		if (seen & bit)
			return jerr(p, -EINVAL, k, "a key given twice in an assignment");
		seen |= bit;
		switch (bit) {
		case A_CLIENT:
			if ((r = jstr_fit(p, v, "client", a->client, sizeof(a->client))) < 0)
				return r;
			if (!name_ok(a->client, sizeof(a->client), false))
				return jerr(p, -EINVAL, v, "\"client\": not a client name");
			break;
		case A_VERSION:
			if ((r = juint(p, v, "version", 1, UINT64_MAX, &a->version)) < 0)
				return r;
			break;
		case A_PATH:
			if ((r = jstr_fit(p, v, "path", a->path, sizeof(a->path))) < 0)
				return r;
			if (!rf_agent_path_ok(a->path))
				return jerr(p, -EINVAL, v, "\"path\": not a relative repository path");
			break;
		default:
			if ((r = jstr_fit(p, v, "sha256", hex, sizeof(hex))) < 0)
				return r;
			if (!hex[0]) { /* the controller does not know it yet: not installed */
				a->no_sha256 = true;
				break;
			}
			if (strlen(hex) != 2 * RF_SHA256_LEN || !hex_ok(hex) ||
			    rf_unhex(hex, a->sha256, RF_SHA256_LEN) < 0)
				return jerr(p, -EINVAL, v, "\"sha256\": 64 hex digits expected");
		}
	}
	if (seen != (A_CLIENT | A_VERSION | A_PATH | A_SHA))
		return jerr(p, -EINVAL, o, "assignment without %s",
			    !(seen & A_CLIENT) ? "\"client\"" : !(seen & A_VERSION) ? "\"version\""
			    : !(seen & A_PATH) ? "\"path\"" : "\"sha256\"");
	return 0;
}

static int parse_assigns(struct jp *p, uint32_t v, struct rf_agent_response *out)
{
	const struct rf_json *j = p->j;
	uint32_t e = v + 1;
	int r;

	if (j->t[v].type != RF_JSON_ARRAY)
		return jerr(p, -EINVAL, v, "\"assign\": array expected");
	if (j->t[v].size > RF_FLEET_ASSIGN_MAX)
		return jerr(p, -E2BIG, v, "more than %u assignments", RF_FLEET_ASSIGN_MAX);
	for (uint32_t n = 0; n < j->t[v].size; n++, e = j->t[e].next) {
		struct rf_agent_assign *a = &out->assign[n];

		if ((r = parse_assign(p, e, a)) < 0)
			return r;
		for (uint32_t k = 0; k < n; k++)
			if (!strcmp(out->assign[k].client, a->client))
				return jerr(p, -EINVAL, e, "client \"%s\" assigned twice", a->client);
	}
	out->nassign = j->t[v].size;
	return 0;
}

enum { R_V = 1, R_RING = 2, R_POLL = 4, R_NONCE = 8, R_ASSIGN = 16 };

static int parse_top(struct jp *p, struct rf_agent_response *out)
{
	const struct rf_json *j = p->j;
	unsigned seen = 0;
	uint32_t k = 1;
	uint64_t u;
	int r;

	if (j->t[0].type != RF_JSON_OBJECT)
		return jerr(p, -EINVAL, 0, "object expected");
	for (uint32_t m = 0; m < j->t[0].size; m++, k = j->t[k + 1].next) {
		uint32_t v = k + 1;
		unsigned bit = rf_json_key_is(j, k, "v")      ? R_V
			     : rf_json_key_is(j, k, "ring")   ? R_RING
			     : rf_json_key_is(j, k, "poll_s") ? R_POLL
			     : rf_json_key_is(j, k, "nonce")  ? R_NONCE
			     : rf_json_key_is(j, k, "assign") ? R_ASSIGN : 0;

		if (!bit)
			continue; /* unknown keys are ignored */
		if (seen & bit)
			return jerr(p, -EINVAL, k, "a key given twice");
		seen |= bit;
		switch (bit) {
		case R_V:
			if ((r = juint(p, v, "v", 1, 1, &u)) < 0)
				return r;
			out->v = 1;
			break;
		case R_POLL:
			if ((r = juint(p, v, "poll_s", 1, RF_FLEET_POLL_MAX_S, &u)) < 0)
				return r;
			out->poll_s = (uint32_t)u;
			break;
		case R_RING:
			if ((r = jstr_fit(p, v, "ring", out->ring, sizeof(out->ring))) < 0)
				return r;
			if (out->ring[0] && !name_ok(out->ring, sizeof(out->ring), false))
				return jerr(p, -EINVAL, v, "\"ring\": not a ring name");
			break;
		case R_NONCE:
			if ((r = jstr_fit(p, v, "nonce", out->nonce, sizeof(out->nonce))) < 0)
				return r;
			if (!hex_ok(out->nonce) || strlen(out->nonce) % 2)
				return jerr(p, -EINVAL, v, "\"nonce\": hex expected");
			for (char *c = out->nonce; *c; c++)
				if (*c >= 'A' && *c <= 'F')
					*c = (char)(*c - 'A' + 'a');
			break;
		default:
			if ((r = parse_assigns(p, v, out)) < 0)
				return r;
		}
	}
	if ((seen & (R_V | R_POLL | R_ASSIGN)) != (R_V | R_POLL | R_ASSIGN))
		return jerr(p, -EINVAL, 0, "missing %s", !(seen & R_V) ? "\"v\""
			    : !(seen & R_POLL) ? "\"poll_s\"" : "\"assign\"");
	return 0;
}

int rf_agent_response_parse(const char *buf, size_t len, struct rf_agent_response *out, char *err,
			    size_t errlen)
{
	struct rf_json j;
	struct jp p = {&j, err, errlen};
	struct rf_json_tok *toks = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = 0;
	if (len > RF_FLEET_RESPONSE_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "offset 0: response of %zu bytes, more than %u", len,
				 RF_FLEET_RESPONSE_MAX);
		return -EMSGSIZE;
	}
	/* every value takes at least one byte plus a separator: never more tokens than this */
	toks = calloc(RF_FLEET_RESPONSE_MAX / 2 + 2, sizeof(*toks));
	if (!toks)
		return -ENOMEM;
	r = rf_json_parse(&j, buf, len, toks, RF_FLEET_RESPONSE_MAX / 2 + 2, RF_FLEET_JSON_DEPTH_MAX);
	if (r < 0) {
		if (err && errlen)
			snprintf(err, errlen, "offset %zu: %s", j.err_pos, j.err ? j.err : "?");
		goto fail;
	}
	if ((r = parse_top(&p, out)) < 0)
		goto fail;
	free(toks);
	return 0;
fail:
	free(toks);
	memset(out, 0, sizeof(*out));
	return r;
}
