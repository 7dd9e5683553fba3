// SPDX-License-Identifier: MIT
/* Fuzz the controller's /v1/report parser (untrusted JSON from any endpoint), then
 * feed what it accepts through the rollout core and the answer writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rf_fleet_core *fc;
	struct rf_fleet_report r;
	struct rf_fleet_answer a;
	char err[256], out[RF_FLEET_RESPONSE_MAX];
	uint8_t nonce[16] = {0};

	if (!fc) {
		struct rf_fleet_config c;
		struct rf_fleet_release rel = {.version = 1};
		rf_fleet_config_default(&c);
		if (rf_fleet_core_new(&c, &fc) < 0)
			abort();
		(void)rf_fleet_core_release(fc, &rel, "detect", 0);
	}
	if (rf_fleet_report_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
		if (rf_fleet_core_report(fc, &r, 100, &a) == 0 &&
		    rf_fleet_answer_json(&a, nonce, out, sizeof(out)) < 0)
			abort(); /* an answer always fits */
		(void)!rf_fleet_report_verify((const char *)data, size, r.key,
					      "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	}
	return 0;
}
