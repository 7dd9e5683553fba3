/* SPDX-License-Identifier: MIT */
/* attest_int.h: what the files of src/attest/ share. */
#ifndef RF_ATTEST_INT_H
#define RF_ATTEST_INT_H

#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"

struct rf_strbuf {
	char *buf;
	size_t len, cap;
};
int rf_strbuf_add(struct rf_strbuf *sb, const char *s, size_t n);
int rf_strbuf_printf(struct rf_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int rf_attest_pct_encode(struct rf_strbuf *sb, const char *s);
int rf_attest_pct_decode(const char *t, size_t tlen, char *out, size_t outmax);
int rf_attest_tokens(const char *line, size_t len, const char **tok, size_t *tlen, int max);
void rf_attest_extend(uint8_t chain[32], const uint8_t digest[32]);
int rf_attest_log_format_sb(const struct rf_attest_log *l, struct rf_strbuf *sb);

/* tpm.c: one short session per call (a swtpm socket serves one connection at a time) */
struct rf_tpm;
int rf_tpm_open(const char *tcti, struct rf_tpm **ret, char *why, size_t whylen);
void rf_tpm_close(struct rf_tpm *t);
int rf_tpm_pcr_reset(struct rf_tpm *t, uint32_t pcr, char *why, size_t whylen);
int rf_tpm_pcr_extend(struct rf_tpm *t, uint32_t pcr, const uint8_t digest[32], char *why,
		      size_t whylen);
int rf_tpm_pcr_read(struct rf_tpm *t, uint32_t pcr, uint8_t out[32], char *why, size_t whylen);
/* TPM2_Quote over PCR with the attestation key: the TPMS_ATTEST bytes (malloc'ed), the
 * signature r||s and the key's uncompressed P-256 point. */
int rf_tpm_quote(struct rf_tpm *t, uint32_t pcr, const uint8_t *nonce, size_t nlen,
		 uint8_t **attest, size_t *attestlen, uint8_t sig[64], uint8_t key[65], char *why,
		 size_t whylen);

/* verify.c: ECDSA P-256 / SHA-256 over MSG with the uncompressed point KEY. */
int rf_attest_ecdsa_verify(const uint8_t key[65], const uint8_t *msg, size_t len,
			   const uint8_t sig[64]);

#define RF_ATTEST_SW_DOMAIN "ringfence-attest-sw-v1"
#define RF_ATTEST_SW_MAGIC "RFSWQ001"

#endif
