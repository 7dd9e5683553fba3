/* SPDX-License-Identifier: MIT */
/* procfs.h: small readers of /proc shared by the process table and the fallback sensor. */
#ifndef RF_PROCFS_H
#define RF_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read a small file whole (name relative to dirfd; AT_FDCWD for a plain path) into
 * buf, NUL-terminated. Returns the bytes read or -1. */
ssize_t rf_read_small(int dirfd, const char *name, char *buf, size_t sz);
/* ppid and starttime (clock ticks since boot) from a /proc/PID directory; the comm
 * field may hold spaces and ')'. Returns 0 or -1. */
int rf_procfs_stat(int piddirfd, uint32_t *ppid, uint64_t *start_ticks);
/* The last component of the cgroup v2 path in a /proc/PID directory's cgroup file
 * into out ("" when none). */
void rf_procfs_cgroup_leaf(int piddirfd, char *out, size_t outsz);
/* Nanoseconds process pid's main thread has spent runnable but waiting for a CPU
 * (second field of /proc/PID/schedstat). Returns 0 when unknown. */
uint64_t rf_procfs_runq_wait_ns(pid_t pid);

#endif
