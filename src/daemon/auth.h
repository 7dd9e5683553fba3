/* SPDX-License-Identifier: MIT */
/*
 * auth.h: AUTH, permission requests from fanotify (FAN_OPEN_EXEC_PERM, FAN_OPEN_PERM)
 * on configured mounts, fanned out to the clients subscribed with RF_SUB_AUTH,
 * combined (any deny wins) and answered before a deadline whatever the clients do.
 * docs/auth.md describes the behaviour, the defaults and the self-exemption.
 *
 * Never blocks: the fanotify group and the timer are non-blocking fds in the
 * daemon's epoll set; a request is answered when the last asked client answered,
 * at its deadline (the missing clients get the default verdict), when a client
 * disconnects (its answers become the default at once), or when the table is full
 * (the default at once). rf_auth_free() answers everything still pending.
 */
#ifndef RF_AUTH_H
#define RF_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/broker.h"

enum rf_auth_miss_policy { RF_AUTH_MISS_DEMOTE = 1, RF_AUTH_MISS_DISCONNECT = 2 };

struct rf_auth_opts {
	const char *mounts[RF_AUTH_MARKS_MAX]; /* mount points to mark (FAN_MARK_MOUNT) */
	unsigned nmounts;
	const char *fail_closed[RF_AUTH_FAILCLOSED_MAX]; /* path prefixes: a miss denies */
	unsigned nfail_closed;
	uint32_t deadline_ms[2];  /* [0] exec, [1] open */
	bool default_deny;        /* default verdict for a missed answer (elsewhere) */
	bool no_cache;
	bool no_kcache;           /* no kernel-level cache (ignore marks); the daemon's stays */
	uint32_t miss_limit;      /* consecutive misses before the policy acts (0: never) */
	enum rf_auth_miss_policy miss_policy;
	pid_t exempt[4];          /* more pids never subject to AUTH (the supervisor) */
	unsigned nexempt;
};

struct rf_auth;

/* Create the fanotify group, mark opts->mounts and hook into b (b->auth). On failure
 * -errno and a one-line reason in err. */
int rf_auth_open(const struct rf_auth_opts *opts, struct rf_broker *b, struct rf_auth **ret,
		 char *err, size_t errlen);
/* Answer every pending request with its default verdict, unhook, close. Accepts NULL. */
void rf_auth_free(struct rf_auth *a);
int rf_auth_fanotify_fd(const struct rf_auth *a);
int rf_auth_timer_fd(const struct rf_auth *a);
/* The fanotify fd is readable: read and handle its events. */
void rf_auth_read(struct rf_auth *a);
/* The timer fired: apply the default verdict for every client past its deadline. */
void rf_auth_expire(struct rf_auth *a);

#endif
