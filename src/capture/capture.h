/* SPDX-License-Identifier: MIT */
/*
 * capture.h: record and replay events (docs/capture-format.md).
 *
 * A capture file is a header (magic "RFCAPTUR", format version, schema version and
 * layout hash, start time) followed by length-prefixed, CRC-checked records, each one
 * event in the wire format of ringfence/event.h. The reader trusts nothing: every
 * length is checked, every event goes through rf_event_validate(), and every error
 * names the byte offset where the file went wrong.
 */
#ifndef RF_CAPTURE_H
#define RF_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ringfence/event.h"

struct rf_capture_writer;
struct rf_capture_reader;

/* Create (truncate) PATH and write the header. Returns 0 or -errno; the caller frees
 * *ret with rf_capture_writer_close(). */
int rf_capture_create(const char *path, struct rf_capture_writer **ret);
/* Append one event (ev->size bytes). Returns 0 or -errno. */
int rf_capture_write(struct rf_capture_writer *w, const struct rf_event_hdr *ev);
/* Flush, fsync and close; returns 0 or -errno of the first failure. Accepts NULL. */
int rf_capture_writer_close(struct rf_capture_writer *w);

/* Open a capture file or an in-memory image (not copied: must outlive the reader).
 * On failure returns -errno and writes a one-line reason naming the byte offset into
 * err. */
int rf_capture_open(const char *path, struct rf_capture_reader **ret, char *err, size_t errlen);
int rf_capture_open_mem(const void *buf, size_t len, struct rf_capture_reader **ret,
			char *err, size_t errlen);
/* Next event: returns 1 and points *ev into the reader's buffer (valid until the next
 * call), 0 at a clean end of file, or -errno with the reason and byte offset in err. */
int rf_capture_next(struct rf_capture_reader *r, const struct rf_event_hdr **ev, char *err,
		    size_t errlen);
/* Schema layout hash and start time (ns since the epoch) recorded in the header. */
uint64_t rf_capture_schema_hash(const struct rf_capture_reader *r);
uint64_t rf_capture_start_ns(const struct rf_capture_reader *r);
/* Accepts NULL; returns NULL. */
struct rf_capture_reader *rf_capture_close(struct rf_capture_reader *r);

#endif
