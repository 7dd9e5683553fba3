// SPDX-License-Identifier: MIT
/* fleet_proto.c: report writer and signer, checked response parser (fleet_proto.h). */
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- response parser ------------------------------------------------------- */

struct jp {
	const unsigned char *s;
	size_t n, i;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4))) jerr(struct jp *p, int ret, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "offset %zu: %s", p->i, msg);
	return ret;
}

static void ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
			       p->s[p->i] == '\r'))
		p->i++;
}

static int peek(struct jp *p)
{
	ws(p);
	return p->i < p->n ? p->s[p->i] : -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int u4(struct jp *p, unsigned *out)
{
	unsigned v = 0;
	int k;

	if (p->n - p->i < 4)
		return jerr(p, -EINVAL, "truncated \\u escape");
	for (k = 0; k < 4; k++) {
		int h = hexval(p->s[p->i + (size_t)k]);
		if (h < 0)
			return jerr(p, -EINVAL, "bad \\u escape");
		v = v * 16 + (unsigned)h;
	}
	p->i += 4;
	*out = v;
	return 0;
}

/* Append code point cp as UTF-8; sets *trunc when out is full. */
static void put_cp(char *out, size_t outsz, size_t *o, unsigned cp, bool *trunc)
{
	char b[4];
	size_t k, n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (!out)
		return;
	if (*o + n >= outsz) {
		*trunc = true;
		return;
	}
	for (k = 0; k < n; k++)
		out[(*o)++] = b[k];
	out[*o] = 0;
}

/* A JSON string at p->i (after white space). Decoded into out (NULL: only checked);
 * *trunc set when it did not fit (the string is consumed whole either way). */
static int jstring(struct jp *p, char *out, size_t outsz, bool *trunc)
{
	size_t o = 0;

	*trunc = false;
	if (out && outsz)
		out[0] = 0;
	if (peek(p) != '"')
		return jerr(p, -EINVAL, "string expected");
	p->i++;
	for (;;) {
		unsigned c, cp;

		if (p->i >= p->n)
			return jerr(p, -EINVAL, "unterminated string");
		c = p->s[p->i];
		if (c == '"') {
			p->i++;
			return 0;
		}
		if (c < 0x20)
			return jerr(p, -EINVAL, "control character in string");
		if (c == '\\') {
			if (++p->i >= p->n)
				return jerr(p, -EINVAL, "unterminated escape");
			c = p->s[p->i++];
			switch (c) {
			case '"': case '\\': case '/': cp = c; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u': {
				unsigned lo;
				if (u4(p, &cp) < 0)
					return -EINVAL;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return jerr(p, -EINVAL, "lone low surrogate");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
						return jerr(p, -EINVAL, "lone high surrogate");
					p->i += 2;
					if (u4(p, &lo) < 0)
						return -EINVAL;
					if (lo < 0xdc00 || lo > 0xdfff)
						return jerr(p, -EINVAL, "bad surrogate pair");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (cp == 0)
					return jerr(p, -EINVAL, "NUL in string");
				break;
			}
			default:
				p->i--;
				return jerr(p, -EINVAL, "bad escape");
			}
			put_cp(out, outsz, &o, cp, trunc);
			continue;
		}
		/* raw UTF-8: checked for shortest form, no surrogates, <= U+10FFFF */
		if (c < 0x80) {
			cp = c;
			p->i++;
		} else {
			size_t need, k;
			unsigned min;

			if ((c & 0xe0) == 0xc0) {
				need = 1; cp = c & 0x1f; min = 0x80;
			} else if ((c & 0xf0) == 0xe0) {
				need = 2; cp = c & 0x0f; min = 0x800;
			} else if ((c & 0xf8) == 0xf0) {
				need = 3; cp = c & 0x07; min = 0x10000;
			} else {
				return jerr(p, -EINVAL, "invalid UTF-8");
			}
			if (p->n - p->i <= need)
				return jerr(p, -EINVAL, "truncated UTF-8");
			for (k = 1; k <= need; k++) {
				unsigned cc = p->s[p->i + k];
				if ((cc & 0xc0) != 0x80)
					return jerr(p, -EINVAL, "invalid UTF-8");
				cp = (cp << 6) | (cc & 0x3f);
			}
			if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				return jerr(p, -EINVAL, "invalid UTF-8");
			p->i += need + 1;
		}
		put_cp(out, outsz, &o, cp, trunc);
	}
}

/* A JSON number; *is_uint and *u set when it is a non-negative integer without
 * fraction or exponent that fits in 64 bits. */
static int jnumber(struct jp *p, bool *is_uint, uint64_t *u)
{
	bool neg = false, overflow = false, frac = false;
	uint64_t v = 0;

	*is_uint = false;
	if (peek(p) == '-') {
		neg = true;
		p->i++;
	}
	if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
		return jerr(p, -EINVAL, "bad number");
	if (p->s[p->i] == '0') {
		p->i++;
	} else {
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
			unsigned d = p->s[p->i++] - '0';
			if (v > (UINT64_MAX - d) / 10)
				overflow = true;
			else
				v = v * 10 + d;
		}
	}
	if (p->i < p->n && p->s[p->i] == '.') {
		frac = true;
		p->i++;
		if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
			return jerr(p, -EINVAL, "bad number");
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		frac = true;
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
			return jerr(p, -EINVAL, "bad number");
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	}
	if (!neg && !frac && !overflow) {
		*is_uint = true;
		*u = v;
	}
	return 0;
}

static int jlit(struct jp *p, const char *w)
{
	size_t l = strlen(w);

	if (p->n - p->i < l || memcmp(p->s + p->i, w, l))
		return jerr(p, -EINVAL, "unexpected character");
	p->i += l;
	return 0;
}

static int skip_value(struct jp *p, unsigned depth);

/* Iterate over an object's members: calls member(ctx, key, trunc) with p->i at the
 * value, which the callback must consume. */
typedef int (*member_fn)(struct jp *p, void *ctx, const char *key, bool trunc, unsigned depth);

static int jobject(struct jp *p, unsigned depth, member_fn fn, void *ctx)
{
	char key[32];
	bool trunc;
	int r;

	if (depth >= RF_FLEET_JSON_DEPTH_MAX)
		return jerr(p, -E2BIG, "nested deeper than %u", RF_FLEET_JSON_DEPTH_MAX);
	if (peek(p) != '{')
		return jerr(p, -EINVAL, "object expected");
	p->i++;
	if (peek(p) == '}') {
		p->i++;
		return 0;
	}
	for (;;) {
		if ((r = jstring(p, key, sizeof(key), &trunc)) < 0)
			return r;
		if (peek(p) != ':')
			return jerr(p, -EINVAL, "':' expected");
		p->i++;
		if (peek(p) < 0)
			return jerr(p, -EINVAL, "value expected");
		r = fn ? fn(p, ctx, key, trunc, depth + 1) : skip_value(p, depth + 1);
		if (r < 0)
			return r;
		switch (peek(p)) {
		case ',': p->i++; continue;
		case '}': p->i++; return 0;
		default: return jerr(p, -EINVAL, "',' or '}' expected");
		}
	}
}

static int skip_value(struct jp *p, unsigned depth)
{
	bool t;
	uint64_t u;
	int r;

	switch (peek(p)) {
	case '{':
		return jobject(p, depth, NULL, NULL);
	case '[':
		if (depth >= RF_FLEET_JSON_DEPTH_MAX)
			return jerr(p, -E2BIG, "nested deeper than %u", RF_FLEET_JSON_DEPTH_MAX);
		p->i++;
		if (peek(p) == ']') {
			p->i++;
			return 0;
		}
		for (;;) {
			if ((r = skip_value(p, depth + 1)) < 0)
				return r;
			switch (peek(p)) {
			case ',': p->i++; continue;
			case ']': p->i++; return 0;
			default: return jerr(p, -EINVAL, "',' or ']' expected");
			}
		}
	case '"':
		return jstring(p, NULL, 0, &t);
	case 't': return jlit(p, "true");
	case 'f': return jlit(p, "false");
	case 'n': return jlit(p, "null");
	case -1: return jerr(p, -EINVAL, "value expected");
	default:
		return jnumber(p, &t, &u);
	}
}

static int juint(struct jp *p, const char *key, uint64_t lo, uint64_t hi, uint64_t *out)
{
	bool is_uint;
	size_t at;
	int r;

	if (peek(p) == '"' || peek(p) == '{' || peek(p) == '[')
		return jerr(p, -EINVAL, "\"%s\": number expected", key);
	at = p->i;
	if ((r = jnumber(p, &is_uint, out)) < 0)
		return r;
	if (!is_uint || *out < lo || *out > hi) {
		p->i = at;
		return jerr(p, -EINVAL, "\"%s\": integer %llu..%llu expected", key,
			    (unsigned long long)lo, (unsigned long long)hi);
	}
	return 0;
}

/* A string value that must fit (too long is an error, not a truncation). */
static int jstr_fit(struct jp *p, const char *key, char *out, size_t outsz)
{
	size_t at = p->i;
	bool trunc;
	int r;

	if ((r = jstring(p, out, outsz, &trunc)) < 0)
		return r;
	if (trunc) {
		p->i = at;
		return jerr(p, -E2BIG, "\"%s\": longer than %zu bytes", key, outsz - 1);
	}
	return 0;
}

static bool hex_ok(const char *s)
{
	for (; *s; s++)
		if (hexval((unsigned char)*s) < 0)
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

struct actx {
	struct rf_agent_assign *a;
	unsigned seen;
};

static int assign_member(struct jp *p, void *vctx, const char *key, bool trunc, unsigned depth)
{
	struct actx *c = vctx;
	struct rf_agent_assign *a = c->a;
	unsigned bit = trunc ? 0 : !strcmp(key, "client") ? A_CLIENT : !strcmp(key, "version") ? A_VERSION
		: !strcmp(key, "path") ? A_PATH : !strcmp(key, "sha256") ? A_SHA : 0;
	char hex[2 * RF_SHA256_LEN + 1];
	size_t at;
	int r;

	if (!bit)
		return skip_value(p, depth);
	if (c->seen & bit)
		return jerr(p, -EINVAL, "\"%s\" given twice", key);
	c->seen |= bit;
	at = (peek(p), p->i);
	switch (bit) {
	case A_CLIENT:
		if ((r = jstr_fit(p, key, a->client, sizeof(a->client))) < 0)
			return r;
		if (!name_ok(a->client, sizeof(a->client), false)) {
			p->i = at;
			return jerr(p, -EINVAL, "\"client\": not a client name");
		}
		return 0;
	case A_VERSION:
		return juint(p, key, 1, UINT64_MAX, &a->version);
	case A_PATH:
		if ((r = jstr_fit(p, key, a->path, sizeof(a->path))) < 0)
			return r;
		if (!rf_agent_path_ok(a->path)) {
			p->i = at;
			return jerr(p, -EINVAL, "\"path\": not a relative repository path");
		}
		return 0;
	default:
		if ((r = jstr_fit(p, key, hex, sizeof(hex))) < 0)
			return r;
		if (!hex[0]) { /* the controller does not know it yet: not installed */
			a->no_sha256 = true;
			return 0;
		}
		if (strlen(hex) != 2 * RF_SHA256_LEN || !hex_ok(hex) ||
		    rf_unhex(hex, a->sha256, RF_SHA256_LEN) < 0) {
			p->i = at;
			return jerr(p, -EINVAL, "\"sha256\": 64 hex digits expected");
		}
		return 0;
	}
}

static int jassign(struct jp *p, struct rf_agent_response *out, unsigned depth)
{
	int r;

	if (depth >= RF_FLEET_JSON_DEPTH_MAX)
		return jerr(p, -E2BIG, "nested deeper than %u", RF_FLEET_JSON_DEPTH_MAX);
	if (peek(p) != '[')
		return jerr(p, -EINVAL, "\"assign\": array expected");
	p->i++;
	if (peek(p) == ']') {
		p->i++;
		return 0;
	}
	for (;;) {
		struct actx c;
		size_t at;

		if (out->nassign >= RF_FLEET_ASSIGN_MAX)
			return jerr(p, -E2BIG, "more than %u assignments", RF_FLEET_ASSIGN_MAX);
		c.a = &out->assign[out->nassign];
		c.seen = 0;
		memset(c.a, 0, sizeof(*c.a));
		at = (peek(p), p->i);
		if ((r = jobject(p, depth + 1, assign_member, &c)) < 0)
			return r;
		if (c.seen != (A_CLIENT | A_VERSION | A_PATH | A_SHA)) {
			p->i = at;
			return jerr(p, -EINVAL, "assignment without %s",
				    !(c.seen & A_CLIENT) ? "\"client\"" : !(c.seen & A_VERSION) ? "\"version\""
				    : !(c.seen & A_PATH) ? "\"path\"" : "\"sha256\"");
		}
		for (size_t k = 0; k < out->nassign; k++)
			if (!strcmp(out->assign[k].client, c.a->client)) {
				p->i = at;
				return jerr(p, -EINVAL, "client \"%s\" assigned twice", c.a->client);
			}
		out->nassign++;
		switch (peek(p)) {
		case ',': p->i++; continue;
		case ']': p->i++; return 0;
		default: return jerr(p, -EINVAL, "',' or ']' expected");
		}
	}
}

enum { R_V = 1, R_RING = 2, R_POLL = 4, R_NONCE = 8, R_ASSIGN = 16 };

struct rctx {
	struct rf_agent_response *r;
	unsigned seen;
};

static int top_member(struct jp *p, void *vctx, const char *key, bool trunc, unsigned depth)
{
	struct rctx *c = vctx;
	struct rf_agent_response *out = c->r;
	unsigned bit = trunc ? 0 : !strcmp(key, "v") ? R_V : !strcmp(key, "ring") ? R_RING
		: !strcmp(key, "poll_s") ? R_POLL : !strcmp(key, "nonce") ? R_NONCE
		: !strcmp(key, "assign") ? R_ASSIGN : 0;
	uint64_t u;
	size_t at;
	int r;

	if (!bit)
		return skip_value(p, depth);
	if (c->seen & bit)
		return jerr(p, -EINVAL, "\"%s\" given twice", key);
	c->seen |= bit;
	at = (peek(p), p->i);
	switch (bit) {
	case R_V:
		if ((r = juint(p, key, 1, 1, &u)) < 0)
			return r;
		out->v = 1;
		return 0;
	case R_POLL:
		if ((r = juint(p, key, 1, RF_FLEET_POLL_MAX_S, &u)) < 0)
			return r;
		out->poll_s = (uint32_t)u;
		return 0;
	case R_RING:
		if ((r = jstr_fit(p, key, out->ring, sizeof(out->ring))) < 0)
			return r;
		if (out->ring[0] && !name_ok(out->ring, sizeof(out->ring), false)) {
			p->i = at;
			return jerr(p, -EINVAL, "\"ring\": not a ring name");
		}
		return 0;
	case R_NONCE:
		if ((r = jstr_fit(p, key, out->nonce, sizeof(out->nonce))) < 0)
			return r;
		if (!hex_ok(out->nonce) || strlen(out->nonce) % 2) {
			p->i = at;
			return jerr(p, -EINVAL, "\"nonce\": hex expected");
		}
		for (char *s = out->nonce; *s; s++)
			if (*s >= 'A' && *s <= 'F')
				*s = (char)(*s - 'A' + 'a');
		return 0;
	default:
		return jassign(p, out, depth);
	}
}

int rf_agent_response_parse(const char *buf, size_t len, struct rf_agent_response *out, char *err,
			    size_t errlen)
{
	struct jp p = {(const unsigned char *)buf, len, 0, err, errlen};
	struct rctx c = {out, 0};
	int r;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = 0;
	if (len > RF_FLEET_RESPONSE_MAX)
		return jerr(&p, -EMSGSIZE, "response of %zu bytes, more than %u", len,
			    RF_FLEET_RESPONSE_MAX);
	if ((r = jobject(&p, 0, top_member, &c)) < 0)
		goto fail;
	if (peek(&p) != -1) {
		r = jerr(&p, -EINVAL, "data after the object");
		goto fail;
	}
	if ((c.seen & (R_V | R_POLL | R_ASSIGN)) != (R_V | R_POLL | R_ASSIGN)) {
		r = jerr(&p, -EINVAL, "missing %s", !(c.seen & R_V) ? "\"v\""
			 : !(c.seen & R_POLL) ? "\"poll_s\"" : "\"assign\"");
		goto fail;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return r;
}
