/* SPDX-License-Identifier: MIT */
/*
 * fleet.h: the rollout controller (docs/fleet.md).
 *
 * The core (core.c) is pure: no I/O, no clock, no threads. Every function takes the
 * time NOW explicitly, so `ringfence fleet serve` (server.c, wall clock) and
 * `ringfence fleet sim` (sim.c, simulated clock) run exactly the same decisions.
 * The caller serialises calls (the server holds one mutex around the core).
 *
 * Endpoints live in an open hash table by host id. Per ring the core keeps
 * incremental counters (size, reported and failing hosts in the current and the
 * previous health epoch, hosts running the target), so a gate decision is O(1)
 * and a report is O(clients).
 */
#ifndef RF_FLEET_H
#define RF_FLEET_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "ringfence/limits.h"

#define RF_FLEET_CLIENT_NAME_MAX 32
#define RF_FLEET_RELEASES_MAX 64 /* releases remembered per track (newest kept) */
#define RF_FLEET_EVENTS_MAX 64   /* decisions kept in memory for the web page */
#define RF_FLEET_TRACKS_MAX 4    /* clients the controller rolls out (one rollout at a time) */

enum rf_fleet_ring {
	RF_RING_CANARY = 0,
	RF_RING_EARLY = 1,
	RF_RING_BROAD = 2,
	RF_RING_HOLDBACK = 3, /* the tail of broad that stays behind as broad's control */
	RF_RING_NONE = 0xff,
};

enum rf_fleet_stage {
	RF_STAGE_IDLE = 0,  /* every ring runs the stable version */
	RF_STAGE_CANARY,    /* target open to the canary ring */
	RF_STAGE_EARLY,     /* ... and to early */
	RF_STAGE_BROAD,     /* ... and to broad (holdback is the control) */
	RF_STAGE_HALTED,    /* gate failed: waiting for the rollback version to be published */
	RF_STAGE_ROLLBACK,  /* rollback version (N+1, old content) open to every ring */
};

enum rf_fleet_cstate {
	RF_CS_RUNNING = 0, RF_CS_INSTALLING, RF_CS_INSTALL_FAILED, RF_CS_CRASH_LOOP,
	RF_CS_QUARANTINED, RF_CS_STOPPED,
};

struct rf_fleet_config {
	unsigned poll_s;           /* report interval told to agents (default 60) */
	unsigned silence_polls;    /* silent this many intervals: failing (3); also the epoch */
	double canary_pct;         /* canary ring, percent of the fleet by hash (1.0) */
	double canary_max_pct;     /* hosts given the target in the canary stage, at most (1.0) */
	double early_pct;          /* early ring (10.0) */
	double holdback_pct;       /* broad's control group, kept on the old version (2.0) */
	unsigned bake_s[3];        /* canary, early, broad (1800, 3600, 3600) */
	double margin;             /* halt when ring rate > control rate + margin (0.02) */
	double adopt_pct;          /* ring hosts on the target before it advances (90) */
	unsigned min_epochs;       /* complete health epochs inside a stage before it advances (1) */
	unsigned auth_miss_limit;  /* AUTH deadline misses per report above this: failing (0) */
	unsigned rollback_bake_s;  /* rollback stage length at most (600) */
	bool internal_canary;      /* internal hosts go to the canary ring (true) */
	uint8_t salt[16];          /* ring hash key (SipHash); fixed per fleet */
};

void rf_fleet_config_default(struct rf_fleet_config *c);
/* Parse a "key = value" config file (docs/fleet.md); err gets "line N: why". */
int rf_fleet_config_load(const char *path, struct rf_fleet_config *c, char *err, size_t errlen);

/* --- one parsed report (report.c) --------------------------------------------- */
struct rf_fleet_client_report {
	char client[RF_FLEET_CLIENT_NAME_MAX];
	uint64_t version, good_version;
	int state; /* enum rf_fleet_cstate */
	uint32_t crashes, restarts, rollbacks;
};

struct rf_fleet_report {
	unsigned v;
	char host[RF_FLEET_HOST_MAX + 1];
	uint8_t key[32];
	uint64_t seq;
	int64_t time;
	bool internal;
	unsigned nclients;
	struct rf_fleet_client_report clients[RF_FLEET_CLIENTS_MAX];
	uint32_t auth_misses;
	uint64_t drops;
	double cpu_pct;
	uint64_t uptime_s;
	bool have_nonce;
	uint8_t nonce[16];
	bool have_attestation;
	const char *attestation; /* base64 quote (points into the body), attestation_len bytes */
	size_t attestation_len;
	bool attest_failed;      /* set by the server: an attestation policy is set and the quote
				  * is missing or does not verify over the nonce it was given */
};

/* Parse a report body (untrusted). Returns 0, or -EINVAL with "why" in err. */
__attribute__((warn_unused_result)) int rf_fleet_report_parse(const char *body, size_t len,
							      struct rf_fleet_report *r,
							      char *err, size_t errlen);
/* Check the X-Ringfence-Signature hex against body and r->key. */
__attribute__((warn_unused_result)) int rf_fleet_report_verify(const char *body, size_t len,
							       const uint8_t key[32],
							       const char *sighex);
/* Session MAC (docs/fleet.md): HMAC-SHA-256 over the same context and body. */
void rf_fleet_report_mac(const char *body, size_t len, const uint8_t key[32], uint8_t mac[32]);
/* Sign a report body (agents, tests, load generator): 128 hex chars + NUL. */
void rf_fleet_report_sign(const char *body, size_t len, const uint8_t sk[64], char out[129]);

/* --- the core --------------------------------------------------------------- */
struct rf_fleet_release {
	uint64_t version;
	uint64_t rollback_of; /* a rollback release carries this version's content */
	char sha256[65];      /* hex of the bundle file (download check), may be empty */
};

struct rf_fleet_event {
	int64_t time;
	char text[160];
};

/* What the core wants the caller to do after a call (the core does no I/O). */
struct rf_fleet_action {
	bool publish_rollback;     /* publish VERSION carrying ROLLBACK_OF's content */
	char client[RF_FLEET_CLIENT_NAME_MAX];
	uint64_t version, rollback_of;
};

struct rf_fleet_assign {
	char client[RF_FLEET_CLIENT_NAME_MAX];
	uint64_t version;
	const char *sha256;
};

struct rf_fleet_answer {
	int ring;
	unsigned poll_s;
	unsigned nassign;
	struct rf_fleet_assign assign[RF_FLEET_CLIENTS_MAX];
};

struct rf_fleet_ring_stats {
	uint32_t size;              /* hosts in the ring (pinned ones excluded) */
	uint32_t reported, failing; /* current epoch */
	uint32_t prev_size, prev_reported, prev_failing; /* last complete epoch */
	uint32_t on_target;         /* hosts running the track in rollout's target */
};

struct rf_fleet_track_info {
	char client[RF_FLEET_CLIENT_NAME_MAX];
	int stage;
	uint64_t stable, target, bad, highest;
	int64_t stage_start, rollout_start, halt_time, done_time;
	uint32_t canary_given, on_bad;
	unsigned nversions;
	struct { uint64_t version; uint32_t hosts; } versions[16]; /* hosts per running version */
	char reason[200];
};

struct rf_fleet_core;

int rf_fleet_core_new(const struct rf_fleet_config *c, struct rf_fleet_core **ret);
void rf_fleet_core_free(struct rf_fleet_core *fc);
const struct rf_fleet_config *rf_fleet_core_config(const struct rf_fleet_core *fc);

/* A release is in the repository. Starts a rollout on the next tick when it is the
 * newest and above the stable version. A track's first release becomes its stable
 * version. -ENOSPC beyond RF_FLEET_CLIENTS_MAX tracks. */
int rf_fleet_core_release(struct rf_fleet_core *fc, const struct rf_fleet_release *rel,
			  const char *client, int64_t now);

/* The result of one report. status: 0 accepted, -EKEYREJECTED other key (409),
 * -ESTALE sequence not above the last (409), -ENOSPC too many hosts (503). */
int rf_fleet_core_report(struct rf_fleet_core *fc, const struct rf_fleet_report *r,
			 int64_t now, struct rf_fleet_answer *ans);

/* Time passes: epochs roll, gates are evaluated, stages advance or halt. Cheap;
 * call every second (server) or every few simulated seconds. */
void rf_fleet_core_tick(struct rf_fleet_core *fc, int64_t now, struct rf_fleet_action *act);

/* Operator controls. ring RF_RING_NONE removes an override; version 0 removes a pin. */
int rf_fleet_core_override(struct rf_fleet_core *fc, const char *host, int ring);
int rf_fleet_core_pin(struct rf_fleet_core *fc, const char *host, const char *client,
		      uint64_t version);
/* Restore a host from the store (key, sequence, internal flag, running versions as
 * "client:version,..." of tracks already restored; may be NULL) before serving. */
int rf_fleet_core_restore_host(struct rf_fleet_core *fc, const char *host, const uint8_t key[32],
			       uint64_t seq, bool internal, int64_t last_seen, const char *running);
/* Restore a track's state from the store. */
int rf_fleet_core_restore_track(struct rf_fleet_core *fc, const struct rf_fleet_track_info *t);

/* Views for the status page and the simulator. */
unsigned rf_fleet_core_ntracks(const struct rf_fleet_core *fc);
void rf_fleet_core_track(const struct rf_fleet_core *fc, unsigned i, struct rf_fleet_track_info *t);
void rf_fleet_core_ring(const struct rf_fleet_core *fc, int ring, struct rf_fleet_ring_stats *s);
uint32_t rf_fleet_core_nhosts(const struct rf_fleet_core *fc);
/* Decisions logged since *cursor (0: all still kept); advances *cursor. */
unsigned rf_fleet_core_events(const struct rf_fleet_core *fc, uint64_t *cursor,
			      struct rf_fleet_event *out, unsigned max);
/* Counters: reports accepted, refused for key, for sequence. */
void rf_fleet_core_counters(const struct rf_fleet_core *fc, uint64_t *accepted,
			    uint64_t *key_conflicts, uint64_t *seq_conflicts);
/* Reports that counted as failing because their attestation was missing or did not
 * verify (a host's first report is exempt and not counted). */
uint64_t rf_fleet_core_attest_failed(const struct rf_fleet_core *fc);

/* Dirty hosts since the last call (for the store): calls CB per host, then clears. */
struct rf_fleet_host_row {
	const char *host;
	const uint8_t *key;
	uint64_t seq;
	int64_t last_seen;
	bool internal;
	int ring;
	const char *running; /* "client:version,..." */
	bool failing;
};
typedef void (*rf_fleet_row_cb)(void *ctx, const struct rf_fleet_host_row *row);
unsigned rf_fleet_core_drain_dirty(struct rf_fleet_core *fc, rf_fleet_row_cb cb, void *ctx,
				   unsigned max);

/* The ring a host id hashes to (no overrides): for tests and the simulator. */
int rf_fleet_ring_of(const struct rf_fleet_config *c, const char *host, bool internal);
const char *rf_fleet_ring_name(int ring);
int rf_fleet_ring_parse(const char *name);
const char *rf_fleet_stage_name(int stage);

/* Response body of /v1/report: returns its length or -ENOSPC. */
int rf_fleet_answer_json(const struct rf_fleet_answer *a, const uint8_t nonce[16], char *out,
			 size_t outsz);

#endif
