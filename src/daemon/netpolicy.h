/* SPDX-License-Identifier: MIT */
/*
 * netpolicy.h: network deny rules of AUTH clients, enforced in the kernel by the
 * platform's own cgroup sock_addr programs (bpf/netpolicy.bpf.c: connect4/6,
 * bind4/6) attached to the cgroup v2 root; blocked attempts are reported as
 * net_blocked events. Rules are validated and bounded (limits.h) and live as long
 * as the client's connection. docs/auth.md describes them.
 */
#ifndef RF_NETPOLICY_H
#define RF_NETPOLICY_H

#include "daemon/broker.h"

struct rf_netpolicy;

/* Load and attach the programs (cgroup: the cgroup v2 directory, NULL: the root of
 * the first cgroup2 mount) and hook into b. -errno and a reason in err. */
int rf_netpolicy_open(struct rf_broker *b, const char *cgroup, struct rf_netpolicy **ret,
		      char *err, size_t errlen);
/* Detach, unhook, free. Accepts NULL. */
void rf_netpolicy_free(struct rf_netpolicy *np);
/* The ring buffer of blocked attempts: poll it and call rf_netpolicy_read. */
int rf_netpolicy_fd(const struct rf_netpolicy *np);
void rf_netpolicy_read(struct rf_netpolicy *np);

#endif
