/* SPDX-License-Identifier: MIT */
/*
 * content.h: the content pipeline (docs/content.md).
 *
 * A bundle is a signed, versioned package of detection content for one client:
 *   header (RF_BUNDLE_HDR_SIZE bytes) | metadata (TLV: root chain + targets) | payload
 * Verification checks signatures (ed25519, threshold per role, root rotation
 * through a chain of root versions), expiry, rollback, length and hash. Validation
 * runs the content type's validator in a sandboxed child. The store keeps A/B
 * slots per client with an atomic state file, an "attempting" marker and a
 * known-good version.
 *
 * Every function returns 0 or -errno. Refusals also fill a struct rf_content_err
 * (code + one-line message) when the caller passes one; the code is stable and
 * distinct per refusal reason.
 */
#ifndef RF_CONTENT_H
#define RF_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ringfence/limits.h"

#define RF_WUR __attribute__((warn_unused_result))

enum rf_content_code {
	RF_CE_OK = 0,
	RF_CE_FORMAT,             /* malformed bundle, metadata or archive */
	RF_CE_BAD_SIGNATURE,      /* a signature by a role key does not verify */
	RF_CE_TOO_FEW_SIGNATURES, /* fewer valid signatures than the role's threshold */
	RF_CE_EXPIRED,            /* metadata past its expiry (freeze attack) */
	RF_CE_ROLLBACK,           /* version not newer than the installed one (rollback attack) */
	RF_CE_LENGTH_MISMATCH,    /* payload length differs from the signed one (endless data) */
	RF_CE_HASH_MISMATCH,      /* payload hash differs from the signed one (mix-and-match) */
	RF_CE_UNKNOWN_CRITICAL,   /* a field or flag marked critical that this version does not know */
	RF_CE_HEADER_MISMATCH,    /* header fields differ from the signed targets (mix-and-match) */
	RF_CE_ROOT_CHAIN,         /* root rotation chain broken (gap, wrong type) */
	RF_CE_NO_TRUST_ROOT,      /* the store has no trusted root metadata */
	RF_CE_SCHEMA,             /* content needs a newer event schema than this build has */
	RF_CE_UNKNOWN_TYPE,       /* no validator registered for the content type */
	RF_CE_INVALID,            /* the validator refused the content (rule, field, reason) */
	RF_CE_VALIDATOR_CRASH,    /* the sandboxed validator crashed */
	RF_CE_VALIDATOR_TIMEOUT,  /* the sandboxed validator ran out of time */
	RF_CE_SHADOW,             /* the shadow run crashed, failed or overran its budget */
	RF_CE_IO,                 /* reading or writing failed (disk full, ...) */
	RF_CE_STATE,              /* store state missing or inconsistent */
	RF_CE__COUNT
};

struct rf_content_err {
	int code; /* enum rf_content_code */
	char msg[512];
};

/* Stable upper-case name of a code, e.g. "BAD_SIGNATURE". */
const char *rf_content_code_name(int code);

/* --- keys and metadata ------------------------------------------------------ */
#define RF_PUBKEY_LEN 32
#define RF_SECKEY_LEN 64
#define RF_SIG_LEN 64
#define RF_SHA256_LEN 32

enum rf_role { RF_ROLE_ROOT = 1, RF_ROLE_TARGETS = 2 };
enum rf_meta_type { RF_META_ROOT = 1, RF_META_TARGETS = 2 };

struct rf_role_keys {
	uint8_t threshold;
	uint16_t nkeys;
	uint8_t keys[RF_META_KEYS_MAX][RF_PUBKEY_LEN];
};

struct rf_target {
	char type[RF_CONTENT_TYPE_MAX];
	char client[RF_CONTENT_CLIENT_MAX];
	uint64_t content_version;
	uint32_t schema_version;
	uint64_t length;
	uint8_t sha256[RF_SHA256_LEN];
};

/* A parsed metadata document. body/sigs point into the buffer given to
 * rf_meta_parse (not copied). */
struct rf_meta {
	int type; /* enum rf_meta_type */
	uint64_t version;
	uint64_t expires; /* Unix seconds */
	struct rf_role_keys roles[3]; /* indexed by enum rf_role (root only) */
	struct rf_target target;     /* targets only */
	const uint8_t *body;
	size_t body_len;
	unsigned nsigs;
	const uint8_t *sigs[RF_META_SIGS_MAX]; /* each: pubkey (32) + signature (64) */
};

/* Parse one signed envelope (TLV: SIGNED body + SIGNATURE*) and its body. No
 * signature is checked here. */
RF_WUR int rf_meta_parse(const uint8_t *buf, size_t len, struct rf_meta *m,
			 struct rf_content_err *e);
/* Check that at least the role's threshold of distinct keys of ROLE (from the
 * metadata KEYS, e.g. the trusted root) signed m. */
RF_WUR int rf_meta_check_sigs(const struct rf_meta *m, const struct rf_meta *keys, int role,
			      struct rf_content_err *e);

/* Build a metadata body (unsigned envelope) into a malloc'ed buffer. */
int rf_meta_build_root(uint64_t version, uint64_t expires, const struct rf_role_keys *root,
		       const struct rf_role_keys *targets, uint8_t **out, size_t *outlen);
int rf_meta_build_targets(uint64_t version, uint64_t expires, const struct rf_target *t,
			  uint8_t **out, size_t *outlen);
/* Append a signature by secret key SK to the envelope in *buf (realloc'ed). A key
 * that already signed is replaced. */
int rf_meta_sign(uint8_t **buf, size_t *len, const uint8_t sk[RF_SECKEY_LEN]);

/* Metadata files (root.rfm): "RFMETA01" + envelope. */
int rf_meta_file_read(const char *path, uint8_t **buf, size_t *len);
int rf_meta_file_write(const char *path, const uint8_t *env, size_t len);

/* Key files: KEY.sec (secret) and KEY.pub (public), one hex line each. */
int rf_key_generate(const char *base, uint8_t pk[RF_PUBKEY_LEN]);
int rf_key_read_secret(const char *path, uint8_t sk[RF_SECKEY_LEN]);
int rf_key_read_public(const char *path, uint8_t pk[RF_PUBKEY_LEN]);

/* --- bundles -------------------------------------------------------------- */
#define RF_BUNDLE_MAGIC "RFBUNDLE"
#define RF_BUNDLE_FORMAT 1
#define RF_BUNDLE_HDR_SIZE 160

struct rf_bundle_hdr {
	uint16_t format;
	uint32_t flags;
	char type[RF_CONTENT_TYPE_MAX];
	char client[RF_CONTENT_CLIENT_MAX];
	uint64_t content_version;
	uint32_t schema_version;
	uint32_t meta_len;
	uint64_t payload_len;
	uint8_t payload_sha256[RF_SHA256_LEN];
};

/* A bundle split into its parts (pointers into the caller's buffer). */
struct rf_bundle {
	struct rf_bundle_hdr hdr;
	unsigned nroots;
	const uint8_t *roots[RF_ROOT_CHAIN_MAX];
	size_t roots_len[RF_ROOT_CHAIN_MAX];
	const uint8_t *targets;
	size_t targets_len;
	const uint8_t *payload; /* what follows the metadata; payload_avail bytes */
	size_t payload_avail;
};

/* Parse header and metadata section of the bundle image BUF (no crypto). */
RF_WUR int rf_bundle_parse(const uint8_t *buf, size_t len, struct rf_bundle *b,
			   struct rf_content_err *e);
/* Serialise header + metadata + payload into a malloc'ed image. */
int rf_bundle_write(const struct rf_bundle_hdr *h, const uint8_t *const *roots,
		    const size_t *roots_len, unsigned nroots, const uint8_t *targets,
		    size_t targets_len, const uint8_t *payload, uint8_t **out, size_t *outlen);

/* What verification learned; trusted only when rf_bundle_verify returned 0. */
struct rf_verified {
	struct rf_target target;
	uint64_t targets_version;
	uint64_t root_version;
	uint8_t *new_root; /* malloc'ed newest root envelope when the chain rotated, else NULL */
	size_t new_root_len;
};

/* Installed versions against which rollback is judged (0 = nothing installed). */
struct rf_installed {
	uint64_t content_version;
	uint64_t targets_version;
};

/*
 * Verify a bundle image against the trusted root envelope ROOT: root chain,
 * signatures and thresholds, expiry against NOW, rollback against INST (may be
 * NULL), header versus signed targets, length and hash of the payload. On success
 * fills *v (free v->new_root with free()).
 */
RF_WUR int rf_bundle_verify(const uint8_t *buf, size_t len, const uint8_t *root,
			    size_t root_len, time_t now, const struct rf_installed *inst,
			    struct rf_verified *v, struct rf_content_err *e);

/* Read a bundle file into memory; refuses files over RF_BUNDLE_MAX without
 * reading them. */
int rf_bundle_read(const char *path, uint8_t **buf, size_t *len, struct rf_content_err *e);

/* --- payload archive -------------------------------------------------------- */
/* "RFARCH01" then entries {u8 type, u8 0, u16 name_len, u32 0, u64 size, name, data},
 * ended by an entry of type 0. Types: 1 directory, 2 regular file. */
enum { RF_AR_END = 0, RF_AR_DIR = 1, RF_AR_FILE = 2 };
typedef int (*rf_archive_cb)(void *ctx, int type, const char *name, const uint8_t *data,
			     uint64_t size);
/* Walk an archive, checking every length and name; calls CB for each entry. */
RF_WUR int rf_archive_walk(const uint8_t *buf, size_t len, rf_archive_cb cb, void *ctx,
			   struct rf_content_err *e);
/* Pack directory DIR (regular files and directories only, sorted). */
int rf_archive_pack(const char *dir, uint8_t **out, size_t *outlen, struct rf_content_err *e);
/* Extract into the existing empty directory DIRFD, fsyncing every file and directory. */
RF_WUR int rf_archive_extract(const uint8_t *buf, size_t len, int dirfd,
			      struct rf_content_err *e);
/* Compare an extracted tree with the archive (store consistency check). */
RF_WUR int rf_archive_compare(const uint8_t *buf, size_t len, int dirfd,
			      struct rf_content_err *e);

/* --- content types and validation ----------------------------------------- */
struct rf_content_type {
	const char *name;
	/* Check the extracted payload in PAYLOAD_DIR with the client's own compiler
	 * and the event schema. Returns 0 when valid, else -errno and a one-line
	 * reason (file:line, rule, field, why) in err. Runs in a sandboxed child. */
	int (*validate)(const char *payload_dir, char *err, size_t errlen);
};

/* The Sigma compiler (src/detect, rf-detect) sets this when it is linked. While it
 * is NULL, "sigma" content is refused: unvalidated content is never accepted. */
extern int (*rf_content_sigma_compile)(const char *payload_dir, char *err, size_t errlen);

const struct rf_content_type *rf_content_type_find(const char *name);
/* Register an extra type (e.g. from a client module); -EEXIST, -ENOSPC. */
int rf_content_type_register(const struct rf_content_type *t);

/* The fieldmap validator, exposed for the tests and the fragile test client. */
int rf_fieldmap_validate(const char *payload_dir, char *err, size_t errlen);

/* Run TYPE's validator on PAYLOAD_DIR in a child: no_new_privs, seccomp allowlist,
 * rlimits (CPU, memory, files). A crash or timeout is a refusal. */
RF_WUR int rf_content_validate_sandboxed(const char *type, const char *payload_dir,
					 unsigned timeout_ms, struct rf_content_err *e);

/* Shadow run: argv template with "{content}" and "{capture}" replaced; run under an
 * RLIMIT_CPU of cpu_s seconds and a wall clock of timeout_ms. Exit 0 passes; a
 * crash, non-zero exit or budget overrun refuses. Latency budget: the client must
 * keep up with the events, i.e. finish within realtime_pct percent of the time span
 * of the capture's events plus RF_CONTENT_SHADOW_START_MS (whichever of this and
 * timeout_ms is shorter applies). */
struct rf_shadow {
	char **argv;
	const char *capture;
	unsigned cpu_s;
	unsigned timeout_ms;
	unsigned realtime_pct; /* 0: RF_CONTENT_SHADOW_REALTIME_PCT */
};
RF_WUR int rf_content_shadow_run(const struct rf_shadow *s, const char *content_dir,
				 struct rf_content_err *e);

/* --- the store --------------------------------------------------------------- */
#define RF_CONTENT_STORE_DEFAULT "/var/lib/ringfence/content"

struct rf_install_opts {
	const char *store;       /* base directory; NULL: RF_CONTENT_STORE_DEFAULT */
	time_t now;              /* 0: time(NULL) */
	unsigned validate_timeout_ms; /* 0: RF_CONTENT_VALIDATE_TIMEOUT_MS */
	const struct rf_shadow *shadow; /* NULL: no shadow run (reported by the CLI) */
};

/* Per-client state, as kept in <store>/<client>/state. Slots are 'a' and 'b'; 0
 * means none. */
struct rf_content_state {
	char current_slot;
	uint64_t current_version;
	char good_slot;
	uint64_t good_version;
	uint64_t highest_version; /* highest content version ever activated */
	uint64_t targets_version; /* highest targets metadata version accepted */
	char type[RF_CONTENT_TYPE_MAX];
};

/* Install the trusted root into a store (first use, or a deliberate reset). */
int rf_content_store_init(const char *store, const uint8_t *root, size_t root_len);

/* Verify, extract to the inactive slot, validate (sandboxed), shadow-run, write
 * the attempting marker, activate. The known-good version is untouched. */
RF_WUR int rf_content_install(const char *bundle_path, const struct rf_install_opts *o,
			      struct rf_content_state *st, struct rf_content_err *e);

/* Read the state of CLIENT. -ENOENT when nothing is installed. */
int rf_content_state_read(const char *store, const char *client, struct rf_content_state *st);

/* Paths (into buf) of the payload directory of the current and of the last known
 * good version. -ENOENT when there is none. */
int rf_content_current(const char *store, const char *client, char *buf, size_t len);
int rf_content_last_good(const char *store, const char *client, char *buf, size_t len);

/* The supervisor calls this once the client ran healthy for its configured time
 * on the current version: current becomes known good, the marker is removed. */
int rf_content_mark_good(const char *store, const char *client);

/* Make the last known good version current again. -ENOENT when there is none,
 * -EALREADY when it already is current. */
int rf_content_rollback(const char *store, const char *client, struct rf_content_state *st);

/* At daemon start: remove leftovers of interrupted installs; count a start under
 * the attempting marker and roll back to last known good after
 * RF_CONTENT_ATTEMPTS_MAX starts that never reached mark_good. Sets *rolled_back. */
int rf_content_recover(const char *store, const char *client, bool *rolled_back);

/* Consistency check: state readable, each referenced slot complete and equal to
 * its recorded archive. */
RF_WUR int rf_content_check(const char *store, const char *client, struct rf_content_err *e);

/* Test-only crash points (RINGFENCE_CRASH_AT=step): SIGKILL ourselves at STEP. */
void rf_content_crash_point(const char *step);

/* Shared helpers */
int rf_content_err_set(struct rf_content_err *e, int code, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void rf_sha256(const uint8_t *buf, size_t len, uint8_t out[RF_SHA256_LEN]);
void rf_hex(const uint8_t *in, size_t n, char *out);
int rf_unhex(const char *in, uint8_t *out, size_t n);

#endif
