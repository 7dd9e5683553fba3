// SPDX-License-Identifier: MIT
/* Fuzz the parser of the fleet controller's response (untrusted: docs/fleet.md). */
#include <stdint.h>
#include <string.h>

#include "daemon/fleet_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rf_agent_response r;
	char err[256];

	if (rf_agent_response_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
		/* what was accepted holds what the agent relies on */
		for (size_t i = 0; i < r.nassign; i++)
			if (!rf_agent_path_ok(r.assign[i].path) || !r.assign[i].version ||
			    !r.assign[i].client[0])
				__builtin_trap();
		if (r.v != 1 || !r.poll_s || r.poll_s > RF_FLEET_POLL_MAX_S || strlen(r.nonce) % 2)
			__builtin_trap();
	}
	return 0;
}
