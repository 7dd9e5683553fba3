// SPDX-License-Identifier: MIT
/* Fuzz the quote file parser and the verifier (TPMS_ATTEST parsing, replay, policy). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char pol[] = "ringfence-attest-policy 1\nsoftware allow\n"
				  "allow daemon * sha256 0000000000000000000000000000000000000000000000000000000000000000\n"
				  "allow content * signer 1111111111111111111111111111111111111111111111111111111111111111\n"
				  "require client-exe detect\n";
	static const uint8_t nonce[16];
	struct rf_attest_policy p;
	struct rf_attest_quote q;
	char why[1024];
	bool sw;

	if (rf_attest_policy_parse(pol, strlen(pol), &p, why, sizeof(why)) < 0)
		abort();
	if (rf_attest_quote_parse(data, size, &q, why, sizeof(why)) == 0) {
		/* the quote's own key and nonce, so that the checks past them run too */
		memcpy(p.sw_keys[0], q.key, 32);
		p.nsw_keys = 1;
		memcpy(p.tpm_keys[0], q.key, 65);
		p.ntpm_keys = 1;
		(void)!rf_attest_verify(&q, q.nonce, q.nlen, &p, &sw, why, sizeof(why));
		(void)!rf_attest_verify(&q, nonce, sizeof(nonce), &p, &sw, why, 0);
		char *out;
		size_t len;
		if (rf_attest_policy_from_quote(&q, &out, &len) == 0)
			free(out);
		rf_attest_quote_fini(&q);
	}
	rf_attest_policy_fini(&p);
	return 0;
}
