// SPDX-License-Identifier: MIT
/* status.c: `ringfence status [--json]`: asks the daemon over its control socket. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/log.h"
#include "daemon/broker.h"
#include "ringfence/ringfence.h"

static void print_classes(FILE *o, uint64_t mask, bool json)
{
	unsigned i;
	bool first = true;

	for (i = 1; i < RF_CLASSES_MAX; i++) {
		const struct rf_class_desc *c;
		if (!((mask >> i) & 1))
			continue;
		c = rf_schema_class(i);
		if (json)
			fprintf(o, "%s\"%s\"", first ? "" : ",", c ? c->name : "?");
		else
			fprintf(o, "%s%s", first ? "" : ",", c ? c->name : "?");
		first = false;
	}
	if (first && !json)
		fprintf(o, "-");
}

#define TF(bit) ((m.u.status.flags & (bit)) ? "true" : "false")

static const char *sup_state_name(uint32_t st)
{
	switch (st) {
	case 1: return "running";
	case 2: return "restarting";
	case 3: return "quarantined";
	case 4: return "stopped";
	default: return "?";
	}
}

static void json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(o, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(o, "\\u%04x", *s);
		else
			fputc(*s, o);
	}
	fputc('"', o);
}

int rf_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = getenv("RINGFENCE_SOCKET");
	struct timeval tv = {.tv_sec = 5};
	struct rf_msg_hdr req = {.magic = RF_PROTO_MAGIC, .type = RF_MSG_STATUS_REQ,
				 .size = sizeof(req), .id = 1};
	unsigned char *buf = NULL;
	struct rf_msg m;
	const char *why;
	bool json = false;
	int o, fd = -1, ret = 1;
	ssize_t n;
	uint32_t i;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'j': json = true; break;
		case 's': path = optarg; break;
		case 'h':
			printf("usage: ringfence status [--json] [--socket PATH]\n\n"
			       "Show the daemon's clients: subscriptions, events/s, deliveries, drops,\n"
			       "muting, ring fill, AUTH answers and deadline misses; AUTH totals (requests,\n"
			       "verdicts, cache, decision latency) and network rules (docs/auth.md); for clients\n"
			       "the daemon started: state (running, restarting, quarantined, stopped),\n"
			       "restarts, crashes, crash loops, content rollbacks; safe mode.\n"
			       "Needs root or the daemon's user. Socket: --socket, $RINGFENCE_SOCKET or\n"
			       RF_DEFAULT_SOCKET ".\n");
			return 0;
		default: return 2;
		}
	}
	if (!path || !*path)
		path = RF_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		rf_err("status: socket path too long");
		return 2;
	}
	strcpy(sa.sun_path, path);
	buf = malloc(RF_BROKER_REPLY_MAX + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (!buf || fd < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rf_err("status: cannot connect to %s: %s (is 'ringfence daemon' running?)", path,
		       strerror(errno));
		goto out;
	}
	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req) ||
	    (n = recv(fd, buf, RF_BROKER_REPLY_MAX + 1, 0)) <= 0) {
		rf_err("status: no answer from the daemon on %s", path);
		goto out;
	}
	if (rf_proto_parse(buf, (size_t)n, &m, &why) < 0) {
		rf_err("status: malformed answer from the daemon: %s", why);
		goto out;
	}
	if (m.hdr.type == RF_MSG_ERROR) {
		rf_err("status: daemon refused: %s: %s", rf_proto_error_name(m.u.error.code),
		       m.u.error.msg);
		goto out;
	}
	if (m.hdr.type != RF_MSG_STATUS) {
		rf_err("status: unexpected answer %s", rf_proto_type_name(m.hdr.type));
		goto out;
	}
	if (json) {
		printf("{\"uptime_s\":%.3f,\"source\":", m.u.status.uptime_ns / 1e9);
		json_str(stdout, m.u.status.source);
		printf(",\"source_events\":%llu,\"source_events_per_s\":%llu,\"source_dropped\":%llu,"
		       "\"refused\":%llu,\"disconnected\":%llu,\"safe_mode\":%s,"
		       "\"sandbox\":{\"seccomp\":%s,\"landlock\":%s,\"cgroup\":%s,\"cgroup_cpu\":%s,"
		       "\"cgroup_memory\":%s},\"clients\":[",
		       (unsigned long long)m.u.status.source_events,
		       (unsigned long long)m.u.status.source_per_s,
		       (unsigned long long)m.u.status.source_dropped,
		       (unsigned long long)m.u.status.refused,
		       (unsigned long long)m.u.status.disconnected, TF(RF_STATUS_SAFE_MODE),
		       TF(RF_STATUS_SECCOMP), TF(RF_STATUS_LANDLOCK), TF(RF_STATUS_CGROUP),
		       TF(RF_STATUS_CGROUP_CPU), TF(RF_STATUS_CGROUP_MEM));
	} else {
		if (m.u.status.flags & RF_STATUS_SAFE_MODE)
			printf("*** SAFE MODE: no third-party clients, last known good content, AUTH "
			       "answers the default ***\n");
		printf("source %s: %llu events, %llu/s, %llu lost; up %.0f s; refused %llu, "
		       "disconnected %llu\n",
		       m.u.status.source, (unsigned long long)m.u.status.source_events,
		       (unsigned long long)m.u.status.source_per_s,
		       (unsigned long long)m.u.status.source_dropped, m.u.status.uptime_ns / 1e9,
		       (unsigned long long)m.u.status.refused,
		       (unsigned long long)m.u.status.disconnected);
		printf("%-20s %7s %6s %-7s %10s %12s %10s %10s %6s %6s %-11s %8s %7s %5s %9s %s\n",
		       "CLIENT", "PID", "UID", "MODES", "EVENTS/S", "DELIVERED", "DROPPED", "MUTED",
		       "RING%", "MISSES", "SUPERVISED", "RESTARTS", "CRASHES", "LOOPS", "ROLLBACKS",
		       "CLASSES");
	}
	for (i = 0; i < m.u.status.nclients; i++) {
		struct rf_status_client e;
		double fill;

		memcpy(&e, m.entries + (size_t)i * m.u.status.entry_size, sizeof(e));
		e.name[sizeof(e.name) - 1] = 0;
		fill = e.ring_bytes ? 100.0 * e.ring_used / e.ring_bytes : 0;
		if (json) {
			printf("%s{\"id\":%u,\"name\":", i ? "," : "", e.client_id);
			json_str(stdout, e.name);
			printf(",\"pid\":%u,\"uid\":%u,\"modes\":[%s%s%s],\"classes\":[", e.pid, e.uid,
			       e.modes & RF_SUB_NOTIFY ? "\"notify\"" : "",
			       (e.modes & RF_SUB_NOTIFY) && (e.modes & RF_SUB_AUTH) ? "," : "",
			       e.modes & RF_SUB_AUTH ? "\"auth\"" : "");
			print_classes(stdout, e.classes, true);
			printf("],\"events_per_s\":%llu,\"delivered\":%llu,\"dropped\":%llu,"
			       "\"muted\":%llu,\"mute_entries\":%u,\"muting_inverted\":%u,"
			       "\"ring_used\":%llu,\"ring_bytes\":%llu,\"ring_fill\":%.4f,"
			       "\"deadline_misses\":%llu,\"auth\":{\"asked\":%llu,\"allowed\":%llu,"
			       "\"denied\":%llu,\"late\":%llu,\"p50_us\":%llu,\"p99_us\":%llu,"
			       "\"demoted\":%s},\"supervisor\":",
			       (unsigned long long)e.events_per_s, (unsigned long long)e.delivered,
			       (unsigned long long)e.dropped, (unsigned long long)e.muted, e.mutes,
			       e.inverted, (unsigned long long)e.ring_used,
			       (unsigned long long)e.ring_bytes, fill / 100,
			       (unsigned long long)e.deadline_misses, (unsigned long long)e.auth_asked,
			       (unsigned long long)e.auth_allowed, (unsigned long long)e.auth_denied,
			       (unsigned long long)e.auth_late, (unsigned long long)e.auth_p50_us,
			       (unsigned long long)e.auth_p99_us, e.auth_demoted ? "true" : "false");
			if (!e.sup_state)
				printf("null}");
			else
				printf("{\"state\":\"%s\",\"restarts\":%u,\"crashes\":%u,"
				       "\"crash_loops\":%u,\"rollbacks\":%u,\"stalls\":%u,"
				       "\"last_signal\":%d,\"last_exit\":%d,\"recover_ms\":%llu,"
				       "\"incidents\":%u}}",
				       sup_state_name(e.sup_state), e.restarts, e.crashes, e.crash_loops,
				       e.rollbacks, e.stalls, e.last_signal, e.last_exit,
				       (unsigned long long)e.recover_ms, e.incidents);
		} else {
			printf("%-20s %7u %6u %-7s %10llu %12llu %10llu %10llu %6.1f %6llu ", e.name,
			       e.pid, e.uid,
			       (e.modes & RF_SUB_AUTH) ? "auth" : (e.modes & RF_SUB_NOTIFY) ? "notify" : "-",
			       (unsigned long long)e.events_per_s, (unsigned long long)e.delivered,
			       (unsigned long long)e.dropped, (unsigned long long)e.muted, fill,
			       (unsigned long long)e.deadline_misses);
			printf("%-11s %8u %7u %5u %9u ", e.sup_state ? sup_state_name(e.sup_state) : "-",
			       e.restarts, e.crashes, e.crash_loops, e.rollbacks);
			print_classes(stdout, e.classes, false);
			printf("\n");
		}
	}
	const struct rf_status_auth *a = &m.u.status.auth;
	static const char *const rt_names[4] = {"exec", "open", "covered", "hit"};
	if (json) {
		printf("],\"auth\":{\"marks\":%u,\"deadline_exec_ms\":%u,\"deadline_open_ms\":%u,"
		       "\"requests\":%llu,\"exempt\":%llu,\"unasked\":%llu,\"allowed\":%llu,"
		       "\"denied\":%llu,\"deadline_misses\":%llu,\"overflow\":%llu,\"pending\":%llu,"
		       "\"cache_hits\":%llu,\"cache_misses\":%llu,\"cache_invalidated\":%llu,"
		       "\"p50_us\":%llu,\"p99_us\":%llu,\"max_us\":%llu,\"net_rules\":%u,"
		       "\"net_blocked\":%llu,\"net_unreported\":%llu,\"covered\":%llu,"
		       "\"kcache\":{\"on\":%s,\"marks\":%u,\"added\":%llu,\"flushes\":%llu,"
		       "\"full\":%llu,\"raced\":%llu},\"rt\":{",
		       a->marks, a->deadline_exec_ms, a->deadline_open_ms,
		       (unsigned long long)a->requests, (unsigned long long)a->exempt,
		       (unsigned long long)a->unasked, (unsigned long long)a->allowed,
		       (unsigned long long)a->denied, (unsigned long long)a->deadline_misses,
		       (unsigned long long)a->overflow, (unsigned long long)a->pending,
		       (unsigned long long)a->cache_hits, (unsigned long long)a->cache_misses,
		       (unsigned long long)a->cache_invalidated, (unsigned long long)a->p50_us,
		       (unsigned long long)a->p99_us, (unsigned long long)a->max_us, a->net_rules,
		       (unsigned long long)a->net_blocked, (unsigned long long)a->net_unreported,
		       (unsigned long long)a->covered, a->kcache_on ? "true" : "false",
		       a->kcache_marks, (unsigned long long)a->kcache_added,
		       (unsigned long long)a->kcache_flushes, (unsigned long long)a->kcache_full,
		       (unsigned long long)a->kcache_raced);
		for (unsigned k = 0; k < 4; k++)
			printf("%s\"%s\":{\"n\":%llu,\"p50_ns\":%u,\"p99_ns\":%u,\"max_ns\":%u}",
			       k ? "," : "", rt_names[k], (unsigned long long)a->rt[k].n,
			       a->rt[k].p50_ns, a->rt[k].p99_ns, a->rt[k].max_ns);
		printf("}}}\n");
	} else if (a->marks) {
		printf("auth: %u marked mounts, deadlines exec %u ms open %u ms; %llu requests "
		       "(%llu exempt, %llu unasked), %llu allowed, %llu denied, %llu deadline misses, "
		       "%llu overflow, %llu pending; cache %llu hits %llu misses %llu invalidated; "
		       "decision p50 %llu us p99 %llu us max %llu us\n",
		       a->marks, a->deadline_exec_ms, a->deadline_open_ms,
		       (unsigned long long)a->requests, (unsigned long long)a->exempt,
		       (unsigned long long)a->unasked, (unsigned long long)a->allowed,
		       (unsigned long long)a->denied, (unsigned long long)a->deadline_misses,
		       (unsigned long long)a->overflow, (unsigned long long)a->pending,
		       (unsigned long long)a->cache_hits, (unsigned long long)a->cache_misses,
		       (unsigned long long)a->cache_invalidated, (unsigned long long)a->p50_us,
		       (unsigned long long)a->p99_us, (unsigned long long)a->max_us);
		printf("auth kernel cache: %s, %u ignore marks (%llu added, %llu flushes, %llu at the "
		       "bound, %llu taken back); %llu opens covered by their exec\n",
		       a->kcache_on ? "on" : "off", a->kcache_marks,
		       (unsigned long long)a->kcache_added, (unsigned long long)a->kcache_flushes,
		       (unsigned long long)a->kcache_full, (unsigned long long)a->kcache_raced,
		       (unsigned long long)a->covered);
		printf("auth round trip in the daemon (event read -> answer written):");
		for (unsigned k = 0; k < 4; k++)
			printf("%s %s p50 %.1f us p99 %.1f us (%llu)", k ? ";" : "", rt_names[k],
			       a->rt[k].p50_ns / 1000.0, a->rt[k].p99_ns / 1000.0,
			       (unsigned long long)a->rt[k].n);
		printf("\n");
	}
	if (!json && (a->net_rules || a->net_blocked))
		printf("net: %u deny rules in the kernel; %llu connects/binds blocked (%llu not reported)\n",
		       a->net_rules, (unsigned long long)a->net_blocked,
		       (unsigned long long)a->net_unreported);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}
