// SPDX-License-Identifier: MIT
/*
 * output.c: one line per detection: readable text, JSON, or an OCSF Detection
 * Finding (class_uid 2004). The triggering event is written by libringfence's
 * rf_event_to_json(), the same writer as `ringfence events --json`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect/detect.h"
#include "ringfence/json.h"
#include "ringfence/schema.h"

/* A JSON string of a C string from a rule (titles, ids, tags: bounded by the loader). */
static void json_cstr(FILE *f, const char *s)
{
	size_t len = s ? strlen(s) : 0, cap = len * 6 + 3;
	char *buf = malloc(cap);
	int n;

	if (buf && (n = rf_json_escape(s ? s : "", len, buf, cap)) >= 0)
		fwrite(buf, 1, (size_t)n, f);
	else
		fputs("\"\"", f);
	free(buf);
}

static void rfc3339(char *buf, size_t n, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRIu64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (uint64_t)(ns % 1000000000ull));
}

int rf_detect_event_json(FILE *f, const struct rf_event_hdr *ev)
{
	char *buf = malloc(RF_JSON_MAX);
	int n;

	if (!buf)
		return -ENOMEM;
	n = rf_event_to_json(ev, buf, RF_JSON_MAX);
	if (n >= 0)
		fwrite(buf, 1, (size_t)n, f);
	else
		fputs("{}", f);
	free(buf);
	return n < 0 ? n : ferror(f) ? -EIO : 0;
}

static int severity_id(const char *level)
{
	if (!strcmp(level, "informational")) return 1;
	if (!strcmp(level, "low")) return 2;
	if (!strcmp(level, "medium")) return 3;
	if (!strcmp(level, "high")) return 4;
	if (!strcmp(level, "critical")) return 5;
	return 0;
}

static void tags_json(FILE *f, const struct rf_detect_hit *h)
{
	unsigned i;

	fputc('[', f);
	for (i = 0; i < h->ntags; i++) {
		if (i)
			fputc(',', f);
		json_cstr(f, h->tags[i]);
	}
	fputc(']', f);
}

int rf_detect_write_hit(FILE *f, int format, const struct rf_detect_hit *h,
			const struct rf_event_hdr *ev, rf_detect_event_json_fn event_json)
{
	const struct rf_class_desc *c = rf_schema_class(ev->class_id);
	char ts[64];

	if (!event_json)
		event_json = rf_detect_event_json;
	rfc3339(ts, sizeof(ts), ev->ts_ns);
	switch (format) {
	case RF_DETECT_OUT_JSON:
		fputs("{\"rule_id\":", f);
		json_cstr(f, h->rule_id);
		fputs(",\"rule_title\":", f);
		json_cstr(f, h->rule_title);
		fputs(",\"level\":", f);
		json_cstr(f, h->level);
		fputs(",\"tags\":", f);
		tags_json(f, h);
		if (h->correlation) {
			fputs(",\"correlation\":true,\"group\":", f);
			json_cstr(f, h->group);
			fprintf(f, ",\"count\":%u", h->count);
		}
		fputs(",\"event\":", f);
		event_json(f, ev);
		fputs("}\n", f);
		break;
	case RF_DETECT_OUT_OCSF: {
		int sev = severity_id(h->level);
		fprintf(f, "{\"class_uid\":2004,\"class_name\":\"Detection Finding\",\"category_uid\":2,"
			   "\"category_name\":\"Findings\",\"activity_id\":1,\"activity_name\":\"Create\","
			   "\"type_uid\":200401,\"severity_id\":%d,\"severity\":", sev);
		json_cstr(f, h->level[0] ? h->level : "Unknown");
		fprintf(f, ",\"status_id\":1,\"time\":%" PRIu64 ",\"metadata\":{\"version\":\"1.1.0\","
			   "\"product\":{\"name\":\"ringfence\",\"vendor_name\":\"ringfence\",\"feature\":{\"name\":\"rf-detect\"}}},"
			   "\"finding_info\":{\"uid\":\"%" PRIu64 "-%s\",\"title\":",
			(uint64_t)(ev->ts_ns / 1000000ull), (uint64_t)ev->seq, h->rule_id);
		json_cstr(f, h->rule_title);
		fputs(",\"types\":", f);
		tags_json(f, h);
		fputs(",\"analytic\":{\"type_id\":1,\"type\":\"Rule\",\"uid\":", f);
		json_cstr(f, h->rule_id);
		fputs(",\"name\":", f);
		json_cstr(f, h->rule_title);
		fputs("}},\"evidences\":[{\"data\":", f);
		event_json(f, ev);
		fputs("}]", f);
		if (h->correlation) {
			fputs(",\"unmapped\":{\"correlation_group\":", f);
			json_cstr(f, h->group);
			fprintf(f, ",\"correlation_count\":%u}", h->count);
		}
		fputs("}\n", f);
		break;
	}
	default: {
		unsigned i;
		fprintf(f, "%s %-8s %s [%s]", ts, h->level[0] ? h->level : "-", h->rule_title, h->rule_id);
		if (h->correlation)
			fprintf(f, " {%s; %u}", h->group ? h->group : "", h->count);
		fprintf(f, " pid=%u %s", ev->pid, c ? c->name : "?");
		for (i = 0; c && i < c->nhuman; i++) {
			const struct rf_field_desc *fd;
			char buf[512];
			int n;
			if (c->human[i] < 0 || c->human[i] >= c->nfields)
				continue;
			fd = &c->fields[c->human[i]];
			if (fd->type == RF_FT_STR || fd->type == RF_FT_PATH || fd->type == RF_FT_ARGV) {
				n = rf_event_str_copy(ev, c, fd, buf, sizeof(buf));
				if (n == -ENOSPC)
					n = (int)strlen(buf);
				if (n < 0)
					continue;
				for (int k = 0; k < n; k++)
					if ((unsigned char)buf[k] < 0x20)
						buf[k] = '?';
				fprintf(f, " %s=%s", fd->json, buf);
			} else if (fd->type != RF_FT_IP) {
				uint64_t v = 0;
				rf_event_u64(ev, fd, &v);
				fprintf(f, " %s=%" PRIu64, fd->json, v);
			}
		}
		fputc('\n', f);
	}
	}
	return ferror(f) ? -EIO : 0;
}
