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
 */
#ifndef RF_MANIFEST_H
#define RF_MANIFEST_H

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
