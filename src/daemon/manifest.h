/* SPDX-License-Identifier: MIT */
/*
 * manifest.h: client manifests, CONFIG/clients.d/NAME.conf (docs/client-api.md).
 *
 *   # comment
 *   name = rf-detect                      # required; [A-Za-z0-9._-], < RF_CLIENT_NAME_MAX
 *   executable = /usr/lib/ringfence/rf-detect   # required; absolute; checked against
 *                                         # /proc/PID/exe of the connecting peer
 *   user = rf-detect                      # required; name or numeric uid of the peer
 *   classes = process_exec, process_fork  # entitled classes by name, or *
 *   modes = notify                        # notify and/or auth
 *   ring_size = 4M                        # ring data area (K/M suffix), rounded up
 *                                         # to a power of two; default RF_RING_DEFAULT
 * Supervisor (docs/supervisor.md): the daemon starts the client itself when
 *   start = yes                           # default no
 *   user = auto                           # with start: run as ringfence-NAME, created if absent
 *   args = --flag {content}               # split at spaces; {content} and {socket} replaced
 *   content = DIR                         # DIR/current and DIR/last-good (dirs or symlinks)
 *   content_store = STORE                 # or: the content store (src/content), client NAME
 *   memory = 512M  nofile = 64  nproc = 8  cpu = 100   # limits (cpu: percent of one CPU)
 *   stall_timeout = 5                     # s without progress while events are pending
 *   heartbeat = 0                         # s between heartbeats the client must send; 0 off
 *   crash_loop = 3/60                     # crashes/seconds that make a crash loop
 *   healthy_after = 5                     # s of healthy running before content is marked good
 *   syscalls = name, name                 # added to the seccomp allowlist
 *   shadow = CMD ARGS {content} {capture} # shadow run of fleet installs (content_store)
 *   shadow_capture = FILE                 # ... on this capture file (default: the
 *                                         # daemon's recording of recent events)
 *   vendor = platform                     # platform clients still run in safe mode
 */
#ifndef RF_MANIFEST_H
#define RF_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "ringfence/limits.h"

struct rf_manifest {
	char name[RF_CLIENT_NAME_MAX];
	char exe[RF_PATH_MAX];
	uid_t uid;
	uint64_t classes;    /* bit (1 << class id) */
	uint32_t modes;      /* RF_SUB_* */
	uint32_t ring_bytes; /* power of two */
	/* supervisor */
	bool start;          /* the daemon starts and watches this client */
	bool auto_user;      /* user = auto: ringfence-NAME, uid resolved by the supervisor */
	bool platform;       /* vendor = platform: runs in safe mode */
	char args[RF_SUP_ARGS_MAX];
	char content[RF_PATH_MAX];       /* stand-in content dir ("" none) */
	char content_store[RF_PATH_MAX]; /* content store ("" none) */
	char syscalls[RF_SUP_SYSCALLS_MAX];
	char shadow[RF_SUP_ARGS_MAX];    /* shadow command for fleet installs ("" none) */
	char shadow_capture[RF_PATH_MAX]; /* its capture file */
	uint64_t mem_bytes;
	uint32_t nofile, nproc, cpu_pct;
	uint32_t stall_s, heartbeat_s, loop_crashes, loop_window_s, healthy_s;
};

struct rf_manifests {
	struct rf_manifest *v;
	size_t n;
};

/* Parse one manifest (len bytes of text, not NUL-terminated). Returns 0, or -EINVAL
 * with "line N: what is wrong" in err. Users are resolved with getpwnam(). */
int rf_manifest_parse(const char *text, size_t len, struct rf_manifest *m, char *err,
		      size_t errlen);
/* Read DIR/clients.d/ *.conf (a missing clients.d is no manifests). Two manifests
 * with one name, or any bad file: -EINVAL and "FILE: line N: ..." in err. */
int rf_manifests_load(const char *dir, struct rf_manifests *out, char *err, size_t errlen);
const struct rf_manifest *rf_manifests_find(const struct rf_manifests *ms, const char *name);
void rf_manifests_free(struct rf_manifests *ms);

#endif
