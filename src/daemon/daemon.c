// SPDX-License-Identifier: MIT
/*
 * daemon.c: `ringfence daemon`, the broker's event loop. One thread, one epoll set:
 * the listening socket, every client's control socket, a signalfd, a 1 s timerfd for
 * rates, and the event source (a timerfd that paces synthetic or replayed events;
 * the sensor's fd once it is built in). Nothing here blocks on a client: sockets are
 * non-blocking, a client that does not read its replies is disconnected, and a full
 * ring is a counted drop (broker.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/log.h"
#include "attest/attest.h"
#include "daemon/affinity.h"
#include "daemon/attest_glue.h"
#include "daemon/auth.h"
#include "daemon/broker.h"
#include "daemon/fleet_agent.h"
#include "daemon/incident.h"
#include "daemon/netpolicy.h"
#include "daemon/recent.h"
#include "daemon/source.h"
#include "daemon/supervisor.h"
#include "sensor/sensor.h"
#include "ringfence/ringfence.h"
#include "common/clock.h"

/* Events per round of a synthetic or replayed source: one publish (and at most one
 * wake-up) per client per round. 1024 rather than 256: a quarter of the wake-ups of
 * clients that keep up, at 5 M events/s 1024 events are 0.2 ms. */
#define PUMP_BATCH 1024u

static const char tag_audit, tag_supnotify, tag_listen, tag_signal, tag_tick, tag_source, tag_sensor, tag_fan, tag_authtimer, tag_net,
	tag_sup, tag_fleet;

struct daemon {
	struct rf_broker b;
	struct rf_source *src;
	struct rf_sensor *sensor;
	struct rf_auth *auth;
	struct rf_netpolicy *net;
	struct rf_supervisor sup;
	struct rf_fleet *fleet;   /* --fleet: the endpoint agent (NULL otherwise) */
	uint64_t sensor_mask; /* classes the sensor emits now */
	int ep, lfd, sfd, tick_fd, src_fd, sup_fd;
	unsigned wait_clients;
	bool src_started;
	const char *sock_path;
	unsigned char *rx, *tx;
};

static void usage(FILE *o)
{
	fprintf(o,
		"usage: ringfence daemon [OPTIONS]\n\n"
		"Run the ringfence broker in the foreground: clients connect to the socket, are\n"
		"checked against their manifests and receive events through shared-memory rings.\n\n"
		"  --socket PATH        control socket (default " RF_DEFAULT_SOCKET ")\n"
		"  --config DIR         configuration directory; manifests in DIR/clients.d/*.conf\n"
		"                       (default /etc/ringfence)\n"
		"  --no-bpf             live sensor without eBPF (degraded fallback)\n"
		"  --synthetic CLASSES  generate events of these classes (comma-separated names,\n"
		"                       e.g. process_fork,process_exit) instead of the sensor\n"
		"  --replay FILE        play the events of a capture file instead of the sensor\n"
		"  --rate N|max         events per second of --synthetic/--replay (default max)\n"
		"  --replay-rate N|max  same as --rate\n"
		"  --count N            stop the source after N events (replay: loop the file)\n"
		"  --wait-clients N     start the source once N clients have subscribed\n"
		"  --no-source          no event source (AUTH requests and reports only)\n\n"
		"AUTH (docs/auth.md): permission requests for exec and open on marked mounts\n"
		"  --auth-mount DIR     mark the mount at DIR (repeatable, at most %u)\n"
		"  --auth-deadline-exec MS  verdict deadline for exec (default %u)\n"
		"  --auth-deadline-open MS  verdict deadline for open (default %u)\n"
		"  --auth-default allow|deny  verdict for a client that misses (default allow)\n"
		"  --auth-fail-closed PREFIX  paths under PREFIX: a miss denies (repeatable)\n"
		"  --auth-miss-limit N  consecutive misses before the policy acts (default %u; 0 never)\n"
		"  --auth-miss-policy demote|disconnect  demote to NOTIFY (default) or disconnect\n"
		"  --auth-no-cache      do not cache verdicts\n"
		"  --auth-no-kernel-cache  cache verdicts in the daemon only, not as fanotify\n"
		"                       ignore marks in the kernel\n"
		"  --auth-exempt-pid PID  never ask about PID (besides the daemon, its parent and\n"
		"                       its clients; repeatable, at most 4)\n"
		"  --net-policy         enforce the clients' network deny rules in the kernel\n"
		"                       (cgroup connect/bind programs on the cgroup v2 root)\n"
		"  --net-cgroup DIR     attach them to this cgroup v2 directory instead\n"
		"  --state DIR          state directory: the count of starts that did not reach\n"
		"                       healthy (default /var/lib/ringfence/daemon; with --socket\n"
		"                       other than the default: DIR-OF-SOCKET/state)\n"
		"  --safe-mode-after N  come up in safe mode after N such starts in a row (default 3)\n"
		"  --healthy-after S    seconds up before this start counts as healthy (default 10)\n"
		"  --safe-mode          come up in safe mode now\n"
		"  --tcti TCTI          TPM for attestation (docs/attest.md), e.g.\n"
		"                       swtpm:host=127.0.0.1,port=2321 or device:/dev/tpmrm0;\n"
		"                       'none': software-only. Default: $RINGFENCE_TCTI, else\n"
		"                       /dev/tpmrm0 if present, else software-only (said loudly)\n"
		"  --recent-seconds N   keep the last N seconds of events in memory for the shadow\n"
		"                       run of `content install` (default %u; 0: none)\n"
		"  --recent-mib N       memory bound of that recording (default %llu)\n"
		"  --sched MODE         the daemon's CPU scheduling: 'slice' (default: normal\n"
		"                       priority with the shortest time slice, %u us, so that the\n"
		"                       woken daemon preempts at once; no larger CPU share),\n"
		"                       'fifo[:PRIO]' (SCHED_FIFO, default priority 1: events\n"
		"                       before any normal task), or 'other' (leave it as started)\n"
		"  --cpu N              pin the daemon to CPU N (default: not pinned; the clients\n"
		"                       it starts are not): clients that open with\n"
		"                       RF_CLIENT_NEAR_DAEMON run on the same CPU and are handed\n"
		"                       events without a cross-CPU wake-up (docs/client-api.md)\n"
		"  --latency-trace FILE (benchmarks) at exit, write for each of the first %u live\n"
		"                       events: kernel time, daemon woken, read (ns, text)\n\n"
		"Fleet rollout (docs/fleet.md, \"Endpoint agent\"): report health to a controller\n"
		"and install the content versions it assigns to the supervised clients\n"
		"  --fleet URL          the controller (reports go to URL/v1/report)\n"
		"  --fleet-repo URL     the static repository the bundles are fetched from\n"
		"                       (required with --fleet)\n"
		"  --fleet-host ID      this host's id (default: /etc/machine-id)\n"
		"  --fleet-poll S       seconds between reports until the controller names its\n"
		"                       own interval (default %u; jitter: 0.5..1.5 times)\n"
		"  --fleet-internal     an internal host: first in the canary ring\n"
		"  The endpoint key is STATE/fleet.sec (ed25519, created on first start); the\n"
		"  clients the fleet updates are those with 'start = yes' and 'content_store'.\n"
		"  In safe mode the agent reports but installs nothing.\n\n"
		"  --help               this text\n\n"
		"SIGHUP reads the manifests again (connected clients keep theirs); SIGINT and\n"
		"SIGTERM stop the daemon (and the clients it started).\n"
		"Manifests with 'start = yes' are started, sandboxed, watched and restarted by the\n"
		"daemon (docs/supervisor.md). Safe mode: no third-party clients, last known good\n"
		"content, AUTH answering the default.\n"
		"Without --synthetic or --replay the events come from the live sensor (eBPF,\n"
		"or the degraded fallback). docs/client-api.md describes manifests, the\n"
		"protocol and the errors; dist/ringfenced.service runs it under systemd.\n",
		RF_AUTH_MARKS_MAX, RF_AUTH_DEADLINE_EXEC_MS, RF_AUTH_DEADLINE_OPEN_MS, RF_AUTH_MISS_LIMIT,
		RF_RECENT_SECONDS_DEFAULT, (unsigned long long)(RF_RECENT_BYTES_DEFAULT >> 20),
		RF_SCHED_SLICE_NS / 1000, RF_LAT_TRACE_MAX, RF_FLEET_POLL_DEFAULT_S);
}

static int parse_rate(const char *s, uint64_t *out)
{
	char *end;

	if (!strcmp(s, "max")) {
		*out = 0;
		return 0;
	}
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno || *end || !*out) ? -EINVAL : 0;
}

static int parse_classes(const char *s, uint64_t *out)
{
	char buf[1024], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*out = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct rf_class_desc *c = rf_schema_class_by_name(tok);
		char alt[128];

		if (!c) { /* allow "fork" for "process_fork" */
			snprintf(alt, sizeof(alt), "process_%s", tok);
			c = rf_schema_class_by_name(alt);
		}
		if (!c || c->id >= RF_CLASSES_MAX) {
			rf_err("daemon: unknown event class '%s' ('ringfence events --help' lists them)", tok);
			return -EINVAL;
		}
		*out |= 1ull << c->id;
	}
	return *out ? 0 : -EINVAL;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], *slash;
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		rf_err("daemon: socket path too long (at most %zu bytes)", sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			rf_err("daemon: cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		rf_err("daemon: another daemon is listening on %s: stop it or use --socket", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		rf_err("daemon: cannot listen on %s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static void conn_close(struct daemon *d, struct rf_conn *c, const char *why)
{
	if (c->identified)
		rf_info("client '%s' (pid %d) disconnected: %s; delivered %llu dropped %llu",
			c->man.name, (int)c->pid, why, (unsigned long long)c->delivered,
			(unsigned long long)c->dropped);
	epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	rf_broker_conn_free(&d->b, c);
}

static void accept_one(struct daemon *d)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct rf_conn *c;
	int fd;

	fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		close(fd);
		return;
	}
	c = rf_broker_conn_new(&d->b, fd, cr.pid, cr.uid, cr.gid);
	if (!c) {
		d->b.refused++;
		rf_warn("refused a connection from pid %d: too many unidentified connections",
			(int)cr.pid);
		close(fd);
		return;
	}
	ev.data.ptr = c;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		conn_close(d, c, "epoll");
}

static int send_reply(int fd, const void *buf, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

static int send_async(void *ctx, struct rf_conn *c, const void *buf, size_t len)
{
	(void)ctx;
	return send_reply(c->fd, buf, len, NULL, 0);
}

static void conn_input(struct daemon *d, struct rf_conn *c, uint32_t events)
{
	int fds[2], nfds = 0, r;
	size_t out;
	ssize_t n;
	bool was = c->identified;

	n = recv(c->fd, d->rx, RF_CTL_MSG_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))
			conn_close(d, c, "hung up");
		return;
	}
	if (n <= 0) {
		conn_close(d, c, n == 0 ? "closed" : strerror(errno));
		return;
	}
	/* n may exceed the buffer (MSG_TRUNC gives the real length): refused as too long */
	out = rf_broker_control(&d->b, c, d->rx, (size_t)n, d->tx, RF_BROKER_REPLY_MAX, fds, &nfds);
	if (!out)
		return; /* a VERDICT: no reply */
	if (out >= sizeof(struct rf_msg_error) && ((struct rf_msg_hdr *)d->tx)->type == RF_MSG_ERROR) {
		const struct rf_msg_error *e = (const void *)d->tx;
		rf_warn("client pid %d uid %u: %s: %s", (int)c->pid, (unsigned)c->uid,
			rf_proto_error_name(e->code), e->msg);
		rf_sup_incident(&d->sup, c->pid, "control request refused: %s: %s",
				rf_proto_error_name(e->code), e->msg);
	}
	r = send_reply(c->fd, d->tx, out, fds, nfds);
	if (nfds)
		close(fds[0]); /* the memfd: the client has its own now */
	if (!was && c->identified)
		rf_info("client '%s' connected: pid %d uid %u, ring %llu bytes", c->man.name,
			(int)c->pid, (unsigned)c->uid, (unsigned long long)c->ring.size);
	if (r < 0) {
		d->b.disconnected++;
		conn_close(d, c, "does not read its replies");
	}
}

static void source_cb(const struct rf_event_hdr *ev, void *ctx)
{
	rf_broker_dispatch(ctx, ev);
}

static unsigned subscribed(const struct rf_broker *b)
{
	size_t i;
	unsigned n = 0;

	for (i = 0; i < b->nconns; i++)
		n += b->conns[i]->identified && b->conns[i]->classes;
	return n;
}

/* Returns the epoll timeout: 0 when the source has more right now, else -1. */
static int pump(struct daemon *d)
{
	uint64_t now, next = UINT64_MAX;

	if (!d->src)
		return -1;
	if (!d->src_started) {
		if (subscribed(&d->b) < d->wait_clients)
			return -1;
		d->src_started = true;
		rf_source_start(d->src, rf_mono_ns());
		rf_info("source %s started", rf_source_name(d->src));
	}
	now = rf_mono_ns();
	rf_source_pump(d->src, now, PUMP_BATCH, source_cb, &d->b, &next);
	rf_broker_flush(&d->b);
	if (next == UINT64_MAX) {
		rf_info("source %s finished after %llu events", rf_source_name(d->src),
			(unsigned long long)d->b.source_events);
		d->src = rf_source_free(d->src);
		return -1;
	}
	if (next <= rf_mono_ns())
		return 0;
	struct itimerspec its = {.it_value = {.tv_sec = (time_t)(next / 1000000000ull),
					      .tv_nsec = (long)(next % 1000000000ull)}};
	timerfd_settime(d->src_fd, TFD_TIMER_ABSTIME, &its, NULL);
	return -1;
}

static void reap_dead(struct daemon *d)
{
	size_t i;

	if (!d->b.any_dead)
		return;
	for (i = d->b.nconns; i-- > 0;) {
		struct rf_conn *c = d->b.conns[i];

		if (!c->dead)
			continue;
		d->b.disconnected++;
		if (c->identified) {
			rf_warn("client '%s' (pid %d) corrupted its ring: disconnected", c->man.name,
				(int)c->pid);
			conn_close(d, c, "corrupt ring");
		} else {
			rf_warn("connection from pid %d uid %u sent no HELLO within %u s: closed",
				(int)c->pid, (unsigned)c->uid, RF_CTL_HELLO_TIMEOUT_S);
			conn_close(d, c, "no HELLO");
		}
	}
	d->b.any_dead = false;
}

/* --latency-trace: per live event, where its time went (bench/fanout.sh joins it with
 * the client's receipt times). Off: one predictable branch per event. */
struct lat_rec {
	uint64_t ts, wake, pub; /* CLOCK_REALTIME ns: kernel time stamp, daemon woken, read
				 * and normalised (the fan-out and publish come right after) */
	uint32_t pid;
	uint16_t cls;
};
static struct lat_rec *lat_trace;
static size_t lat_n, lat_pubbed;
static uint64_t lat_wake;

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void lat_published(void)
{
	uint64_t now;

	if (!lat_trace || lat_pubbed == lat_n)
		return;
	now = real_ns();
	for (; lat_pubbed < lat_n; lat_pubbed++)
		lat_trace[lat_pubbed].pub = now;
}

static int lat_write(const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f)
		return -errno;
	for (i = 0; i < lat_pubbed; i++)
		fprintf(f, "%llu %u %u %llu %llu\n", (unsigned long long)lat_trace[i].ts,
			(unsigned)lat_trace[i].cls, (unsigned)lat_trace[i].pid,
			(unsigned long long)lat_trace[i].wake, (unsigned long long)lat_trace[i].pub);
	return fclose(f) ? -errno : 0;
}

static int sensor_cb(const struct rf_event_hdr *ev, void *ctx)
{
	if (lat_trace && lat_n < RF_LAT_TRACE_MAX)
		lat_trace[lat_n++] = (struct lat_rec){.ts = ev->ts_ns, .wake = lat_wake,
						      .pid = ev->pid, .cls = ev->class_id};
	rf_broker_dispatch(ctx, ev);
	return 0;
}

/* struct sched_attr of sched_setattr(2) (glibc has no wrapper). */
struct rf_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

/*
 * --sched: 'slice' keeps the normal policy and weight but asks for the shortest time
 * slice (EEVDF, Linux 6.12+): a task with a short slice gets an earlier virtual
 * deadline, so a woken daemon preempts a CPU-bound task at once instead of waiting
 * for its slice to end, without taking a larger share of the CPU. 'fifo' puts the
 * daemon above every normal task (the kernel's real-time throttling still leaves
 * 5% to others). Returns 0, -EDOM for a bad MODE, or -errno from the kernel, with a
 * reason in err.
 */
static int set_sched(const char *mode, char *err, size_t errlen)
{
	/* SCHED_FLAG_RESET_ON_FORK: the clients the supervisor starts do not inherit it */
	struct rf_sched_attr a = {.size = sizeof(a), .flags = 0x01};
	unsigned long prio = 1;
	char *end;

	if (!strcmp(mode, "other"))
		return 0;
	if (!strcmp(mode, "slice")) {
		a.policy = SCHED_OTHER;
		a.runtime = RF_SCHED_SLICE_NS;
	} else if (!strncmp(mode, "fifo", 4) && (!mode[4] || mode[4] == ':')) {
		if (mode[4]) {
			errno = 0;
			prio = strtoul(mode + 5, &end, 10);
			if (errno || *end || prio < 1 || prio > 99) {
				snprintf(err, errlen, "--sched fifo:PRIO wants a priority from 1 to 99");
				return -EDOM;
			}
		}
		a.policy = SCHED_FIFO;
		a.priority = (uint32_t)prio;
	} else {
		snprintf(err, errlen, "--sched wants slice, fifo[:PRIO] or other");
		return -EDOM;
	}
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) {
		int e = errno;
		snprintf(err, errlen, "--sched %s: sched_setattr: %s%s", mode, strerror(e),
			 a.policy == SCHED_OTHER ? " (a custom slice needs Linux 6.12 or later)" : "");
		return -e;
	}
	return 0;
}

/* The kernel emits a class only while some client subscribes to it: the sensor's
 * class mask follows the union of the subscriptions, changed at run time without
 * reloading anything. */
static void sync_sensor_classes(struct daemon *d)
{
	uint64_t mask = 0;
	size_t i;

	if (!d->sensor)
		return;
	for (i = 0; i < d->b.nconns; i++)
		if (d->b.conns[i]->identified)
			mask |= d->b.conns[i]->classes;
	if (!mask)
		mask = 1ull << RF_CLASS_PROCESS_EXEC;
	if (mask != d->sensor_mask) {
		rf_sensor_set_classes(d->sensor, mask);
		d->sensor_mask = mask;
	}
}

static int sensor_open(struct daemon *d, bool no_bpf, char *err, size_t errlen)
{
	struct rf_sensor_opts so = {.no_bpf = no_bpf, .bootstrap = true};
	char why[256];
	int r;

	/* Nothing is subscribed yet: process classes only (the process table needs them);
	 * sync_sensor_classes() follows the union of the subscriptions from then on. */
	so.class_mask = 1ull << RF_CLASS_PROCESS_EXEC;
	d->sensor_mask = so.class_mask;
	r = rf_sensor_open(&so, sensor_cb, &d->b, &d->sensor, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "sensor: %s", why);
		return r;
	}
	d->b.proctable = rf_sensor_proctable(d->sensor);
	if (rf_sensor_degraded(d->sensor))
		rf_warn("sensor DEGRADED: %s", rf_sensor_degraded(d->sensor));
	return 0;
}

/* SIGHUP: read the manifests again. Connected clients keep the manifest they
 * identified with; a bad manifest keeps the old set. */
static void reload(struct daemon *d, const char *config)
{
	struct rf_manifests ms;
	char err[512];

	if (rf_manifests_load(config, &ms, err, sizeof(err)) < 0) {
		rf_err("daemon: SIGHUP: bad manifest, keeping the %zu loaded: %s",
		       d->b.manifests.n, err);
		return;
	}
	rf_manifests_free(&d->b.manifests);
	d->b.manifests = ms;
	rf_dattest_manifests(config);
	rf_sup_reload(&d->sup);
	rf_info("SIGHUP: %zu client manifests loaded from %s/clients.d", ms.n, config);
}

/* STATE/failed-starts: starts in a row that did not reach healthy. */
static unsigned starts_read(const char *dir)
{
	char path[4096], buf[32];
	unsigned v = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/failed-starts", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		v = (unsigned)strtoul(buf, NULL, 10);
	}
	return v > 1000000 ? 1000000 : v;
}

static int starts_write(const char *dir, unsigned v)
{
	char path[4096], tmp[4096], buf[32];
	int fd, n, r = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/failed-starts", dir);
	snprintf(tmp, sizeof(tmp), "%s/failed-starts.tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%u\n", v);
	if (write(fd, buf, (size_t)n) != n || fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	return r;
}

static int add_fd(int ep, int fd, const void *tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = (void *)tag};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int rf_cmd_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"synthetic", required_argument, NULL, 'S'},
		{"replay", required_argument, NULL, 'R'},
		{"rate", required_argument, NULL, 'r'},
		{"replay-rate", required_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'n'},
		{"wait-clients", required_argument, NULL, 'w'},
		{"no-bpf", no_argument, NULL, 'B'},
		{"no-source", no_argument, NULL, 'N'},
		{"auth-mount", required_argument, NULL, 1001},
		{"auth-deadline-exec", required_argument, NULL, 'X'},
		{"auth-deadline-open", required_argument, NULL, 'O'},
		{"auth-default", required_argument, NULL, 1002},
		{"auth-fail-closed", required_argument, NULL, 'F'},
		{"auth-miss-limit", required_argument, NULL, 'L'},
		{"auth-miss-policy", required_argument, NULL, 'P'},
		{"auth-no-cache", no_argument, NULL, 'C'},
		{"auth-no-kernel-cache", no_argument, NULL, 1020},
		{"auth-exempt-pid", required_argument, NULL, 'E'},
		{"net-policy", no_argument, NULL, 'Y'},
		{"net-cgroup", required_argument, NULL, 'G'},
		{"state", required_argument, NULL, 'D'},
		{"safe-mode-after", required_argument, NULL, 'A'},
		{"healthy-after", required_argument, NULL, 'H'},
		{"safe-mode", no_argument, NULL, 'M'},
		{"fleet", required_argument, NULL, 1101},
		{"fleet-repo", required_argument, NULL, 1102},
		{"fleet-host", required_argument, NULL, 1103},
		{"fleet-poll", required_argument, NULL, 1104},
		{"fleet-internal", no_argument, NULL, 1105},
		{"tcti", required_argument, NULL, 1010},
		{"recent-seconds", required_argument, NULL, 1003},
		{"recent-mib", required_argument, NULL, 1004},
		{"sched", required_argument, NULL, 1005},
		{"latency-trace", required_argument, NULL, 1006},
		{"cpu", required_argument, NULL, 1007},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct daemon d = {.ep = -1, .lfd = -1, .sfd = -1, .tick_fd = -1, .src_fd = -1, .sup_fd = -1};
	const char *state_dir = NULL;
	char state_buf[4096];
	unsigned safe_after = RF_SAFE_MODE_STARTS, healthy_after = RF_DAEMON_HEALTHY_S, failed = 0;
	bool safe_mode = false, healthy = false;
	uint64_t t_start;
	const char *config = "/etc/ringfence", *replay = NULL, *synth = NULL;
	uint64_t rate = 0, count = 0, classes = 0;
	struct rf_manifests ms;
	char err[512];
	sigset_t mask;
	int o, r, ret = 1, timeout;
	bool stop = false, no_bpf = false, no_source = false, net_policy = false;
	const char *tcti = NULL;
	unsigned long recent_s = RF_RECENT_SECONDS_DEFAULT, recent_mib = RF_RECENT_BYTES_DEFAULT >> 20;
	const char *net_cgroup = NULL, *sched_mode = "slice", *lat_path = NULL, *cpu_arg = NULL;
	int cpu = -1;
	struct rf_fleet_opts fo = {.poll_s = RF_FLEET_POLL_DEFAULT_S};
	struct rf_auth_opts ao = {.deadline_ms = {RF_AUTH_DEADLINE_EXEC_MS, RF_AUTH_DEADLINE_OPEN_MS},
				  .miss_limit = RF_AUTH_MISS_LIMIT, .miss_policy = RF_AUTH_MISS_DEMOTE};

	d.sock_path = RF_DEFAULT_SOCKET;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		switch (o) {
		case 's': d.sock_path = optarg; break;
		case 'c': config = optarg; break;
		case 'S': synth = optarg; break;
		case 'R': replay = optarg; break;
		case 'r':
			if (parse_rate(optarg, &rate) < 0) {
				rf_err("daemon: --rate wants a positive number or 'max'");
				return 2;
			}
			break;
		case 'D': state_dir = optarg; break;
		case 'M': safe_mode = true; break;
		case 1010: tcti = optarg; break;
		case 'A':
		case 'H':
			errno = 0;
			unsigned long ah = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || ah < 1 || ah > 86400) {
				rf_err("daemon: --%s wants a number from 1 to 86400",
				       o == 'A' ? "safe-mode-after" : "healthy-after");
				return 2;
			}
			if (o == 'A')
				safe_after = (unsigned)ah;
			else
				healthy_after = (unsigned)ah;
			break;
		case 'n':
		case 'w':
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg) {
				rf_err("daemon: --%s wants a number", o == 'n' ? "count" : "wait-clients");
				return 2;
			}
			if (o == 'n')
				count = v;
			else
				d.wait_clients = v > RF_CLIENTS_MAX ? RF_CLIENTS_MAX : (unsigned)v;
			break;
		case 'B': no_bpf = true; break;
		case 'N': no_source = true; break;
		case 'Y': net_policy = true; break;
		case 'G': net_policy = true; net_cgroup = optarg; break;
		case 1001:
			if (ao.nmounts >= RF_AUTH_MARKS_MAX) {
				rf_err("daemon: at most %u --auth-mount", RF_AUTH_MARKS_MAX);
				return 2;
			}
			ao.mounts[ao.nmounts++] = optarg;
			break;
		case 'F':
			if (ao.nfail_closed >= RF_AUTH_FAILCLOSED_MAX || optarg[0] != '/') {
				rf_err("daemon: --auth-fail-closed wants an absolute path (at most %u)",
				       RF_AUTH_FAILCLOSED_MAX);
				return 2;
			}
			ao.fail_closed[ao.nfail_closed++] = optarg;
			break;
		case 1002:
			if (strcmp(optarg, "allow") && strcmp(optarg, "deny")) {
				rf_err("daemon: --auth-default wants allow or deny");
				return 2;
			}
			ao.default_deny = !strcmp(optarg, "deny");
			break;
		case 'P':
			if (strcmp(optarg, "demote") && strcmp(optarg, "disconnect")) {
				rf_err("daemon: --auth-miss-policy wants demote or disconnect");
				return 2;
			}
			ao.miss_policy = !strcmp(optarg, "demote") ? RF_AUTH_MISS_DEMOTE : RF_AUTH_MISS_DISCONNECT;
			break;
		case 'C': ao.no_cache = true; break;
		case 1020: ao.no_kcache = true; break;
		case 'X':
		case 'O':
		case 'L':
		case 'E': {
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg) {
				rf_err("daemon: --%s wants a number", o == 'L' ? "auth-miss-limit" : o == 'E' ? "auth-exempt-pid" : "auth-deadline-*");
				return 2;
			}
			if (o == 'L') {
				ao.miss_limit = v > 1000000 ? 1000000 : (uint32_t)v;
			} else if (o == 'E') {
				if (ao.nexempt >= 4 || !v || v > INT32_MAX) {
					rf_err("daemon: at most 4 --auth-exempt-pid, each a pid");
					return 2;
				}
				ao.exempt[ao.nexempt++] = (pid_t)v;
			} else {
				if (v < RF_AUTH_DEADLINE_MIN_MS || v > RF_AUTH_DEADLINE_MAX_MS) {
					rf_err("daemon: AUTH deadlines are %u..%u ms", RF_AUTH_DEADLINE_MIN_MS,
					       RF_AUTH_DEADLINE_MAX_MS);
					return 2;
				}
				ao.deadline_ms[o == 'X' ? 0 : 1] = (uint32_t)v;
			}
			break;
		}
		case 1101: fo.url = optarg; break;
		case 1102: fo.repo = optarg; break;
		case 1103: fo.host = optarg; break;
		case 1104: {
			errno = 0;
			unsigned long ps = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || ps < 1 || ps > RF_FLEET_POLL_MAX_S) {
				rf_err("daemon: --fleet-poll wants seconds from 1 to %u", RF_FLEET_POLL_MAX_S);
				return 2;
			}
			fo.poll_s = (unsigned)ps;
			break;
		}
		case 1105: fo.internal = true; break;
		case 1003:
		case 1004: {
			unsigned long lo = o == 1003 ? 0 : RF_RECENT_BYTES_MIN >> 20;
			unsigned long hi = o == 1003 ? 3600 : RF_RECENT_BYTES_MAX >> 20;

			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || v < lo || v > hi) {
				rf_err("daemon: --%s wants a number from %lu to %lu",
				       o == 1003 ? "recent-seconds" : "recent-mib", lo, hi);
				return 2;
			}
			if (o == 1003)
				recent_s = v;
			else
				recent_mib = v;
			break;
		}
		case 1005: sched_mode = optarg; break;
		case 1006: lat_path = optarg; break;
		case 1007: cpu_arg = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || (synth && replay)) {
		rf_err("daemon: give at most one of --synthetic and --replay, and no other arguments");
		return 2;
	}
	if (synth && parse_classes(synth, &classes) < 0)
		return 2;
	if (!fo.url != !fo.repo || (!fo.url && (fo.host || fo.internal))) {
		rf_err("daemon: --fleet URL and --fleet-repo URL go together (and --fleet-host, "
		       "--fleet-internal need them)");
		return 2;
	}
	r = set_sched(sched_mode, err, sizeof(err));
	if (r == -EDOM) {
		rf_err("daemon: %s", err);
		return 2;
	}
	if (r < 0) /* loud, not fatal: the daemon works, only its wake-up latency suffers */
		rf_warn("daemon: %s: running with the scheduling it was started with", err);
	if (cpu_arg) {
		cpu = rf_affinity_pin(cpu_arg, err, sizeof(err));
		if (cpu < 0) {
			rf_err("daemon: %s", err);
			return cpu == -EDOM ? 2 : 1;
		}
	}
	if (lat_path && !(lat_trace = calloc(RF_LAT_TRACE_MAX, sizeof(*lat_trace)))) {
		rf_err("daemon: --latency-trace: out of memory");
		return 1;
	}
	r = rf_manifests_load(config, &ms, err, sizeof(err));
	if (r < 0) {
		rf_err("daemon: bad manifest: %s", err);
		return 1;
	}
	rf_broker_init(&d.b, &ms, config);
	d.b.cpu = cpu;
	if (recent_s) {
		r = rf_recent_new((unsigned)recent_s, (uint64_t)recent_mib << 20, &d.b.recent);
		if (r < 0) {
			rf_err("daemon: recent-events recording: %s", strerror(-r));
			goto out;
		}
		d.b.recent_window_s = (unsigned)recent_s;
	}
	d.b.send = send_async;
	d.b.send_ctx = &d;
	if (!state_dir) {
		/* a daemon on a private socket (tests) keeps its state beside the socket */
		if (!strcmp(d.sock_path, RF_DEFAULT_SOCKET)) {
			state_dir = "/var/lib/ringfence/daemon";
		} else {
			char *slash;
			snprintf(state_buf, sizeof(state_buf), "%s", d.sock_path);
			slash = strrchr(state_buf, '/');
			if (slash)
				snprintf(slash, sizeof(state_buf) - (size_t)(slash - state_buf), "/state");
			else
				snprintf(state_buf, sizeof(state_buf), "state");
			state_dir = state_buf;
		}
	}
	failed = starts_read(state_dir);
	if (failed >= safe_after)
		safe_mode = true;
	if (starts_write(state_dir, failed + 1) < 0)
		rf_warn("daemon: cannot record this start in %s/failed-starts: %s; safe mode cannot "
			"detect a boot loop", state_dir, strerror(errno));
	if (safe_mode) {
		rf_err("**************************************************************************");
		rf_err("SAFE MODE: %u starts in a row did not reach healthy (state %s).", failed,
		       state_dir);
		rf_err("SAFE MODE: no third-party clients, last known good content, AUTH answers "
		       "the default verdict.");
		rf_err("SAFE MODE: the next start is normal once this one has run %u s.", healthy_after);
		rf_err("**************************************************************************");
		d.b.safe_mode = true;
	}
	/* before anything is loaded: the log starts with the daemon itself */
	rf_dattest_start(tcti, state_dir, argc, argv, config);
	if (synth)
		r = rf_source_synthetic(classes, rate, count, &d.src, err, sizeof(err));
	else if (replay)
		r = rf_source_replay(replay, rate, count, &d.src, err, sizeof(err));
	else if (!no_source)
		r = sensor_open(&d, no_bpf, err, sizeof(err));
	else
		r = 0;
	if (r < 0) {
		rf_err("daemon: %s", err);
		goto out;
	}
	if (d.sensor && !rf_sensor_degraded(d.sensor))
		rf_dattest_bpf("sensor");
	if (ao.nmounts) {
		r = rf_auth_open(&ao, &d.b, &d.auth, err, sizeof(err));
		if (r < 0) {
			rf_err("daemon: %s", err);
			goto out;
		}
		rf_info("AUTH on %u mounts; deadlines exec %u ms, open %u ms; default %s",
			ao.nmounts, ao.deadline_ms[0], ao.deadline_ms[1], ao.default_deny ? "deny" : "allow");
		if (safe_mode)
			rf_err("SAFE MODE: AUTH asks no client: every request gets the default verdict "
			       "(%s; fail-closed prefixes deny)", ao.default_deny ? "deny" : "allow");
	}
	if (net_policy) {
		r = rf_netpolicy_open(&d.b, net_cgroup, &d.net, err, sizeof(err));
		if (r < 0) {
			rf_err("daemon: %s", err);
			goto out;
		}
		rf_dattest_bpf("netpolicy");
	}
	snprintf(d.b.source_name, sizeof(d.b.source_name), "%s",
		 d.src ? rf_source_name(d.src) : !d.sensor ? "none" :
		 rf_sensor_degraded(d.sensor) ? "sensor (degraded)" : "sensor");
	d.rx = malloc(RF_CTL_MSG_MAX + 1);
	d.tx = malloc(RF_BROKER_REPLY_MAX);
	if (!d.rx || !d.tx)
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	d.tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d.src_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d.sup_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d.sfd < 0 || d.ep < 0 || d.tick_fd < 0 || d.src_fd < 0 || d.sup_fd < 0) {
		rf_err("daemon: cannot set up epoll, signalfd or timerfd: %s", strerror(errno));
		goto out;
	}
	d.lfd = listen_on(d.sock_path);
	if (d.lfd < 0)
		goto out;
	struct itimerspec tick = {.it_interval = {1, 0}, .it_value = {1, 0}};
	timerfd_settime(d.tick_fd, 0, &tick, NULL);
	struct itimerspec stick = {.it_interval = {0, RF_SUP_TICK_MS * 1000000L},
				   .it_value = {0, 1000000L}};
	timerfd_settime(d.sup_fd, 0, &stick, NULL);
	if (rf_sup_init(&d.sup, &d.b, d.sensor, d.sock_path, safe_mode) < 0) {
		rf_err("daemon: supervisor: out of memory");
		goto out;
	}
	d.b.sup = &d.sup;
	if (fo.url) {
		fo.state_dir = state_dir;
		fo.no_install = safe_mode;
		if (rf_fleet_open(&fo, &d.sup, &d.fleet, err, sizeof(err)) < 0) {
			rf_err("daemon: %s", err);
			goto out;
		}
		if (add_fd(d.ep, rf_fleet_fd(d.fleet), &tag_fleet)) {
			rf_err("daemon: epoll_ctl: %s", strerror(errno));
			goto out;
		}
		if (rf_dattest_get()) /* --tcti: reports carry a quote over the nonce */
			rf_fleet_attest_hook = rf_dattest_fleet_quote;
	}
	if (d.sup.n && rf_sup_notify_fd(&d.sup) >= 0 &&
	    add_fd(d.ep, rf_sup_notify_fd(&d.sup), &tag_supnotify) < 0)
		rf_warn("supervisor: epoll_ctl: %s: opens outside the sandbox are not reported",
			strerror(errno));
	if (d.sup.n) {
		r = d.sup.landlock_abi >= 7 ? rf_sup_audit_open(&d.sup) : -EOPNOTSUPP;
		if (r >= 0 && add_fd(d.ep, r, &tag_audit) == 0)
			rf_info("supervisor: sandbox denials of clients are reported (Landlock audit)");
		else
			rf_warn("supervisor: sandbox denials of clients are NOT reported: %s",
				r == -EOPNOTSUPP ? "needs Landlock ABI 7 (kernel 6.15+)"
				: r < 0 ? strerror(-r) : strerror(errno));
	}
	t_start = rf_mono_ns();
	if (add_fd(d.ep, d.sup_fd, &tag_sup) || add_fd(d.ep, d.lfd, &tag_listen) || add_fd(d.ep, d.sfd, &tag_signal) ||
	    add_fd(d.ep, d.tick_fd, &tag_tick) || add_fd(d.ep, d.src_fd, &tag_source) ||
	    (d.sensor && add_fd(d.ep, rf_sensor_fd(d.sensor), &tag_sensor)) ||
	    (d.auth && (add_fd(d.ep, rf_auth_fanotify_fd(d.auth), &tag_fan) ||
			add_fd(d.ep, rf_auth_timer_fd(d.auth), &tag_authtimer))) ||
	    (d.net && add_fd(d.ep, rf_netpolicy_fd(d.net), &tag_net))) {
		rf_err("daemon: epoll_ctl: %s", strerror(errno));
		goto out;
	}
	rf_info("listening on %s with %zu client manifests from %s/clients.d; source %s",
		d.sock_path, d.b.manifests.n, config, d.b.source_name);
	timeout = 0;
	while (!stop) {
		struct epoll_event evs[32];
		bool sensor_pending = timeout != 0 && d.sensor && rf_sensor_idle(d.sensor);
		int i, n = epoll_wait(d.ep, evs, 32, sensor_pending ? 0 : timeout);

		if (d.sensor)
			rf_sensor_awake(d.sensor);

		if (lat_trace)
			lat_wake = real_ns();

		if (n < 0 && errno != EINTR) {
			rf_err("daemon: epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (i = 0; i < n; i++) {
			const void *tag = evs[i].data.ptr;
			uint64_t x;

			if (tag == &tag_listen) {
				accept_one(&d);
			} else if (tag == &tag_signal) {
				struct signalfd_siginfo si;
				while (read(d.sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP)
						reload(&d, config);
					else if (si.ssi_signo == SIGCHLD)
						rf_sup_reap(&d.sup);
					else
						stop = true;
				}
			} else if (tag == &tag_tick) {
				(void)!read(d.tick_fd, &x, sizeof(x));
				rf_broker_tick(&d.b);
				if (d.sensor) {
					struct rf_sensor_stats ss;
					rf_sensor_stats(d.sensor, &ss);
					if (ss.dropped > d.b.source_dropped)
						rf_warn("sensor lost %llu events (kernel ring full)",
							(unsigned long long)(ss.dropped - d.b.source_dropped));
					d.b.source_dropped = ss.dropped;
				}
			} else if (tag == &tag_fan) {
				rf_auth_read(d.auth);
			} else if (tag == &tag_authtimer) {
				rf_auth_expire(d.auth);
			} else if (tag == &tag_net) {
				rf_netpolicy_read(d.net);
			} else if (tag == &tag_supnotify) {
				rf_sup_notify_read(&d.sup);
			} else if (tag == &tag_audit) {
				rf_sup_audit_read(&d.sup);
			} else if (tag == &tag_sup) {
				(void)!read(d.sup_fd, &x, sizeof(x));
				rf_sup_tick(&d.sup);
				if (!healthy && rf_mono_ns() - t_start >= healthy_after * 1000000000ull) {
					healthy = true;
					if (starts_write(state_dir, 0) == 0)
						rf_info("daemon healthy after %u s%s", healthy_after,
							safe_mode ? "; SAFE MODE ends at the next start" : "");
				}
			} else if (tag == &tag_fleet) {
				rf_fleet_run(d.fleet);
			} else if (tag == &tag_source) {
				(void)!read(d.src_fd, &x, sizeof(x));
			} else if (tag == &tag_sensor) {
				r = rf_sensor_poll(d.sensor, 0);
				if (r < 0 && r != -EINTR && r != -EAGAIN) {
					rf_err("daemon: sensor: %s", strerror(-r));
					goto out;
				}
				lat_published();
				rf_broker_flush(&d.b);
			} else {
				conn_input(&d, evs[i].data.ptr, evs[i].events);
				/* conn may be gone: no later event of this batch refers to it,
				 * because epoll reports each fd once per wait. */
			}
		}
		if ((n == 0 || sensor_pending) && d.sensor) {
			(void)rf_sensor_poll(d.sensor, 0);
			lat_published();
			rf_broker_flush(&d.b);
		}
		timeout = pump(&d);
		reap_dead(&d);
		sync_sensor_classes(&d);
	}
	if (!healthy)
		starts_write(state_dir, failed); /* a clean stop is no failed start */
	rf_info("stopping: %llu events from the source, %zu clients connected",
		(unsigned long long)d.b.source_events, d.b.nconns);
	if (lat_path) {
		lat_published();
		r = lat_write(lat_path);
		if (r < 0)
			rf_err("daemon: --latency-trace %s: %s", lat_path, strerror(-r));
		else
			rf_info("latency trace of %zu events in %s", lat_pubbed, lat_path);
	}
	ret = 0;
out:
	rf_fleet_free(d.fleet);
	rf_sup_fini(&d.sup);
	d.b.sup = NULL;
	while (d.b.nconns) {
		struct rf_conn *c = d.b.conns[d.b.nconns - 1];
		close(c->fd);
		rf_broker_conn_free(&d.b, c);
	}
	rf_auth_free(d.auth);
	rf_netpolicy_free(d.net);
	rf_recent_free(d.b.recent);
	d.b.recent = NULL;
	rf_broker_fini(&d.b);
	rf_source_free(d.src);
	rf_sensor_free(d.sensor);
	if (d.lfd >= 0) {
		close(d.lfd);
		unlink(d.sock_path);
	}
	if (d.ep >= 0)
		close(d.ep);
	if (d.sfd >= 0)
		close(d.sfd);
	if (d.tick_fd >= 0)
		close(d.tick_fd);
	if (d.src_fd >= 0)
		close(d.src_fd);
	if (d.sup_fd >= 0)
		close(d.sup_fd);
	free(d.rx);
	free(d.tx);
	free(lat_trace);
	lat_trace = NULL;
	rf_dattest_stop();
	return ret;
}
