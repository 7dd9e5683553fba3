// SPDX-License-Identifier: MIT
/*
 * json_read.c: the one checked JSON reader (RFC 8259) for untrusted documents
 * (fleet reports and controller responses). It tokenizes into the caller's flat
 * array: every index is checked against the length, nesting and the number of
 * values are bounded by the caller, strings are validated (escapes, surrogate
 * pairs, UTF-8 in shortest form) once, at parse time, so the typed readers below
 * only decode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "ringfence/json.h"

struct jp {
	struct rf_json *j;
	unsigned max_depth;
	size_t pos;
};

static int fail(struct jp *p, int ret, const char *what)
{
	p->j->err = what;
	p->j->err_pos = p->pos;
	return ret;
}

static void ws(struct jp *p)
{
	const char *s = p->j->s;

	while (p->pos < p->j->len &&
	       (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r'))
		p->pos++;
}

static int at(const struct jp *p)
{
	return p->pos < p->j->len ? (unsigned char)p->j->s[p->pos] : -1;
}

static int newtok(struct jp *p, uint8_t type)
{
	struct rf_json *j = p->j;

	if (j->nt >= j->cap)
		return fail(p, -E2BIG, "too many JSON values");
	memset(&j->t[j->nt], 0, sizeof(j->t[0]));
	j->t[j->nt].type = type;
	j->t[j->nt].start = (uint32_t)p->pos;
	return (int)j->nt++;
}

/* Four hex digits at s (n bytes available); -1 when short or not hex. */
static long hex4(const char *s, size_t n)
{
	long v = 0;

	if (n < 4)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = rf_hexval(s[k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * One character of a string body at s[*i] (n bytes in all): its code point, with
 * *i advanced past it. Escapes are decoded. Returns 0, 1 at the closing quote, or
 * -1 with *why set. The same function validates (at parse time) and decodes.
 */
static int str_char(const char *s, size_t n, size_t *i, unsigned *cp, const char **why)
{
	unsigned c;

	if (*i >= n)
		return *why = "unterminated string", -1;
	c = (unsigned char)s[*i];
	if (c == '"')
		return 1;
	if (c < 0x20)
		return *why = "control character in a string", -1;
	if (c == '\\') {
		long hi, lo;

		if (*i + 1 >= n)
			return *why = "unterminated string", -1;
		c = (unsigned char)s[*i + 1];
		*i += 2;
		switch (c) {
		case '"': case '\\': case '/': *cp = c; return 0;
		case 'b': *cp = '\b'; return 0;
		case 'f': *cp = '\f'; return 0;
		case 'n': *cp = '\n'; return 0;
		case 'r': *cp = '\r'; return 0;
		case 't': *cp = '\t'; return 0;
		case 'u': break;
		default: *i -= 2; return *why = "bad escape", -1;
		}
		if ((hi = hex4(s + *i, n - *i)) < 0)
			return *why = "bad \\u escape", -1;
		*i += 4;
		if (hi >= 0xdc00 && hi <= 0xdfff)
			return *why = "lone low surrogate", -1;
		if (hi >= 0xd800 && hi <= 0xdbff) {
			if (n - *i < 2 || s[*i] != '\\' || s[*i + 1] != 'u')
				return *why = "lone high surrogate", -1;
			if ((lo = hex4(s + *i + 2, n - *i - 2)) < 0)
				return *why = "bad \\u escape", -1;
			if (lo < 0xdc00 || lo > 0xdfff)
				return *why = "bad surrogate pair", -1;
			*i += 6;
			hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (hi == 0)
			return *why = "NUL in a string", -1;
		*cp = (unsigned)hi;
		return 0;
	}
	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return 0;
	}
	/* raw UTF-8: shortest form, no surrogates, at most U+10FFFF */
	size_t need;
	unsigned min;

	if ((c & 0xe0) == 0xc0)
		need = 1, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		need = 2, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		need = 3, c &= 0x07, min = 0x10000;
	else
		return *why = "invalid UTF-8", -1;
	if (n - *i <= need)
		return *why = "truncated UTF-8", -1;
	for (size_t k = 1; k <= need; k++) {
		unsigned cc = (unsigned char)s[*i + k];
		if ((cc & 0xc0) != 0x80)
			return *why = "invalid UTF-8", -1;
		c = (c << 6) | (cc & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return *why = "invalid UTF-8", -1;
	*i += need + 1;
	*cp = c;
	return 0;
}

static int pstring(struct jp *p)
{
	int i = newtok(p, RF_JSON_STRING), r;
	const char *why = NULL;
	unsigned cp;

	if (i < 0)
		return i;
	p->pos++; /* opening quote */
	p->j->t[i].start = (uint32_t)p->pos;
	for (;;) {
		size_t was = p->pos;

		r = str_char(p->j->s, p->j->len, &p->pos, &cp, &why);
		if (r < 0)
			return fail(p, -EINVAL, why);
		if (r > 0)
			break;
		if (p->pos - was > 1 && p->j->s[was] == '\\')
			p->j->t[i].esc = true;
	}
	p->j->t[i].end = (uint32_t)p->pos;
	p->pos++; /* closing quote */
	return i;
}

static size_t digits(struct jp *p)
{
	size_t d = 0;

	while (at(p) >= '0' && at(p) <= '9')
		p->pos++, d++;
	return d;
}

static int pnumber(struct jp *p)
{
	int i = newtok(p, RF_JSON_NUMBER);

	if (i < 0)
		return i;
	if (at(p) == '-')
		p->pos++;
	if (at(p) == '0')
		p->pos++;
	else if (!digits(p))
		return fail(p, -EINVAL, "malformed number");
	if (at(p) == '.') {
		p->pos++;
		if (!digits(p))
			return fail(p, -EINVAL, "malformed number");
	}
	if (at(p) == 'e' || at(p) == 'E') {
		p->pos++;
		if (at(p) == '+' || at(p) == '-')
			p->pos++;
		if (!digits(p))
			return fail(p, -EINVAL, "malformed number");
	}
	p->j->t[i].end = (uint32_t)p->pos;
	return i;
}

static int literal(struct jp *p, const char *w, uint8_t type)
{
	size_t n = strlen(w);
	int i;

	if (p->j->len - p->pos < n || memcmp(p->j->s + p->pos, w, n))
		return fail(p, -EINVAL, "unexpected character");
	if ((i = newtok(p, type)) < 0)
		return i;
	p->pos += n;
	p->j->t[i].end = (uint32_t)p->pos;
	return i;
}

static int pvalue(struct jp *p, unsigned depth);

static int pcontainer(struct jp *p, unsigned depth, bool obj)
{
	char close = obj ? '}' : ']';
	int i, r;

	if (depth >= p->max_depth)
		return fail(p, -E2BIG, "JSON nested too deeply");
	if ((i = newtok(p, obj ? RF_JSON_OBJECT : RF_JSON_ARRAY)) < 0)
		return i;
	p->pos++;
	ws(p);
	if (at(p) == close) {
		p->pos++;
		goto done;
	}
	for (;;) {
		ws(p);
		if (obj) {
			if (at(p) != '"')
				return fail(p, -EINVAL, "expected a key");
			if ((r = pstring(p)) < 0)
				return r;
			p->j->t[r].next = p->j->nt;
			ws(p);
			if (at(p) != ':')
				return fail(p, -EINVAL, "expected ':'");
			p->pos++;
		}
		if ((r = pvalue(p, depth + 1)) < 0)
			return r;
		p->j->t[i].size++;
		ws(p);
		if (at(p) == ',') {
			p->pos++;
			continue;
		}
		if (at(p) == close) {
			p->pos++;
			break;
		}
		return fail(p, -EINVAL, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
done:
	p->j->t[i].end = (uint32_t)p->pos;
	p->j->t[i].next = p->j->nt;
	return i;
}

static int pvalue(struct jp *p, unsigned depth)
{
	int c, i;

	ws(p);
	switch ((c = at(p))) {
	case -1: return fail(p, -EINVAL, "value expected");
	case '{': return pcontainer(p, depth, true);
	case '[': return pcontainer(p, depth, false);
	case '"': i = pstring(p); break;
	case 't': i = literal(p, "true", RF_JSON_TRUE); break;
	case 'f': i = literal(p, "false", RF_JSON_FALSE); break;
	case 'n': i = literal(p, "null", RF_JSON_NULL); break;
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			i = pnumber(p);
		else
			i = fail(p, -EINVAL, "unexpected character");
	}
	if (i >= 0)
		p->j->t[i].next = p->j->nt;
	return i;
}

int rf_json_parse(struct rf_json *j, const char *s, size_t len, struct rf_json_tok *toks,
		  uint32_t cap, unsigned max_depth)
{
	struct jp p = {.j = j, .max_depth = max_depth};
	int r;

	memset(j, 0, sizeof(*j));
	j->s = s;
	j->len = len;
	j->t = toks;
	j->cap = cap;
	if (len > UINT32_MAX) {
		j->err = "document too large";
		return -E2BIG;
	}
	if ((r = pvalue(&p, 0)) < 0)
		return r;
	ws(&p);
	if (p.pos != len)
		return fail(&p, -EINVAL, "data after the JSON value");
	return 0;
}

/* --- typed readers ----------------------------------------------------------- */

int rf_json_string(const struct rf_json *j, uint32_t v, char *out, size_t outsz)
{
	const struct rf_json_tok *t;
	const char *why;
	size_t i, o = 0;
	unsigned cp;

	if (v >= j->nt || j->t[v].type != RF_JSON_STRING || !outsz)
		return -EINVAL;
	t = &j->t[v];
	for (i = t->start; i < t->end;) {
		char b[4];
		size_t n;

		if (str_char(j->s, t->end + 1, &i, &cp, &why) != 0)
			return -EINVAL; /* cannot happen: validated by rf_json_parse */
		if (cp < 0x80)
			b[0] = (char)cp, n = 1;
		else if (cp < 0x800)
			b[0] = (char)(0xc0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
		else if (cp < 0x10000)
			b[0] = (char)(0xe0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
			b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
		else
			b[0] = (char)(0xf0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
			b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)),
			n = 4;
		if (o + n >= outsz)
			return -E2BIG;
		memcpy(out + o, b, n);
		o += n;
	}
	out[o] = 0;
	return (int)o;
}

bool rf_json_key_is(const struct rf_json *j, uint32_t k, const char *name)
{
	size_t n = strlen(name);
	char buf[64];

	if (k >= j->nt || j->t[k].type != RF_JSON_STRING)
		return false;
	if (!j->t[k].esc)
		return j->t[k].end - j->t[k].start == n && !memcmp(j->s + j->t[k].start, name, n);
	return n < sizeof(buf) && rf_json_string(j, k, buf, sizeof(buf)) == (int)n &&
	       !memcmp(buf, name, n);
}

int rf_json_uint(const struct rf_json *j, uint32_t v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t x = 0;

	if (v >= j->nt || j->t[v].type != RF_JSON_NUMBER)
		return -EINVAL;
	for (uint32_t i = j->t[v].start; i < j->t[v].end; i++) {
		unsigned d = (unsigned char)j->s[i] - '0';
		if (d > 9)
			return -EINVAL; /* negative, fraction or exponent */
		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	if (x < lo || x > hi)
		return -ERANGE;
	*out = x;
	return 0;
}

int rf_json_double(const struct rf_json *j, uint32_t v, double *out)
{
	char buf[64];
	uint32_t n;

	if (v >= j->nt || j->t[v].type != RF_JSON_NUMBER)
		return -EINVAL;
	n = j->t[v].end - j->t[v].start;
	if (n >= sizeof(buf))
		return -ERANGE;
	memcpy(buf, j->s + j->t[v].start, n);
	buf[n] = 0;
	*out = strtod(buf, NULL);
	return 0;
}
