// SPDX-License-Identifier: MIT
/*
 * fleet.c: attestation in fleet health reports (docs/fleet.md, docs/attest.md).
 * A report carries "attestation": base64 of a quote file over the nonce of the
 * controller's previous response. These two functions are all the agent and the
 * controller need; they are kept here so that neither has to know the quote format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "attest/attest.h"

int rf_attest_quote_b64(struct rf_attest *a, const uint8_t *nonce, size_t nlen, char **b64,
			char *why, size_t whylen)
{
	uint8_t *q = NULL;
	size_t ql, bl;
	int r;

	*b64 = NULL;
	if (!a) {
		snprintf(why, whylen, "attestation is off");
		return -ENODEV;
	}
	if (nlen < RF_ATTEST_NONCE_MIN || nlen > RF_ATTEST_NONCE_MAX) {
		snprintf(why, whylen, "no nonce from the controller yet");
		return -ENODATA;
	}
	r = rf_attest_quote_mem(a, nonce, nlen, &q, &ql, why, whylen);
	if (r < 0)
		return r;
	bl = sodium_base64_ENCODED_LEN(ql, sodium_base64_VARIANT_ORIGINAL);
	*b64 = malloc(bl);
	if (!*b64) {
		free(q);
		return -ENOMEM;
	}
	sodium_bin2base64(*b64, bl, q, ql, sodium_base64_VARIANT_ORIGINAL);
	free(q);
	return 0;
}

int rf_attest_verify_b64(const char *b64, size_t len, const uint8_t *nonce, size_t nlen,
			 const struct rf_attest_policy *p, char *why, size_t whylen)
{
	uint8_t *q;
	size_t ql;
	int r;

	if (!b64 || !len) {
		snprintf(why, whylen, "attestation: missing");
		return -ENODATA;
	}
	if (len > (RF_ATTEST_QUOTE_MAX / 3 + 1) * 4) {
		snprintf(why, whylen, "attestation: over %u bytes", RF_ATTEST_QUOTE_MAX);
		return -E2BIG;
	}
	q = malloc(len / 4 * 3 + 3);
	if (!q)
		return -ENOMEM;
	if (sodium_base642bin(q, len / 4 * 3 + 3, b64, len, NULL, &ql, NULL,
			      sodium_base64_VARIANT_ORIGINAL) < 0) {
		snprintf(why, whylen, "attestation: not base64");
		free(q);
		return -EBADMSG;
	}
	r = rf_attest_verify_mem(q, ql, nonce, nlen, p, why, whylen);
	free(q);
	return r;
}
