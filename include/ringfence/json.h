/* SPDX-License-Identifier: MIT */
/*
 * ringfence/json.h: events as JSON, the same for the CLI, the daemon and clients.
 * Keys are the schema's JSON names (docs/events.md). The event must have passed
 * rf_event_validate().
 */
#ifndef RINGFENCE_JSON_H
#define RINGFENCE_JSON_H

#include <stddef.h>
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

#ifdef __cplusplus
}
#endif
#endif
