/* SPDX-License-Identifier: MIT */
/* server.h: `ringfence fleet serve`: HTTP (libmicrohttpd) around the core. */
#ifndef RF_FLEET_SERVER_H
#define RF_FLEET_SERVER_H

#include <signal.h>
#include <stdint.h>

#include "fleet/fleet.h"

struct rf_fleet_serve_opts {
	const char *listen;       /* "ADDR:PORT" (port 0: any free one) */
	const char *repo;         /* the static repository directory (scanned for releases) */
	const char *store_url;    /* see rf_fleet_store_open; NULL: no persistence */
	const char *admin_token;  /* required as "Authorization: Bearer TOKEN" by /v1/admin/ */
	const char *targets_key;  /* secret key file to sign rollback versions; NULL: none */
	const char *port_file;    /* write the bound port here once listening (tests) */
	unsigned threads;         /* HTTP worker threads (0: number of CPUs) */
	unsigned expires_days;    /* expiry of rollback targets metadata */
	unsigned scan_s;          /* repository rescan interval */
	struct rf_fleet_config cfg;
};

/* Runs until *stop becomes non-zero. Returns 0 or -errno (logged). */
int rf_fleet_serve(const struct rf_fleet_serve_opts *o, volatile sig_atomic_t *stop);

/* Status JSON (the web page's data), into a malloc'ed string. REFUSED (may be NULL):
 * HTTP refusals counted by status 400, 401, 409, 413, 503 and other. */
char *rf_fleet_status_json(struct rf_fleet_core *fc, int64_t now, double reports_per_s,
			   const char *store_kind, const uint64_t *refused);

/* The web page (static HTML, no external assets). */
extern const char rf_fleet_page_html[];

/* Publication (publish.c). */
/* Copy the bundle at PATH into REPO/targets/CLIENT/VERSION.rfb atomically (temp
 * name, fsync, link: an existing version is never replaced). When REPO/root.rfm
 * exists the bundle must verify against it. Fills client and version. */
int rf_fleet_publish(const char *repo, const char *path, char client[RF_FLEET_CLIENT_NAME_MAX],
		     uint64_t *version, char *err, size_t errlen);
/* Publish NEW_VERSION of CLIENT carrying FROM_VERSION's payload, signed with SK. */
int rf_fleet_publish_rollback(const char *repo, const char *client, uint64_t from_version,
			      uint64_t new_version, const uint8_t sk[64], unsigned expires_days,
			      int64_t now, char *err, size_t errlen);
/* List REPO's bundles: calls CB for each targets/CLIENT/VERSION.rfb that verifies
 * against REPO/root.rfm (when present), with its sha256 hex. */
typedef void (*rf_fleet_scan_cb)(void *ctx, const char *client, uint64_t version,
				 const char *sha256hex);
int rf_fleet_repo_scan(const char *repo, int64_t now, rf_fleet_scan_cb cb, void *ctx);

#endif
