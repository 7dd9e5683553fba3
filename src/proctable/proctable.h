/* SPDX-License-Identifier: MIT */
/*
 * proctable.h: the user-space process table that enriches events.
 *
 * Keyed by the process key (pid, start time): an entry is found only by the process
 * it was made for, never by a later process that reuses the pid. Bootstrapped from
 * /proc, then kept current from fork, exec and exit events. Bounded: at most
 * RF_PROC_TABLE_MAX entries; exited processes stay RF_PROC_EXITED_TTL_NS for late
 * lookups (a child's exec after its parent exited) and are then removed.
 *
 * Start times read from /proc have clock-tick resolution (10 ms); entries made from
 * them match a sensor start time at that resolution.
 */
#ifndef RF_PROCTABLE_H
#define RF_PROCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rf_proc {
	uint32_t pid, ppid, uid;
	uint64_t start_ns;        /* boot-time ns */
	uint64_t parent_start_ns; /* 0 when unknown */
	uint64_t exited_ns;       /* 0 while running */
	/* the table's strings, shared between entries (read-only to callers); never NULL */
	char *exe;                /* "" when unknown */
	char *cmdline;            /* argv joined with spaces */
	char *cgroup;             /* cgroup v2 leaf name */
	bool coarse;              /* start_ns came from /proc (tick resolution) */
};

struct rf_proctable_stats {
	uint64_t entries, live, bootstrapped, evicted, full, expired;
};

struct rf_proctable;

/* max: entries at most (0: RF_PROC_TABLE_MAX). NULL when out of memory. */
struct rf_proctable *rf_proctable_new(unsigned max);
struct rf_proctable *rf_proctable_free(struct rf_proctable *t);

/* Add every process found under procfs (normally "/proc"). Returns the number
 * added or -errno. */
int rf_proctable_bootstrap(struct rf_proctable *t, const char *procfs);

/* The process with this key (start_ns 0: the newest entry for pid), or NULL.
 * The pointer is valid until the next call that changes the table. */
struct rf_proc *rf_proctable_lookup(struct rf_proctable *t, uint32_t pid, uint64_t start_ns);

/* Record a fork: the child starts as a copy of the parent (exe, cmdline, uid). */
int rf_proctable_fork(struct rf_proctable *t, uint32_t ppid, uint64_t pstart, uint32_t pid,
		      uint64_t start_ns);
/* Record an exec: creates the entry if needed, replaces exe, cmdline, uid, cgroup. */
int rf_proctable_exec(struct rf_proctable *t, const struct rf_proc *p);
/* Record an exit at now_ns (boot-time ns). */
void rf_proctable_exit(struct rf_proctable *t, uint32_t pid, uint64_t start_ns, uint64_t now_ns);
/* Remove entries that exited more than RF_PROC_EXITED_TTL_NS before now_ns. */
void rf_proctable_expire(struct rf_proctable *t, uint64_t now_ns);
void rf_proctable_stats(const struct rf_proctable *t, struct rf_proctable_stats *st);

/* Clock ticks to ns, as /proc/PID/stat's starttime is converted. */
uint64_t rf_proctable_ticks_to_ns(uint64_t ticks);

#endif
