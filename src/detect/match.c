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
			char *p, *end;
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
					for (p = b, end = b + n; (p = memchr(p, 0, (size_t)(end - p))); p++)
						*p = ' ';
			}
			b[n] = 0;
			v->s = b;
			v->len = n;
			v->present = n > 0;
		} else {
			struct rf_str sd;
			memcpy(&sd, (const char *)d->ev + f->offset, sizeof(sd));
			if (rf_event_str(d->ev, f, &v->s, &v->len) < 0)
				v->s = "", v->len = 0;
			v->present = !(sd.off == 0 && sd.len == 0);
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
