// SPDX-License-Identifier: MIT
/*
 * recent.c: the rolling recording of the last N seconds of events (recent.h).
 *
 * Chunks of RF_RECENT_CHUNK bytes form a circular list, oldest first. Adding an
 * event is one bounds check and one memcpy into the newest chunk; a full chunk
 * moves on to the next slot, dropping the oldest chunk when the memory bound is
 * reached. The broker hands over a whole batch of events at once
 * (rf_recent_add_batch): one memcpy per batch, no per-event work unless the batch
 * straddles the end of a chunk. Age is judged against the newest event's own time stamp, so that a
 * replayed capture (old time stamps) is recorded like live events.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "capture/capture.h"
#include "common/unixfd.h"
#include "daemon/recent.h"
#include "ringfence/limits.h"
#include "ringfence/proto.h"
#include "ringfence/ringfence.h"

struct chunk {
	unsigned char *data;
	size_t used;
	uint64_t nevents;
	uint64_t last_ts;
};

struct rf_recent {
	uint64_t window_ns;
	unsigned nslots;  /* chunks the memory bound allows */
	unsigned first;   /* oldest chunk in use */
	unsigned count;   /* chunks in use (the newest is (first + count - 1) % nslots) */
	uint64_t newest_ts;
	uint64_t recorded, evicted;
	struct chunk *slots;
};

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

int rf_recent_new(unsigned window_s, uint64_t max_bytes, struct rf_recent **ret)
{
	struct rf_recent *r;

	*ret = NULL;
	if (!window_s || max_bytes < RF_RECENT_BYTES_MIN || max_bytes > RF_RECENT_BYTES_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->window_ns = (uint64_t)window_s * 1000000000ull;
	r->nslots = (unsigned)(max_bytes / RF_RECENT_CHUNK);
	r->slots = calloc(r->nslots, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return -ENOMEM;
	}
	/* All chunks now: address space only until written (malloc maps them lazily),
	 * and the daemon's mappings do not change while it records (leak checks). */
	for (unsigned i = 0; i < r->nslots; i++)
		if (!(r->slots[i].data = malloc(RF_RECENT_CHUNK))) {
			rf_recent_free(r);
			return -ENOMEM;
		}
	*ret = r;
	return 0;
}

void rf_recent_free(struct rf_recent *r)
{
	unsigned i;

	if (!r)
		return;
	for (i = 0; i < r->nslots; i++)
		free(r->slots[i].data);
	free(r->slots);
	free(r);
}

static struct chunk *slot(struct rf_recent *r, unsigned i)
{
	return &r->slots[(r->first + i) % r->nslots];
}

static void drop_oldest(struct rf_recent *r)
{
	struct chunk *c = slot(r, 0);

	r->evicted += c->nevents;
	c->used = 0;
	c->nevents = 0;
	c->last_ts = 0;
	r->first = (r->first + 1) % r->nslots; /* the buffer is reused */
	r->count--;
}

/* Drop whole chunks, never the newest, whose events are all older than the window. */
static void expire(struct rf_recent *r)
{
	while (r->count > 1 && slot(r, 0)->last_ts + r->window_ns < r->newest_ts)
		drop_oldest(r);
}

/* A fresh newest chunk (all are allocated up front). */
static struct chunk *next_chunk(struct rf_recent *r)
{
	expire(r);
	if (r->count == r->nslots)
		drop_oldest(r);
	return slot(r, r->count++);
}

void rf_recent_add_batch(struct rf_recent *r, const unsigned char *buf, size_t bytes,
			 uint64_t nevents, uint64_t max_ts)
{
	struct chunk *c = r->count ? slot(r, r->count - 1) : NULL;

	if (!bytes)
		return;
	r->recorded += nevents;
	if (max_ts > r->newest_ts)
		r->newest_ts = max_ts;
	for (;;) {
		size_t take = 0;
		uint64_t k = 0, ts = 0;

		if (!c)
			c = next_chunk(r);
		if (bytes <= RF_RECENT_CHUNK - c->used) { /* the common case: all of it */
			take = bytes;
			k = nevents;
			ts = max_ts;
		} else { /* the whole events that fit; the rest goes into a fresh chunk */
			while (take < bytes) {
				const struct rf_event_hdr *ev = (const void *)(buf + take);
				size_t need = ALIGN8(ev->size);

				if (c->used + take + need > RF_RECENT_CHUNK)
					break;
				if (ev->ts_ns > ts)
					ts = ev->ts_ns;
				take += need;
				k++;
			}
		}
		if (take) {
			memcpy(c->data + c->used, buf, take);
			c->used += take;
			c->nevents += k;
			if (ts > c->last_ts)
				c->last_ts = ts;
			buf += take;
			bytes -= take;
			nevents -= k;
		}
		if (!bytes)
			return;
		c = next_chunk(r);
	}
}

void rf_recent_add(struct rf_recent *r, const struct rf_event_hdr *ev)
{
	_Alignas(8) unsigned char buf[RF_EVENT_MAX];
	size_t len = ev->size;

	if (len < sizeof(*ev) || len > RF_EVENT_MAX)
		return;
	memcpy(buf, ev, len);
	memset(buf + len, 0, ALIGN8(len) - len);
	rf_recent_add_batch(r, buf, ALIGN8(len), 1, ev->ts_ns);
}

/* Calls FN for every event of the window, oldest first. */
static int walk(struct rf_recent *r, int (*fn)(void *, const struct rf_event_hdr *), void *ctx)
{
	uint64_t cutoff;
	unsigned i;

	expire(r);
	cutoff = r->newest_ts > r->window_ns ? r->newest_ts - r->window_ns : 0;
	for (i = 0; i < r->count; i++) {
		struct chunk *c = slot(r, i);
		size_t off = 0;

		while (off < c->used) {
			const struct rf_event_hdr *ev = (const void *)(c->data + off);
			int ret;

			off += ALIGN8(ev->size);
			if (ev->ts_ns < cutoff)
				continue;
			if ((ret = fn(ctx, ev)) < 0)
				return ret;
		}
	}
	return 0;
}

static int count_one(void *ctx, const struct rf_event_hdr *ev)
{
	struct rf_recent_stats *st = ctx;

	if (!st->events++)
		st->oldest_ns = ev->ts_ns;
	st->bytes += ev->size;
	return 0;
}

void rf_recent_stats(struct rf_recent *r, struct rf_recent_stats *st)
{
	memset(st, 0, sizeof(*st));
	walk(r, count_one, st);
	st->newest_ns = st->events ? r->newest_ts : 0;
	st->recorded = r->recorded;
	st->evicted = r->evicted;
}

struct dump_ctx {
	struct rf_capture_writer *w;
	struct rf_recent_stats st;
};

static int dump_one(void *ctx, const struct rf_event_hdr *ev)
{
	struct dump_ctx *d = ctx;

	count_one(&d->st, ev);
	return rf_capture_write(d->w, ev);
}

int rf_recent_dump(struct rf_recent *r, const char *path, struct rf_recent_stats *st)
{
	struct dump_ctx d = {0};
	int ret, ret2;

	ret = rf_capture_create(path, &d.w);
	if (ret < 0)
		return ret;
	ret = walk(r, dump_one, &d);
	ret2 = rf_capture_writer_close(d.w);
	if (!ret)
		ret = ret2;
	d.st.newest_ns = d.st.events ? r->newest_ts : 0;
	d.st.recorded = r->recorded;
	d.st.evicted = r->evicted;
	if (st)
		*st = d.st;
	return ret;
}

/* ---- client side ---------------------------------------------------------- */

static int copy_fd(int in, const char *out)
{
	char buf[65536];
	off_t off = 0;
	int fd, r = 0;
	ssize_t n;

	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while ((n = pread(in, buf, sizeof(buf), off)) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			r = errno ? -errno : -EIO;
			break;
		}
		off += n;
	}
	if (!r && n < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

int rf_recent_fetch(const char *sock, const char *out, struct rf_msg_recent *info, char *err,
		    size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct rf_msg_hdr req = {.magic = RF_PROTO_MAGIC, .type = RF_MSG_RECENT_REQ,
				 .size = sizeof(req), .id = 1};
	struct timeval tv = {.tv_sec = 10};
	unsigned char buf[512];
	struct rf_msg m;
	const char *why;
	int fd, mfd = -1, n, r;

	if (!sock || !*sock)
		sock = getenv("RINGFENCE_SOCKET");
	if (!sock || !*sock)
		sock = RF_DEFAULT_SOCKET;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		snprintf(err, errlen, "no daemon at %s (%s)", sock, strerror(errno));
		goto out;
	}
	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req)) {
		r = -errno;
		snprintf(err, errlen, "send to %s: %s", sock, strerror(errno));
		goto out;
	}
	n = (int)rf_recv_with_fd(fd, buf, sizeof(buf), &mfd);
	if (n < 0) {
		r = n;
		snprintf(err, errlen, "no reply from %s: %s", sock, strerror(-n));
		goto out;
	}
	if (rf_proto_parse(buf, (size_t)n, &m, &why) < 0) {
		r = -EBADMSG;
		snprintf(err, errlen, "bad reply from the daemon: %s", why);
		goto out;
	}
	if (m.hdr.type == RF_MSG_ERROR) {
		r = -EPROTO;
		snprintf(err, errlen, "the daemon refused: %s", m.u.error.msg);
		goto out;
	}
	if (m.hdr.type != RF_MSG_RECENT || mfd < 0) {
		r = -EBADMSG;
		snprintf(err, errlen, "unexpected reply %s from the daemon",
			 rf_proto_type_name(m.hdr.type));
		goto out;
	}
	r = copy_fd(mfd, out);
	if (r < 0) {
		snprintf(err, errlen, "write %s: %s", out, strerror(-r));
		goto out;
	}
	if (info)
		*info = m.u.recent;
out:
	if (mfd >= 0)
		close(mfd);
	close(fd);
	return r;
}
