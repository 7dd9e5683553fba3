/* SPDX-License-Identifier: MIT */
/* Internals of the schema module shared with the generated table. */
#ifndef RF_SCHEMA_INT_H
#define RF_SCHEMA_INT_H
#include <errno.h>
#include <string.h>
#include "ringfence/schema.h"

/* Indexed by class id; entries with .name == NULL are unused ids. Generated. */
extern const struct rf_class_desc rf_schema_classes_[RF_CLASS_COUNT];

/* Per class, the string fields rf_event_validate() checks (non-derived str, path,
 * argv): their descriptor offsets and limits, so that validation does not walk the
 * fields that cannot point anywhere. Generated from the same schema. */
struct rf_strcheck {
	uint16_t offset; /* of the struct rf_str descriptor in the event */
	uint16_t max;    /* bytes including the NUL */
};
struct rf_strchecks {
	uint16_t n;
	const struct rf_strcheck *v;
};
extern const struct rf_strchecks rf_schema_strchecks_[RF_CLASS_COUNT];

/* rf_event_validate's body, for the callers inside the library that check an event
 * per read (lib/ring.c): no call, no NULL check of why (it must not be NULL). */
static inline __attribute__((always_inline)) int rf_event_validate_inline(const void *buf, size_t n, const char **why)
{
	const struct rf_event_hdr *h = buf;
	const struct rf_class_desc *c;
	const struct rf_strchecks *sc;
	const unsigned char *p = buf;
	unsigned i;

	if (!buf || n < sizeof(*h)) {
		*why = "shorter than an event header";
		return -EINVAL;
	}
	if (h->size < sizeof(*h) || h->size > n || h->size > RF_EVENT_MAX) {
		*why = "size field out of range";
		return -EMSGSIZE;
	}
	c = h->class_id < RF_CLASS_COUNT && rf_schema_classes_[h->class_id].name
		    ? &rf_schema_classes_[h->class_id] : NULL;
	if (!c) {
		*why = "unknown event class";
		return -ENOENT;
	}
	if (h->size < c->fixed_size) {
		*why = "event smaller than its class's fixed fields";
		return -EMSGSIZE;
	}
	sc = &rf_schema_strchecks_[h->class_id];
	for (i = 0; i < sc->n; i++) {
		const struct rf_strcheck *f = &sc->v[i];
		struct rf_str s;

		memcpy(&s, p + f->offset, sizeof(s));
		if (s.off == 0 && s.len == 0)
			continue; /* absent */
		if (s.off < c->fixed_size || (size_t)s.off + s.len + 1 > h->size) {
			*why = "string field points outside the event's data area";
			return -EINVAL;
		}
		if (s.len + 1u > f->max) {
			*why = "string field longer than its schema limit";
			return -EINVAL;
		}
		if (p[s.off + s.len] != 0) {
			*why = "string field is not NUL-terminated";
			return -EINVAL;
		}
	}
	*why = NULL;
	return 0;
}

#endif
