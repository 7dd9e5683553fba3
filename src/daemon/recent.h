/* SPDX-License-Identifier: MIT */
/*
 * recent.h: the daemon's rolling recording of the last N seconds of events, which
 * the content pipeline's shadow run replays (docs/content.md, "Shadow canary").
 *
 * Events are copied into fixed-size chunks; whole chunks are dropped from the old
 * end when the memory bound is reached or when everything in them is older than the
 * window. A dump writes the events of the window, oldest first, in the capture
 * format (src/capture). Single-threaded: the daemon's event loop owns it.
 */
#ifndef RF_RECENT_H
#define RF_RECENT_H

#include <stddef.h>
#include <stdint.h>
#include "ringfence/event.h"

struct rf_recent;

struct rf_recent_stats {
	uint64_t events;    /* in the window now */
	uint64_t bytes;     /* of those events */
	uint64_t oldest_ns; /* ts_ns of the oldest event in the window (0: none) */
	uint64_t newest_ns; /* ts_ns of the newest event */
	uint64_t recorded;  /* events ever recorded */
	uint64_t evicted;   /* events dropped from the old end (age or memory bound) */
};

/* A recording of WINDOW_S seconds bounded by MAX_BYTES (RF_RECENT_BYTES_MIN to
 * RF_RECENT_BYTES_MAX, kept as MAX_BYTES / RF_RECENT_CHUNK chunks; with a single chunk
 * the recording starts over whenever that chunk is full). Returns 0 or -errno (-EINVAL
 * for bounds out of range). */
int rf_recent_new(unsigned window_s, uint64_t max_bytes, struct rf_recent **ret);
/* Accepts NULL. */
void rf_recent_free(struct rf_recent *r);
/* Record one event (ev->size bytes, already validated by its producer). */
void rf_recent_add(struct rf_recent *r, const struct rf_event_hdr *ev);
/* Record NEVENTS events that lie back to back in BUF (BYTES in all), each starting at
 * a multiple of 8 bytes with its padding zeroed, MAX_TS the largest ts_ns among them.
 * One copy for the batch; an event is never split across chunks. */
void rf_recent_add_batch(struct rf_recent *r, const unsigned char *buf, size_t bytes,
			 uint64_t nevents, uint64_t max_ts);
/* What the window holds now. */
void rf_recent_stats(struct rf_recent *r, struct rf_recent_stats *st);
/* Write the window to the capture file PATH (created or truncated). Returns 0 or
 * -errno; st (may be NULL) describes what was written. */
int rf_recent_dump(struct rf_recent *r, const char *path, struct rf_recent_stats *st);

/* Client side (`content install`): ask the daemon at SOCK (NULL: $RINGFENCE_SOCKET or
 * the default) for its recording and copy it to the file OUT (created, mode 0600).
 * Fills *info (may be NULL). Returns 0, or -errno with a one-line reason in err. */
struct rf_msg_recent;
int rf_recent_fetch(const char *sock, const char *out, struct rf_msg_recent *info, char *err,
		    size_t errlen);

#endif
