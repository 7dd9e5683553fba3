/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * netpolicy_bpf.h: shared by bpf/netpolicy.bpf.c and src/daemon/netpolicy.c: one deny
 * rule as the kernel matches it, and the record of a blocked attempt. Constants and
 * structs only.
 */
#ifndef RF_NETPOLICY_BPF_H
#define RF_NETPOLICY_BPF_H

#include "ringfence/limits.h"

#define RF_NETDIR_CONNECT 0x1
#define RF_NETDIR_BIND    0x2

struct rf_netrule_k {
	__u8 addr[16];  /* IPv6, or IPv4 as v4-mapped (::ffff:a.b.c.d); bits past prefix are 0 */
	__u8 prefix;    /* 0..128 (an IPv4 /n is 96 + n) */
	__u8 protocol;  /* 0 any, 6 TCP, 17 UDP */
	__u8 dir;       /* RF_NETDIR_* */
	__u8 used;      /* 0: an empty slot */
	__u16 port;     /* host order; 0 any */
	__u16 pad;
	__u32 id;       /* rule id, reported with a block */
};
_Static_assert(sizeof(struct rf_netrule_k) == 28, "netrule layout");

struct rf_netblock_k {
	__u64 ts_ns;    /* bpf_ktime_get_boot_ns */
	__u32 pid, tid, uid;
	__u32 rule_id;
	__u8 addr[16];
	__u16 port;     /* host order */
	__u8 protocol, dir;
	__u16 family;
	__u16 pad;
	char comm[16];
};

#endif
