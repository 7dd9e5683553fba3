// SPDX-License-Identifier: MIT
/*
 * fleet_load: signed /v1/report requests against `ringfence fleet serve`.
 *
 *   fleet_load --port P [--addr A] [--hosts N] [--conns C] [--seconds S]
 *              [--rate R] [--keys K] [--client NAME --version V] [--state STATE]
 *              [--crashes N] [--internal] [--print] [--once] [--first N] [--seq N]
 *              [--session] [--follow]
 *
 * Host ids are "h-%07u" (0..N-1); host i signs with key i % K (keys derived from a
 * fixed seed, so reruns present the same keys). Keep-alive connections, epoll,
 * one request in flight per connection. --once sends one report per host and
 * exits; --print shows each response. Prints reports/s, latency percentiles and
 * the count of each HTTP status. Exit 1 when any response is not 200.
 * --follow: each host then reports the highest version it was assigned (as if it
 * installed it), starting from --version. --crash-on V: a host running V reports
 * crash_loop and three more crashes in every report (a bad version).
 * --session (docs/fleet.md, "Session MAC"): each host first sends a signed report
 * asking for a session (this set-up pass over all hosts is timed and printed on its
 * own), then authenticates its reports with the session MAC.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fleet/fleet.h"

struct conn {
	int fd;
	unsigned host;
	char out[4096];
	size_t olen, osent;
	char in[8192];
	size_t ilen;
	double t0;
	bool busy;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* options and state */
static const char *client, *state = "running";
static unsigned hosts = 1000, conns = 8, keys = 1024, version, crashes, first;
static double rate;
static bool print, internal, session, follow;
static uint32_t *curv, crash_on;
static uint64_t seq0;
static uint8_t (*pk)[32], (*sk)[64], (*xpk)[32], (*xsk)[32];
static uint32_t *seqs;
static uint8_t *inflight; /* per host: a report is out */
static uint8_t (*skey)[32];
static char (*sid)[17];
static struct conn *cs;
static int ep;
static double *lat;
static size_t latcap = 1 << 20;

static void take_session(unsigned h, const char *resp)
{
	const char *p = strstr(resp, "\"session\":{\"id\":\""), *q;
	uint8_t sealed[32 + crypto_box_SEALBYTES];

	if (!p)
		return;
	p += 17;
	q = strstr(p, "\"sealed\":\"");
	if (!q || q - p < 16)
		return;
	q += 10;
	if (sodium_hex2bin(sealed, sizeof(sealed), q, 2 * sizeof(sealed), NULL, NULL, NULL) ||
	    crypto_box_seal_open(skey[h - first], sealed, sizeof(sealed), xpk[h % keys], xsk[h % keys]))
		return;
	memcpy(sid[h - first], p, 16);
	sid[h - first][16] = 0;
}

/* One phase: once over all hosts, or for SECONDS. Returns non-200 count. */
static unsigned phase(bool once, double seconds, const char *label)
{
	unsigned next = 0, sent = 0, done = 0, codes[600] = {0}, bad = 0;
	size_t nlat = 0;
	double start = now(), end = start + seconds, el;

	for (;;) {
		double t = now();
		struct epoll_event evs[256];
		int n;

		for (unsigned c = 0; c < conns; c++) {
			struct conn *x = &cs[c];
			char body[1024], auth[200], hex[65], clients[256] = "";
			unsigned h, k;
			int bl;
			if (x->busy)
				continue;
			if (once ? next >= hosts : t >= end)
				continue;
			if (rate > 0 && sent >= (t - start) * rate)
				continue;
			/* a real agent has one report in flight: never send a host's next
			 * report before its last was answered (it could overtake it on another
			 * connection and be refused as a replay) */
			if (inflight[(first + next % hosts) - first])
				continue;
			h = first + (next++ % hosts);
			k = h % keys;
			sodium_bin2hex(hex, sizeof(hex), pk[k], 32);
			if (client) {
				bool bad = crash_on && curv[h - first] == crash_on;
				snprintf(clients, sizeof(clients),
					 "{\"client\":\"%s\",\"version\":%u,\"good_version\":%u,"
					 "\"state\":\"%s\",\"error\":\"\",\"crashes\":%u,\"restarts\":0,"
					 "\"rollbacks\":0}",
					 client, curv[h - first], curv[h - first],
					 bad ? "crash_loop" : state, bad ? crashes + 3 * seqs[h - first] : crashes);
			}
			bl = snprintf(body, sizeof(body),
				      "{\"v\":1,\"host\":\"h-%07u\",\"key\":\"%s\",\"seq\":%llu,"
				      "\"time\":%lld,\"internal\":%s,\"clients\":[%s],\"auth_misses\":0,"
				      "\"drops\":0,\"cpu_pct\":1.5,\"uptime_s\":100,\"nonce\":\"\"}",
				      h, hex, (unsigned long long)(seq0 + ++seqs[h - first]),
				      (long long)time(NULL), internal ? "true" : "false", clients);
			if (session && sid[h - first][0]) {
				uint8_t mac[32];
				char mhex[65];
				rf_fleet_report_mac(body, (size_t)bl, skey[h - first], mac);
				sodium_bin2hex(mhex, sizeof(mhex), mac, 32);
				snprintf(auth, sizeof(auth), "X-Ringfence-Session: %s:%s\r\n", sid[h - first], mhex);
			} else {
				char sig[129];
				rf_fleet_report_sign(body, (size_t)bl, sk[k], sig);
				snprintf(auth, sizeof(auth), "X-Ringfence-Signature: %s\r\n%s", sig,
					 session ? "X-Ringfence-Session: new\r\n" : "");
			}
			x->olen = (size_t)snprintf(x->out, sizeof(x->out),
						   "POST /v1/report HTTP/1.1\r\nHost: controller\r\n"
						   "Content-Type: application/json\r\n"
						   "%sContent-Length: %d\r\n\r\n%s",
						   auth, bl, body);
			x->osent = 0;
			while (x->osent < x->olen) {
				ssize_t w = write(x->fd, x->out + x->osent, x->olen - x->osent);
				if (w <= 0) {
					fprintf(stderr, "fleet_load: write: %s\n", strerror(errno));
					exit(1);
				}
				x->osent += (size_t)w;
			}
			x->busy = true;
			inflight[h - first] = 1;
			x->host = h;
			x->t0 = t;
			x->ilen = 0;
			sent++;
		}
		if (done == sent && (once ? next >= hosts : now() >= end))
			break;
		n = epoll_wait(ep, evs, 256, 10);
		for (int e = 0; e < n; e++) {
			struct conn *x = &cs[evs[e].data.u32];
			ssize_t r = read(x->fd, x->in + x->ilen, sizeof(x->in) - 1 - x->ilen);
			char *hend, *cl;
			if (r <= 0) {
				fprintf(stderr, "fleet_load: connection closed by the controller\n");
				exit(1);
			}
			x->ilen += (size_t)r;
			x->in[x->ilen] = 0;
			hend = strstr(x->in, "\r\n\r\n");
			if (!hend)
				continue;
			cl = strcasestr(x->in, "Content-Length:");
			if (!cl || cl > hend)
				continue;
			size_t want = (size_t)(hend + 4 - x->in) + strtoul(cl + 15, NULL, 10);
			if (x->ilen < want)
				continue;
			int code = atoi(x->in + 9);
			if (code > 0 && code < 600)
				codes[code]++;
			if (print)
				printf("%d %.*s\n", code, (int)(want - (size_t)(hend + 4 - x->in)), hend + 4);
			if (follow && code == 200) {
				const char *v = strstr(hend + 4, "\"version\":");
				unsigned nv = v ? (unsigned)strtoul(v + 10, NULL, 10) : 0;
				if (nv > curv[x->host - first])
					curv[x->host - first] = nv;
			}
			if (session && code == 200 && !sid[x->host - first][0])
				take_session(x->host, hend + 4);
			if (session && code == 401)
				sid[x->host - first][0] = 0; /* sign the next one */
			if (nlat < latcap)
				lat[nlat++] = now() - x->t0;
			x->busy = false;
			inflight[x->host - first] = 0;
			done++;
		}
	}
	el = now() - start;
	qsort(lat, nlat, sizeof(double), cmpd);
	printf("fleet_load: %s: %u reports in %.2f s = %.0f reports/s from %u host ids over %u "
	       "connections; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       label, done, el, done / el, hosts, conns, nlat ? 1e3 * lat[nlat / 2] : 0,
	       nlat ? 1e3 * lat[(size_t)(nlat * 0.99)] : 0, nlat ? 1e3 * lat[nlat - 1] : 0);
	for (int c = 0; c < 600; c++)
		if (codes[c]) {
			printf("fleet_load: HTTP %d: %u\n", c, codes[c]);
			if (c != 200)
				bad += codes[c];
		}
	return bad;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	unsigned port = 0, bad = 0;
	double seconds = 5;
	bool once = false;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(a, "--once")) { once = true; continue; }
		if (!strcmp(a, "--print")) { print = true; continue; }
		if (!strcmp(a, "--internal")) { internal = true; continue; }
		if (!strcmp(a, "--session")) { session = true; continue; }
		if (!strcmp(a, "--follow")) { follow = true; continue; }
		i++;
		if (!strcmp(a, "--port")) port = (unsigned)atoi(v);
		else if (!strcmp(a, "--addr")) addr = v;
		else if (!strcmp(a, "--hosts")) hosts = (unsigned)atoi(v);
		else if (!strcmp(a, "--first")) first = (unsigned)atoi(v);
		else if (!strcmp(a, "--conns")) conns = (unsigned)atoi(v);
		else if (!strcmp(a, "--keys")) keys = (unsigned)atoi(v);
		else if (!strcmp(a, "--seconds")) seconds = atof(v);
		else if (!strcmp(a, "--rate")) rate = atof(v);
		else if (!strcmp(a, "--client")) client = v;
		else if (!strcmp(a, "--version")) version = (unsigned)atoi(v);
		else if (!strcmp(a, "--state")) state = v;
		else if (!strcmp(a, "--crashes")) crashes = (unsigned)atoi(v);
		else if (!strcmp(a, "--crash-on")) crash_on = (unsigned)atoi(v);
		else if (!strcmp(a, "--seq")) seq0 = strtoull(v, NULL, 10);
		else { fprintf(stderr, "fleet_load: unknown option %s\n", a); return 2; }
	}
	if (!port || !hosts || !conns || !keys || sodium_init() < 0) {
		fprintf(stderr, "fleet_load: --port P needed\n");
		return 2;
	}
	if (keys > first + hosts)
		keys = first + hosts;
	if (once && conns > hosts)
		conns = hosts;
	pk = calloc(keys, 32);
	sk = calloc(keys, 64);
	xpk = calloc(keys, 32);
	xsk = calloc(keys, 32);
	seqs = calloc(hosts, sizeof(*seqs));
	inflight = calloc(hosts, 1);
	curv = calloc(hosts, sizeof(*curv));
	skey = calloc(hosts, 32);
	sid = calloc(hosts, 17);
	cs = calloc(conns, sizeof(*cs));
	lat = malloc(latcap * sizeof(double));
	if (!pk || !sk || !xpk || !xsk || !seqs || !inflight || !curv || !skey || !sid || !cs || !lat)
		return 1;
	for (unsigned h = 0; h < hosts; h++)
		curv[h] = version;
	for (unsigned k = 0; k < keys; k++) {
		uint8_t seed[32] = {0};
		memcpy(seed, &k, sizeof(k));
		memcpy(seed + 8, "fleet_load", 10);
		crypto_sign_seed_keypair(pk[k], sk[k], seed);
		if (crypto_sign_ed25519_pk_to_curve25519(xpk[k], pk[k]) ||
		    crypto_sign_ed25519_sk_to_curve25519(xsk[k], sk[k]))
			return 1;
	}
	/* sequence numbers above anything an earlier run used: microseconds since 1970
	 * (a run sends far fewer reports per host than microseconds pass between runs) */
	if (!seq0) {
		struct timespec rt;
		clock_gettime(CLOCK_REALTIME, &rt);
		seq0 = (uint64_t)rt.tv_sec * 1000000u + (uint64_t)rt.tv_nsec / 1000u;
	}
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	ep = epoll_create1(0);
	for (unsigned c = 0; c < conns; c++) {
		int one = 1;
		cs[c].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(cs[c].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			fprintf(stderr, "fleet_load: connect %s:%u: %s\n", addr, port, strerror(errno));
			return 1;
		}
		setsockopt(cs[c].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = c};
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[c].fd, &ev);
	}
	if (session && !once) {
		bad += phase(true, 0, "session set-up (signed)");
		bad += phase(false, seconds, "steady state (session MAC)");
	} else {
		bad = phase(once, seconds, session ? "session MAC" : "signed");
	}
	return bad ? 1 : 0;
}
