/* SPDX-License-Identifier: MIT */
/*
 * supervisor.h: the daemon starts, sandboxes, watches and restarts the clients whose
 * manifests say `start = yes` (docs/supervisor.md).
 *
 * Each client runs as its own process: its own unprivileged user, no capabilities
 * (bounding set dropped, uid changed), no_new_privs, a seccomp allowlist, Landlock
 * (read-only: its content, its executable's directory, the system libraries; /tmp
 * private and writable), rlimits, a cgroup (v2; CPU and memory limits only where the
 * hierarchy has those controllers: detected and reported), a private /tmp in its own
 * mount namespace. Health is progress through the ring plus an optional heartbeat.
 * Crashes restart the client with exponential backoff; a crash loop rolls its content
 * back to the last known good version once, and quarantines it if it still crashes.
 *
 * Single-threaded, driven from daemon.c: rf_sup_tick() every RF_SUP_TICK_MS and
 * rf_sup_reap() on SIGCHLD.
 */
#ifndef RF_SUPERVISOR_H
#define RF_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/broker.h"

#define RF_SUP_TICK_MS 50

struct rf_sensor;

enum rf_sup_state {
	RF_SUP_NONE = 0,        /* not started by the daemon */
	RF_SUP_RUNNING = 1,
	RF_SUP_BACKOFF = 2,     /* waiting to be restarted */
	RF_SUP_QUARANTINED = 3, /* crash loop survived a rollback: not restarted */
	RF_SUP_STOPPED = 4,     /* safe mode: third-party client not started */
};

struct rf_sup_client {
	char name[RF_CLIENT_NAME_MAX];
	enum rf_sup_state state;
	pid_t pid;               /* 0: not running */
	uid_t uid;
	gid_t gid;
	uint64_t started_ns, next_start_ns, backoff_ms;
	uint64_t crash_ns[64];   /* recent crashes (ring) */
	uint32_t ncrash;         /* entries used in crash_ns */
	uint32_t restarts, crashes, crash_loops, rollbacks, stalls;
	int last_signal, last_exit;
	bool healthy, marked_good, rolled_back, kill_sent;
	bool content_restart;    /* killed to run new content: not a crash */
	bool installing;         /* the fleet agent installs content for it: no mark-good
				  * until rf_sup_content_changed() (the store's current may
				  * already be the new, unproven version) */
	uint64_t healthy_ns;     /* when it became healthy this run */
	uint64_t first_crash_ns; /* first crash since it was last healthy; 0 none */
	uint64_t recover_ms;     /* last first crash -> healthy again */
	uint64_t last_tail, progress_ns;
	uint64_t progress_wait_ns; /* run-queue wait (schedstat) when progress stopped; 0 unread */
	uint32_t incidents;      /* refused actions reported (incident.h) */
	uint32_t incidents_logged; /* in the current minute */
	uint64_t incident_minute_ns;
	bool at_fd_limit;        /* last sample: at its descriptor limit */
	int notify_fd;           /* seccomp listener for its opens (incident.c); -1 none */
	char last_open_incident[256]; /* last path reported from an open, to merge ... */
	uint64_t last_open_incident_ns; /* ... the Landlock audit record of the same denial */
	char why_kill[48];
	char cgroup[256];        /* "" when not in a cgroup of ours */
	char content[4096];      /* content directory passed this run */
};

struct rf_supervisor {
	struct rf_broker *b;
	struct rf_sensor *sensor; /* NULL unless the live sensor runs */
	const char *sock_path;
	struct rf_sup_client *v;
	size_t n;
	bool safe_mode;
	int landlock_abi;          /* 0: none */
	bool cg_ok, cg_cpu, cg_mem;
	char cg_base[256];         /* our cgroup directory ("" none) */
	uint64_t crashes_total;
	/* incidents (incident.c): Landlock audit records of our clients' domains */
	int audit_fd;              /* -1: no audit */
	int notify_ep;             /* epoll set of the clients' seccomp listeners; -1 none */
	struct { uint64_t domain; pid_t pid; } domains[RF_SUP_LANDLOCK_DOMAINS];
	unsigned ndomains_next;
	struct { uint64_t serial, domain; char blockers[96], path[256]; } pending[RF_SUP_AUDIT_PENDING];
	unsigned npending_next;
	unsigned fd_sample_ticks;
};

/* Set up: detect Landlock and cgroup v2 (and log what will and will not be applied),
 * create the auto users, and schedule every `start = yes` client to start now. In
 * safe mode only `vendor = platform` clients are started and every content is rolled
 * back to last known good. Returns 0 or -errno (a client whose user cannot be made is
 * quarantined, not an error). */
int rf_sup_init(struct rf_supervisor *s, struct rf_broker *b, struct rf_sensor *sensor,
		const char *sock_path, bool safe_mode);
/* Start what is due, watch health (stall, heartbeat, start timeout), mark good. */
void rf_sup_tick(struct rf_supervisor *s);
/* Reap exited children (SIGCHLD): count, back off, roll back, quarantine. */
void rf_sup_reap(struct rf_supervisor *s);
/* Stop every client (SIGTERM, then SIGKILL after RF_SUP_KILL_GRACE_MS), remove our
 * cgroups. Accepts a supervisor that was never initialised (zeroed). */
void rf_sup_fini(struct rf_supervisor *s);
/* After SIGHUP replaced the manifests: give auto users their uid again. Clients
 * added with `start = yes` are started only by a restart of the daemon (not done). */
void rf_sup_reload(struct rf_supervisor *s);
/* New content was installed for NAME (the fleet agent): a running client is stopped
 * and started again at once on it, without counting a crash or a restart; a client in
 * back-off or quarantine is started now (the new content may be the fix), with a
 * fresh crash-loop window and rollback. -ENOENT when NAME is not supervised. */
int rf_sup_content_changed(struct rf_supervisor *s, const char *name);
/* The supervised client named name, or NULL. */
struct rf_sup_client *rf_sup_find(struct rf_supervisor *s, const char *name);
/* Whether the sandbox of client K grants any access to the absolute, normalised PATH
 * (the Landlock rules of supervisor.c, as a list of prefixes). */
bool rf_sup_sandbox_allows(struct rf_supervisor *s, const struct rf_sup_client *k,
			   const char *path);
/* Sandbox features in use, RF_STATUS_* bits. */
uint32_t rf_sup_features(const struct rf_supervisor *s);

#endif
