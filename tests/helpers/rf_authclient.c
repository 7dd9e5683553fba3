// SPDX-License-Identifier: MIT
/*
 * rf_authclient: an AUTH client for the AUTH tests and bench/auth.sh.
 *   rf_authclient --socket S --name N [--classes auth_exec,auth_open]
 *     --mode allow|hang|crash|notify [--deny SUBSTR] [--cache] [--crash-after N]
 *     [--ready FILE] [--open PATH] [--rule PROTO,ADDR/PREFIX,PORT,DIR]...
 *     [--mute PREFIX] [--mute-on-usr1 PREFIX] [--delay-ms N] [--near-daemon]
 *     [--clear-on-usr2]
 * allow: answer every request at once: deny when the path contains SUBSTR, else
 *   allow (cacheable with --cache).
 * hang: subscribe with AUTH and never answer (reads nothing).
 * crash: read --crash-after N requests without answering, then abort().
 * notify: subscribe with NOTIFY and print one line per decided request:
 *   "report class=C verdict=V cached=B path=P" (flushed).
 * --open PATH: once subscribed, open and close PATH and print "open_us=N rc=R"
 * (the self-exemption test: a client is never asked about itself).
 * --rule: push a network deny rule (PROTO any|tcp|udp, DIR connect|bind|both) and
 *   print "rule ok" or "rule refused err=ERRNO msg=..." (mode notify with class
 *   net_blocked prints "blocked port=P dir=D client=C comm=X" lines).
 * --mute PREFIX: mute target paths under PREFIX before subscribing; --mute-on-usr1
 *   PREFIX: do so at SIGUSR1 and then print "muted" (the cache-flush tests).
 * --delay-ms N: mode allow answers each request N ms after reading it (and prints
 *   "asked" when it reads one).
 * --clear-on-usr2: at SIGUSR2 ask the daemon to forget its cached verdicts
 *   (rf_client_clear_cache) and print "cleared" or "clear failed err=ERRNO".
 * --near-daemon: open with RF_CLIENT_NEAR_DAEMON (run on the daemon's CPU).
 * Touches --ready once subscribed. Exit 0 on SIGTERM/EOF, 1 on error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ringfence/ringfence.h"

static volatile sig_atomic_t stop, usr1, usr2;
static void on_term(int s) { (void)s; stop = 1; }
static void on_usr1(int s) { (void)s; usr1 = 1; }
static void on_usr2(int s) { (void)s; usr2 = 1; }

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", 1, 0, 's'}, {"name", 1, 0, 'n'}, {"classes", 1, 0, 'c'},
		{"mode", 1, 0, 'm'}, {"deny", 1, 0, 'd'}, {"cache", 0, 0, 'C'},
		{"crash-after", 1, 0, 'k'}, {"ready", 1, 0, 'r'}, {"open", 1, 0, 'o'}, {"rule", 1, 0, 'R'},
		{"mute", 1, 0, 'M'}, {"mute-on-usr1", 1, 0, 'U'}, {"delay-ms", 1, 0, 'D'},
		{"near-daemon", 0, 0, 'N'}, {"clear-on-usr2", 0, 0, 'X'}, {0},
	};
	struct rf_client_opts o = {.size = sizeof(o), .abi_version = RF_ABI_VERSION};
	struct rf_client *c = NULL;
	const char *mute = NULL, *mute_usr1 = NULL;
	const char *mode = "allow", *deny = NULL, *ready = NULL, *open_path = NULL, *classes = "auth_exec,auth_open";
	char why[256], buf[256], *save = NULL, *tok;
	uint64_t mask = 0, seen = 0;
	long crash_after = 100, delay_ms = 0;
	int opt, r, cache = 0;
	struct sigaction sa = {.sa_handler = on_term}, su = {.sa_handler = on_usr1},
			 su2 = {.sa_handler = on_usr2};
	int clear_usr2 = 0;
	char *rules[80];
	int nrules = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': o.socket_path = optarg; break;
		case 'n': o.name = optarg; break;
		case 'c': classes = optarg; break;
		case 'm': mode = optarg; break;
		case 'd': deny = optarg; break;
		case 'C': cache = 1; break;
		case 'k': crash_after = strtol(optarg, NULL, 10); break;
		case 'r': ready = optarg; break;
		case 'o': open_path = optarg; break;
		case 'R': if (nrules < 80) rules[nrules++] = optarg; break;
		case 'M': mute = optarg; break;
		case 'U': mute_usr1 = optarg; break;
		case 'D': delay_ms = strtol(optarg, NULL, 10); break;
		case 'N': o.flags |= RF_CLIENT_NEAR_DAEMON; break;
		case 'X': clear_usr2 = 1; break;
		default: return 2;
		}
	}
	snprintf(buf, sizeof(buf), "%s", classes);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct rf_class_desc *d = rf_schema_class_by_name(tok);
		if (!d) {
			fprintf(stderr, "rf_authclient: unknown class %s\n", tok);
			return 2;
		}
		mask |= 1ull << d->id;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &su, NULL);
	sigaction(SIGUSR2, &su2, NULL);
	r = rf_client_open(&o, &c, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "rf_authclient: open: %s\n", why);
		return 1;
	}
	if (mute && (r = rf_client_mute_path(c, RF_MUTE_TARGET_PREFIX, mute)) < 0) {
		fprintf(stderr, "rf_authclient: mute: %s\n", rf_strerror(r));
		return 1;
	}
	r = rf_client_subscribe(c, mask, !strcmp(mode, "notify") ? RF_SUB_NOTIFY : RF_SUB_AUTH);
	if (r < 0) {
		fprintf(stderr, "rf_authclient: subscribe: %s: %s\n", rf_strerror(r), rf_client_error(c));
		return 1;
	}
	for (int i = 0; i < nrules; i++) {
		struct rf_net_rule nr = {.size = sizeof(nr)};
		char proto[16], addr[128], dir[16], *slash;
		unsigned port;

		if (sscanf(rules[i], "%15[^,],%127[^,],%u,%15s", proto, addr, &port, dir) != 4 ||
		    !(slash = strchr(addr, '/'))) {
			fprintf(stderr, "rf_authclient: bad --rule %s\n", rules[i]);
			return 2;
		}
		*slash = 0;
		nr.prefix = (uint8_t)atoi(slash + 1);
		nr.protocol = !strcmp(proto, "tcp") ? 6 : !strcmp(proto, "udp") ? 17 : !strcmp(proto, "any") ? 0 : atoi(proto);
		nr.direction = !strcmp(dir, "connect") ? RF_NETRULE_CONNECT : !strcmp(dir, "bind") ? RF_NETRULE_BIND :
			       !strcmp(dir, "both") ? 3 : (uint8_t)atoi(dir);
		nr.port = (uint16_t)port;
		if (inet_pton(AF_INET, addr, nr.addr) == 1)
			nr.family = AF_INET;
		else if (inet_pton(AF_INET6, addr, nr.addr) == 1)
			nr.family = AF_INET6;
		else
			nr.family = 99; /* for the refusal tests */
		r = rf_client_net_deny(c, &nr);
		if (r == 0)
			printf("rule ok\n");
		else
			printf("rule refused err=%d msg=%s\n", -r, rf_client_error(c));
		fflush(stdout);
	}
	if (open_path) {
		struct timespec t0, t1;
		int fd;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		fd = open(open_path, O_RDONLY | O_CLOEXEC);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("open_us=%lld rc=%d\n",
		       (long long)((t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000),
		       fd < 0 ? -errno : 0);
		fflush(stdout);
		if (fd >= 0)
			close(fd);
	}
	if (ready)
		close(open(ready, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	if (!strcmp(mode, "hang")) {
		while (!stop)
			pause();
		rf_client_close(c);
		return 0;
	}
	while (!stop) {
		const struct rf_event_hdr *ev;
		const struct rf_ev_auth_exec *e;
		const char *path;

		if (usr1 && mute_usr1) {
			usr1 = 0;
			r = rf_client_mute_path(c, RF_MUTE_TARGET_PREFIX, mute_usr1);
			printf(r < 0 ? "mute failed\n" : "muted\n");
			fflush(stdout);
		}
		if (usr2 && clear_usr2) {
			usr2 = 0;
			r = rf_client_clear_cache(c);
			if (r < 0)
				printf("clear failed err=%d\n", -r);
			else
				printf("cleared\n");
			fflush(stdout);
		}
		r = rf_client_next(c, &ev, 200);
		if (r == 0 || r == -EINTR)
			continue;
		if (r < 0) {
			if (r == -EPIPE)
				break;
			fprintf(stderr, "rf_authclient: next: %s\n", rf_strerror(r));
			return 1;
		}
		if (ev->class_id == RF_CLASS_NET_BLOCKED) {
			const struct rf_ev_net_blocked *b = (const void *)ev;
			printf("blocked port=%u dir=%u family=%u client=%s comm=%s\n", b->dport, b->direction,
			       b->family, (const char *)ev + b->client.off, (const char *)ev + b->comm.off);
			fflush(stdout);
			continue;
		}
		if (ev->class_id != RF_CLASS_AUTH_EXEC && ev->class_id != RF_CLASS_AUTH_OPEN)
			continue;
		e = (const struct rf_ev_auth_exec *)ev;
		path = (const char *)ev + e->path.off; /* validated by rf_client_next */
		if (!strcmp(mode, "notify")) {
			printf("report class=%s verdict=%u cached=%u path=%s\n",
			       ev->class_id == RF_CLASS_AUTH_EXEC ? "auth_exec" : "auth_open",
			       e->verdict, e->cached, path);
			fflush(stdout);
			continue;
		}
		if (!strcmp(mode, "crash")) {
			if (++seen >= (uint64_t)crash_after) {
				fprintf(stderr, "rf_authclient: crashing with %llu requests unanswered\n",
					(unsigned long long)seen);
				abort();
			}
			continue;
		}
		if (delay_ms > 0) {
			struct timespec d = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};

			printf("asked\n");
			fflush(stdout);
			while (nanosleep(&d, &d) < 0 && errno == EINTR && !stop)
				;
		}
		r = rf_client_verdict(c, e->request_id, !(deny && strstr(path, deny)), cache);
		if (r < 0) {
			fprintf(stderr, "rf_authclient: verdict: %s\n", rf_strerror(r));
			return 1;
		}
	}
	rf_client_close(c);
	return 0;
}
