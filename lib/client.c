// SPDX-License-Identifier: MIT
/* client.c: libringfence, the client side of the broker (ringfence/ringfence.h). */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ring_int.h"
#include "ringfence/ringfence.h"
#include "common/clock.h"



struct rf_client {
	int sock;
	int efd;
	void *map;
	size_t map_len;
	struct rf_ring_reader rd;
	uint32_t next_id;
	uint64_t read;
	uint64_t entitled_classes;
	uint32_t entitled_modes;
	uint32_t spin_us;
	char err[160];
};

/* The end of field F of the caller's rf_client_opts must lie within its size. */
#define OPT_HAS(o, f) ((o)->size >= offsetof(struct rf_client_opts, f) + sizeof((o)->f))

static const struct {
	int code, err;
} errmap[] = {
	{RF_E_PROTO, EPROTO},		{RF_E_ABI, EPROTONOSUPPORT},
	{RF_E_UNKNOWN_CLIENT, ENOENT},	{RF_E_IDENTITY, EPERM},
	{RF_E_NOT_ENTITLED, EACCES},	{RF_E_LIMIT, ENOSPC},
	{RF_E_TOO_MANY, EUSERS},	{RF_E_STATE, EBADFD},
	{RF_E_UNSUPPORTED, EOPNOTSUPP}, {RF_E_INTERNAL, EIO},
};

static int code_to_errno(int code)
{
	size_t i;

	for (i = 0; i < sizeof(errmap) / sizeof(errmap[0]); i++)
		if (errmap[i].code == code)
			return -errmap[i].err;
	return -EPROTO;
}

const char *rf_strerror(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errmap) / sizeof(errmap[0]); i++)
		if (-errmap[i].err == err)
			return rf_proto_error_name(errmap[i].code);
	switch (err) {
	case -EBADMSG:
		return "corrupt ring or malformed message";
	case -EPIPE:
		return "the daemon closed the connection";
	case -ECONNREFUSED:
	case -ENOTCONN:
		return "no daemon listening on the socket";
	case -EINVAL:
		return "invalid argument";
	default:
		return "system error";
	}
}

static void hdr_init(struct rf_client *c, struct rf_msg_hdr *h, unsigned type, size_t size)
{
	memset(h, 0, sizeof(*h));
	h->magic = RF_PROTO_MAGIC;
	h->type = type;
	h->size = size;
	h->id = ++c->next_id;
}

/* Receive one message, with up to two fds. Returns bytes, 0 at EOF, or -errno. */
static ssize_t recv_msg(int sock, void *buf, size_t len, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	ssize_t n;

	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	*nfds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k, cnt;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
			if (*nfds < 2)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		while (*nfds)
			close(fds[--(*nfds)]);
		return -EMSGSIZE;
	}
	return n;
}

/* Send msg and wait for the reply with the same id. Returns 0 with *reply parsed
 * from buf (bufsz bytes), or -errno (a refusal: its mapped errno, message kept). */
static int call(struct rf_client *c, const void *msg, size_t len, unsigned want,
		struct rf_msg *reply, void *buf, size_t bufsz, int *fds, int *nfds)
{
	const struct rf_msg_hdr *h = msg;
	const char *why;
	int dummy_fds[2], dummy_n, r;
	ssize_t n;

	if (!fds) {
		fds = dummy_fds;
		nfds = &dummy_n;
	}
	c->err[0] = 0;
	if (send(c->sock, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return errno == EPIPE || errno == ECONNRESET ? -EPIPE : -errno;
	for (;;) {
		n = recv_msg(c->sock, buf, bufsz, fds, nfds);
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return (int)n;
		r = rf_proto_parse(buf, (size_t)n, reply, &why);
		if (r < 0) {
			snprintf(c->err, sizeof(c->err), "malformed reply from the daemon: %s", why);
			goto bad;
		}
		if (reply->hdr.id != h->id) /* not ours: nothing else is asynchronous yet */
			goto skip;
		if (reply->hdr.type == RF_MSG_ERROR) {
			snprintf(c->err, sizeof(c->err), "%s: %s",
				 rf_proto_error_name(reply->u.error.code), reply->u.error.msg);
			r = code_to_errno(reply->u.error.code);
			goto bad;
		}
		if (reply->hdr.type != want) {
			snprintf(c->err, sizeof(c->err), "daemon answered %s to %s",
				 rf_proto_type_name(reply->hdr.type), rf_proto_type_name(h->type));
			r = -EPROTO;
			goto bad;
		}
		return 0;
skip:
		while (*nfds)
			close(fds[--(*nfds)]);
		continue;
bad:
		while (*nfds)
			close(fds[--(*nfds)]);
		return r < 0 ? r : -EPROTO;
	}
}

static void set_why(char *why, size_t whylen, const char *fmt, const char *a, const char *b)
{
	if (why && whylen)
		snprintf(why, whylen, fmt, a, b);
}

/* RF_CLIENT_SHORT_SLICE: the calling thread keeps its policy and nice value and gets
 * the shortest slice (sched_setattr(2); glibc has no wrapper). */
static int short_slice(void)
{
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t priority;
		uint64_t runtime, deadline, period;
	} a = {.size = sizeof(a)};

	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) < 0)
		return -errno;
	if (a.policy != SCHED_OTHER && a.policy != SCHED_BATCH)
		return 0; /* real-time already: nothing to gain */
	a.size = sizeof(a);
	a.flags = 0x01; /* SCHED_FLAG_RESET_ON_FORK: children get the default slice */
	a.runtime = RF_CLIENT_SLICE_NS;
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	return 0;
}

/* RF_CLIENT_NEAR_DAEMON: pin the calling thread to the daemon's CPU (WELCOME's
 * cpu_plus_one, 0 when the daemon is not pinned). */
static int near_daemon(uint32_t cpu_plus_one, char *why, size_t whylen)
{
	cpu_set_t one;

	if (!cpu_plus_one) {
		set_why(why, whylen, "%s%s", "rf_client_open: RF_CLIENT_NEAR_DAEMON: the daemon is not ",
			"pinned to a CPU (start it with --cpu N)");
		return -ENXIO;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu_plus_one - 1, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0) {
		int e = errno;
		set_why(why, whylen, "rf_client_open: RF_CLIENT_NEAR_DAEMON: sched_setaffinity: %s%s",
			strerror(e), "");
		return -e;
	}
	return 0;
}

int rf_client_open(const struct rf_client_opts *opts, struct rf_client **ret, char *why,
		   size_t whylen)
{
	struct rf_client *c = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct rf_msg_hello hello;
	struct rf_msg reply;
	struct timeval tv = {.tv_sec = RF_CTL_REPLY_TIMEOUT_S};
	unsigned char buf[sizeof(struct rf_msg_stats) + 64];
	const char *path, *rwhy;
	int fds[2], nfds = 0, r;
	struct stat st;

	set_why(why, whylen, "%s%s", "", "");
	if (!opts || !ret || opts->size < offsetof(struct rf_client_opts, ring_bytes) || !opts->name ||
	    !opts->name[0]) {
		set_why(why, whylen, "%s%s", "rf_client_open: opts, opts->size or opts->name missing", "");
		return -EINVAL;
	}
	if (opts->abi_version != RF_ABI_VERSION) {
		set_why(why, whylen, "%s%s", "rf_client_open: opts->abi_version is not RF_ABI_VERSION of this library", "");
		return -EPROTONOSUPPORT;
	}
	if (strlen(opts->name) >= RF_CLIENT_NAME_MAX) {
		set_why(why, whylen, "%s%s", "rf_client_open: name longer than RF_CLIENT_NAME_MAX", "");
		return -EINVAL;
	}
	if ((OPT_HAS(opts, spin_us) && opts->spin_us > RF_CLIENT_SPIN_MAX_US) ||
	    (OPT_HAS(opts, flags) && (opts->flags & ~(RF_CLIENT_SHORT_SLICE | RF_CLIENT_NEAR_DAEMON))) ||
	    (OPT_HAS(opts, reserved) && opts->reserved)) {
		set_why(why, whylen, "%s%s", "rf_client_open: spin_us above RF_CLIENT_SPIN_MAX_US, ",
			"unknown flags or reserved not 0");
		return -EINVAL;
	}
	if (OPT_HAS(opts, flags) && (opts->flags & RF_CLIENT_SHORT_SLICE)) {
		r = short_slice();
		if (r < 0) {
			set_why(why, whylen, "rf_client_open: RF_CLIENT_SHORT_SLICE: %s%s", strerror(-r),
				r == -EOPNOTSUPP ? " (needs Linux 6.12 or later)" : "");
			return r;
		}
	}
	path = opts->socket_path ? opts->socket_path : getenv("RINGFENCE_SOCKET");
	if (!path || !path[0])
		path = RF_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		set_why(why, whylen, "%s%s", "rf_client_open: socket path too long", "");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->efd = -1;
	c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->sock < 0) {
		r = -errno;
		goto fail;
	}
	setsockopt(c->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		set_why(why, whylen, "cannot connect to %s: %s (is 'ringfence daemon' running?)",
			path, strerror(-r));
		goto fail;
	}
	memset(&hello, 0, sizeof(hello));
	hdr_init(c, &hello.hdr, RF_MSG_HELLO, sizeof(hello));
	hello.abi_version = RF_ABI_VERSION;
	hello.ring_bytes = OPT_HAS(opts, ring_bytes) ? opts->ring_bytes : 0;
	c->spin_us = OPT_HAS(opts, spin_us) ? opts->spin_us : 0;
	strcpy(hello.name, opts->name);
	r = call(c, &hello, sizeof(hello), RF_MSG_WELCOME, &reply, buf, sizeof(buf), fds, &nfds);
	if (r < 0) {
		set_why(why, whylen, "daemon refused the client: %s%s",
			c->err[0] ? c->err : rf_strerror(r), "");
		goto fail;
	}
	r = -EPROTO;
	if (nfds != 2) {
		set_why(why, whylen, "%s%s", "WELCOME without the ring and eventfd descriptors", "");
		goto fail_fds;
	}
	if (reply.u.welcome.abi_version != RF_ABI_VERSION) {
		r = -EPROTONOSUPPORT;
		set_why(why, whylen, "%s%s", "the daemon speaks another ABI version", "");
		goto fail_fds;
	}
	if (fstat(fds[0], &st) < 0 || reply.u.welcome.data_bytes > RF_RING_MAX ||
	    (uint64_t)st.st_size != RF_RING_HDR_BYTES + reply.u.welcome.data_bytes) {
		set_why(why, whylen, "%s%s", "ring memfd size differs from the WELCOME message", "");
		goto fail_fds;
	}
	c->map_len = (size_t)st.st_size;
	c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (c->map == MAP_FAILED) {
		r = -errno;
		c->map = NULL;
		set_why(why, whylen, "cannot map the ring: %s%s", strerror(-r), "");
		goto fail_fds;
	}
	/* The client never writes events: make the data area read-only. */
	mprotect((char *)c->map + RF_RING_HDR_BYTES, c->map_len - RF_RING_HDR_BYTES, PROT_READ);
	close(fds[0]);
	c->efd = fds[1];
	r = rf_ring_reader_init(&c->rd, c->map, c->map_len, reply.u.welcome.data_bytes, &rwhy);
	if (r < 0) {
		set_why(why, whylen, "bad ring from the daemon: %s%s", rwhy, "");
		goto fail;
	}
	if (OPT_HAS(opts, flags) && (opts->flags & RF_CLIENT_NEAR_DAEMON)) {
		r = near_daemon(reply.u.welcome.cpu_plus_one, why, whylen);
		if (r < 0)
			goto fail;
	}
	c->entitled_classes = reply.u.welcome.entitled_classes;
	c->entitled_modes = reply.u.welcome.entitled_modes;
	*ret = c;
	return 0;
fail_fds:
	while (nfds)
		close(fds[--nfds]);
fail:
	rf_client_close(c);
	return r;
}

void rf_client_close(struct rf_client *c)
{
	if (!c)
		return;
	if (c->map)
		munmap(c->map, c->map_len);
	if (c->efd >= 0)
		close(c->efd);
	if (c->sock >= 0)
		close(c->sock);
	free(c);
}

const char *rf_client_error(const struct rf_client *c)
{
	return c ? c->err : "";
}

int rf_client_fd(const struct rf_client *c)
{
	return c ? c->efd : -EINVAL;
}

static int simple_call(struct rf_client *c, const void *msg, size_t len)
{
	unsigned char buf[sizeof(struct rf_msg_stats) + 64];
	struct rf_msg reply;

	return call(c, msg, len, RF_MSG_OK, &reply, buf, sizeof(buf), NULL, NULL);
}

int rf_client_subscribe(struct rf_client *c, uint64_t classes, uint32_t modes)
{
	struct rf_msg_subscribe m;

	if (!c)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	hdr_init(c, &m.hdr, RF_MSG_SUBSCRIBE, sizeof(m));
	m.classes = classes;
	m.modes = modes;
	return simple_call(c, &m, sizeof(m));
}

int rf_client_verdict(struct rf_client *c, uint64_t request_id, bool allow, bool cacheable)
{
	struct rf_msg_verdict m;

	if (!c || !request_id)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	hdr_init(c, &m.hdr, RF_MSG_VERDICT, sizeof(m));
	m.request_id = request_id;
	m.verdict = allow ? RF_VERDICT_ALLOW : RF_VERDICT_DENY;
	m.flags = cacheable ? RF_VERDICT_F_CACHE : 0;
	if (send(c->sock, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		return errno == EPIPE || errno == ECONNRESET ? -EPIPE : -errno;
	return 0;
}

int rf_client_clear_cache(struct rf_client *c)
{
	struct rf_msg_hdr m;

	if (!c)
		return -EINVAL;
	hdr_init(c, &m, RF_MSG_CLEAR_CACHE, sizeof(m));
	return simple_call(c, &m, sizeof(m));
}

int rf_client_net_deny(struct rf_client *c, const struct rf_net_rule *r)
{
	struct rf_msg_netrule m;

	if (!c || !r || r->size < sizeof(*r))
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	hdr_init(c, &m.hdr, RF_MSG_NETRULE, sizeof(m));
	m.op = RF_NETRULE_ADD;
	m.family = r->family;
	m.prefix = r->prefix;
	m.protocol = r->protocol;
	m.direction = r->direction;
	m.port = r->port;
	memcpy(m.addr, r->addr, sizeof(m.addr));
	return simple_call(c, &m, sizeof(m));
}

int rf_client_net_clear(struct rf_client *c)
{
	struct rf_msg_netrule m;

	if (!c)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	hdr_init(c, &m.hdr, RF_MSG_NETRULE, sizeof(m));
	m.op = RF_NETRULE_CLEAR;
	return simple_call(c, &m, sizeof(m));
}

static int mute_msg(struct rf_client *c, unsigned op, unsigned kind, uint32_t pid,
		    uint64_t start_ns, const char *path)
{
	struct {
		struct rf_msg_mute m;
		char path[RF_PATH_MAX];
	} msg;
	size_t plen = 0;

	if (!c)
		return -EINVAL;
	if (path) {
		plen = strlen(path) + 1;
		if (path[0] != '/' || plen > RF_PATH_MAX)
			return -EINVAL;
	}
	memset(&msg.m, 0, sizeof(msg.m));
	hdr_init(c, &msg.m.hdr, RF_MSG_MUTE, sizeof(msg.m) + plen);
	msg.m.op = op;
	msg.m.kind = kind;
	msg.m.pid = pid;
	msg.m.start_ns = start_ns;
	msg.m.path_len = plen;
	if (plen)
		memcpy(msg.path, path, plen);
	return simple_call(c, &msg, sizeof(msg.m) + plen);
}

int rf_client_mute_process(struct rf_client *c, uint32_t pid, uint64_t start_ns)
{
	return pid ? mute_msg(c, RF_MUTE_OP_ADD, RF_MUTE_PROCESS, pid, start_ns, NULL) : -EINVAL;
}

int rf_client_unmute_process(struct rf_client *c, uint32_t pid, uint64_t start_ns)
{
	return pid ? mute_msg(c, RF_MUTE_OP_REMOVE, RF_MUTE_PROCESS, pid, start_ns, NULL) : -EINVAL;
}

int rf_client_mute_path(struct rf_client *c, enum rf_mute_kind kind, const char *path)
{
	if (kind < RF_MUTE_EXE_LITERAL || kind > RF_MUTE_TARGET_PREFIX || !path)
		return -EINVAL;
	return mute_msg(c, RF_MUTE_OP_ADD, kind, 0, 0, path);
}

int rf_client_unmute_path(struct rf_client *c, enum rf_mute_kind kind, const char *path)
{
	if (kind < RF_MUTE_EXE_LITERAL || kind > RF_MUTE_TARGET_PREFIX || !path)
		return -EINVAL;
	return mute_msg(c, RF_MUTE_OP_REMOVE, kind, 0, 0, path);
}

int rf_client_unmute_all(struct rf_client *c, enum rf_mute_kind kind)
{
	if (kind < RF_MUTE_PROCESS || kind > RF_MUTE_TARGET_PREFIX)
		return -EINVAL;
	return mute_msg(c, RF_MUTE_OP_CLEAR, kind, 0, 0, NULL);
}

int rf_client_heartbeat(struct rf_client *c)
{
	struct rf_msg_hdr m;

	if (!c)
		return -EINVAL;
	hdr_init(c, &m, RF_MSG_HEARTBEAT, sizeof(m));
	return simple_call(c, &m, sizeof(m));
}

int rf_client_invert_muting(struct rf_client *c, enum rf_mute_set set, bool on)
{
	struct rf_msg_invert m;

	if (!c || set < RF_MUTESET_PROCESS || set > RF_MUTESET_TARGET)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	hdr_init(c, &m.hdr, RF_MSG_INVERT, sizeof(m));
	m.set = set;
	m.on = on;
	return simple_call(c, &m, sizeof(m));
}

int rf_client_stats(struct rf_client *c, struct rf_client_stats *st)
{
	unsigned char buf[sizeof(struct rf_msg_stats) + 64];
	struct rf_client_stats full;
	struct rf_msg_hdr req;
	struct rf_msg reply;
	size_t n;
	int r;

	if (!c || !st || st->size < 2 * sizeof(uint32_t))
		return -EINVAL;
	hdr_init(c, &req, RF_MSG_STATS_REQ, sizeof(req));
	r = call(c, &req, sizeof(req), RF_MSG_STATS, &reply, buf, sizeof(buf), NULL, NULL);
	if (r < 0)
		return r;
	memset(&full, 0, sizeof(full));
	full.size = st->size;
	full.nclasses = reply.u.stats.nclasses;
	full.delivered = reply.u.stats.delivered;
	full.dropped = reply.u.stats.dropped;
	full.muted = reply.u.stats.muted;
	full.deadline_misses = reply.u.stats.deadline_misses;
	full.ring_used = reply.u.stats.ring_used;
	full.ring_bytes = reply.u.stats.ring_bytes;
	full.read = c->read;
	full.seq_gaps = c->rd.gaps;
	memcpy(full.class_delivered, reply.u.stats.class_delivered, sizeof(full.class_delivered));
	memcpy(full.class_dropped, reply.u.stats.class_dropped, sizeof(full.class_dropped));
	n = st->size < sizeof(full) ? st->size : sizeof(full);
	memcpy(st, &full, n);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll the ring's head for up to c->spin_us (not longer than the caller's timeout):
 * true when something came. The clock is read every 64 polls. */
static bool spin(struct rf_client *c, int timeout_ms)
{
	uint64_t us = c->spin_us, end;
	unsigned k = 0;

	if (timeout_ms >= 0 && us > (uint64_t)timeout_ms * 1000)
		us = (uint64_t)timeout_ms * 1000;
	end = rf_mono_ns() + us * 1000;
	for (;;) {
		if (rf_ring_reader_pending(&c->rd))
			return true;
		if ((++k & 63) == 0 && rf_mono_ns() >= end)
			return false;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ volatile("yield");
#endif
	}
}

/* rf_client_next when the ring is empty and the caller waits: set `waiting`, check
 * once more, sleep on the eventfd (or the socket's hang-up). */
static __attribute__((noinline)) int next_wait(struct rf_client *c, const struct rf_event_hdr **ev,
					       int timeout_ms)
{
	struct pollfd pfd[2];
	int64_t deadline = 0;
	uint64_t cnt;
	int r, wait;
	bool spun = false;

	for (;;) {
		r = rf_ring_read(&c->rd, ev, NULL);
		if (r != 0)
			goto out;
		/* the clock only when we have to wait: a clock read can cost more than
		 * taking an event */
		if (timeout_ms > 0 && !deadline)
			deadline = now_ms() + timeout_ms;
		if (c->spin_us && !spun) {
			spun = true;
			if (spin(c, timeout_ms))
				continue;
		}
		rf_ring_reader_set_waiting(&c->rd, true);
		r = rf_ring_read(&c->rd, ev, NULL);
		if (r != 0) {
			rf_ring_reader_set_waiting(&c->rd, false);
			goto out;
		}
		wait = -1;
		if (timeout_ms > 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				rf_ring_reader_set_waiting(&c->rd, false);
				return 0;
			}
			wait = (int)left;
		}
		pfd[0] = (struct pollfd){.fd = c->efd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = c->sock, .events = POLLRDHUP};
		r = poll(pfd, 2, wait);
		rf_ring_reader_set_waiting(&c->rd, false);
		if (r < 0)
			return -errno;
		if (pfd[0].revents & POLLIN)
			(void)!read(c->efd, &cnt, sizeof(cnt));
		if (pfd[1].revents & (POLLHUP | POLLRDHUP | POLLERR)) {
			r = rf_ring_read(&c->rd, ev, NULL);
			return r != 0 ? (r > 0 ? (c->read++, 1) : r) : -EPIPE;
		}
	}
out:
	if (r > 0)
		c->read++;
	return r;
}

int rf_client_next(struct rf_client *c, const struct rf_event_hdr **ev, int timeout_ms)
{
	int r;

	if (!c || !ev)
		return -EINVAL;
	/* the fast path: an event is there (rf_ring_read is inline) */
	r = rf_ring_read(&c->rd, ev, NULL);
	if (r > 0) {
		c->read++;
		return 1;
	}
	if (r < 0 || timeout_ms == 0)
		return r;
	return next_wait(c, ev, timeout_ms);
}
