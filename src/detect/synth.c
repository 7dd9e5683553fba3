// SPDX-License-Identifier: MIT
/*
 * synth.c: build an event in the wire format from "field=value" text, for the rule
 * tests, `ringfence rules bench` and the fuzz target. Fields are named by their Sigma,
 * JSON or C name; numbers in decimal, IPs in their usual notation, booleans
 * true/false; argv fields take the words of the value split on single spaces (or,
 * when the value holds \x1f separators, split there).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/synth.h"
#include "detect/detect_int.h"

int rf_detect_synth(void *buf, size_t cap, unsigned class_id, const char *const *kv, unsigned nkv)
{
	const struct rf_class_desc *c = rf_schema_class(class_id);
	struct rf_event_hdr *h = buf;
	unsigned char *p = buf;
	size_t off;
	unsigned i;

	if (!c || cap < c->fixed_size || cap > RF_EVENT_MAX)
		return -EINVAL;
	memset(buf, 0, c->fixed_size);
	h->class_id = (uint16_t)class_id;
	off = c->fixed_size;
	for (i = 0; i + 1 < nkv; i += 2) {
		const char *name = kv[i], *val = kv[i + 1];
		int k = rf_schema_field_by_sigma(c, name);
		const struct rf_field_desc *f;
		size_t len = strlen(val);

		if (k < 0)
			k = rf_schema_field_index(c, name);
		if (k < 0)
			return -ENOENT;
		f = &c->fields[k];
		if (f->source == RF_FS_DERIVED) {
			if (f->from < 0)
				return -EINVAL;
			f = &c->fields[f->from];
		}
		switch (f->type) {
		case RF_FT_STR:
		case RF_FT_PATH:
		case RF_FT_ARGV: {
			struct rf_str s;
			size_t j;
			if (len + 1 > f->max || off + len + 1 > cap || off + len + 1 > 0xffff)
				return -ENOSPC;
			memcpy(p + off, val, len + 1);
			if (f->type == RF_FT_ARGV) {
				bool sep = strchr(val, '\x1f') != NULL;
				for (j = 0; j < len; j++)
					if (p[off + j] == (sep ? '\x1f' : ' '))
						p[off + j] = 0;
			}
			s.off = (uint16_t)off;
			s.len = (uint16_t)len;
			memcpy(p + f->offset, &s, sizeof(s));
			off += len + 1;
			break;
		}
		case RF_FT_IP: {
			uint8_t ip[16];
			if (rf_detect_parse_ip_(val, ip) < 0)
				return -EINVAL;
			memcpy(p + f->offset, ip, 16);
			break;
		}
		default: {
			uint64_t u;
			char *end;
			if (!strcmp(val, "true"))
				u = 1;
			else if (!strcmp(val, "false"))
				u = 0;
			else {
				u = (uint64_t)strtoll(val, &end, 10);
				if (*end || end == val)
					return -EINVAL;
			}
			memcpy(p + f->offset, &u, f->size < 8 ? f->size : 8); /* little endian */
		}
		}
	}
	h->size = (uint16_t)off;
	return (int)off;
}
