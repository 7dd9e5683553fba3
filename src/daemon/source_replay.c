// SPDX-License-Identifier: MIT
/* source_replay.c: load a capture file for the replay source (source.h). The capture
 * reader validates every record (rf_event_validate); we keep a copy of each event so
 * that replay speed is not limited by file reading. At most RF_REPLAY_EVENTS_MAX. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture/capture.h"
#include "daemon/source.h"
#include "ringfence/schema.h"

int rf_source_replay_load(struct rf_source *s, const char *path, char *err, size_t errlen)
{
	struct rf_capture_reader *r = NULL;
	const struct rf_event_hdr *ev;
	char cerr[256];
	int k, ret = 0;
	size_t n = 0;

	if (rf_capture_open(path, &r, cerr, sizeof(cerr)) < 0) {
		snprintf(err, errlen, "%s", cerr);
		return -EINVAL;
	}
	while ((k = rf_capture_next(r, &ev, cerr, sizeof(cerr))) > 0) {
		if (ev->class_id >= RF_CLASSES_MAX)
			continue;
		ret = rf_source_add_event(s, ev);
		if (ret < 0) {
			snprintf(err, errlen, "%s: %s after %zu events", path,
				 ret == -E2BIG ? "more events than RF_REPLAY_EVENTS_MAX" : strerror(-ret), n);
			goto out;
		}
		n++;
	}
	if (k < 0) {
		snprintf(err, errlen, "%s", cerr);
		ret = -EINVAL;
		goto out;
	}
	if (!n) {
		snprintf(err, errlen, "%s: no events", path);
		ret = -ENODATA;
	}
out:
	rf_capture_close(r);
	return ret;
}
