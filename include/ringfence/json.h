/* SPDX-License-Identifier: MIT */
/*
 * ringfence/json.h: events as JSON, the same for the CLI, the daemon and clients.
 * Keys are the schema's JSON names (docs/events.md). The event must have passed
 * rf_event_validate(). Also the one checked reader of untrusted JSON documents
 * (rf_json_parse and its typed readers, at the end).
 */
#ifndef RINGFENCE_JSON_H
#define RINGFENCE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ringfence/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write the event as one JSON object (no newline) into out, NUL-terminated.
 * Returns its length, or -ENOSPC when out is too small (RF_JSON_MAX always fits). */
#define RF_JSON_MAX (8 * RF_EVENT_MAX)
int rf_event_to_json(const struct rf_event_hdr *ev, char *out, size_t outsz);
/* The human-readable one-liner: "HH:MM:SS.mmm CLASS PID DETAIL" (no newline);
 * columns aligned. Returns its length or -ENOSPC. */
int rf_event_to_text(const struct rf_event_hdr *ev, char *out, size_t outsz);
/* The header line that goes with rf_event_to_text. */
const char *rf_event_text_header(void);
/* JSON string escaping of len bytes of s into out (quotes included); invalid UTF-8
 * bytes and control characters become \u00XX. Returns the length or -ENOSPC. */
int rf_json_escape(const char *s, size_t len, char *out, size_t outsz);

/*
 * Reading JSON. rf_json_parse() checks a whole document (RFC 8259: one value, only
 * white space after it; strings with valid escapes, paired surrogates, no \u0000,
 * UTF-8 in shortest form) and tokenizes it into the caller's array; it never reads
 * past len and allocates nothing. Token 0 is the root. A container's members follow
 * it: for an object, key k = o + 1 and its value k + 1, the next key at
 * t[k + 1].next; for an array, element e = a + 1, the next at t[e].next.
 * The tokens point into s, which must outlive them.
 */
enum rf_json_type {
	RF_JSON_OBJECT = 1,
	RF_JSON_ARRAY,
	RF_JSON_STRING,
	RF_JSON_NUMBER,
	RF_JSON_TRUE,
	RF_JSON_FALSE,
	RF_JSON_NULL,
};

struct rf_json_tok {
	uint8_t type;    /* enum rf_json_type */
	bool esc;        /* a string with escapes: read it with rf_json_string() */
	uint32_t start;  /* byte offsets in the document; strings: inside the quotes */
	uint32_t end;
	uint32_t next;   /* index of the token after this value and everything in it */
	uint32_t size;   /* objects: members; arrays: elements */
};

struct rf_json {
	const char *s;
	size_t len;
	struct rf_json_tok *t;
	uint32_t nt, cap;   /* tokens used, tokens available */
	const char *err;    /* what was wrong (static string), NULL when nothing */
	size_t err_pos;     /* byte offset where it was found */
};

/* Parse s (len bytes, need not be NUL-terminated) into toks (cap of them), nesting
 * at most max_depth containers. Returns 0, -EINVAL (malformed; j->err, j->err_pos)
 * or -E2BIG (more than cap values, or nested deeper). */
int rf_json_parse(struct rf_json *j, const char *s, size_t len, struct rf_json_tok *toks,
		  uint32_t cap, unsigned max_depth);
/* Whether token k is a string equal to name (escapes decoded). */
bool rf_json_key_is(const struct rf_json *j, uint32_t k, const char *name);
/* A string token decoded into out (UTF-8, NUL-terminated). Returns its length,
 * -EINVAL if v is not a string, -E2BIG if it does not fit (out then undefined). */
int rf_json_string(const struct rf_json *j, uint32_t v, char *out, size_t outsz);
/* A non-negative integer (no sign, fraction or exponent) in lo..hi. Returns 0,
 * -EINVAL if v is not such a number, -ERANGE if out of range. */
int rf_json_uint(const struct rf_json *j, uint32_t v, uint64_t lo, uint64_t hi, uint64_t *out);
/* Any number as a double. Returns 0, -EINVAL if v is not a number, -ERANGE if its
 * text is over 63 bytes. */
int rf_json_double(const struct rf_json *j, uint32_t v, double *out);

#ifdef __cplusplus
}
#endif
#endif
