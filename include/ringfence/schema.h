/* SPDX-License-Identifier: MIT */
/*
 * ringfence/schema.h: the event schema at run time, and safe access to events.
 *
 * The tables behind these functions are generated from schema/events.yaml, the one
 * definition of every event class and field. Everything here is read-only and
 * thread-safe. None of these functions allocate, log or keep pointers to what they
 * are given.
 */
#ifndef RINGFENCE_SCHEMA_H
#define RINGFENCE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "ringfence/event.h"

#ifdef __cplusplus
extern "C" {
#endif

enum rf_field_type {
	RF_FT_U8 = 1, RF_FT_U16, RF_FT_U32, RF_FT_U64, RF_FT_S32, RF_FT_S64, RF_FT_BOOL,
	RF_FT_STR,  /* struct rf_str into the data area */
	RF_FT_PATH, /* RF_FT_STR holding an absolute path */
	RF_FT_ARGV, /* RF_FT_STR holding NUL-separated strings */
	RF_FT_IP,   /* 16 bytes, IPv4 as v4-mapped IPv6 */
};

enum rf_field_source {
	RF_FS_HEADER = 1, /* in struct rf_event_hdr */
	RF_FS_KERNEL,     /* filled by the eBPF sensor */
	RF_FS_ENRICH,     /* filled in user space from the process table */
	RF_FS_DERIVED,    /* computed on read from field `from`; no storage */
};

struct rf_field_desc {
	const char *name;  /* C name */
	const char *json;  /* JSON key */
	const char *sigma; /* Sigma field name, or NULL */
	const char *doc;
	uint8_t type;      /* enum rf_field_type */
	uint8_t source;    /* enum rf_field_source */
	uint16_t offset;   /* from the start of the event; 0 for derived fields */
	uint16_t size;     /* bytes at offset (4 for string descriptors) */
	uint16_t max;      /* string fields: most bytes stored, NUL included */
	int16_t from;      /* derived fields: index of the source field, else -1 */
	uint16_t since;    /* schema version that added the field */
};

struct rf_class_desc {
	const char *name;           /* e.g. "process_exec" */
	const char *sigma_category; /* e.g. "process_creation", or NULL */
	const char *doc;
	uint16_t id;                /* enum rf_class_id */
	uint16_t fixed_size;        /* sizeof the class struct: header + fixed fields */
	uint16_t nfields;           /* header fields included */
	const struct rf_field_desc *fields;
	uint8_t nhuman;             /* fields shown in the human-readable DETAIL column */
	int16_t human[8];           /* their indexes into fields */
};

/* Schema version and hash of the layout (classes, fields, types, offsets) this
 * build was generated from. Captures and clients compare the hash. */
uint32_t rf_schema_version(void);
uint64_t rf_schema_hash(void);

/* Class by id (NULL for an unknown id) or by name (NULL when there is none). */
const struct rf_class_desc *rf_schema_class(unsigned id);
const struct rf_class_desc *rf_schema_class_by_name(const char *name);
/* Number of class ids, i.e. one more than the highest id. */
unsigned rf_schema_class_count(void);

/* Field of a class by C name, JSON name or Sigma name; returns the field index or
 * -1. */
int rf_schema_field_index(const struct rf_class_desc *c, const char *name);
int rf_schema_field_by_sigma(const struct rf_class_desc *c, const char *sigma);

/*
 * Check an event before anything reads it: size within [fixed size, n] and within
 * RF_EVENT_MAX, class known, every string descriptor inside the data area and
 * NUL-terminated. Every reader of events that crossed a trust boundary (the kernel
 * ring, shared memory, a capture file) calls this first.
 * Returns 0, or -EINVAL / -EMSGSIZE / -ENOENT (unknown class), and on error a static
 * description of the first problem in *why (may be NULL).
 */
__attribute__((warn_unused_result))
int rf_event_validate(const void *buf, size_t n, const char **why);

/* Field access on a validated event. Numbers of any integer type widen to 64 bits;
 * rf_event_str gives a pointer into the event (not copied; valid as long as the event
 * is) and its length, NUL-terminated. Return 0, or -EINVAL for a field of the wrong
 * kind. Derived fields (cmdline) are not stored: use rf_event_str_derived. */
int rf_event_u64(const struct rf_event_hdr *ev, const struct rf_field_desc *f, uint64_t *out);
int rf_event_s64(const struct rf_event_hdr *ev, const struct rf_field_desc *f, int64_t *out);
int rf_event_str(const struct rf_event_hdr *ev, const struct rf_field_desc *f,
		 const char **s, size_t *len);
/* Writes the value of a string field, derived or not, into buf (always
 * NUL-terminated; argv joined with single spaces). Returns the length it wrote, or
 * -ENOSPC when buf was too small (the value is then cut). */
int rf_event_str_copy(const struct rf_event_hdr *ev, const struct rf_class_desc *c,
		      const struct rf_field_desc *f, char *buf, size_t bufsz);

/*
 * Building events (sensors, tests, replay tools). The event's hdr.size is the end of
 * the data written so far; `cap` is the size of the buffer the event lives in.
 * rf_event_init zeroes the fixed part and sets class_id and size.
 * rf_event_set_str appends `len` bytes of `s` as the value of string field `f` (not a
 * derived one) and NUL-terminates it. A value longer than the field's max is cut and
 * RF_EVF_TRUNCATED is set. Returns 0, -EINVAL (wrong field kind) or -ENOSPC (no room
 * left in buf: the field stays empty and RF_EVF_TRUNCATED is set).
 * rf_event_set_u64 stores v into a numeric field of any width (cut to its size).
 */
int rf_event_init(void *buf, size_t cap, unsigned class_id);
int rf_event_set_str(struct rf_event_hdr *ev, size_t cap, const struct rf_field_desc *f,
		     const char *s, size_t len);
int rf_event_set_u64(struct rf_event_hdr *ev, const struct rf_field_desc *f, uint64_t v);
/* Field descriptor by name for a class id, or NULL. For code that builds events. */
const struct rf_field_desc *rf_schema_field(unsigned class_id, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* RINGFENCE_SCHEMA_H */
