// SPDX-License-Identifier: MIT
/*
 * match.c: field values of an event as the rules see them, and the direct
 * evaluation of one atom (used by the naive evaluator for everything, and by the
 * matcher for the tests Hyperscan does not do: numbers, networks, existence, null,
 * field references).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "detect/detect_int.h"

static inline unsigned char lc(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Length of the windash alternative at s (1 or 3 bytes), or 0. */
static size_t dash_at(const char *s, size_t left)
{
	const unsigned char *u = (const unsigned char *)s;

	if (left >= 1 && (u[0] == '-' || u[0] == '/'))
		return 1;
	if (left >= 3 && u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0x93 || u[2] == 0x94 || u[2] == 0x95))
		return 3;
	return 0;
}

/* Match a token pattern against the whole of s. Greedy with backtracking to the last
 * star; every non-star token consumes a length fixed by the input, so this is exact.
 * O(len * ntok) worst case. */
bool rf_detect_glob_(const uint16_t *tok, size_t ntok, const char *s, size_t len, bool cased)
{
	size_t ti = 0, si = 0, star_t = (size_t)-1, star_s = 0;

	while (si < len) {
		if (ti < ntok && tok[ti] == TOK_STAR) {
			star_t = ti++;
			star_s = si;
			continue;
		}
		if (ti < ntok) {
			uint16_t t = tok[ti];
			size_t w = 0;
			if (t == TOK_ONE)
				w = 1;
			else if (t == TOK_DASH)
				w = dash_at(s + si, len - si);
			else if (cased ? (unsigned char)s[si] == t : lc((unsigned char)s[si]) == lc((unsigned char)t))
				w = 1;
			if (w) {
				ti++;
				si += w;
				continue;
			}
		}
		if (star_t == (size_t)-1)
			return false;
		ti = star_t + 1;
		si = ++star_s;
	}
	while (ti < ntok && tok[ti] == TOK_STAR)
		ti++;
	return ti == ntok;
}

/* ---- field values ------------------------------------------------------------ */

static char *fbuf(struct rf_detect *d, int fidx)
{
	if (!d->fbuf[fidx])
		d->fbuf[fidx] = malloc(RF_ARGV_MAX + 64);
	return d->fbuf[fidx];
}

/* NULs (between arguments) to spaces, 16 bytes a step (compiler vector extensions),
 * a tail as the value's last 16 bytes: one memchr call per argument cost more. */
static void nul_to_space(char *b, size_t n)
{
	typedef unsigned char v16 __attribute__((vector_size(16)));
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		v16 x;
		memcpy(&x, b + i, 16);
		x += (v16)(x == 0) & ' ';
		memcpy(b + i, &x, 16);
	}
	if (i < n && n >= 16) {
		/* the rest as the last 16 bytes (the step is idempotent) */
		v16 x;
		memcpy(&x, b + n - 16, 16);
		x += (v16)(x == 0) & ' ';
		memcpy(b + n - 16, &x, 16);
		return;
	}
	for (; i < n; i++)
		if (!b[i])
			b[i] = ' ';
}

static size_t u64dec(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
	return n;
}

/* Value of field FIDX of the current event, rendered as text (numbers in decimal,
 * booleans true/false, IP addresses in their usual notation, argv joined with
 * spaces). Cached per event. Returns 0, or -ENOMEM. */
int rf_detect_field_render_(struct rf_detect *d, int fidx, struct fval **out)
{
	const struct rf_field_desc *f = &d->evc->fields[fidx];
	struct fval *v = &d->fv[fidx];
	char *b;

	*out = v;
	if (v->stamp == d->stamp)
		return 0;
	v->stamp = d->stamp;
	v->present = true;
	switch (f->type) {
	case RF_FT_STR:
	case RF_FT_PATH:
	case RF_FT_ARGV:
		if (f->source == RF_FS_DERIVED) {
			/* argv joined with spaces (as rf_event_str_copy, in one pass) */
			const struct rf_field_desc *src;
			const char *a;
			size_t n = 0;
			if (!(b = fbuf(d, fidx)))
				return -ENOMEM;
			if (f->from >= 0 && f->from < d->evc->nfields) {
				src = &d->evc->fields[f->from];
				if (rf_event_str(d->ev, src, &a, &n) < 0)
					n = 0;
				if (n > RF_ARGV_MAX + 63)
					n = RF_ARGV_MAX + 63;
				memcpy(b, a, n);
				if (src->type == RF_FT_ARGV)
					nul_to_space(b, n);
			}
			b[n] = 0;
			v->s = b;
			v->len = n;
			v->present = n > 0;
		} else {
			/* rf_event_validate checked the offset and the length: a string is
			 * inside the event and NUL-terminated, or absent (0, 0) */
			struct rf_str sd;
			memcpy(&sd, (const char *)d->ev + f->offset, sizeof(sd));
			v->present = sd.off != 0;
			v->s = sd.off ? (const char *)d->ev + sd.off : "";
			v->len = sd.off ? sd.len : 0;
		}
		return 0;
	case RF_FT_BOOL: {
		uint64_t x = 0;
		rf_event_u64(d->ev, f, &x);
		v->s = x ? "true" : "false";
		v->len = x ? 4 : 5;
		return 0;
	}
	case RF_FT_IP: {
		const unsigned char *a = (const unsigned char *)d->ev + f->offset;
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (!(b = fbuf(d, fidx)))
			return -ENOMEM;
		if (!memcmp(a, mapped, 12))
			inet_ntop(AF_INET, a + 12, b, 64);
		else
			inet_ntop(AF_INET6, a, b, 64);
		v->s = b;
		v->len = strlen(b);
		return 0;
	}
	default: {
		int64_t sv;
		uint64_t uv;
		if (!(b = fbuf(d, fidx)))
			return -ENOMEM;
		if (f->type == RF_FT_S32 || f->type == RF_FT_S64) {
			rf_event_s64(d->ev, f, &sv);
			if (sv < 0) {
				b[0] = '-';
				v->len = 1 + u64dec(b + 1, (uint64_t)0 - (uint64_t)sv);
			} else {
				v->len = u64dec(b, (uint64_t)sv);
			}
		} else {
			uv = 0;
			rf_event_u64(d->ev, f, &uv);
			v->len = u64dec(b, uv);
		}
		v->s = b;
		return 0;
	}
	}
}

/* ---- literals searched directly ---------------------------------------------------- */

/* How common a byte is in paths and command lines, roughly (0 rare .. 9 everywhere):
 * a literal is searched for by its least common byte first. */
static unsigned byte_rank(unsigned char c)
{
	static const char common[] = " /-.eatoinsrlcu";
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c = (unsigned char)(c + 32);
	if (c && (p = strchr(common, c)))
		return 9 - (unsigned)(p - common) / 2;
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '=')
		return 1;
	return 0;
}

/* Keep A's literal (TOK, LEN literal bytes) for rf_detect_find_lit_. */
int rf_detect_lit_prepare_(struct atom *a, const uint16_t *tok, size_t len)
{
	size_t i;
	unsigned best = 10;

	if (a->lit_s)
		return 0;
	if (!len || len > RF_RULE_VALUE_MAX || !(a->lit_s = malloc(len + 1)))
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tok[i];
		a->lit_s[i] = (char)(a->cased ? c : lc(c));
		if (byte_rank(c) < best) {
			best = byte_rank(c);
			a->lit_key = (uint32_t)i;
		}
	}
	a->lit_s[len] = 0;
	a->lit_len = (uint32_t)len;
	return 0;
}

/* Field FIDX's value in lowercase (ASCII), made once per event; NULL when it does not
 * fit (cannot happen: values are at most RF_ARGV_MAX + 63 bytes) or on ENOMEM. */
static const char *lower_value(struct rf_detect *d, int fidx, const struct fval *v)
{
	char *b = d->lcbuf[fidx];
	const unsigned char *src;
	size_t i, n;

	if (d->lcstamp[fidx] == d->stamp)
		return b;
	if (v->len >= RF_ARGV_MAX + 64)
		return NULL;
	if (!b && !(b = d->lcbuf[fidx] = malloc(RF_ARGV_MAX + 64)))
		return NULL;
	/* branch-free, from locals (b might alias v), so that the compiler vectorises it */
	src = (const unsigned char *)v->s;
	n = v->len;
	for (i = 0; i < n; i++)
		b[i] = (char)(src[i] | (unsigned char)((unsigned char)(src[i] - 'A') < 26) << 5);
	d->lcstamp[fidx] = d->stamp;
	return b;
}

/* Does field FIDX of the current event contain A's literal (prepared by
 * rf_detect_lit_prepare_)? Returns 1, 0, or -ENOMEM. A memchr for the literal's least
 * common byte, then a compare: for the few literals a candidate rule asks about, far
 * cheaper than a Hyperscan scan of all of the field's literals (about 2,500
 * instructions for CommandLine, fixed cost and cache misses included). */
int rf_detect_find_lit_(struct rf_detect *d, const struct atom *a, int fidx)
{
	struct fval *v;
	const char *h, *p, *end, *n = a->lit_s;
	size_t k = a->lit_key, len = a->lit_len;

	if (rf_detect_field_(d, fidx, &v) < 0)
		return -ENOMEM;
	if (v->len < len)
		return 0;
	h = a->cased ? v->s : lower_value(d, fidx, v);
	if (!h)
		return -ENOMEM;
	/* the key byte sits at k of the literal: it can be at h + k .. h + v->len - len + k */
	for (p = h + k, end = h + v->len - len + k + 1; p < end && (p = memchr(p, n[k], (size_t)(end - p))); p++)
		if (!memcmp(p - k, n, len))
			return 1;
	return 0;
}

static bool is_numeric(const struct rf_field_desc *f)
{
	return f->type >= RF_FT_U8 && f->type <= RF_FT_BOOL;
}

static bool field_num(struct rf_detect *d, int fidx, int64_t *out)
{
	const struct rf_field_desc *f = &d->evc->fields[fidx];
	struct fval *v;
	char tmp[32], *end;

	if (is_numeric(f)) {
		if (f->type == RF_FT_S32 || f->type == RF_FT_S64)
			return rf_event_s64(d->ev, f, out) == 0;
		uint64_t u;
		if (rf_event_u64(d->ev, f, &u) < 0 || u > INT64_MAX)
			return false;
		*out = (int64_t)u;
		return true;
	}
	if (rf_detect_field_(d, fidx, &v) < 0 || !v->len || v->len >= sizeof(tmp))
		return false;
	memcpy(tmp, v->s, v->len);
	tmp[v->len] = 0;
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	return !*end && !errno;
}

static bool mem_ieq(const char *a, const char *b, size_t n, bool cased)
{
	size_t i;

	if (cased)
		return !memcmp(a, b, n);
	for (i = 0; i < n; i++)
		if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
			return false;
	return true;
}

static bool fieldref(const struct fval *a, const struct fval *b, int mode, bool cased)
{
	size_t i;

	switch (mode) {
	case REF_EQ:
		return a->len == b->len && mem_ieq(a->s, b->s, a->len, cased);
	case REF_STARTS:
		return a->len >= b->len && mem_ieq(a->s, b->s, b->len, cased);
	case REF_ENDS:
		return a->len >= b->len && mem_ieq(a->s + a->len - b->len, b->s, b->len, cased);
	default:
		if (b->len > a->len)
			return false;
		for (i = 0; i + b->len <= a->len; i++)
			if (mem_ieq(a->s + i, b->s, b->len, cased))
				return true;
		return false;
	}
}

static bool is_keyword_field(const struct rf_field_desc *f)
{
	return f->type == RF_FT_STR || f->type == RF_FT_PATH;
}

/* Evaluate atom A on the current event directly (no Hyperscan). */
bool rf_detect_atom_eval_(struct rf_detect *d, const struct atom *a)
{
	unsigned cid = d->ev->class_id;
	int fidx = a->kind == A_KEYWORD ? -1 : a->fidx[cid];
	struct fval *v, *w;
	int64_t n;

	if (a->kind == A_NULL) {
		if (fidx < 0)
			return true;
		if (rf_detect_field_(d, fidx, &v) < 0)
			return false;
		return !v->present || !v->len;
	}
	if (a->kind == A_KEYWORD) {
		unsigned i;
		for (i = 0; i < d->evc->nfields; i++) {
			if (!is_keyword_field(&d->evc->fields[i]))
				continue;
			if (rf_detect_field_(d, (int)i, &v) < 0)
				continue;
			if (rf_detect_glob_(a->tok, a->ntok, v->s, v->len, a->cased))
				return true;
		}
		return false;
	}
	if (fidx < 0)
		return false; /* the event's class has no such field */
	switch (a->kind) {
	case A_EXISTS:
		if (rf_detect_field_(d, fidx, &v) < 0)
			return false;
		return v->present;
	case A_GLOB:
		if (rf_detect_field_(d, fidx, &v) < 0)
			return false;
		return rf_detect_glob_(a->tok, a->ntok, v->s, v->len, a->cased);
	case A_RE:
		if (!a->posix_ok || rf_detect_field_(d, fidx, &v) < 0)
			return false;
		/* values are NUL-terminated and hold no NUL (argv is joined with spaces) */
		return regexec(&a->posix, v->s, 0, NULL, 0) == 0;
	case A_NUMCMP:
		if (!field_num(d, fidx, &n))
			return false;
		switch (a->cmp) {
		case CMP_LT: return n < a->num;
		case CMP_LTE: return n <= a->num;
		case CMP_GT: return n > a->num;
		default: return n >= a->num;
		}
	case A_CIDR: {
		const struct rf_field_desc *f = &d->evc->fields[fidx];
		const unsigned char *ip = (const unsigned char *)d->ev + f->offset;
		unsigned full = a->prefix / 8, rem = a->prefix % 8;
		if (f->type != RF_FT_IP)
			return false;
		if (memcmp(ip, a->net, full))
			return false;
		if (rem && ((ip[full] ^ a->net[full]) & (0xff00u >> rem) & 0xff))
			return false;
		return true;
	}
	case A_FIELDREF: {
		int r = a->ridx[cid];
		if (r < 0 || rf_detect_field_(d, fidx, &v) < 0)
			return false;
		w = v;
		if (rf_detect_field_(d, r, &w) < 0 || rf_detect_field_(d, fidx, &v) < 0)
			return false;
		return fieldref(v, w, a->refmode, a->cased);
	}
	default:
		return false;
	}
}

/* ---- translations --------------------------------------------------------------- */

/* Token pattern -> Hyperscan expression (used with HS_FLAG_DOTALL). Anchored with ^
 * and \z unless the pattern starts or ends with a star. */
int rf_detect_glob_to_hs_(const uint16_t *tok, size_t ntok, char **out)
{
	size_t i, o = 0, b = 8;
	char *s;

	for (i = 0; i < ntok; i++)
		b += tok[i] == TOK_DASH ? 48 : 4;
	s = malloc(b);
	if (!s)
		return -ENOMEM;
	if (!ntok || tok[0] != TOK_STAR)
		s[o++] = '^';
	for (i = 0; i < ntok; i++) {
		uint16_t t = tok[i];
		if (t == TOK_STAR) {
			if (i != 0 && i != ntok - 1)
				s[o++] = '.', s[o++] = '*';
		} else if (t == TOK_ONE) {
			s[o++] = '.';
		} else if (t == TOK_DASH) {
			static const char alt[] = "(?:-|/|\\xe2\\x80\\x93|\\xe2\\x80\\x94|\\xe2\\x80\\x95)";
			memcpy(s + o, alt, sizeof(alt) - 1);
			o += sizeof(alt) - 1;
		} else if ((t >= 'a' && t <= 'z') || (t >= 'A' && t <= 'Z') || (t >= '0' && t <= '9')) {
			s[o++] = (char)t;
		} else {
			o += (size_t)sprintf(s + o, "\\x%02x", t);
		}
	}
	if (!ntok || tok[ntok - 1] != TOK_STAR)
		s[o++] = '\\', s[o++] = 'z';
	s[o] = 0;
	*out = s;
	return 0;
}

/* The PCRE subset of Sigma's `re` -> POSIX extended, for the naive evaluator:
 * (?:  -> (,  \d \s \w (and capitals) -> classes, other escapes kept. Returns
 * -EINVAL for what POSIX cannot express (lookarounds, lazy quantifiers, inline flags). */
int rf_detect_re_to_posix_(const char *re, char **out)
{
	size_t n = strlen(re), i, o = 0;
	char *s = malloc(n * 12 + 1);
	bool inclass = false;

	if (!s)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		char c = re[i];
		if (c == '\\' && i + 1 < n) {
			char e = re[++i];
			const char *rep = NULL;
			switch (e) {
			case 'd': rep = inclass ? "0-9" : "[0-9]"; break;
			case 's': rep = inclass ? "[:space:]" : "[[:space:]]"; break;
			case 'w': rep = inclass ? "[:alnum:]_" : "[[:alnum:]_]"; break;
			case 'D': rep = inclass ? NULL : "[^0-9]"; break;
			case 'S': rep = inclass ? NULL : "[^[:space:]]"; break;
			case 'W': rep = inclass ? NULL : "[^[:alnum:]_]"; break;
			case 't': rep = "\t"; break;
			case 'n': rep = "\n"; break;
			default:
				if (inclass) {
					/* POSIX brackets have no escapes: place the character
					 * itself, unless it means something there */
					if (e == ']' || e == '-' || e == '^' || e == '\\' || e == '[')
						goto bad;
					s[o++] = e;
					continue;
				}
				if (isalnum((unsigned char)e) && e != 'b' && e != 'B')
					goto bad; /* \1, \z, \A, \x..: no POSIX spelling */
				s[o++] = '\\';
				s[o++] = e;
				continue;
			}
			if (!rep)
				goto bad;
			o += (size_t)sprintf(s + o, "%s", rep);
			continue;
		}
		if (inclass) {
			if (c == ']' )
				inclass = false;
			s[o++] = c;
			continue;
		}
		if (c == '[') {
			inclass = true;
			s[o++] = c;
			if (re[i + 1] == '^')
				s[o++] = re[++i];
			if (re[i + 1] == ']')
				s[o++] = re[++i];
			continue;
		}
		if (c == '(' && re[i + 1] == '?') {
			if (re[i + 2] == ':') {
				s[o++] = '(';
				i += 2;
				continue;
			}
			goto bad;
		}
		if ((c == '*' || c == '+' || c == '?' || c == '}') && (re[i + 1] == '?' || re[i + 1] == '+'))
			goto bad; /* lazy or possessive quantifier */
		if (c == '{') {
			/* only {n}, {n,} and {n,m}: PCRE reads anything else literally */
			size_t j = i + 1, d1 = 0, d2 = 0;
			while (re[j] >= '0' && re[j] <= '9')
				j++, d1++;
			if (re[j] == ',') {
				j++;
				while (re[j] >= '0' && re[j] <= '9')
					j++, d2++;
			}
			if (!d1 || re[j] != '}')
				goto bad;
			(void)d2;
		}
		s[o++] = c;
	}
	s[o] = 0;
	*out = s;
	return 0;
bad:
	free(s);
	return -EINVAL;
}

int rf_detect_parse_ip_(const char *s, uint8_t out[16])
{
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	return -EINVAL;
}

/* ---- required literals of a regular expression ------------------------------------ */

/* A set of literal strings, one of which every match contains. */
struct reset {
	unsigned n;
	size_t len[RF_RE_FACTORS_MAX];
	char s[RF_RE_FACTORS_MAX][RF_RE_FACTOR_LEN];
};

struct reparse {
	const char *re;
	size_t i;
	bool bad;           /* a construct this parser does not know: no factors at all */
	struct reset best;  /* the best candidate so far (longest shortest string) */
	bool have;
};

static size_t set_minlen(const struct reset *s)
{
	size_t m = (size_t)-1;
	unsigned k;

	for (k = 0; k < s->n; k++)
		if (s->len[k] < m)
			m = s->len[k];
	return s->n ? m : 0;
}

/* Offer S as a required factor of the expression (R: the parse). */
static void offer(struct reparse *r, const struct reset *s)
{
	if (s->n && set_minlen(s) >= 2 && (!r->have || set_minlen(s) > set_minlen(&r->best))) {
		r->best = *s;
		r->have = true;
	}
}

/* A = A followed by B (every pairing); false when that grows past the limits. */
static bool cross(struct reset *a, const struct reset *b)
{
	struct reset o = {0};
	unsigned x, y;

	if (a->n * b->n > RF_RE_FACTORS_MAX)
		return false;
	for (x = 0; x < a->n; x++)
		for (y = 0; y < b->n; y++) {
			if (a->len[x] + b->len[y] >= RF_RE_FACTOR_LEN)
				return false;
			memcpy(o.s[o.n], a->s[x], a->len[x]);
			memcpy(o.s[o.n] + a->len[x], b->s[y], b->len[y]);
			o.len[o.n++] = a->len[x] + b->len[y];
		}
	*a = o;
	return true;
}

static void set_one(struct reset *s, const char *p, size_t n)
{
	s->n = 1;
	s->len[0] = n;
	memcpy(s->s[0], p, n);
}

static bool parse_alt(struct reparse *r, unsigned depth, struct reset *pure, bool *is_pure,
		      struct reset *req, bool *has_req);

/* One element at r->i: a literal byte (PURE, IS_PURE), a group (its pure set when it
 * is one, and its own required factor in REQ), or something that matches one of
 * several bytes or none (neither). ZW: a zero-width assertion. */
static void parse_elem(struct reparse *r, unsigned depth, struct reset *pure, bool *is_pure,
		       struct reset *req, bool *has_req, bool *zw)
{
	const char *re = r->re;
	char c = re[r->i];

	*is_pure = *has_req = *zw = false;
	if (c == '(') {
		r->i++;
		if (re[r->i] == '?') {
			if (re[r->i + 1] != ':') {
				r->bad = true; /* lookarounds, inline flags, named groups, comments */
				return;
			}
			r->i += 2;
		}
		if (depth > 32) {
			r->bad = true;
			return;
		}
		parse_alt(r, depth + 1, pure, is_pure, req, has_req);
		if (re[r->i] != ')')
			r->bad = true;
		else
			r->i++;
		return;
	}
	if (c == '[') {
		size_t j = r->i + 1;
		if (re[j] == '^')
			j++;
		if (re[j] == ']')
			j++;
		for (; re[j] && re[j] != ']'; j++) {
			if (re[j] == '\\' && re[j + 1])
				j++;
			else if (re[j] == '[' && re[j + 1] == ':') {
				const char *e = strstr(re + j + 2, ":]");
				if (!e) {
					r->bad = true;
					return;
				}
				j = (size_t)(e - re) + 1;
			}
		}
		if (re[j] != ']') {
			r->bad = true;
			return;
		}
		r->i = j + 1;
		return;
	}
	if (c == '.') {
		r->i++;
		return;
	}
	if (c == '^' || c == '$') {
		r->i++;
		*zw = true;
		return;
	}
	if (c == '\\') {
		char e = re[r->i + 1];
		char b;
		if (!e) {
			r->bad = true;
			return;
		}
		r->i += 2;
		switch (e) {
		case 'd': case 'D': case 's': case 'S': case 'w': case 'W': case 'h': case 'H':
		case 'v': case 'V': case 'N': case 'R':
			return; /* one of several bytes */
		case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G':
			*zw = true;
			return;
		case 't': b = '\t'; break;
		case 'n': b = '\n'; break;
		case 'r': b = '\r'; break;
		case 'f': b = '\f'; break;
		case 'e': b = 27; break;
		case 'a': b = 7; break;
		case 'x': {
			int h1 = rf_hexval(re[r->i]), h2 = h1 < 0 ? -1 : rf_hexval(re[r->i + 1]);
			if (h1 < 0 || h2 < 0) {
				r->bad = true; /* \x{...} and one-digit forms: not worth it */
				return;
			}
			b = (char)(h1 * 16 + h2);
			r->i += 2;
			break;
		}
		default:
			if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
				r->bad = true; /* back references, \p, \Q, \c, \o, ... */
				return;
			}
			b = e; /* an escaped punctuation character is itself */
		}
		set_one(pure, &b, 1);
		*is_pure = true;
		return;
	}
	if (c == '*' || c == '+' || c == '?' || c == '{' || c == ')' || c == '|' || !c) {
		r->bad = true; /* a quantifier without an element, or an unexpected end */
		return;
	}
	set_one(pure, &c, 1);
	*is_pure = true;
	r->i++;
}

/* A quantifier at r->i: its minimum count in *MIN, and whether it is exactly one. */
static void parse_quant(struct reparse *r, unsigned *min, bool *one)
{
	const char *re = r->re;
	char c = re[r->i];

	*min = 1;
	*one = true;
	if (c == '*' || c == '?') {
		*min = 0;
		*one = false;
		r->i++;
	} else if (c == '+') {
		*one = false;
		r->i++;
	} else if (c == '{') {
		size_t j = r->i + 1;
		unsigned lo = 0, hi = 0;
		bool comma = false, d1 = false, d2 = false;
		while (re[j] >= '0' && re[j] <= '9' && lo < 100000)
			lo = lo * 10 + (unsigned)(re[j++] - '0'), d1 = true;
		if (re[j] == ',') {
			comma = true;
			j++;
			while (re[j] >= '0' && re[j] <= '9' && hi < 100000)
				hi = hi * 10 + (unsigned)(re[j++] - '0'), d2 = true;
		}
		if (!d1 || re[j] != '}') {
			r->bad = true; /* PCRE reads such a brace literally: leave it */
			return;
		}
		r->i = j + 1;
		*min = lo;
		*one = lo == 1 && (!comma || (d2 && hi == 1));
	} else {
		return;
	}
	if (re[r->i] == '?' || re[r->i] == '+')
		r->i++; /* lazy or possessive: the same strings */
}

/* A sequence up to '|', ')' or the end: offers its factors; PURE/IS_PURE: the
 * sequence is a plain string (one of PURE); REQ/HAS_REQ: its best factor. */
static void parse_seq(struct reparse *r, unsigned depth, struct reset *pure, bool *is_pure,
		      struct reset *req, bool *has_req)
{
	struct reparse sub = {.re = r->re};
	struct reset run = {.n = 1}, el;
	bool all_pure = true;

	/* factors of this sequence go into sub, the parse's into r */
	while (r->re[r->i] && r->re[r->i] != '|' && r->re[r->i] != ')' && !r->bad) {
		struct reset ereq;
		bool ep, ehas, zw, one;
		unsigned min;
		parse_elem(r, depth, &el, &ep, &ereq, &ehas, &zw);
		if (r->bad)
			break;
		if (zw) {
			offer(&sub, &run);
			run = (struct reset){.n = 1};
			all_pure = false;
			continue;
		}
		parse_quant(r, &min, &one);
		if (r->bad)
			break;
		if (min == 0) {
			offer(&sub, &run);
			run = (struct reset){.n = 1};
			all_pure = false;
			continue;
		}
		if (ehas)
			offer(&sub, &ereq);
		if (!ep) {
			offer(&sub, &run);
			run = (struct reset){.n = 1};
			all_pure = false;
			continue;
		}
		if (!cross(&run, &el)) {
			offer(&sub, &run);
			run = el;
			all_pure = false;
		}
		if (!one) {
			/* repeated: what follows the last repetition starts a new run */
			offer(&sub, &run);
			run = el;
			all_pure = false;
		}
	}
	offer(&sub, &run);
	*is_pure = all_pure && !r->bad;
	if (*is_pure)
		*pure = run;
	*has_req = sub.have;
	if (sub.have)
		*req = sub.best;
}

/* Alternatives separated by '|': pure when every one is (the union), and a factor when
 * every one has one (the union of theirs). */
static bool parse_alt(struct reparse *r, unsigned depth, struct reset *pure, bool *is_pure,
		      struct reset *req, bool *has_req)
{
	bool first = true;

	*is_pure = *has_req = true;
	pure->n = req->n = 0;
	for (;;) {
		struct reset p, q;
		bool ip, hq;
		unsigned k;
		parse_seq(r, depth, &p, &ip, &q, &hq);
		if (r->bad)
			return false;
		if (*is_pure && ip && pure->n + p.n <= RF_RE_FACTORS_MAX) {
			for (k = 0; k < p.n; k++) {
				pure->len[pure->n] = p.len[k];
				memcpy(pure->s[pure->n++], p.s[k], p.len[k]);
			}
		} else {
			*is_pure = false;
		}
		/* a pure branch is its own factor */
		if (ip && (!hq || set_minlen(&p) >= set_minlen(&q)))
			q = p, hq = p.n > 0 && set_minlen(&p) > 0;
		if (*has_req && hq && req->n + q.n <= RF_RE_FACTORS_MAX) {
			for (k = 0; k < q.n; k++) {
				req->len[req->n] = q.len[k];
				memcpy(req->s[req->n++], q.s[k], q.len[k]);
			}
		} else {
			*has_req = false;
		}
		first = false;
		if (r->re[r->i] != '|')
			break;
		r->i++;
	}
	(void)first;
	if (*has_req && set_minlen(req) < 2)
		*has_req = false;
	return true;
}

/* Literals one of which every match of the regular expression RE contains (Hyperscan's
 * PCRE syntax), for a prefilter: at most RF_RE_FACTORS_MAX, each at least two bytes.
 * Conservative: any construct the parser does not know yields none. Returns the
 * number found (0: none) and fills OUT (RF_RE_FACTORS_MAX strings of
 * RF_RE_FACTOR_LEN bytes) and LENS. */
unsigned rf_detect_re_factors_(const char *re, char (*out)[RF_RE_FACTOR_LEN], size_t *lens)
{
	struct reparse r = {.re = re};
	struct reset pure, req;
	bool ip, hq;
	unsigned k;

	if (strlen(re) > RF_RULE_VALUE_MAX)
		return 0;
	if (!parse_alt(&r, 0, &pure, &ip, &req, &hq) || r.bad || re[r.i])
		return 0;
	if (ip && pure.n && set_minlen(&pure) >= 2 && (!hq || set_minlen(&pure) >= set_minlen(&req)))
		req = pure, hq = true;
	if (!hq)
		return 0;
	for (k = 0; k < req.n; k++) {
		memcpy(out[k], req.s[k], req.len[k]);
		lens[k] = req.len[k];
	}
	return req.n;
}
