/* SPDX-License-Identifier: MIT */
/*
 * attest.h: attestation (docs/attest.md). A measurement log: an append-only, ordered
 * list of SHA-256 measurements of what the platform loads and activates (its own
 * binary, BPF objects, configuration, client binaries and manifests, content), each
 * with what was measured and why, and the running hash chain
 *   chain_0 = 32 zero bytes, chain_i+1 = SHA-256(chain_i || entry_digest_i)
 * which is exactly what a TPM 2.0 computes when each entry digest is extended into a
 * SHA-256 PCR (RF_ATTEST_PCR) that started at zero.
 *
 * Two modes:
 *   tpm       every measurement is also extended into the PCR; a quote is a TPM2_Quote
 *             over the PCR, signed by an attestation key that never leaves the TPM
 *             (ECDSA P-256, a primary key of the endorsement hierarchy).
 *   software  no TPM answered: the chain is signed with a local ed25519 key. Weaker: a
 *             root attacker on the host can read the key and forge any log. Every output
 *             in this mode says so (RF_ATTEST_SW_WARNING).
 *
 * A quote file (text, docs/attest.md) carries the mode, the nonce, the key, the signed
 * blob, the signature and the log. rf_attest_verify_mem() replays the log, checks the
 * signature and the nonce, and compares every entry with a policy.
 *
 * Every function returns 0 or -errno; parsers and the verifier also fill WHY (one line,
 * naming the line or the component). The library does not log.
 */
#ifndef RF_ATTEST_H
#define RF_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringfence/limits.h"

#define RF_ATTEST_WUR __attribute__((warn_unused_result))
#define RF_ATTEST_SW_WARNING "software-only: no TPM; a root attacker on this host can forge this log"

enum rf_attest_type {
	RF_AT_DAEMON = 1,      /* the ringfence binary (/proc/self/exe) */
	RF_AT_BPF,             /* a BPF object (the ELF bytes built into the binary) when loaded */
	RF_AT_CONFIG,          /* the daemon's configuration (its options) */
	RF_AT_CLIENT_EXE,      /* a supervised client's executable when started */
	RF_AT_CLIENT_MANIFEST, /* a client's manifest file */
	RF_AT_CONTENT,         /* a content bundle when activated (client started on it) */
	RF_AT_CONTENT_ROLLBACK,/* a content bundle made current again by a rollback */
	RF_AT_CONTENT_GOOD,    /* a content bundle marked known good */
	RF_AT__COUNT
};

/* "daemon", "bpf", ...; NULL for an unknown type. */
const char *rf_attest_type_name(int type);
/* The type of NAME, or -EINVAL. */
int rf_attest_type_parse(const char *name);

struct rf_attest_entry {
	uint32_t seq;                      /* 0, 1, 2, ... */
	int type;                          /* enum rf_attest_type */
	char name[RF_ATTEST_NAME_MAX];     /* component: "ringfence", "sensor", "detect", ... */
	char detail[RF_ATTEST_DETAIL_MAX]; /* what and why: path, version, signers */
	uint8_t sha256[32];                /* the measurement */
	uint8_t chain[32];                 /* the running chain after this entry (as recorded) */
};

struct rf_attest_log {
	struct rf_attest_entry *v;
	size_t n, cap;
	uint8_t chain[32]; /* running chain after the last entry */
};

void rf_attest_log_init(struct rf_attest_log *l);
void rf_attest_log_fini(struct rf_attest_log *l); /* NULL ok */
/* The digest that is extended for entry E (covers seq, type, name, sha256, detail). */
void rf_attest_entry_digest(const struct rf_attest_entry *e, uint8_t out[32]);
/* Append a measurement; fills *digest (what to extend). -E2BIG when the log is full,
 * -EINVAL for a name or detail that is too long or empty name. */
int rf_attest_log_append(struct rf_attest_log *l, int type, const char *name,
			 const uint8_t sha256[32], const char *detail, uint8_t digest[32]);
/* The log as text lines ("SEQ TYPE NAME SHA256 CHAIN DETAIL\n" each), malloc'ed. */
int rf_attest_log_format(const struct rf_attest_log *l, char **out, size_t *len);
/* Parse COUNT entry lines from BUF (exactly, nothing after them); *used = bytes read.
 * Checks syntax, lengths and that seq counts up from 0. Recorded chains are kept as
 * given (rf_attest_log_replay checks them). */
RF_ATTEST_WUR int rf_attest_log_parse(const char *buf, size_t len, size_t count,
				      struct rf_attest_log *l, size_t *used, char *why,
				      size_t whylen);
/* Recompute the chain from zero into l->chain. Returns the index of the first entry
 * whose recorded chain differs from the recomputed one, or -1 when all agree. */
long rf_attest_log_replay(struct rf_attest_log *l);

/* --- measuring ------------------------------------------------------------------- */
struct rf_attest_opts {
	const char *tcti;     /* "swtpm:host=127.0.0.1,port=N", "device:/dev/tpmrm0"; NULL:
			       * $RINGFENCE_TCTI, else device:/dev/tpmrm0 if it exists, else none */
	const char *state;    /* directory of attest.log and (software) attest.sec/.pub */
	bool software;        /* force software-only (no TPM even if one answers) */
};

struct rf_attest;

/* Start a new log (the daemon, at start): TPM: reset the PCR (it must read zero
 * afterwards); software: create the key in STATE if missing. Writes an empty
 * STATE/attest.log. When the configured TPM does not answer the context is software-only
 * and *why says why (not an error: the caller logs it loudly). */
int rf_attest_open(const struct rf_attest_opts *o, struct rf_attest **ret, char *why,
		   size_t whylen);
void rf_attest_free(struct rf_attest *a); /* NULL ok */
bool rf_attest_is_tpm(const struct rf_attest *a);
const struct rf_attest_log *rf_attest_log(const struct rf_attest *a);
/* Record a measurement: append, extend the PCR (TPM), rewrite STATE/attest.log. A TPM
 * extend that fails leaves the log and the PCR apart: every later quote fails to verify
 * (loud by construction); the error is returned. */
int rf_attest_measure(struct rf_attest *a, int type, const char *name,
		      const uint8_t sha256[32], const char *detail, char *why, size_t whylen);
/* Measure the bytes of a file (at most RF_ATTEST_FILE_MAX), or a memory buffer. */
int rf_attest_measure_file(struct rf_attest *a, int type, const char *name, const char *path,
			   const char *detail, char *why, size_t whylen);
int rf_attest_measure_mem(struct rf_attest *a, int type, const char *name, const void *buf,
			  size_t len, const char *detail, char *why, size_t whylen);
/* Measure NAME only if its last entry of TYPE has another hash (restarts of an
 * unchanged client do not grow the log). */
int rf_attest_measure_changed(struct rf_attest *a, int type, const char *name,
			      const uint8_t sha256[32], const char *detail, char *why,
			      size_t whylen);
int rf_attest_sha256_file(const char *path, uint8_t out[32]);

/* --- quotes ---------------------------------------------------------------------- */
/* A quote file over the context's live log (the daemon, or the fleet agent inside it).
 * *out is malloc'ed text. Blocks for one TPM round trip in TPM mode. */
int rf_attest_quote_mem(struct rf_attest *a, const uint8_t *nonce, size_t nlen, uint8_t **out,
			size_t *outlen, char *why, size_t whylen);
/* The same from another process: reads STATE/attest.log written by the daemon (mode, TCTI
 * and log), quotes with the TPM or signs with STATE/attest.sec. Retries when the daemon
 * measured something meanwhile. TCTI overrides the one the log names. */
int rf_attest_quote_state(const char *state, const char *tcti, const uint8_t *nonce,
			  size_t nlen, uint8_t **out, size_t *outlen, char *why, size_t whylen);

/* A parsed quote file. */
struct rf_attest_quote {
	bool tpm;
	uint32_t pcr;
	uint8_t nonce[RF_ATTEST_NONCE_MAX];
	size_t nlen;
	uint8_t key[65];  /* tpm: uncompressed P-256 point; software: ed25519 (32) */
	size_t keylen;
	uint8_t *attest;  /* the signed blob (TPMS_ATTEST or the software blob) */
	size_t attestlen;
	uint8_t sig[64];  /* tpm: r || s; software: ed25519 */
	struct rf_attest_log log;
};
RF_ATTEST_WUR int rf_attest_quote_parse(const uint8_t *buf, size_t len,
					struct rf_attest_quote *q, char *why, size_t whylen);
void rf_attest_quote_fini(struct rf_attest_quote *q); /* NULL ok */

/* --- policy and verification ------------------------------------------------------ */
struct rf_attest_rule {
	int kind;        /* 1 allow sha256, 2 allow signer, 3 require */
	int type;        /* enum rf_attest_type; content rules cover rollback and good too */
	char name[RF_ATTEST_NAME_MAX]; /* "*": any */
	uint32_t nvalues;
	uint8_t (*values)[32];
};
struct rf_attest_policy {
	struct rf_attest_rule *rules;
	size_t nrules;
	uint8_t (*tpm_keys)[65];
	size_t ntpm_keys;
	uint8_t (*sw_keys)[32];
	size_t nsw_keys;
	bool allow_software;
};
RF_ATTEST_WUR int rf_attest_policy_parse(const char *buf, size_t len,
					 struct rf_attest_policy *p, char *why, size_t whylen);
int rf_attest_policy_load(const char *path, struct rf_attest_policy *p, char *why,
			  size_t whylen);
void rf_attest_policy_fini(struct rf_attest_policy *p); /* NULL ok */

/* Verification outcome: 0 and why = "" (or the software-only warning) when genuine;
 * -EBADMSG (malformed), -EKEYREJECTED (signature, key), -ESTALE (nonce), -EILSEQ (log
 * does not replay to the quoted value), -EPERM (a component deviates from the policy).
 * WHY names every deviating component, one finding per line ('\n'-separated), e.g.
 * "client-exe detect: sha256 3fa1.. not allowed by policy". */
RF_ATTEST_WUR int rf_attest_verify_mem(const uint8_t *quote, size_t qlen, const uint8_t *nonce,
				       size_t nlen, const struct rf_attest_policy *p, char *why,
				       size_t whylen);
/* The same on a parsed quote; *software set when the quote is software-only. */
RF_ATTEST_WUR int rf_attest_verify(struct rf_attest_quote *q, const uint8_t *nonce,
				   size_t nlen, const struct rf_attest_policy *p, bool *software,
				   char *why, size_t whylen);
/* A policy text allowing exactly what quote Q shows (a golden endpoint), malloc'ed. */
int rf_attest_policy_from_quote(const struct rf_attest_quote *q, char **out, size_t *len);

/* --- fleet reports (src/attest/fleet.c, docs/fleet.md) ------------------------------ */
/* Agent: base64 of a quote over the controller's NONCE (malloc'ed NUL-terminated in *b64).
 * -ENODEV when A is NULL (attestation off), -ENODATA when there is no nonce yet (the
 * first report). One TPM round trip in TPM mode: call it off the event path. */
int rf_attest_quote_b64(struct rf_attest *a, const uint8_t *nonce, size_t nlen, char **b64,
			char *why, size_t whylen);
/* Controller: decode a report's "attestation" (B64, LEN bytes, not NUL-terminated) and
 * verify it against the nonce the controller handed out and policy P. 0 genuine; else an
 * error as rf_attest_verify_mem (-ENODATA missing, -EBADMSG not base64) and WHY. */
RF_ATTEST_WUR int rf_attest_verify_b64(const char *b64, size_t len, const uint8_t *nonce,
				       size_t nlen, const struct rf_attest_policy *p, char *why,
				       size_t whylen);

/* helpers shared by the module (hex, percent-encoding) */
int rf_attest_hex_decode(const char *s, size_t slen, uint8_t *out, size_t outmax, size_t *outlen);
void rf_attest_hex_encode(const uint8_t *b, size_t n, char *out); /* out: 2n+1 */

#endif
