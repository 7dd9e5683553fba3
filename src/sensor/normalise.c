// SPDX-License-Identifier: MIT
/*
 * normalise.c: from a raw sensor record to the event clients see. Validates the
 * record (the kernel side is ours, but a reader of shared bytes checks them all the
 * same), converts the time, fills the enrichment fields from the process table,
 * keeps the table current and assigns sequence numbers.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ringfence/schema.h"
#include "sensor/sensor_int.h"

int64_t rf_sensor_clock_offset(int clk_from, int clk_to)
{
	struct timespec a, b, c;
	int64_t best = 0, best_gap = INT64_MAX;
	int i;

	/* bracket the read of clk_to between two reads of clk_from; keep the tightest */
	for (i = 0; i < 5; i++) {
		clock_gettime(clk_from, &a);
		clock_gettime(clk_to, &b);
		clock_gettime(clk_from, &c);
		int64_t ta = a.tv_sec * 1000000000ll + a.tv_nsec;
		int64_t tc = c.tv_sec * 1000000000ll + c.tv_nsec;
		int64_t tb = b.tv_sec * 1000000000ll + b.tv_nsec;
		if (tc - ta < best_gap) {
			best_gap = tc - ta;
			best = tb - (ta + (tc - ta) / 2);
		}
	}
	return best;
}

static const char *user_name(struct rf_sensor *s, uint32_t uid)
{
	struct rf_user_cache *u = &s->users;
	unsigned i = (uid * 2654435761u) % RF_USER_CACHE_MAX;
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (u->used[i] && u->uid[i] == uid)
		return u->name[i];
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(u->name[i], sizeof(u->name[i]), "%s", res->pw_name);
	else
		snprintf(u->name[i], sizeof(u->name[i]), "%u", uid);
	u->uid[i] = uid;
	u->used[i] = true;
	return u->name[i];
}

/* A container id is a run of 64 hex digits in the cgroup name (docker-<id>.scope,
 * cri-containerd-<id>.scope, libpod-<id>, or the bare id). */
static size_t container_id(const char *cg, const char **id)
{
	size_t run = 0;
	const char *p;

	for (p = cg; *p; p++) {
		bool hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
		run = hex ? run + 1 : 0;
		if (run == 64 && !((p[1] >= '0' && p[1] <= '9') || (p[1] >= 'a' && p[1] <= 'f'))) {
			*id = p - 63;
			return 64;
		}
	}
	return 0;
}

/* The fields normalisation reads or fills, by name, looked up once per class: a
 * lookup by name compares strings field by field, and an exec needs seven of them, an
 * open one. */
static const char *const named[RF_NF_COUNT] = {
	[RF_NF_USER] = "user",         [RF_NF_PARENT_EXE] = "parent_exe",
	[RF_NF_PARENT_CMDLINE] = "parent_cmdline", [RF_NF_CONTAINER_ID] = "container_id",
	[RF_NF_CGROUP] = "cgroup",     [RF_NF_EXE] = "exe",
	[RF_NF_CMDLINE] = "cmdline",
};

static const struct rf_field_desc *field_of(struct rf_sensor *s, unsigned cls, enum rf_named_field nf)
{
	if (cls >= RF_CLASS_COUNT)
		return NULL;
	if (!s->fields_known[cls]) {
		const struct rf_class_desc *c = rf_schema_class(cls);
		unsigned k;
		for (k = 0; k < RF_NF_COUNT; k++) {
			int i = rf_schema_field_index(c, named[k]);
			s->fields[cls][k] = i < 0 ? NULL : &c->fields[i];
		}
		s->fields_known[cls] = true;
	}
	return s->fields[cls][nf];
}

static void set_named_str(struct rf_sensor *s, unsigned cls, enum rf_named_field nf, const char *v)
{
	const struct rf_field_desc *f = field_of(s, cls, nf);

	if (f && f->source == RF_FS_ENRICH)
		(void)rf_event_set_str((struct rf_event_hdr *)s->buf, sizeof(s->buf), f, v, strlen(v));
}

static void args_joined(struct rf_sensor *s, const struct rf_ev_process_exec *ev, char *out,
			size_t outsz)
{
	const struct rf_class_desc *c = rf_schema_class(RF_CLASS_PROCESS_EXEC);

	(void)rf_event_str_copy(&ev->hdr, c, field_of(s, RF_CLASS_PROCESS_EXEC, RF_NF_CMDLINE), out,
				outsz);
}

static void str_of(struct rf_sensor *s, const struct rf_event_hdr *ev, unsigned cls,
		   enum rf_named_field nf, const char **v)
{
	size_t len;

	if (rf_event_str(ev, field_of(s, cls, nf), v, &len) < 0)
		*v = "";
}

void rf_sensor_account_drops(struct rf_sensor *s, unsigned cls, uint64_t n)
{
	if (cls >= RF_CLASS_COUNT || !n)
		return;
	s->st.dropped_class[cls] += n;
	/* drops of classes only the process table wanted are in dropped_class only */
	if (!s->opts.class_mask || (s->opts.class_mask & (1ull << cls))) {
		s->st.dropped += n;
		s->seq += n; /* the gap that tells readers what they missed */
		s->class_seq[cls] += n;
	}
}

int rf_sensor_deliver(struct rf_sensor *s, const void *raw, size_t len)
{
	struct rf_event_hdr *ev = (struct rf_event_hdr *)s->buf;
	const char *why;
	struct rf_proc *self;
	uint64_t boot_ts;
	int r;

	if (len > sizeof(s->buf) || rf_event_validate(raw, len, &why) < 0) {
		s->st.invalid++;
		return 0;
	}
	memcpy(s->buf, raw, ((const struct rf_event_hdr *)raw)->size);
	boot_ts = ev->ts_ns;
	ev->ts_ns = (uint64_t)((int64_t)boot_ts + s->boot_to_epoch_ns);

	switch (ev->class_id) {
	case RF_CLASS_PROCESS_EXEC: {
		struct rf_ev_process_exec *x = (void *)s->buf;
		struct rf_proc np = {0}, *par;
		char cmd[RF_ARGV_MAX];
		const char *exe, *cg, *cid = NULL;
		size_t cidlen;

		set_named_str(s, RF_CLASS_PROCESS_EXEC, RF_NF_USER, user_name(s, x->uid));
		par = rf_proctable_lookup(s->pt, x->ppid, x->parent_start_ns);
		if (par) {
			set_named_str(s, RF_CLASS_PROCESS_EXEC, RF_NF_PARENT_EXE, par->exe);
			set_named_str(s, RF_CLASS_PROCESS_EXEC, RF_NF_PARENT_CMDLINE, par->cmdline);
		} else {
			ev->flags |= RF_EVF_NO_PARENT;
		}
		str_of(s, ev, RF_CLASS_PROCESS_EXEC, RF_NF_CGROUP, &cg);
		cidlen = container_id(cg, &cid);
		if (cidlen) {
			char idbuf[65];
			memcpy(idbuf, cid, 64);
			idbuf[64] = 0;
			set_named_str(s, RF_CLASS_PROCESS_EXEC, RF_NF_CONTAINER_ID, idbuf);
		}
		str_of(s, ev, RF_CLASS_PROCESS_EXEC, RF_NF_EXE, &exe);
		args_joined(s, x, cmd, sizeof(cmd));
		np.pid = ev->pid;
		np.start_ns = ev->start_ns;
		np.ppid = x->ppid;
		np.parent_start_ns = x->parent_start_ns;
		np.uid = x->uid;
		np.exe = (char *)exe;
		np.cmdline = cmd;
		np.cgroup = (char *)cg;
		np.coarse = (ev->flags & RF_EVF_DEGRADED) != 0;
		(void)rf_proctable_exec(s->pt, &np);
		break;
	}
	case RF_CLASS_PROCESS_FORK: {
		struct rf_ev_process_fork *x = (void *)s->buf;
		(void)rf_proctable_fork(s->pt, ev->pid, ev->start_ns, x->child_pid, x->child_start_ns);
		break;
	}
	default:
		/* other classes: the acting process's executable and user, where the class has them */
		self = rf_proctable_lookup(s->pt, ev->pid, ev->start_ns);
		if (self)
			set_named_str(s, ev->class_id, RF_NF_EXE, self->exe);
		break;
	}

	r = 0;
	if (!s->opts.class_mask || (s->opts.class_mask & (1ull << ev->class_id))) {
		ev->seq = ++s->seq;
		ev->class_seq = ++s->class_seq[ev->class_id];
		s->st.delivered++;
		s->st.per_class[ev->class_id]++;
		r = s->cb ? s->cb(ev, s->ctx) : 0;
	}

	if (ev->class_id == RF_CLASS_PROCESS_EXIT)
		rf_proctable_exit(s->pt, ev->pid, ev->start_ns, boot_ts);
	if (boot_ts > s->last_expire_ns + 1000000000ull) {
		rf_proctable_expire(s->pt, boot_ts);
		s->last_expire_ns = boot_ts;
	}
	return r;
}
