// SPDX-License-Identifier: MIT
/*
 * schema.c: run-time view of the event schema, event validation and field access.
 *
 * rf_event_validate() is the bounds check that every reader of untrusted events goes
 * through: it is the difference between a bad event and an out-of-bounds read.
 */
#include <errno.h>
#include <string.h>

#include "ringfence/schema.h"
#include "schema_int.h"

uint32_t rf_schema_version(void)
{
	return RF_SCHEMA_VERSION;
}

uint64_t rf_schema_hash(void)
{
	return RF_SCHEMA_HASH;
}

unsigned rf_schema_class_count(void)
{
	return RF_CLASS_COUNT;
}

const struct rf_class_desc *rf_schema_class(unsigned id)
{
	if (id >= RF_CLASS_COUNT || !rf_schema_classes_[id].name)
		return NULL;
	return &rf_schema_classes_[id];
}

const struct rf_class_desc *rf_schema_class_by_name(const char *name)
{
	unsigned i;

	for (i = 1; name && i < RF_CLASS_COUNT; i++)
		if (rf_schema_classes_[i].name && !strcmp(rf_schema_classes_[i].name, name))
			return &rf_schema_classes_[i];
	return NULL;
}

int rf_schema_field_index(const struct rf_class_desc *c, const char *name)
{
	int i;

	for (i = 0; c && name && i < c->nfields; i++)
		if (!strcmp(c->fields[i].name, name) || !strcmp(c->fields[i].json, name))
			return i;
	return -1;
}

int rf_schema_field_by_sigma(const struct rf_class_desc *c, const char *sigma)
{
	int i;

	for (i = 0; c && sigma && i < c->nfields; i++)
		if (c->fields[i].sigma && !strcmp(c->fields[i].sigma, sigma))
			return i;
	return -1;
}

static int is_str(const struct rf_field_desc *f)
{
	return f->type == RF_FT_STR || f->type == RF_FT_PATH || f->type == RF_FT_ARGV;
}

int rf_event_validate(const void *buf, size_t n, const char **why)
{
	const char *dummy;

	return rf_event_validate_inline(buf, n, why ? why : &dummy);
}

int rf_event_u64(const struct rf_event_hdr *ev, const struct rf_field_desc *f, uint64_t *out)
{
	const unsigned char *p = (const unsigned char *)ev + f->offset;

	switch (f->type) {
	case RF_FT_U8:
	case RF_FT_BOOL:
		*out = *p;
		return 0;
	case RF_FT_U16: {
		uint16_t v;
		memcpy(&v, p, 2);
		*out = v;
		return 0;
	}
	case RF_FT_U32: {
		uint32_t v;
		memcpy(&v, p, 4);
		*out = v;
		return 0;
	}
	case RF_FT_S32: {
		int32_t v;
		memcpy(&v, p, 4);
		*out = (uint64_t)(int64_t)v;
		return 0;
	}
	case RF_FT_U64:
	case RF_FT_S64:
		memcpy(out, p, 8);
		return 0;
	default:
		return -EINVAL;
	}
}

int rf_event_s64(const struct rf_event_hdr *ev, const struct rf_field_desc *f, int64_t *out)
{
	uint64_t v;
	int r = rf_event_u64(ev, f, &v);

	if (r == 0)
		*out = (int64_t)v;
	return r;
}

int rf_event_str(const struct rf_event_hdr *ev, const struct rf_field_desc *f,
		 const char **s, size_t *len)
{
	struct rf_str d;

	if (!is_str(f) || f->source == RF_FS_DERIVED)
		return -EINVAL;
	memcpy(&d, (const unsigned char *)ev + f->offset, sizeof(d));
	if (d.off == 0) {
		*s = "";
		*len = 0;
		return 0;
	}
	*s = (const char *)ev + d.off;
	*len = d.len;
	return 0;
}

int rf_event_str_copy(const struct rf_event_hdr *ev, const struct rf_class_desc *c,
		      const struct rf_field_desc *f, char *buf, size_t bufsz)
{
	const struct rf_field_desc *src = f;
	const char *s;
	size_t len, i;
	int r = 0;

	if (!bufsz)
		return -ENOSPC;
	if (f->source == RF_FS_DERIVED) {
		if (f->from < 0 || f->from >= c->nfields)
			return -EINVAL;
		src = &c->fields[f->from];
	}
	if (rf_event_str(ev, src, &s, &len) < 0)
		return -EINVAL;
	if (len + 1 > bufsz) {
		len = bufsz - 1;
		r = -ENOSPC;
	}
	memcpy(buf, s, len);
	buf[len] = 0;
	if (src->type == RF_FT_ARGV && f != src)
		for (i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
	return r ? r : (int)len;
}

const struct rf_field_desc *rf_schema_field(unsigned class_id, const char *name)
{
	const struct rf_class_desc *c = rf_schema_class(class_id);
	int i = rf_schema_field_index(c, name);

	return i < 0 ? NULL : &c->fields[i];
}

int rf_event_init(void *buf, size_t cap, unsigned class_id)
{
	const struct rf_class_desc *c = rf_schema_class(class_id);
	struct rf_event_hdr *h = buf;

	if (!c || cap < c->fixed_size)
		return -EINVAL;
	memset(buf, 0, c->fixed_size);
	h->class_id = (uint16_t)class_id;
	h->size = c->fixed_size;
	return 0;
}

int rf_event_set_str(struct rf_event_hdr *ev, size_t cap, const struct rf_field_desc *f,
		     const char *s, size_t len)
{
	unsigned char *p = (unsigned char *)ev;
	struct rf_str d;

	if (!f || !is_str(f) || f->source == RF_FS_DERIVED || !f->max)
		return -EINVAL;
	if (cap > RF_EVENT_MAX)
		cap = RF_EVENT_MAX;
	if (len + 1 > f->max) {
		len = f->max - 1u;
		ev->flags |= RF_EVF_TRUNCATED;
	}
	if ((size_t)ev->size + len + 1 > cap) {
		ev->flags |= RF_EVF_TRUNCATED;
		return -ENOSPC;
	}
	d.off = ev->size;
	d.len = (uint16_t)len;
	memcpy(p + d.off, s, len);
	p[d.off + len] = 0;
	memcpy(p + f->offset, &d, sizeof(d));
	ev->size = (uint16_t)(ev->size + len + 1);
	return 0;
}

int rf_event_set_u64(struct rf_event_hdr *ev, const struct rf_field_desc *f, uint64_t v)
{
	unsigned char *p = (unsigned char *)ev;

	if (!f || f->source == RF_FS_DERIVED)
		return -EINVAL;
	switch (f->type) {
	case RF_FT_U8:
	case RF_FT_BOOL:
		p[f->offset] = (uint8_t)v;
		return 0;
	case RF_FT_U16: {
		uint16_t x = (uint16_t)v;
		memcpy(p + f->offset, &x, 2);
		return 0;
	}
	case RF_FT_U32:
	case RF_FT_S32: {
		uint32_t x = (uint32_t)v;
		memcpy(p + f->offset, &x, 4);
		return 0;
	}
	case RF_FT_U64:
	case RF_FT_S64:
		memcpy(p + f->offset, &v, 8);
		return 0;
	default:
		return -EINVAL;
	}
}
