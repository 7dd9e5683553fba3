/* SPDX-License-Identifier: MIT */
/*
 * fleet_proto.h: the endpoint side of the fleet wire protocol, version 1
 * (docs/fleet.md): the report body (a JSON writer), its signature, and the checked
 * parser of the controller's response (untrusted input: every length, every number
 * and every path is checked; fuzzed by tests/fuzz/fuzz_fleet_response.c).
 *
 * No I/O, no sockets, no curl: fleet_agent.c does those. Nothing here logs.
 */
#ifndef RF_FLEET_PROTO_H
#define RF_FLEET_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "content/content.h"
#include "ringfence/limits.h"

#define RF_FLEET_SIG_CONTEXT "ringfence-report-v1" /* signed: CONTEXT "\0" || body */

/* One client as the report lists it. */
struct rf_agent_client_health {
	char client[RF_CONTENT_CLIENT_MAX];
	uint64_t version, good_version;
	const char *state; /* running installing install_failed crash_loop quarantined stopped */
	char error[256];   /* "CODE: message" for install_failed, else "" */
	uint32_t crashes, restarts, rollbacks;
};

struct rf_agent_report {
	const char *host;
	uint8_t key[RF_PUBKEY_LEN];
	uint64_t seq, time;
	bool internal;
	const struct rf_agent_client_health *clients;
	size_t nclients;
	uint64_t auth_misses, drops, uptime_s;
	double cpu_pct;
	const char *nonce;       /* hex from the previous response, "" none */
	const char *attestation; /* base64 or NULL (absent) */
};

/* Write the report as one JSON object into out (NUL-terminated). Returns its length
 * or -ENOSPC when it does not fit in outsz (callers pass RF_FLEET_REPORT_MAX, or
 * RF_FLEET_REPORT_ATTEST_MAX with an attestation), -EINVAL for a host id or client
 * name that is not [A-Za-z0-9._:-]. */
int rf_agent_report_build(const struct rf_agent_report *r, char *out, size_t outsz);

/* The X-Ringfence-Signature value: hex of the ed25519 signature over
 * RF_FLEET_SIG_CONTEXT "\0" || body, by secret key sk. out has 2*RF_SIG_LEN+1 bytes. */
int rf_agent_report_sign(const char *body, size_t len, const uint8_t sk[RF_SECKEY_LEN],
			 char out[2 * RF_SIG_LEN + 1]);

struct rf_agent_assign {
	char client[RF_CONTENT_CLIENT_MAX];
	uint64_t version;
	char path[RF_FLEET_PATH_MAX];   /* relative to the repository base; checked */
	uint8_t sha256[RF_SHA256_LEN];
	bool no_sha256; /* "sha256": "" (the controller has not hashed it yet): the agent
			 * does not install it until an assignment names the hash */
};

struct rf_agent_response {
	uint32_t v;
	char ring[RF_FLEET_RING_MAX];
	uint32_t poll_s;                 /* 1..RF_FLEET_POLL_MAX_S */
	char nonce[RF_FLEET_NONCE_MAX];  /* lower-case hex, even length, "" none */
	struct rf_agent_assign assign[RF_FLEET_ASSIGN_MAX];
	size_t nassign;
};

/*
 * Parse a 200 response body (len bytes, not NUL-terminated). Checks: at most
 * RF_FLEET_RESPONSE_MAX bytes, one JSON object (RFC 8259, nesting at most
 * RF_FLEET_JSON_DEPTH_MAX, nothing after it but white space), valid UTF-8 in
 * strings, "v" == 1, "poll_s" an integer in range, "nonce" hex, each assignment
 * complete (client, version > 0, path, sha256 of 64 hex digits or "", which
 * sets no_sha256), client names in the
 * content alphabet, paths relative without "." or ".." components, a known key given
 * twice refused. Unknown keys (any JSON value) are ignored. Required: v, poll_s,
 * assign. Returns 0, or -EINVAL / -E2BIG / -EMSGSIZE with "offset N: what" in err.
 */
__attribute__((warn_unused_result)) int
rf_agent_response_parse(const char *buf, size_t len, struct rf_agent_response *out, char *err,
			size_t errlen);

/* A repository path as the controller may name it: [A-Za-z0-9._-] components joined
 * by single '/', none empty, "." or "..", not absolute, < RF_FLEET_PATH_MAX. */
bool rf_agent_path_ok(const char *p);

#endif
