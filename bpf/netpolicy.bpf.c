// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * netpolicy.bpf.c: the network deny rules of AUTH clients, enforced in the kernel
 * without asking user space: cgroup sock_addr programs (connect4/6, bind4/6)
 * attached to the cgroup v2 root by src/daemon/netpolicy.c. A connect or bind that
 * matches a rule fails with EPERM and is reported through the ring buffer `blocks`.
 * Rules: an array of RF_NETRULES_MAX slots the daemon fills (validated and bounded
 * there); rf_nrules says how many are in use, so the loop stops early.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "netpolicy_bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define AF_INET 2
#define AF_INET6 10

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RF_NETRULES_MAX);
	__type(key, __u32);
	__type(value, struct rf_netrule_k);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} blocks SEC(".maps");

__u32 rf_nrules = 0;     /* slots 0..rf_nrules-1 may be in use */
__u64 rf_blocked = 0;    /* attempts blocked */
__u64 rf_unreported = 0; /* blocks the ring buffer had no room for */

static __always_inline int prefix_match(const __u8 *a, const __u8 *r, __u32 prefix)
{
	__u32 i;

	for (i = 0; i < 16; i++) {
		__u32 bits = prefix > i * 8 ? prefix - i * 8 : 0;
		__u8 mask;

		if (!bits)
			break;
		mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));
		if ((a[i] & mask) != r[i])
			return 0;
	}
	return 1;
}

struct match_ctx {
	const __u8 *addr;
	__u16 port;
	__u8 protocol, dir;
	__u32 hit; /* rule id + 1, 0: none */
};

static long match_one(__u32 i, void *vctx)
{
	struct match_ctx *m = vctx;
	struct rf_netrule_k *r;
	__u32 k = i;

	r = bpf_map_lookup_elem(&rules, &k);
	if (!r)
		return 1;
	if (!r->used || !(r->dir & m->dir))
		return 0;
	if (r->protocol && r->protocol != m->protocol)
		return 0;
	if (r->port && r->port != m->port)
		return 0;
	if (!prefix_match(m->addr, r->addr, r->prefix))
		return 0;
	m->hit = r->id + 1;
	return 1;
}

static __always_inline int check(struct bpf_sock_addr *ctx, const __u8 *addr, __u16 family,
				 __u8 dir)
{
	struct match_ctx m = {.addr = addr, .dir = dir};
	struct rf_netblock_k *b;
	__u32 n = rf_nrules;

	m.port = bpf_ntohs((__u16)ctx->user_port);
	m.protocol = (__u8)ctx->protocol;
	if (n > RF_NETRULES_MAX)
		n = RF_NETRULES_MAX;
	if (!n)
		return 1;
	bpf_loop(n, match_one, &m, 0);
	if (!m.hit)
		return 1;
	__sync_fetch_and_add(&rf_blocked, 1);
	b = bpf_ringbuf_reserve(&blocks, sizeof(*b), 0);
	if (!b) {
		__sync_fetch_and_add(&rf_unreported, 1);
		return 0;
	}
	b->ts_ns = bpf_ktime_get_boot_ns();
	__u64 pt = bpf_get_current_pid_tgid();
	b->pid = (__u32)(pt >> 32);
	b->tid = (__u32)pt;
	b->uid = (__u32)bpf_get_current_uid_gid();
	b->rule_id = m.hit - 1;
	__builtin_memcpy(b->addr, addr, 16);
	b->port = m.port;
	b->protocol = m.protocol;
	b->dir = dir;
	b->family = family;
	b->pad = 0;
	bpf_get_current_comm(b->comm, sizeof(b->comm));
	bpf_ringbuf_submit(b, 0);
	return 0; /* the syscall fails with EPERM */
}

static __always_inline int check4(struct bpf_sock_addr *ctx, __u8 dir)
{
	__u8 a[16] = {};
	__u32 ip = ctx->user_ip4;

	a[10] = 0xff;
	a[11] = 0xff;
	__builtin_memcpy(a + 12, &ip, 4);
	return check(ctx, a, AF_INET, dir);
}

static __always_inline int check6(struct bpf_sock_addr *ctx, __u8 dir)
{
	__u32 w[4];

	w[0] = ctx->user_ip6[0];
	w[1] = ctx->user_ip6[1];
	w[2] = ctx->user_ip6[2];
	w[3] = ctx->user_ip6[3];
	return check(ctx, (const __u8 *)w, AF_INET6, dir);
}

SEC("cgroup/connect4")
int rf_connect4(struct bpf_sock_addr *ctx) { return check4(ctx, RF_NETDIR_CONNECT); }
SEC("cgroup/connect6")
int rf_connect6(struct bpf_sock_addr *ctx) { return check6(ctx, RF_NETDIR_CONNECT); }
SEC("cgroup/bind4")
int rf_bind4(struct bpf_sock_addr *ctx) { return check4(ctx, RF_NETDIR_BIND); }
SEC("cgroup/bind6")
int rf_bind6(struct bpf_sock_addr *ctx) { return check6(ctx, RF_NETDIR_BIND); }
