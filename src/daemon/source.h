/* SPDX-License-Identifier: MIT */
/*
 * source.h: where the daemon's events come from when it is not the live sensor:
 *  - synthetic: generated events of the given classes, round robin. Event i (from 0)
 *    has class classes[i % n], pid 1000 + (i / n) % 8, start_ns = pid, and, where the
 *    class has them, executable /opt/rf-synth/bin<pid-1000> and target path
 *    /tmp/rf-synth/file<pid-1000>. Deterministic, for tests and benchmarks.
 *  - replay: the events of a capture file (read into memory at start, validated),
 *    played once, or looped until `count` events.
 * Both are paced to `rate` events/s (0: as fast as possible) and stamp hdr.ts_ns
 * with the time they hand the event over (CLOCK_REALTIME; above 100,000 events/s
 * read once per 64 events), so that clients can measure the latency of the daemon.
 */
#ifndef RF_SOURCE_H
#define RF_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include "ringfence/event.h"

struct rf_source;

typedef void (*rf_source_cb)(const struct rf_event_hdr *ev, void *ctx);

/* classes: bit (1 << class id) */
int rf_source_synthetic(uint64_t classes, uint64_t rate, uint64_t count, struct rf_source **ret,
			char *err, size_t errlen);
int rf_source_replay(const char *path, uint64_t rate, uint64_t count, struct rf_source **ret,
		     char *err, size_t errlen);
/* Hand up to max events that are due at now_ns (CLOCK_MONOTONIC) to cb. Returns the
 * number handed over; *next_ns is when the next one is due (0: now, UINT64_MAX: the
 * source is finished). */
uint64_t rf_source_pump(struct rf_source *s, uint64_t now_ns, uint64_t max, rf_source_cb cb,
			void *ctx, uint64_t *next_ns);
/* Start the pacing clock now (e.g. once the awaited clients are there). */
void rf_source_start(struct rf_source *s, uint64_t now_ns);
/* For the replay loader (source_replay.c): append a copy of a validated event. */
int rf_source_add_event(struct rf_source *s, const struct rf_event_hdr *ev);
/* Read a capture file into s with rf_source_add_event (source_replay.c). */
int rf_source_replay_load(struct rf_source *s, const char *path, char *err, size_t errlen);
const char *rf_source_name(const struct rf_source *s);
struct rf_source *rf_source_free(struct rf_source *s);

#endif
