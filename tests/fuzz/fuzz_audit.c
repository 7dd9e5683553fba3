// SPDX-License-Identifier: MIT
/* fuzz_audit: the audit record parser behind sandbox incidents (src/daemon/incident.c).
 * The records come from the kernel but carry paths a hostile client chose. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/incident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rf_audit_rec r;

	if (rf_audit_parse((const char *)data, size, &r) == 0) {
		/* every string is terminated within its buffer */
		if (strnlen(r.path, sizeof(r.path)) == sizeof(r.path) ||
		    strnlen(r.blockers, sizeof(r.blockers)) == sizeof(r.blockers) ||
		    strnlen(r.status, sizeof(r.status)) == sizeof(r.status))
			__builtin_trap();
	}
	return 0;
}
