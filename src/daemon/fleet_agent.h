/* SPDX-License-Identifier: MIT */
/*
 * fleet_agent.h: the endpoint side of fleet rollout (docs/fleet.md, "Endpoint agent").
 *
 * Inside `ringfence daemon --fleet URL --fleet-repo URL`: reports signed health to the
 * controller (POST URL/v1/report) every poll interval with jitter, and installs the
 * content versions the controller assigns (downloaded from the static repository,
 * installed by rf_content_install() in a forked child), after which the supervisor
 * restarts the client on the new content.
 *
 * Never blocks the daemon's loop: HTTP is libcurl's multi interface driven by
 * curl_multi_socket_action() from the agent's own epoll set, whose one fd the daemon
 * adds to its loop (rf_fleet_fd, rf_fleet_run). The download is kept in memory; the
 * child writes it to the state directory, checks its sha256 and installs it (verify,
 * extract, validate in a sandbox, shadow run, activate) while the loop goes on; the
 * result comes back on a pipe in the same epoll set. The child is reaped by the
 * supervisor's waitpid(-1) (its exit status is not needed: the pipe carries the
 * result, and a child that dies without writing one is a failed install).
 */
#ifndef RF_FLEET_AGENT_H
#define RF_FLEET_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rf_supervisor;
struct rf_fleet;

struct rf_fleet_opts {
	const char *url;       /* controller base URL (http:// or https://) */
	const char *repo;      /* static repository base URL */
	const char *host;      /* host id; NULL: /etc/machine-id */
	const char *state_dir; /* fleet.sec, fleet.pub, fleet.seq live here */
	unsigned poll_s;       /* until the controller names one; 0: RF_FLEET_POLL_DEFAULT_S */
	bool internal;         /* an internal host (canary first) */
	bool no_install;       /* safe mode: report, but install nothing */
};

/*
 * ATTESTATION HOOK (issue 10). NULL until an attestation module is linked and sets
 * it. Called before each report with the nonce of the previous response (raw bytes,
 * nonce_len 0 for the first report). Returns 0 and a malloc'ed NUL-terminated base64
 * string in *b64 (the agent frees it; it goes into the report's "attestation"), or
 * -errno: the report then goes without an attestation and the error is logged.
 */
extern int (*rf_fleet_attest_hook)(const uint8_t *nonce, size_t nonce_len, char **b64);

/* Read or create the endpoint key, set up curl and the agent's epoll set. The first
 * report goes out at once. -errno and a one-line reason in err. */
int rf_fleet_open(const struct rf_fleet_opts *o, struct rf_supervisor *sup, struct rf_fleet **ret,
		  char *err, size_t errlen);
/* The fd the daemon's epoll set watches (EPOLLIN); call rf_fleet_run when it fires. */
int rf_fleet_fd(const struct rf_fleet *f);
void rf_fleet_run(struct rf_fleet *f);
/* Abort transfers, kill an install in progress, free. Accepts NULL. */
void rf_fleet_free(struct rf_fleet *f);

#endif
