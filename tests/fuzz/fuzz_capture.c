// SPDX-License-Identifier: MIT
/* libFuzzer target: the capture reader, and every event it accepts printed as JSON
 * and text (so a hole in rf_event_validate shows up as an out-of-bounds read). */
#include <stdint.h>
#include <stdlib.h>

#include "capture/capture.h"
#include "ringfence/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[RF_JSON_MAX];
	struct rf_capture_reader *r;
	const struct rf_event_hdr *ev;
	char err[256];
	int n = 0;

	if (rf_capture_open_mem(data, size, &r, err, sizeof(err)) < 0)
		return 0;
	while (n++ < 10000 && rf_capture_next(r, &ev, err, sizeof(err)) > 0) {
		(void)rf_event_to_json(ev, out, sizeof(out));
		(void)rf_event_to_text(ev, out, sizeof(out));
	}
	rf_capture_close(r);
	return 0;
}
