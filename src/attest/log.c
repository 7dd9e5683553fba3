// SPDX-License-Identifier: MIT
/*
 * log.c: the measurement log: entries, their digests, the hash chain, and the text
 * form of the entries ("SEQ TYPE NAME SHA256 CHAIN DETAIL", docs/attest.md). The
 * parser reads untrusted bytes (a quote file from the network) and checks every
 * length; it has a fuzz target (tests/fuzz/fuzz_attest_log.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "attest/attest.h"
#include "attest/attest_int.h"
#include "common/hex.h"

static const char *const type_names[RF_AT__COUNT] = {
	[RF_AT_DAEMON] = "daemon",
	[RF_AT_BPF] = "bpf",
	[RF_AT_CONFIG] = "config",
	[RF_AT_CLIENT_EXE] = "client-exe",
	[RF_AT_CLIENT_MANIFEST] = "client-manifest",
	[RF_AT_CONTENT] = "content",
	[RF_AT_CONTENT_ROLLBACK] = "content-rollback",
	[RF_AT_CONTENT_GOOD] = "content-good",
};

const char *rf_attest_type_name(int type)
{
	return type > 0 && type < RF_AT__COUNT ? type_names[type] : NULL;
}

int rf_attest_type_parse(const char *name)
{
	int i;

	for (i = 1; i < RF_AT__COUNT; i++)
		if (!strcmp(name, type_names[i]))
			return i;
	return -EINVAL;
}

/* ---- hex and percent-encoding ---------------------------------------------------- */
int rf_attest_hex_decode(const char *s, size_t slen, uint8_t *out, size_t outmax, size_t *outlen)
{
	size_t i;

	if (slen % 2 || slen / 2 > outmax)
		return -EINVAL;
	for (i = 0; i < slen / 2; i++) {
		int h = rf_hexval((char)s[2 * i]), l = rf_hexval((char)s[2 * i + 1]);
		if (h < 0 || l < 0)
			return -EINVAL;
		out[i] = (uint8_t)(h << 4 | l);
	}
	*outlen = slen / 2;
	return 0;
}

void rf_attest_hex_encode(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = 0;
}

static bool plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._/:@+=,-*", c) != NULL;
}

/* "" -> "-"; bytes outside the plain set -> %XX; a lone "-" -> %2D. */
int rf_attest_pct_encode(struct rf_strbuf *sb, const char *s)
{
	static const char d[] = "0123456789ABCDEF";

	if (!*s)
		return rf_strbuf_add(sb, "-", 1);
	if (!strcmp(s, "-"))
		return rf_strbuf_add(sb, "%2D", 3);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (plain(c)) {
			if (rf_strbuf_add(sb, (const char *)&c, 1) < 0)
				return -ENOMEM;
		} else {
			char e[3] = {'%', d[c >> 4], d[c & 15]};
			if (rf_strbuf_add(sb, e, 3) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Decode token T (length TLEN) into OUT (OUTMAX bytes with NUL). */
int rf_attest_pct_decode(const char *t, size_t tlen, char *out, size_t outmax)
{
	size_t i, o = 0;

	if (tlen == 1 && t[0] == '-') {
		out[0] = 0;
		return 0;
	}
	for (i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)t[i];
		if (o + 1 >= outmax)
			return -ENAMETOOLONG;
		if (c == '%') {
			int h, l;
			if (i + 2 >= tlen)
				return -EINVAL;
			h = rf_hexval((char)t[i + 1]);
			l = rf_hexval((char)t[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -EINVAL;
			out[o++] = (char)(h << 4 | l);
			i += 2;
		} else if (plain(c)) {
			out[o++] = (char)c;
		} else {
			return -EINVAL;
		}
	}
	out[o] = 0;
	return 0;
}

/* ---- string buffer -------------------------------------------------------------- */
int rf_strbuf_add(struct rf_strbuf *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t c = sb->cap ? sb->cap : 1024;
		char *p;
		while (c < sb->len + n + 1)
			c *= 2;
		p = realloc(sb->buf, c);
		if (!p)
			return -ENOMEM;
		sb->buf = p;
		sb->cap = c;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = 0;
	return 0;
}

int rf_strbuf_printf(struct rf_strbuf *sb, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	return rf_strbuf_add(sb, tmp, (size_t)n);
}

/* ---- entries and the chain ------------------------------------------------------- */
void rf_attest_entry_digest(const struct rf_attest_entry *e, uint8_t out[32])
{
	static const char domain[] = "ringfence-attest-entry-v1";
	crypto_hash_sha256_state st;
	uint8_t b[4];
	size_t nl = strlen(e->name), dl = strlen(e->detail);

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)domain, sizeof(domain)); /* with NUL */
	b[0] = (uint8_t)e->seq;
	b[1] = (uint8_t)(e->seq >> 8);
	b[2] = (uint8_t)(e->seq >> 16);
	b[3] = (uint8_t)(e->seq >> 24);
	crypto_hash_sha256_update(&st, b, 4);
	b[0] = (uint8_t)e->type;
	crypto_hash_sha256_update(&st, b, 1);
	b[0] = (uint8_t)nl;
	b[1] = (uint8_t)(nl >> 8);
	crypto_hash_sha256_update(&st, b, 2);
	crypto_hash_sha256_update(&st, (const uint8_t *)e->name, nl);
	crypto_hash_sha256_update(&st, e->sha256, 32);
	b[0] = (uint8_t)dl;
	b[1] = (uint8_t)(dl >> 8);
	crypto_hash_sha256_update(&st, b, 2);
	crypto_hash_sha256_update(&st, (const uint8_t *)e->detail, dl);
	crypto_hash_sha256_final(&st, out);
}

void rf_attest_extend(uint8_t chain[32], const uint8_t digest[32])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, chain, 32);
	crypto_hash_sha256_update(&st, digest, 32);
	crypto_hash_sha256_final(&st, chain);
}

void rf_attest_log_init(struct rf_attest_log *l)
{
	memset(l, 0, sizeof(*l));
}

void rf_attest_log_fini(struct rf_attest_log *l)
{
	if (!l)
		return;
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static struct rf_attest_entry *log_push(struct rf_attest_log *l)
{
	if (l->n >= RF_ATTEST_LOG_MAX)
		return NULL;
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 16;
		struct rf_attest_entry *v = realloc(l->v, c * sizeof(*v));
		if (!v)
			return NULL;
		l->v = v;
		l->cap = c;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

int rf_attest_log_append(struct rf_attest_log *l, int type, const char *name,
			 const uint8_t sha256[32], const char *detail, uint8_t digest[32])
{
	struct rf_attest_entry *e;

	if (!rf_attest_type_name(type) || !name || !*name || strlen(name) >= RF_ATTEST_NAME_MAX ||
	    (detail && strlen(detail) >= RF_ATTEST_DETAIL_MAX))
		return -EINVAL;
	if (l->n >= RF_ATTEST_LOG_MAX)
		return -E2BIG;
	e = log_push(l);
	if (!e)
		return -ENOMEM;
	e->seq = (uint32_t)(l->n - 1);
	e->type = type;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
	memcpy(e->sha256, sha256, 32);
	rf_attest_entry_digest(e, digest);
	rf_attest_extend(l->chain, digest);
	memcpy(e->chain, l->chain, 32);
	return 0;
}

long rf_attest_log_replay(struct rf_attest_log *l)
{
	long first = -1;
	size_t i;

	memset(l->chain, 0, 32);
	for (i = 0; i < l->n; i++) {
		uint8_t d[32];
		rf_attest_entry_digest(&l->v[i], d);
		rf_attest_extend(l->chain, d);
		if (first < 0 && memcmp(l->chain, l->v[i].chain, 32))
			first = (long)i;
	}
	return first;
}

int rf_attest_log_format_sb(const struct rf_attest_log *l, struct rf_strbuf *sb)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct rf_attest_entry *e = &l->v[i];
		char sha[65], ch[65];

		rf_attest_hex_encode(e->sha256, 32, sha);
		rf_attest_hex_encode(e->chain, 32, ch);
		if (rf_strbuf_printf(sb, "%u %s ", e->seq, rf_attest_type_name(e->type)) < 0 ||
		    rf_attest_pct_encode(sb, e->name) < 0 ||
		    rf_strbuf_printf(sb, " %s %s ", sha, ch) < 0 ||
		    rf_attest_pct_encode(sb, e->detail) < 0 || rf_strbuf_add(sb, "\n", 1) < 0)
			return -ENOMEM;
	}
	return 0;
}

int rf_attest_log_format(const struct rf_attest_log *l, char **out, size_t *len)
{
	struct rf_strbuf sb = {0};
	int r = rf_strbuf_add(&sb, "", 0);

	if (!r)
		r = rf_attest_log_format_sb(l, &sb);
	if (r < 0) {
		free(sb.buf);
		return r;
	}
	*out = sb.buf;
	*len = sb.len;
	return 0;
}

/* Split LINE (no newline) into at most MAX space-separated tokens. */
int rf_attest_tokens(const char *line, size_t len, const char **tok, size_t *tlen, int max)
{
	int n = 0;
	size_t i = 0;

	while (i < len) {
		size_t s = i;
		if (line[i] == ' ')
			return -EINVAL; /* exactly one space between tokens */
		while (i < len && line[i] != ' ')
			i++;
		if (n == max)
			return -E2BIG;
		tok[n] = line + s;
		tlen[n] = i - s;
		n++;
		if (i < len) {
			i++;
			if (i == len)
				return -EINVAL; /* trailing space */
		}
	}
	return n;
}

int rf_attest_log_parse(const char *buf, size_t len, size_t count, struct rf_attest_log *l,
			size_t *used, char *why, size_t whylen)
{
	size_t pos = 0, k;

	rf_attest_log_init(l);
	if (count > RF_ATTEST_LOG_MAX) {
		snprintf(why, whylen, "log: %zu entries, at most %u", count, RF_ATTEST_LOG_MAX);
		return -E2BIG;
	}
	for (k = 0; k < count; k++) {
		const char *tok[7];
		size_t tl[7], n, lim;
		const char *nl;
		struct rf_attest_entry *e;
		char num[16], tname[24];
		char *end;
		unsigned long seq;
		int nt, type;

		lim = len - pos;
		nl = memchr(buf + pos, '\n', lim);
		if (!nl) {
			snprintf(why, whylen, "log entry %zu: missing or unterminated line (log truncated?)", k);
			goto bad;
		}
		n = (size_t)(nl - (buf + pos));
		if (memchr(buf + pos, 0, n)) {
			snprintf(why, whylen, "log entry %zu: NUL byte", k);
			goto bad;
		}
		nt = rf_attest_tokens(buf + pos, n, tok, tl, 7);
		if (nt != 6) {
			snprintf(why, whylen, "log entry %zu: want 6 fields (SEQ TYPE NAME SHA256 CHAIN DETAIL)", k);
			goto bad;
		}
		if (tl[0] >= sizeof(num) || tl[1] >= sizeof(tname)) {
			snprintf(why, whylen, "log entry %zu: bad sequence number or type", k);
			goto bad;
		}
		memcpy(num, tok[0], tl[0]);
		num[tl[0]] = 0;
		memcpy(tname, tok[1], tl[1]);
		tname[tl[1]] = 0;
		errno = 0;
		seq = strtoul(num, &end, 10);
		if (errno || *end || !num[0] || num[0] < '0' || num[0] > '9' ||
		    (num[0] == '0' && num[1])) {
			snprintf(why, whylen, "log entry %zu: bad sequence number", k);
			goto bad;
		}
		if (seq != k) {
			snprintf(why, whylen, "log entry %zu (%.*s %.*s): sequence number %lu out of order "
				 "(log reordered or cut)", k, (int)(tl[1] < 24 ? tl[1] : 24), tok[1],
				 (int)(tl[2] < 64 ? tl[2] : 64), tok[2], seq);
			goto bad;
		}
		type = rf_attest_type_parse(tname);
		if (type < 0) {
			snprintf(why, whylen, "log entry %zu: unknown type '%s'", k, tname);
			goto bad;
		}
		e = log_push(l);
		if (!e) {
			snprintf(why, whylen, "log: out of memory");
			rf_attest_log_fini(l);
			return -ENOMEM;
		}
		e->seq = (uint32_t)seq;
		e->type = type;
		size_t hl;
		if (rf_attest_pct_decode(tok[2], tl[2], e->name, sizeof(e->name)) < 0 || !e->name[0] ||
		    rf_attest_hex_decode(tok[3], tl[3], e->sha256, 32, &hl) < 0 || hl != 32 ||
		    rf_attest_hex_decode(tok[4], tl[4], e->chain, 32, &hl) < 0 || hl != 32 ||
		    rf_attest_pct_decode(tok[5], tl[5], e->detail, sizeof(e->detail)) < 0) {
			snprintf(why, whylen, "log entry %zu: bad name, hash, chain or detail", k);
			goto bad;
		}
		pos += n + 1;
	}
	*used = pos;
	return 0;
bad:
	rf_attest_log_fini(l);
	return -EBADMSG;
}
