/* SPDX-License-Identifier: MIT */
/* synth.h: events from "field=value" text (tests, benchmarks, fuzzing). */
#ifndef RF_DETECT_SYNTH_H
#define RF_DETECT_SYNTH_H

#include <stddef.h>

/* Build an event of CLASS_ID into BUF (CAP bytes, at most RF_EVENT_MAX) from NKV
 * strings: name, value, name, value... Header fields (pid, ts_ns, ...) are set the same
 * way. Returns the event's size, or -ENOENT (unknown field), -ENOSPC, -EINVAL. */
int rf_detect_synth(void *buf, size_t cap, unsigned class_id, const char *const *kv, unsigned nkv);

#endif
