// SPDX-License-Identifier: MIT
/* server.c: `ringfence fleet serve` (docs/fleet.md "Controller").
 *
 * libmicrohttpd with a thread pool parses and verifies reports on its worker
 * threads (ed25519 is the cost); the core runs under one mutex (a report is a few
 * hundred nanoseconds there); a flusher thread ticks the core every second, scans
 * the repository, publishes rollbacks and writes dirty hosts to the store in one
 * transaction per second. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "attest/attest.h"
#include "common/log.h"
#include "content/content.h"
#include "fleet/server.h"
#include "fleet/store.h"
#include "ringfence/json.h"

struct srv {
	const struct rf_fleet_serve_opts *o;
	struct rf_fleet_core *fc;
	pthread_mutex_t lock;       /* the core */
	pthread_mutex_t store_lock; /* the store: the flusher and admin requests */
	struct rf_fleet_store *store;
	uint8_t nonce_key[crypto_generichash_KEYBYTES];
	uint8_t sess_secret[32]; /* session keys derive from it (restart: new sessions) */
	uint32_t sess_tag;       /* high half of session ids: this controller instance */
	uint8_t sk[64];
	bool have_sk;
	double rate;
	uint64_t last_accepted;
	/* rows drained under the lock, written without it */
	struct rf_fleet_host_row *rows;
	char *rowbuf;
	size_t rowcap, rowoff;
	unsigned nrows;
	uint64_t ev_cursor;
	uint64_t refused[6]; /* 400 401 409 413 503 404 */
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

struct req {
	char *buf;
	size_t len;
	bool too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     const char *body, size_t len, bool copy)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result error(struct srv *s, struct MHD_Connection *c, unsigned code,
			     const char *msg)
{
	char buf[600];
	int n;

	switch (code) {
	case 400: __atomic_add_fetch(&s->refused[0], 1, __ATOMIC_RELAXED); break;
	case 401: __atomic_add_fetch(&s->refused[1], 1, __ATOMIC_RELAXED); break;
	case 409: __atomic_add_fetch(&s->refused[2], 1, __ATOMIC_RELAXED); break;
	case 413: __atomic_add_fetch(&s->refused[3], 1, __ATOMIC_RELAXED); break;
	case 503: __atomic_add_fetch(&s->refused[4], 1, __ATOMIC_RELAXED); break;
	default: __atomic_add_fetch(&s->refused[5], 1, __ATOMIC_RELAXED); break;
	}
	{
		char tmp[520];
		int m = rf_json_escape(msg, strnlen(msg, 200), tmp, sizeof(tmp));
		n = snprintf(buf, sizeof(buf), "{\"error\":%s}", m < 0 ? "\"\"" : tmp);
	}
	return reply(c, code, "application/json", buf, (size_t)n, true);
}

/* A session key: HMAC(secret, id || host || key); no per-host storage. */
static void session_key(const struct srv *s, uint64_t id, const struct rf_fleet_report *r,
			uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, s->sess_secret, sizeof(s->sess_secret));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)&id, sizeof(id));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)r->host, strlen(r->host));
	crypto_auth_hmacsha256_update(&st, r->key, 32);
	crypto_auth_hmacsha256_final(&st, out);
}

static uint64_t session_id(const struct srv *s, int64_t now)
{
	return (uint64_t)s->sess_tag << 32 | (uint32_t)(now / 86400);
}

/* "IDHEX:MACHEX": valid id of this instance (today or yesterday), MAC over the body */
static int session_check(const struct srv *s, const char *hdr, const struct rf_fleet_report *r,
			 const char *body, size_t len, int64_t now)
{
	uint8_t idb[8], mac[32], want[32], key[32];
	uint64_t id, cur = session_id(s, now);
	int ok;

	if (strlen(hdr) != 16 + 1 + 64 || hdr[16] != ':' ||
	    sodium_hex2bin(idb, 8, hdr, 16, NULL, NULL, NULL) ||
	    sodium_hex2bin(mac, 32, hdr + 17, 64, NULL, NULL, NULL))
		return -EINVAL;
	memcpy(&id, idb, 8);
	if (id != cur && id != cur - 1)
		return -EKEYEXPIRED;
	session_key(s, id, r, key);
	rf_fleet_report_mac(body, len, key, want);
	ok = crypto_verify_32(mac, want) == 0;
	sodium_memzero(key, sizeof(key));
	return ok ? 0 : -EBADMSG;
}

/* ,"session":{"id":"..","sealed":".."} sealed to the endpoint's X25519 key */
static int session_new(const struct srv *s, const struct rf_fleet_report *r, int64_t now,
		       char *out, size_t outsz)
{
	uint8_t xpk[32], key[32], sealed[32 + crypto_box_SEALBYTES];
	char idhex[17], shex[2 * sizeof(sealed) + 1];
	uint64_t id = session_id(s, now);
	int n;

	if (crypto_sign_ed25519_pk_to_curve25519(xpk, r->key) != 0)
		return -EINVAL;
	session_key(s, id, r, key);
	if (crypto_box_seal(sealed, key, sizeof(key), xpk) != 0) {
		sodium_memzero(key, sizeof(key));
		return -EIO;
	}
	sodium_memzero(key, sizeof(key));
	sodium_bin2hex(idhex, sizeof(idhex), (const uint8_t *)&id, 8);
	sodium_bin2hex(shex, sizeof(shex), sealed, sizeof(sealed));
	n = snprintf(out, outsz, ",\"session\":{\"id\":\"%s\",\"sealed\":\"%s\"}}", idhex, shex);
	return n > 0 && (size_t)n < outsz ? n : -ENOSPC;
}

/* With an attestation policy: the report must carry a quote over the nonce this host was
 * handed with the answer to its previous report (a keyed hash of host and that report's
 * sequence number, so no per-host storage), and the quote must satisfy the policy. A
 * failure makes the report a failing one (rf_fleet_core_report; a host's first report,
 * which has had no nonce yet, is exempt there). */
/* Keep the first finding of WHY: its first line that is not the software-only notice. */
static void first_finding(char *why)
{
	char *p = why;

	while (!strncmp(p, "software-only", 13) && strchr(p, '\n'))
		p = strchr(p, '\n') + 1;
	memmove(why, p, strlen(p) + 1);
	why[strcspn(why, "\n")] = 0;
}

static void check_attestation(struct srv *s, struct rf_fleet_report *rep, char *why,
			      size_t whylen)
{
	uint8_t want[16], in[RF_FLEET_HOST_MAX + 9];
	uint64_t prev = rep->seq - 1;
	size_t hl = strlen(rep->host);
	int r;

	memcpy(in, rep->host, hl);
	memcpy(in + hl, &prev, 8);
	crypto_generichash(want, sizeof(want), in, hl + 8, s->nonce_key, sizeof(s->nonce_key));
	r = rep->attestation ? rf_attest_verify_b64(rep->attestation, rep->attestation_len, want,
						    sizeof(want), s->o->attest, why, whylen)
			     : -ENODATA;
	if (r < 0) {
		rep->attest_failed = true;
		if (r == -ENODATA)
			snprintf(why, whylen, "no attestation in the report");
		first_finding(why);
	}
}

static enum MHD_Result handle_report(struct srv *s, struct MHD_Connection *c, struct req *q)
{
	struct rf_fleet_report rep;
	struct rf_fleet_answer ans;
	char err[256], out[RF_FLEET_RESPONSE_MAX];
	const char *sig, *sess;
	uint8_t nonce[16], in[RF_FLEET_HOST_MAX + 9];
	char why[1024] = "";
	uint64_t fails;
	bool want_session = false;
	int64_t now = now_s();
	size_t hl;
	int r, n;

	if (q->too_big)
		return error(s, c, 413, "report too large");
	if (rf_fleet_report_parse(q->buf ? q->buf : "", q->len, &rep, err, sizeof(err)) < 0)
		return error(s, c, 400, err);
	sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Ringfence-Signature");
	sess = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Ringfence-Session");
	if (sig) {
		if (rf_fleet_report_verify(q->buf, q->len, rep.key, sig) < 0)
			return error(s, c, 401, "signature does not verify with the report's key");
		want_session = sess && !strcmp(sess, "new");
	} else if (sess) {
		r = session_check(s, sess, &rep, q->buf, q->len, now);
		if (r < 0)
			return error(s, c, 401, r == -EKEYEXPIRED ? "session expired: sign the next report"
							      : "session MAC does not verify: sign the next report");
	} else {
		return error(s, c, 401, "no X-Ringfence-Signature header");
	}
	if (s->o->attest)
		check_attestation(s, &rep, why, sizeof(why));
	pthread_mutex_lock(&s->lock);
	fails = rf_fleet_core_attest_failed(s->fc);
	r = rf_fleet_core_report(s->fc, &rep, now, &ans);
	fails = rf_fleet_core_attest_failed(s->fc) - fails;
	pthread_mutex_unlock(&s->lock);
	if (fails) /* counted against the host (its first report is exempt) */
		rf_warn("fleet: host %s: attestation failed: %s", rep.host, why);
	if (r == -EKEYREJECTED)
		return error(s, c, 409, "host is bound to another key");
	if (r == -ESTALE)
		return error(s, c, 409, "sequence number not above the last one");
	if (r < 0)
		return error(s, c, 503, "controller full");
	/* nonce: keyed hash of host and sequence (no per-host storage) */
	hl = strlen(rep.host);
	memcpy(in, rep.host, hl);
	memcpy(in + hl, &rep.seq, 8);
	crypto_generichash(nonce, sizeof(nonce), in, hl + 8, s->nonce_key, sizeof(s->nonce_key));
	n = rf_fleet_answer_json(&ans, nonce, out, sizeof(out));
	if (n < 0)
		return error(s, c, 503, "answer too large");
	if (want_session) {
		int m = session_new(s, &rep, now, out + n - 1, sizeof(out) - (size_t)n + 1);
		if (m > 0)
			n += m - 1; /* replaced the closing brace */
	}
	return reply(c, 200, "application/json", out, (size_t)n, true);
}

static bool admin_ok(struct srv *s, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	size_t tl;

	if (!s->o->admin_token || !h || strncmp(h, "Bearer ", 7))
		return false;
	h += 7;
	tl = strlen(s->o->admin_token);
	return strlen(h) == tl && sodium_memcmp(h, s->o->admin_token, tl) == 0;
}

static enum MHD_Result handle_admin(struct srv *s, struct MHD_Connection *c, const char *url)
{
	const char *host = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "host");
	const char *client = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "client");
	const char *ver = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "version");
	const char *ring = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ring");
	unsigned long long v = 0;
	int r, rg = 0;

	if (!admin_ok(s, c))
		return error(s, c, 401, "admin needs Authorization: Bearer TOKEN");
	if (!host || !host[0] || strlen(host) > RF_FLEET_HOST_MAX)
		return error(s, c, 400, "host= missing or too long");
	if (!strcmp(url, "/v1/admin/pin")) {
		char *end;
		if (!client || !ver || strlen(client) >= RF_FLEET_CLIENT_NAME_MAX)
			return error(s, c, 400, "pin needs client= and version=");
		v = strtoull(ver, &end, 10);
		if (*end || !ver[0] || ver[0] == '-')
			return error(s, c, 400, "version= is not a number");
	} else if (!strcmp(url, "/v1/admin/override")) {
		if (!ring || (rg = rf_fleet_ring_parse(ring)) < 0)
			return error(s, c, 400, "ring= must be canary, early, broad, holdback or none");
	} else {
		return error(s, c, 404, "unknown admin request");
	}
	pthread_mutex_lock(&s->lock);
	if (client)
		r = rf_fleet_core_pin(s->fc, host, client, v);
	else
		r = rf_fleet_core_override(s->fc, host, rg);
	pthread_mutex_unlock(&s->lock);
	if (r < 0)
		return error(s, c, 400, strerror(-r));
	/* operator decisions go to the store at once, not with the next batch */
	if (s->store) {
		pthread_mutex_lock(&s->store_lock);
		r = client ? rf_fleet_store_put_pin(s->store, host, client, v)
			   : rf_fleet_store_put_override(s->store, host, rg);
		pthread_mutex_unlock(&s->store_lock);
		if (r < 0)
			return error(s, c, 503, "store write failed");
	}
	rf_info("fleet: admin %s host=%s %s%s", url + 10, host, client ? client : ring,
		client ? "" : "");
	return reply(c, 200, "application/json", "{\"ok\":true}", 11, false);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	struct req *q = *con_cls;

	if (!strcmp(method, "POST")) {
		if (!q) {
			q = calloc(1, sizeof(*q));
			if (!q)
				return MHD_NO;
			*con_cls = q;
			return MHD_YES;
		}
		if (*upload_size) {
			size_t n = *upload_size;
			if (q->len + n > RF_FLEET_REPORT_ATTEST_MAX) {
				q->too_big = true;
			} else if (!q->too_big) {
				char *nb = realloc(q->buf, q->len + n + 1);
				if (!nb)
					return MHD_NO;
				q->buf = nb;
				memcpy(q->buf + q->len, upload, n);
				q->len += n;
				q->buf[q->len] = 0;
			}
			*upload_size = 0;
			return MHD_YES;
		}
		if (!strcmp(url, "/v1/report"))
			return handle_report(s, c, q);
		if (!strncmp(url, "/v1/admin/", 10))
			return handle_admin(s, c, url);
		return error(s, c, 404, "unknown URL");
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return error(s, c, 405, "method not allowed");
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return reply(c, 200, "text/html; charset=utf-8", rf_fleet_page_html,
			     strlen(rf_fleet_page_html), false);
	if (!strcmp(url, "/v1/status")) {
		char *js;
		enum MHD_Result ret;
		pthread_mutex_lock(&s->lock);
		js = rf_fleet_status_json(s->fc, now_s(), s->rate,
					  s->store ? rf_fleet_store_kind(s->store) : "none", s->refused);
		pthread_mutex_unlock(&s->lock);
		if (!js)
			return error(s, c, 503, "out of memory");
		ret = reply(c, 200, "application/json", js, strlen(js), true);
		free(js);
		return ret;
	}
	return error(s, c, 404, "unknown URL");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	if (q) {
		free(q->buf);
		free(q);
		*con_cls = NULL;
	}
}

/* --- the flusher: tick, scan, publish, store ---------------------------------- */
struct scan_ctx {
	struct srv *s;
	int64_t now;
};

static void on_release(void *ctx, const char *client, uint64_t version, const char *sha)
{
	struct scan_ctx *x = ctx;
	struct rf_fleet_release rel = {.version = version};

	snprintf(rel.sha256, sizeof(rel.sha256), "%s", sha);
	pthread_mutex_lock(&x->s->lock);
	if (rf_fleet_core_release(x->s->fc, &rel, client, x->now) < 0)
		rf_warn("fleet: %s v%llu: more clients than the controller tracks", client,
			(unsigned long long)version);
	pthread_mutex_unlock(&x->s->lock);
}

static void take_row(void *ctx, const struct rf_fleet_host_row *row)
{
	struct srv *s = ctx;
	struct rf_fleet_host_row *d = &s->rows[s->nrows++];

	*d = *row;
	/* strings and key into rowbuf; fixed up to pointers after the drain */
	d->host = (const char *)(uintptr_t)s->rowoff;
	memcpy(s->rowbuf + s->rowoff, row->host, strlen(row->host) + 1);
	s->rowoff += strlen(row->host) + 1;
	d->running = (const char *)(uintptr_t)s->rowoff;
	memcpy(s->rowbuf + s->rowoff, row->running, strlen(row->running) + 1);
	s->rowoff += strlen(row->running) + 1;
	if (row->key) {
		d->key = (const uint8_t *)(uintptr_t)(s->rowoff + 1);
		memcpy(s->rowbuf + s->rowoff, row->key, 32);
		s->rowoff += 32;
	}
}

#define FLUSH_MAX 65536u
/* host id, running list ("client:version,..." of every track) and key of one row */
#define ROW_BYTES (RF_FLEET_HOST_MAX + 1 + RF_FLEET_TRACKS_MAX * (RF_FLEET_CLIENT_NAME_MAX + 24) + 1 + 32)

static void flush_store(struct srv *s, int64_t now)
{
	struct rf_fleet_event ev[RF_FLEET_EVENTS_MAX];
	struct rf_fleet_track_info ti[RF_FLEET_TRACKS_MAX];
	unsigned nev, nt, i;
	int r = 0;

	if (!s->store)
		return;
	pthread_mutex_lock(&s->lock);
	s->nrows = 0;
	s->rowoff = 0;
	rf_fleet_core_drain_dirty(s->fc, take_row, s, FLUSH_MAX);
	nev = rf_fleet_core_events(s->fc, &s->ev_cursor, ev, RF_FLEET_EVENTS_MAX);
	nt = rf_fleet_core_ntracks(s->fc);
	for (i = 0; i < nt; i++)
		rf_fleet_core_track(s->fc, i, &ti[i]);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < s->nrows; i++) {
		s->rows[i].host = s->rowbuf + (uintptr_t)s->rows[i].host;
		s->rows[i].running = s->rowbuf + (uintptr_t)s->rows[i].running;
		if (s->rows[i].key)
			s->rows[i].key = (const uint8_t *)s->rowbuf + ((uintptr_t)s->rows[i].key - 1);
	}
	pthread_mutex_lock(&s->store_lock);
	r = rf_fleet_store_begin(s->store);
	for (i = 0; r == 0 && i < s->nrows; i++)
		r = rf_fleet_store_put_host(s->store, &s->rows[i]);
	for (i = 0; r == 0 && i < nt; i++)
		r = rf_fleet_store_put_track(s->store, &ti[i]);
	for (i = 0; r == 0 && i < nev; i++)
		r = rf_fleet_store_put_event(s->store, ev[i].time, ev[i].text);
	if (r == 0)
		r = rf_fleet_store_commit(s->store);
	else
		rf_fleet_store_rollback(s->store);
	pthread_mutex_unlock(&s->store_lock);
	if (r < 0)
		rf_warn("fleet: store write failed (%s); %u host rows lost until they report again",
			rf_fleet_store_error(s->store), s->nrows);
	(void)now;
}

static void publish_rollback(struct srv *s, const struct rf_fleet_action *a, int64_t now)
{
	char err[300];
	struct rf_fleet_release rel = {.version = a->version, .rollback_of = a->rollback_of};
	int r;

	if (!s->have_sk) {
		rf_warn("fleet: %s halted; no --targets-key, so no rollback version is published: "
			"publish v%llu carrying v%llu's content by hand",
			a->client, (unsigned long long)a->version, (unsigned long long)a->rollback_of);
		return;
	}
	r = rf_fleet_publish_rollback(s->o->repo, a->client, a->rollback_of, a->version, s->sk,
				      s->o->expires_days, now, err, sizeof(err));
	if (r < 0) {
		rf_err("fleet: rollback v%llu of %s: %s", (unsigned long long)a->version, a->client,
		       err);
		return;
	}
	rf_info("fleet: published rollback %s v%llu (content of v%llu)", a->client,
		(unsigned long long)a->version, (unsigned long long)a->rollback_of);
	pthread_mutex_lock(&s->lock);
	r = rf_fleet_core_release(s->fc, &rel, a->client, now);
	pthread_mutex_unlock(&s->lock);
	(void)r;
}

int rf_fleet_serve(const struct rf_fleet_serve_opts *o, volatile sig_atomic_t *stop)
{
	struct srv s = {.o = o};
	struct MHD_Daemon *d = NULL;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char addr[64], *colon;
	unsigned long port;
	int64_t last_scan = 0, last_tick = 0;
	unsigned threads = o->threads ? o->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	int r = 0;

	if (sodium_init() < 0)
		return -EIO;
	pthread_mutex_init(&s.lock, NULL);
	pthread_mutex_init(&s.store_lock, NULL);
	randombytes_buf(s.nonce_key, sizeof(s.nonce_key));
	randombytes_buf(s.sess_secret, sizeof(s.sess_secret));
	s.sess_tag = randombytes_random();
	snprintf(addr, sizeof(addr), "%s", o->listen ? o->listen : "127.0.0.1:8440");
	colon = strrchr(addr, ':');
	if (!colon) {
		rf_err("fleet: --listen %s: expected ADDR:PORT", addr);
		return -EINVAL;
	}
	*colon = 0;
	port = strtoul(colon + 1, NULL, 10);
	if (port > 65535 || inet_pton(AF_INET, addr[0] ? addr : "0.0.0.0", &sa.sin_addr) != 1) {
		rf_err("fleet: --listen %s:%s: expected an IPv4 ADDR:PORT", addr, colon + 1);
		return -EINVAL;
	}
	sa.sin_port = htons((uint16_t)port);
	if (o->targets_key) {
		r = rf_key_read_secret(o->targets_key, s.sk);
		if (r < 0) {
			rf_err("fleet: --targets-key %s: %s", o->targets_key, strerror(-r));
			return r;
		}
		s.have_sk = true;
	}
	r = rf_fleet_core_new(&o->cfg, &s.fc);
	if (r < 0) {
		rf_err("fleet: configuration refused (%s)", strerror(-r));
		return r;
	}
	s.rows = calloc(FLUSH_MAX, sizeof(*s.rows));
	s.rowbuf = malloc((size_t)FLUSH_MAX * ROW_BYTES);
	if (!s.rows || !s.rowbuf) {
		r = -ENOMEM;
		goto out;
	}
	if (o->store_url) {
		char err[300];
		r = rf_fleet_store_open(o->store_url, &s.store, err, sizeof(err));
		if (r < 0) {
			rf_err("fleet: store %s: %s", o->store_url, err);
			goto out;
		}
		r = rf_fleet_store_load(s.store, s.fc, now_s());
		if (r < 0) {
			rf_err("fleet: loading the store: %s", rf_fleet_store_error(s.store));
			goto out;
		}
		rf_info("fleet: %s store: %u hosts loaded", rf_fleet_store_kind(s.store),
			rf_fleet_core_nhosts(s.fc));
	}
	{
		struct scan_ctx x = {&s, now_s()};
		rf_fleet_repo_scan(o->repo, x.now, on_release, &x);
	}
	d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			     handler, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
			     (unsigned)60000, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, &s,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096, MHD_OPTION_END);
	if (!d) {
		rf_err("fleet: cannot listen on %s (in use? a privileged port?)", o->listen);
		r = -EADDRINUSE;
		goto out;
	}
	{
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		unsigned p = di ? di->port : (unsigned)port;
		rf_info("fleet: serving %s on %s:%u (%u threads), repository %s", "/v1/report",
			addr[0] ? addr : "0.0.0.0", p, threads, o->repo);
		if (o->port_file) {
			FILE *f = fopen(o->port_file, "w");
			if (f) {
				fprintf(f, "%u\n", p);
				fclose(f);
			}
		}
	}
	while (!*stop) {
		int64_t now;
		struct rf_fleet_action act;
		struct timespec ts = {0, 200 * 1000 * 1000};

		nanosleep(&ts, NULL);
		now = now_s();
		if (now == last_tick)
			continue;
		if (now - last_scan >= (int64_t)(o->scan_s ? o->scan_s : 5)) {
			struct scan_ctx x = {&s, now};
			rf_fleet_repo_scan(o->repo, now, on_release, &x);
			last_scan = now;
		}
		pthread_mutex_lock(&s.lock);
		rf_fleet_core_tick(s.fc, now, &act);
		{
			uint64_t acc, kc, sc;
			rf_fleet_core_counters(s.fc, &acc, &kc, &sc);
			if (last_tick)
				s.rate = (double)(acc - s.last_accepted) / (double)(now - last_tick);
			s.last_accepted = acc;
		}
		pthread_mutex_unlock(&s.lock);
		last_tick = now;
		if (act.publish_rollback)
			publish_rollback(&s, &act, now);
		flush_store(&s, now);
	}
	r = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	if (s.store) {
		flush_store(&s, now_s());
		rf_fleet_store_close(s.store);
	}
	rf_fleet_core_free(s.fc);
	free(s.rows);
	free(s.rowbuf);
	sodium_memzero(s.sk, sizeof(s.sk));
	sodium_memzero(s.sess_secret, sizeof(s.sess_secret));
	pthread_mutex_destroy(&s.lock);
	pthread_mutex_destroy(&s.store_lock);
	return r;
}

/* --- status JSON --------------------------------------------------------------- */
struct sb {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sbf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *np = realloc(b->p, b->cap * 2 + (size_t)n);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

static void sbstr(struct sb *b, const char *s)
{
	char tmp[700];
	int n = rf_json_escape(s, strlen(s), tmp, sizeof(tmp));

	sbf(b, "%s", n < 0 ? "\"\"" : tmp);
}

char *rf_fleet_status_json(struct rf_fleet_core *fc, int64_t now, double rate,
			   const char *store_kind, const uint64_t *refused)
{
	const struct rf_fleet_config *c = rf_fleet_core_config(fc);
	struct sb b = {malloc(8192), 0, 8192, false};
	struct rf_fleet_event ev[RF_FLEET_EVENTS_MAX];
	uint64_t acc, kc, sc, cur = 0;
	unsigned n, i, k;

	if (!b.p)
		return NULL;
	rf_fleet_core_counters(fc, &acc, &kc, &sc);
	sbf(&b, "{\"v\":1,\"time\":%lld,\"hosts\":%u,\"accepted\":%llu,\"key_conflicts\":%llu,"
		"\"seq_conflicts\":%llu,\"reports_per_s\":%.1f,\"store\":",
	    (long long)now, rf_fleet_core_nhosts(fc), (unsigned long long)acc,
	    (unsigned long long)kc, (unsigned long long)sc, rate);
	sbstr(&b, store_kind);
	if (refused)
		sbf(&b, ",\"refused\":{\"400\":%llu,\"401\":%llu,\"409\":%llu,\"413\":%llu,"
			"\"503\":%llu,\"other\":%llu}",
		    (unsigned long long)__atomic_load_n(&refused[0], __ATOMIC_RELAXED),
		    (unsigned long long)__atomic_load_n(&refused[1], __ATOMIC_RELAXED),
		    (unsigned long long)__atomic_load_n(&refused[2], __ATOMIC_RELAXED),
		    (unsigned long long)__atomic_load_n(&refused[3], __ATOMIC_RELAXED),
		    (unsigned long long)__atomic_load_n(&refused[4], __ATOMIC_RELAXED),
		    (unsigned long long)__atomic_load_n(&refused[5], __ATOMIC_RELAXED));
	sbf(&b, ",\"attest_failed\":%llu", (unsigned long long)rf_fleet_core_attest_failed(fc));
	sbf(&b, ",\"config\":{\"poll_s\":%u,\"silence_polls\":%u,\"canary_pct\":%.2f,"
		"\"early_pct\":%.2f,\"holdback_pct\":%.2f,\"bake_s\":[%u,%u,%u],\"margin\":%.4f,"
		"\"adopt_pct\":%.1f},\"rings\":[",
	    c->poll_s, c->silence_polls, c->canary_pct, c->early_pct, c->holdback_pct, c->bake_s[0],
	    c->bake_s[1], c->bake_s[2], c->margin, c->adopt_pct);
	for (i = 0; i < RF_FLEET_RINGS; i++) {
		struct rf_fleet_ring_stats rs;
		rf_fleet_core_ring(fc, (int)i, &rs);
		sbf(&b, "%s{\"name\":\"%s\",\"size\":%u,\"reported\":%u,\"failing\":%u,"
			"\"prev_size\":%u,\"prev_reported\":%u,\"prev_failing\":%u,\"on_target\":%u}",
		    i ? "," : "", rf_fleet_ring_name((int)i), rs.size, rs.reported, rs.failing,
		    rs.prev_size, rs.prev_reported, rs.prev_failing, rs.on_target);
	}
	sbf(&b, "],\"tracks\":[");
	for (k = 0; k < rf_fleet_core_ntracks(fc); k++) {
		struct rf_fleet_track_info t;
		rf_fleet_core_track(fc, k, &t);
		sbf(&b, "%s{\"client\":", k ? "," : "");
		sbstr(&b, t.client);
		sbf(&b, ",\"stage\":\"%s\",\"stable\":%llu,\"target\":%llu,\"bad\":%llu,"
			"\"highest\":%llu,\"stage_start\":%lld,\"rollout_start\":%lld,"
			"\"halt_time\":%lld,\"done_time\":%lld,\"canary_given\":%u,\"on_bad\":%u,"
			"\"reason\":",
		    rf_fleet_stage_name(t.stage), (unsigned long long)t.stable,
		    (unsigned long long)t.target, (unsigned long long)t.bad,
		    (unsigned long long)t.highest, (long long)t.stage_start,
		    (long long)t.rollout_start, (long long)t.halt_time, (long long)t.done_time,
		    t.canary_given, t.on_bad);
		sbstr(&b, t.reason);
		sbf(&b, ",\"versions\":[");
		for (i = 0; i < t.nversions; i++)
			sbf(&b, "%s{\"version\":%llu,\"hosts\":%u}", i ? "," : "",
			    (unsigned long long)t.versions[i].version, t.versions[i].hosts);
		sbf(&b, "]}");
	}
	sbf(&b, "],\"events\":[");
	n = rf_fleet_core_events(fc, &cur, ev, RF_FLEET_EVENTS_MAX);
	for (i = 0; i < n; i++) {
		sbf(&b, "%s{\"time\":%lld,\"text\":", i ? "," : "", (long long)ev[i].time);
		sbstr(&b, ev[i].text);
		sbf(&b, "}");
	}
	sbf(&b, "]}");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
