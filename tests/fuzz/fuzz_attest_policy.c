// SPDX-License-Identifier: MIT
/* Fuzz the attestation policy parser. */
#include <stdint.h>

#include "attest/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rf_attest_policy p;
	char why[256];

	if (rf_attest_policy_parse((const char *)data, size, &p, why, sizeof(why)) == 0)
		rf_attest_policy_fini(&p);
	return 0;
}
