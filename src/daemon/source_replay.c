// SPDX-License-Identifier: MIT
/* source_replay.c: load a capture file for the replay source.
 * UNFINISHED: the capture reader (src/capture, rf_capture_open/next) is not on this
 * branch yet; until it is merged, --replay says so and fails. */
#include <errno.h>
#include <stdio.h>

#include "daemon/source.h"

int rf_source_replay_load(struct rf_source *s, const char *path, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: replay needs the capture reader, which is not built into this "
		 "ringfence yet; use --synthetic", path);
	return -ENOSYS;
}
