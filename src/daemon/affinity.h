/* SPDX-License-Identifier: MIT */
/* `ringfence daemon --cpu N`: pin the daemon to one CPU, so that a client that opens
 * with RF_CLIENT_NEAR_DAEMON can run on the same CPU and be handed each batch without
 * an inter-processor wake-up (docs/client-api.md, "Latency"). */
#ifndef RF_DAEMON_AFFINITY_H
#define RF_DAEMON_AFFINITY_H

#include <stddef.h>

/* Parse ARG (a CPU number), check that the daemon may run there, remember the CPUs it
 * may run on now and pin the calling thread (threads it creates later inherit). Returns
 * the CPU, or -EDOM (bad number, not one of the allowed CPUs) or -errno with a reason
 * in err. */
int rf_affinity_pin(const char *arg, char *err, size_t errlen);

/* In a child process the daemon forked (supervised clients, installers): give back the
 * CPUs the daemon was started with. Nothing when the daemon is not pinned. */
void rf_affinity_restore(void);

#endif
