// SPDX-License-Identifier: MIT
/* netpolicy.c: network deny rules in the kernel (netpolicy.h, docs/auth.md). */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "daemon/netpolicy.h"
#include "netpolicy_bpf.h"
#include "netpolicy.skel.h" /* generated from bpf/netpolicy.bpf.c */
#include "ringfence/ringfence.h"

struct rule {
	struct rf_netrule_k k;
	uint32_t conn_id;  /* owner */
	char client[RF_CLIENT_NAME_MAX];
};

struct rf_netpolicy {
	struct rf_broker *b;
	struct rf_netpolicy_bpf *skel;
	struct bpf_link *links[4];
	struct ring_buffer *rb;
	int cg;
	struct rule rules[RF_NETRULES_MAX]; /* compact: 0..n-1 */
	uint32_t n, next_id;
	unsigned char ev[RF_EVENT_MAX] __attribute__((aligned(8))); /* events are 8-aligned */
};

/* Write the rules into the kernel map: slots first, then the count (a connect in
 * between sees at most one stale slot, never a torn rule beyond the count). */
static int sync_rules(struct rf_netpolicy *np)
{
	int fd = bpf_map__fd(np->skel->maps.rules);
	uint32_t i, old = np->skel->bss->rf_nrules;

	for (i = 0; i < RF_NETRULES_MAX && (i < np->n || i < old); i++) {
		struct rf_netrule_k k = {0};

		if (i < np->n)
			k = np->rules[i].k;
		if (bpf_map_update_elem(fd, &i, &k, BPF_ANY) < 0)
			return -errno;
	}
	__atomic_store_n(&np->skel->bss->rf_nrules, np->n, __ATOMIC_RELEASE);
	return 0;
}

static int count_of(const struct rf_netpolicy *np, uint32_t conn_id)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < np->n; i++)
		n += np->rules[i].conn_id == conn_id;
	return n;
}

static void remove_of(struct rf_netpolicy *np, uint32_t conn_id)
{
	uint32_t i, j = 0;

	for (i = 0; i < np->n; i++)
		if (np->rules[i].conn_id != conn_id)
			np->rules[j++] = np->rules[i];
	np->n = j;
}

static int on_rule(void *ctx, struct rf_conn *c, const struct rf_msg_netrule *r, char *why,
		   size_t whylen)
{
	struct rf_netpolicy *np = ctx;
	struct rule *x;
	unsigned min = r->family == 2 ? RF_NETRULE_PREFIX_MIN_V4 : RF_NETRULE_PREFIX_MIN_V6;
	int e;

	if (r->op == RF_NETRULE_CLEAR) {
		remove_of(np, c->id);
		e = sync_rules(np);
		goto synced;
	}
	/* rf_proto_parse checked the structure; these are the policy's bounds */
	if (!r->port && r->prefix < min) {
		snprintf(why, whylen, "rule too broad: without a port the prefix must be at least /%u "
			 "(a rule may not block a whole address family)", min);
		return RF_E_LIMIT;
	}
	if (count_of(np, c->id) >= (int)RF_NETRULES_CLIENT_MAX) {
		snprintf(why, whylen, "this client has %u network rules already (RF_NETRULES_CLIENT_MAX)",
			 RF_NETRULES_CLIENT_MAX);
		return RF_E_LIMIT;
	}
	if (np->n >= RF_NETRULES_MAX) {
		snprintf(why, whylen, "%u network rules in the kernel already (RF_NETRULES_MAX)",
			 RF_NETRULES_MAX);
		return RF_E_LIMIT;
	}
	x = &np->rules[np->n];
	memset(x, 0, sizeof(*x));
	if (r->family == 2) {
		x->k.addr[10] = x->k.addr[11] = 0xff;
		memcpy(x->k.addr + 12, r->addr, 4);
		x->k.prefix = (uint8_t)(96 + r->prefix);
	} else {
		memcpy(x->k.addr, r->addr, 16);
		x->k.prefix = r->prefix;
	}
	x->k.protocol = r->protocol;
	x->k.dir = r->direction;
	x->k.port = r->port;
	x->k.used = 1;
	x->k.id = ++np->next_id;
	x->conn_id = c->id;
	memcpy(x->client, c->man.name, sizeof(x->client));
	np->n++;
	e = sync_rules(np);
synced:
	if (e < 0) {
		snprintf(why, whylen, "cannot update the kernel's rules: %s", strerror(-e));
		return RF_E_INTERNAL;
	}
	if (r->op == RF_NETRULE_ADD)
		rf_info("netpolicy: client '%s' added rule %u (%u rules)", c->man.name, x->k.id, np->n);
	return 0;
}

static void on_conn_gone(void *ctx, struct rf_conn *c)
{
	struct rf_netpolicy *np = ctx;
	uint32_t before = np->n;

	remove_of(np, c->id);
	if (np->n != before) {
		sync_rules(np);
		rf_info("netpolicy: client '%s' gone: its %u rules removed", c->man.name, before - np->n);
	}
}

static void on_status(void *ctx, struct rf_status_auth *out)
{
	struct rf_netpolicy *np = ctx;

	out->net_rules = np->n;
	out->net_blocked = __atomic_load_n(&np->skel->bss->rf_blocked, __ATOMIC_RELAXED);
	out->net_unreported = __atomic_load_n(&np->skel->bss->rf_unreported, __ATOMIC_RELAXED);
}

static size_t put_str(unsigned char *buf, size_t off, struct rf_str *s, const char *v, size_t n,
		      size_t max)
{
	if (n > max - 1)
		n = max - 1;
	s->off = (uint16_t)off;
	s->len = (uint16_t)n;
	memcpy(buf + off, v, n);
	buf[off + n] = 0;
	return off + n + 1;
}

static int on_block(void *ctx, void *data, size_t len)
{
	struct rf_netpolicy *np = ctx;
	const struct rf_netblock_k *k = data;
	struct rf_ev_net_blocked *e = (struct rf_ev_net_blocked *)np->ev;
	const char *client = "";
	char link[64], exe[RF_PATH_MAX], comm[17];
	struct timespec ts;
	size_t off = sizeof(*e);
	ssize_t n;
	uint32_t i;

	if (len < sizeof(*k))
		return 0;
	for (i = 0; i < np->n; i++)
		if (np->rules[i].k.id == k->rule_id)
			client = np->rules[i].client;
	memset(e, 0, sizeof(*e));
	e->hdr.class_id = RF_CLASS_NET_BLOCKED;
	clock_gettime(CLOCK_REALTIME, &ts);
	e->hdr.ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	e->hdr.pid = k->pid;
	e->hdr.tid = k->tid;
	e->uid = k->uid;
	e->rule_id = k->rule_id;
	e->family = k->family;
	e->protocol = k->protocol;
	e->dport = k->port;
	e->direction = k->dir;
	memcpy(e->daddr, k->addr, 16);
	off = put_str(np->ev, off, &e->client, client, strlen(client), RF_NET_BLOCKED_CLIENT_MAX);
	memcpy(comm, k->comm, 16);
	comm[16] = 0;
	off = put_str(np->ev, off, &e->comm, comm, strlen(comm), RF_NET_BLOCKED_COMM_MAX);
	snprintf(link, sizeof(link), "/proc/%u/exe", (unsigned)k->pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	off = put_str(np->ev, off, &e->exe, exe, n < 0 ? 0 : (size_t)n, RF_NET_BLOCKED_EXE_MAX);
	e->hdr.size = (uint16_t)((off + 7) & ~(size_t)7);
	rf_warn("netpolicy: blocked %s to port %u by pid %u (%s), rule %u of '%s'",
		k->dir == RF_NETDIR_BIND ? "bind" : "connect", k->port, k->pid, comm, k->rule_id, client);
	rf_broker_dispatch(np->b, &e->hdr);
	return 0;
}

void rf_netpolicy_read(struct rf_netpolicy *np)
{
	ring_buffer__consume(np->rb);
	rf_broker_flush(np->b);
}

int rf_netpolicy_fd(const struct rf_netpolicy *np)
{
	return ring_buffer__epoll_fd(np->rb);
}

static int cgroup2_root(char *out, size_t outlen)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	int r = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(out, outlen, "%s", m->mnt_dir);
			r = 0;
			break;
		}
	endmntent(f);
	return r;
}

int rf_netpolicy_open(struct rf_broker *b, const char *cgroup, struct rf_netpolicy **ret,
		      char *err, size_t errlen)
{
	struct rf_netpolicy *np = calloc(1, sizeof(*np));
	struct bpf_program *progs[4];
	char root[512];
	int r, i;

	if (!np) {
		snprintf(err, errlen, "netpolicy: out of memory");
		return -ENOMEM;
	}
	np->b = b;
	np->cg = -1;
	if (!cgroup) {
		r = cgroup2_root(root, sizeof(root));
		if (r < 0) {
			snprintf(err, errlen, "netpolicy: no cgroup2 mount found (mount cgroup2 or give --net-cgroup)");
			goto fail;
		}
		cgroup = root;
	}
	np->cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (np->cg < 0) {
		r = -errno;
		snprintf(err, errlen, "netpolicy: cannot open cgroup %s: %s", cgroup, strerror(errno));
		goto fail;
	}
	np->skel = rf_netpolicy_bpf__open_and_load();
	if (!np->skel) {
		r = -errno ? -errno : -EINVAL;
		snprintf(err, errlen, "netpolicy: cannot load bpf/netpolicy.bpf.c: %s", strerror(-r));
		goto fail;
	}
	progs[0] = np->skel->progs.rf_connect4;
	progs[1] = np->skel->progs.rf_connect6;
	progs[2] = np->skel->progs.rf_bind4;
	progs[3] = np->skel->progs.rf_bind6;
	for (i = 0; i < 4; i++) {
		np->links[i] = bpf_program__attach_cgroup(progs[i], np->cg);
		if (!np->links[i]) {
			r = -errno ? -errno : -EINVAL;
			snprintf(err, errlen, "netpolicy: cannot attach %s to %s: %s",
				 bpf_program__name(progs[i]), cgroup, strerror(-r));
			goto fail;
		}
	}
	np->rb = ring_buffer__new(bpf_map__fd(np->skel->maps.blocks), on_block, np, NULL);
	if (!np->rb) {
		r = -errno ? -errno : -EINVAL;
		snprintf(err, errlen, "netpolicy: ring buffer: %s", strerror(-r));
		goto fail;
	}
	b->net.ctx = np;
	b->net.rule = on_rule;
	b->net.conn_gone = on_conn_gone;
	b->net.status = on_status;
	rf_info("netpolicy: connect4/6 and bind4/6 attached to cgroup %s", cgroup);
	*ret = np;
	return 0;
fail:
	rf_netpolicy_free(np);
	return r;
}

void rf_netpolicy_free(struct rf_netpolicy *np)
{
	int i;

	if (!np)
		return;
	if (np->b && np->b->net.ctx == np)
		memset(&np->b->net, 0, sizeof(np->b->net));
	ring_buffer__free(np->rb);
	for (i = 0; i < 4; i++)
		bpf_link__destroy(np->links[i]);
	rf_netpolicy_bpf__destroy(np->skel);
	if (np->cg >= 0)
		close(np->cg);
	free(np);
}
