// SPDX-License-Identifier: MIT
/* json.c: events as JSON lines and as aligned text, driven by the schema tables. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ringfence/json.h"
#include "ringfence/schema.h"

struct out {
	char *p;
	size_t n, cap;
	bool full;
};

static void put(struct out *o, const char *s, size_t len)
{
	if (o->full || o->n + len + 1 > o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->n, s, len);
	o->n += len;
	o->p[o->n] = 0;
}

/* ,"key": */
static void put_key(struct out *o, const char *key)
{
	size_t len = strlen(key);
	char *p;

	if (o->full || o->n + len + 5 > o->cap) {
		o->full = true;
		return;
	}
	p = o->p + o->n;
	p[0] = ',';
	p[1] = '"';
	memcpy(p + 2, key, len);
	p[len + 2] = '"';
	p[len + 3] = ':';
	p[len + 4] = 0;
	o->n += len + 4;
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k > 0)
		put(o, tmp, (size_t)k < sizeof(tmp) ? (size_t)k : sizeof(tmp) - 1);
}

static void put_u64(struct out *o, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	char tmp[24];
	int i = sizeof(tmp);

	while (v >= 100) { /* two digits a step: half the divisions */
		unsigned d = (unsigned)(v % 100) * 2;
		v /= 100;
		tmp[--i] = pairs[d + 1];
		tmp[--i] = pairs[d];
	}
	if (v >= 10) {
		tmp[--i] = pairs[v * 2 + 1];
		tmp[--i] = pairs[v * 2];
	} else {
		tmp[--i] = (char)('0' + v);
	}
	put(o, tmp + i, sizeof(tmp) - (size_t)i);
}

static void put_s64(struct out *o, int64_t v)
{
	if (v < 0) {
		put(o, "-", 1);
		put_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(o, (uint64_t)v);
	}
}

/* length of a valid UTF-8 sequence at s (max n bytes), or 0 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (k > n)
		return 0;
	for (i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (k == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0; /* overlong or surrogate */
	if (k == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return k;
}

/* bytes that stand for themselves in a JSON string: printable ASCII but '"' and '\\' */
static const bool plain[256] = {
	[0x20 ... 0x21] = true, /* '"' is 0x22 */
	[0x23 ... 0x5b] = true, /* '\\' is 0x5c */
	[0x5d ... 0x7e] = true,
};

static void esc(struct out *o, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	put(o, "\"", 1);
	while (i < len) {
		unsigned char c = u[i];
		size_t run = i;

		/* the common case: a run of printable ASCII, copied at once */
		while (run < len && plain[u[run]])
			run++;
		if (run > i) {
			put(o, s + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			put(o, e, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			static const char hex[] = "0123456789abcdef";
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			if (c == '\n')
				put(o, "\\n", 2);
			else if (c == '\t')
				put(o, "\\t", 2);
			else
				put(o, e, 6);
			i++;
		} else if ((k = utf8_len(u + i, len - i)) > 0) {
			put(o, s + i, k);
			i += k;
		} else {
			putf(o, "\\u%04x", c); /* an invalid byte: its value, visibly */
			i++;
		}
	}
	put(o, "\"", 1);
}

int rf_json_escape(const char *s, size_t len, char *out, size_t outsz)
{
	struct out o = {out, 0, outsz, false};

	if (!outsz)
		return -ENOSPC;
	out[0] = 0;
	esc(&o, s, len);
	return o.full ? -ENOSPC : (int)o.n;
}

static void ip_str(const unsigned char *a, char *buf, size_t sz)
{
	static const unsigned char v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (!memcmp(a, v4, 12) && sz >= INET_ADDRSTRLEN) {
		/* dotted quad by hand: glibc's inet_ntop formats IPv4 with sprintf, a fifth
		 * of the cost of a connect event's JSON */
		char *p = buf;
		int i;
		for (i = 12; i < 16; i++) {
			unsigned v = a[i];
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 15 ? '.' : 0;
		}
	} else if (!memcmp(a, v4, 12)) {
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)sz);
	} else
		inet_ntop(AF_INET6, a, buf, (socklen_t)sz);
}

/* v as exactly n decimal digits, zero-padded (v < 10^n) */
static void digits(char *p, unsigned v, int n)
{
	while (n--) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void ts_str(uint64_t ns, char *buf, size_t sz, bool full)
{
	static __thread time_t last_t = -1;
	static __thread struct tm last_tm;
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (t != last_t) { /* gmtime_r is slow; events come many to a second */
		gmtime_r(&t, &last_tm);
		last_t = t;
	}
	tm = last_tm;
	if (full && sz >= 31 && tm.tm_year >= -1900 && tm.tm_year <= 9999 - 1900) {
		/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" by hand: snprintf was a tenth of the
		 * cost of an exec event's JSON */
		digits(buf, (unsigned)tm.tm_year + 1900, 4);
		buf[4] = '-';
		digits(buf + 5, (unsigned)tm.tm_mon + 1, 2);
		buf[7] = '-';
		digits(buf + 8, (unsigned)tm.tm_mday, 2);
		buf[10] = 'T';
		digits(buf + 11, (unsigned)tm.tm_hour, 2);
		buf[13] = ':';
		digits(buf + 14, (unsigned)tm.tm_min, 2);
		buf[16] = ':';
		digits(buf + 17, (unsigned)tm.tm_sec, 2);
		buf[19] = '.';
		digits(buf + 20, (unsigned)(ns % 1000000000ull), 9);
		buf[29] = 'Z';
		buf[30] = 0;
	} else if (full)
		snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned long long)(ns % 1000000000ull));
	else
		snprintf(buf, sz, "%02d:%02d:%02d.%03llu", tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned long long)(ns % 1000000000ull) / 1000000ull);
}

static const struct {
	uint16_t bit;
	const char *name;
} flag_names[] = {
	{RF_EVF_DEGRADED, "degraded"},         {RF_EVF_TRUNCATED, "truncated"},
	{RF_EVF_PATH_PARTIAL, "path_partial"}, {RF_EVF_NO_PARENT, "no_parent"},
	{RF_EVF_REPLAYED, "replayed"},
};

/* value of field f as JSON */
static void value(struct out *o, const struct rf_event_hdr *ev, const struct rf_class_desc *c,
		  const struct rf_field_desc *f)
{
	const char *s;
	size_t len;
	uint64_t u;

	switch (f->type) {
	case RF_FT_BOOL:
		rf_event_u64(ev, f, &u);
		put(o, u ? "true" : "false", u ? 4 : 5);
		return;
	case RF_FT_S32:
	case RF_FT_S64: {
		int64_t v;
		rf_event_s64(ev, f, &v);
		put_s64(o, v);
		return;
	}
	case RF_FT_IP: {
		char buf[INET6_ADDRSTRLEN];
		ip_str((const unsigned char *)ev + f->offset, buf, sizeof(buf));
		esc(o, buf, strlen(buf));
		return;
	}
	case RF_FT_STR:
	case RF_FT_PATH:
	case RF_FT_ARGV:
		if (f->source == RF_FS_DERIVED) {
			char buf[RF_ARGV_MAX];
			int n = rf_event_str_copy(ev, c, f, buf, sizeof(buf));
			esc(o, buf, n < 0 ? strlen(buf) : (size_t)n);
			return;
		}
		rf_event_str(ev, f, &s, &len);
		if (f->type == RF_FT_ARGV) {
			size_t i, st = 0;
			put(o, "[", 1);
			for (i = 0; len && i <= len; i++) {
				if (i < len && s[i])
					continue;
				if (st)
					put(o, ",", 1);
				esc(o, s + st, i - st);
				st = i + 1;
			}
			put(o, "]", 1);
		} else {
			esc(o, s, len);
		}
		return;
	default:
		rf_event_u64(ev, f, &u);
		put_u64(o, u);
		return;
	}
}

int rf_event_to_json(const struct rf_event_hdr *ev, char *outbuf, size_t outsz)
{
	const struct rf_class_desc *c = rf_schema_class(ev->class_id);
	struct out o = {outbuf, 0, outsz, false};
	char ts[48];
	size_t i;
	int k, nflags = 0;

	if (!outsz)
		return -ENOSPC;
	outbuf[0] = 0;
	if (!c)
		return -EINVAL;
	put(&o, "{\"class\":\"", 10);
	put(&o, c->name, strlen(c->name));
	put(&o, "\"", 1);
	for (k = 0; k < c->nfields; k++) {
		const struct rf_field_desc *f = &c->fields[k];
		put_key(&o, f->json);
		if (f->source == RF_FS_HEADER && f->offset == offsetof(struct rf_event_hdr, ts_ns)) {
			ts_str(ev->ts_ns, ts, sizeof(ts), true);
			put(&o, "\"", 1);
			put(&o, ts, strlen(ts));
			put(&o, "\"", 1);
		} else {
			value(&o, ev, c, f);
		}
	}
	put(&o, ",\"flags\":[", 10);
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (ev->flags & flag_names[i].bit)
			putf(&o, "%s\"%s\"", nflags++ ? "," : "", flag_names[i].name);
	put(&o, "]", 1);
	if (ev->flags & RF_EVF_DEGRADED)
		put(&o, ",\"degraded\":true", 16);
	put(&o, "}", 1);
	return o.full ? -ENOSPC : (int)o.n;
}

const char *rf_event_text_header(void)
{
	return "TIME         CLASS            PID     PPID/UID  DETAIL";
}

int rf_event_to_text(const struct rf_event_hdr *ev, char *outbuf, size_t outsz)
{
	const struct rf_class_desc *c = rf_schema_class(ev->class_id);
	struct out o = {outbuf, 0, outsz, false};
	char ts[32], tmp[RF_ARGV_MAX];
	int k, idx;
	uint64_t v;

	if (!outsz)
		return -ENOSPC;
	outbuf[0] = 0;
	if (!c)
		return -EINVAL;
	ts_str(ev->ts_ns, ts, sizeof(ts), false);
	putf(&o, "%-12s %-16s %-7u ", ts, c->name, ev->pid);
	idx = rf_schema_field_index(c, "ppid");
	if (idx >= 0 && rf_event_u64(ev, &c->fields[idx], &v) == 0) {
		putf(&o, "%-9llu ", (unsigned long long)v);
	} else if ((idx = rf_schema_field_index(c, "uid")) >= 0 &&
		   rf_event_u64(ev, &c->fields[idx], &v) == 0) {
		putf(&o, "uid=%-5llu ", (unsigned long long)v);
	} else {
		put(&o, "          ", 10);
	}
	for (k = 0; k < c->nhuman; k++) {
		const struct rf_field_desc *f = &c->fields[c->human[k]];
		if (k)
			put(&o, " ", 1);
		if (f->type == RF_FT_STR || f->type == RF_FT_PATH || f->type == RF_FT_ARGV) {
			int n = rf_event_str_copy(ev, c, f, tmp, sizeof(tmp));
			if (n < 0)
				n = (int)strlen(tmp);
			for (int i = 0; i < n; i++) /* keep one event on one line */
				if ((unsigned char)tmp[i] < 0x20)
					tmp[i] = '?';
			put(&o, tmp, (size_t)n);
		} else if (f->type == RF_FT_IP) {
			char buf[INET6_ADDRSTRLEN];
			ip_str((const unsigned char *)ev + f->offset, buf, sizeof(buf));
			putf(&o, "%s=%s", f->json, buf);
		} else {
			int64_t sv;
			rf_event_s64(ev, f, &sv);
			if (f->type == RF_FT_S32 || f->type == RF_FT_S64)
				putf(&o, "%s=%lld", f->json, (long long)sv);
			else
				putf(&o, "%s=%llu", f->json, (unsigned long long)sv);
		}
	}
	if (ev->flags & RF_EVF_DEGRADED)
		put(&o, " [degraded]", 11);
	if (ev->flags & RF_EVF_TRUNCATED)
		put(&o, " [truncated]", 12);
	if (ev->flags & RF_EVF_PATH_PARTIAL)
		put(&o, " [path partial]", 15);
	return o.full ? -ENOSPC : (int)o.n;
}
