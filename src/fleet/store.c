// SPDX-License-Identifier: MIT
/* store.c: controller state in SQLite or PostgreSQL, one schema, one SQL text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include "fleet/store.h"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS hosts (host TEXT PRIMARY KEY, pubkey TEXT,"
	" seq BIGINT NOT NULL, last_seen BIGINT NOT NULL, internal INTEGER NOT NULL,"
	" ring TEXT NOT NULL, running TEXT NOT NULL, failing INTEGER NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS overrides (host TEXT PRIMARY KEY, ring TEXT NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS pins (host TEXT NOT NULL, client TEXT NOT NULL,"
	" version BIGINT NOT NULL, PRIMARY KEY (host, client));\n"
	"CREATE TABLE IF NOT EXISTS tracks (client TEXT PRIMARY KEY, stage TEXT NOT NULL,"
	" stable BIGINT NOT NULL, target BIGINT NOT NULL, bad BIGINT NOT NULL,"
	" highest BIGINT NOT NULL, stage_start BIGINT NOT NULL, rollout_start BIGINT NOT NULL,"
	" halt_time BIGINT NOT NULL, done_time BIGINT NOT NULL, canary_given BIGINT NOT NULL,"
	" reason TEXT NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS events (time BIGINT NOT NULL, text TEXT NOT NULL);\n";

#define HOST_COLS 8
#define HOST_BATCH 500

struct rf_fleet_store {
	bool pg;
	sqlite3 *db;
	PGconn *conn;
	char err[300];
	/* buffered host rows, as text parameters */
	unsigned nbuf;
	char *vals[HOST_BATCH * HOST_COLS];
	char *arena;
	size_t aoff;
	char *upsert_sql[HOST_BATCH + 1]; /* by row count, built on first use */
	sqlite3_stmt *upsert_st[HOST_BATCH + 1];
	/* PostgreSQL: rows as COPY text, sent at commit */
	char *copy;
	size_t clen, ccap;
};

#define ARENA_SZ ((size_t)HOST_BATCH * 512)

const char *rf_fleet_store_error(const struct rf_fleet_store *s)
{
	return s ? s->err : "no store";
}

const char *rf_fleet_store_kind(const struct rf_fleet_store *s)
{
	return s->pg ? "postgresql" : "sqlite";
}

/* Run SQL with NP text parameters (NULL = SQL NULL). For queries, CB gets each row. */
typedef int (*row_cb)(void *ctx, int ncol, const char *const *vals);

static int run_cached(struct rf_fleet_store *s, const char *sql, int np,
		      const char *const *params, row_cb cb, void *ctx, sqlite3_stmt **cache);

static int run(struct rf_fleet_store *s, const char *sql, int np, const char *const *params,
	       row_cb cb, void *ctx)
{
	return run_cached(s, sql, np, params, cb, ctx, NULL);
}

/* SQLite numbers "$N" parameters in order of first appearance; every statement here
 * names $1, $2, ... in that order, so parameter i is index i + 1 (a lookup by name is
 * linear in the parameter count: quadratic for a multi-row insert). */
static int run_cached(struct rf_fleet_store *s, const char *sql, int np,
		      const char *const *params, row_cb cb, void *ctx, sqlite3_stmt **cache)
{
	int r = 0;

	if (s->pg) {
		PGresult *res = PQexecParams(s->conn, sql, np, NULL, params, NULL, NULL, 0);
		ExecStatusType st = PQresultStatus(res);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			snprintf(s->err, sizeof(s->err), "%s", PQerrorMessage(s->conn));
			s->err[strcspn(s->err, "\n")] = 0;
			PQclear(res);
			return -EIO;
		}
		if (cb && st == PGRES_TUPLES_OK) {
			int nc = PQnfields(res);
			const char *v[16];
			for (int i = 0; i < PQntuples(res) && r == 0; i++) {
				for (int c = 0; c < nc && c < 16; c++)
					v[c] = PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c);
				r = cb(ctx, nc, v);
			}
		}
		PQclear(res);
		return r;
	}
	{
		sqlite3_stmt *st = cache ? *cache : NULL;
		int rc = SQLITE_OK;
		if (!st)
			rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
		if (rc != SQLITE_OK)
			goto serr;
		if (cache)
			*cache = st;
		if (sqlite3_bind_parameter_count(st) != np) {
			snprintf(s->err, sizeof(s->err), "statement has %d parameters, not %d",
				 sqlite3_bind_parameter_count(st), np);
			if (!cache)
				sqlite3_finalize(st);
			return -EINVAL;
		}
		for (int i = 0; i < np; i++) {
			rc = params[i] ? sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC)
				       : sqlite3_bind_null(st, i + 1);
			if (rc != SQLITE_OK)
				goto serr;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (cb && r == 0) {
				int nc = sqlite3_column_count(st);
				const char *v[16];
				for (int c = 0; c < nc && c < 16; c++)
					v[c] = (const char *)sqlite3_column_text(st, c);
				r = cb(ctx, nc, v);
			}
		}
		if (rc != SQLITE_DONE)
			goto serr;
		if (cache) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
		} else {
			sqlite3_finalize(st);
		}
		return r;
serr:
		snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
		if (cache) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
		} else {
			sqlite3_finalize(st);
		}
		return -EIO;
	}
}

static int exec(struct rf_fleet_store *s, const char *sql)
{
	if (s->pg) {
		/* PQexec: several statements in one string (the schema) */
		PGresult *res = PQexec(s->conn, sql);
		ExecStatusType st = PQresultStatus(res);
		PQclear(res);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			snprintf(s->err, sizeof(s->err), "%s", PQerrorMessage(s->conn));
			s->err[strcspn(s->err, "\n")] = 0;
			return -EIO;
		}
		return 0;
	}
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
		return -EIO;
	}
	return 0;
}

int rf_fleet_store_open(const char *url, struct rf_fleet_store **ret, char *err, size_t errlen)
{
	struct rf_fleet_store *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->arena = malloc(ARENA_SZ);
	if (!s->arena) {
		free(s);
		return -ENOMEM;
	}
	if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11) ||
	    (strchr(url, '=') && !strchr(url, '/') ) || !strncmp(url, "host=", 5)) {
		s->pg = true;
		s->conn = PQconnectdb(url);
		if (PQstatus(s->conn) != CONNECTION_OK) {
			snprintf(err, errlen, "PostgreSQL: %s", PQerrorMessage(s->conn));
			err[strcspn(err, "\n")] = 0;
			r = -ECONNREFUSED;
			goto fail;
		}
		run(s, "SET client_min_messages = warning", 0, NULL, NULL, NULL);
		/* one flush a second: commit without waiting for the WAL flush (a crash loses
		 * at most the last second of heartbeats, which endpoints send again) */
		run(s, "SET synchronous_commit = off", 0, NULL, NULL, NULL);
		r = exec(s, schema_sql);
		if (r == 0)
			r = exec(s, "CREATE TEMP TABLE hosts_in (LIKE hosts) ON COMMIT DELETE ROWS");
		if (r < 0) {
			snprintf(err, errlen, "creating the schema: %s", s->err);
			goto fail;
		}
	} else {
		const char *path = !strncmp(url, "sqlite:", 7) ? url + 7 : url;
		if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
						   SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "SQLite %s: %s", path,
				 s->db ? sqlite3_errmsg(s->db) : "out of memory");
			r = -EIO;
			goto fail;
		}
		sqlite3_busy_timeout(s->db, 5000);
		if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;") < 0) {
			snprintf(err, errlen, "SQLite %s: %s", path, s->err);
			r = -EIO;
			goto fail;
		}
	}
	r = exec(s, schema_sql);
	if (r < 0) {
		snprintf(err, errlen, "creating the schema: %s", s->err);
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	rf_fleet_store_close(s);
	return r;
}

void rf_fleet_store_close(struct rf_fleet_store *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i <= HOST_BATCH; i++)
		sqlite3_finalize(s->upsert_st[i]);
	if (s->db)
		sqlite3_close(s->db);
	if (s->conn)
		PQfinish(s->conn);
	for (unsigned i = 0; i <= HOST_BATCH; i++)
		free(s->upsert_sql[i]);
	free(s->arena);
	free(s->copy);
	free(s);
}

int rf_fleet_store_begin(struct rf_fleet_store *s)
{
	s->clen = 0;
	s->nbuf = 0;
	s->aoff = 0;
	return exec(s, "BEGIN");
}

static const char *upsert_sql(struct rf_fleet_store *s, unsigned rows)
{
	size_t cap = 400 + (size_t)rows * HOST_COLS * 8, off;
	char *q;

	if (s->upsert_sql[rows])
		return s->upsert_sql[rows];
	q = malloc(cap);
	if (!q)
		return NULL;
	off = (size_t)snprintf(q, cap, "INSERT INTO hosts (host, pubkey, seq, last_seen, internal,"
				       " ring, running, failing) VALUES ");
	for (unsigned r = 0; r < rows; r++) {
		off += (size_t)snprintf(q + off, cap - off, "%s(", r ? "," : "");
		for (unsigned c = 0; c < HOST_COLS; c++)
			off += (size_t)snprintf(q + off, cap - off, "%s$%u", c ? "," : "",
						r * HOST_COLS + c + 1);
		off += (size_t)snprintf(q + off, cap - off, ")");
	}
	snprintf(q + off, cap - off,
		 " ON CONFLICT (host) DO UPDATE SET pubkey = excluded.pubkey, seq = excluded.seq,"
		 " last_seen = excluded.last_seen, internal = excluded.internal,"
		 " ring = excluded.ring, running = excluded.running, failing = excluded.failing");
	s->upsert_sql[rows] = q;
	return q;
}

/* PostgreSQL: one COPY into a temporary table and one INSERT ... SELECT ... ON
 * CONFLICT per flush (a multi-row INSERT is parsed and planned per batch: 17,000
 * rows took 1.7 s that way, against ~0.2 s with COPY). */
static int flush_pg(struct rf_fleet_store *s)
{
	PGresult *res;
	int r = 0;

	if (!s->clen)
		return 0;
	res = PQexec(s->conn, "COPY hosts_in FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		PQclear(res);
		goto perr;
	}
	PQclear(res);
	if (PQputCopyData(s->conn, s->copy, (int)s->clen) != 1 || PQputCopyEnd(s->conn, NULL) != 1)
		goto perr;
	while ((res = PQgetResult(s->conn))) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			r = -EIO;
		PQclear(res);
	}
	s->clen = 0;
	if (r < 0)
		goto perr;
	return exec(s, "INSERT INTO hosts SELECT * FROM hosts_in ON CONFLICT (host) DO UPDATE SET"
		       " pubkey = excluded.pubkey, seq = excluded.seq, last_seen = excluded.last_seen,"
		       " internal = excluded.internal, ring = excluded.ring, running = excluded.running,"
		       " failing = excluded.failing");
perr:
	s->clen = 0;
	snprintf(s->err, sizeof(s->err), "COPY: %s", PQerrorMessage(s->conn));
	s->err[strcspn(s->err, "\n")] = 0;
	return -EIO;
}

static int flush_hosts(struct rf_fleet_store *s)
{
	const char *sql;
	int r;

	if (s->pg)
		return flush_pg(s);
	if (!s->nbuf)
		return 0;
	sql = upsert_sql(s, s->nbuf);
	if (!sql)
		return -ENOMEM;
	r = run_cached(s, sql, (int)(s->nbuf * HOST_COLS), (const char *const *)s->vals, NULL, NULL,
		       s->pg ? NULL : &s->upsert_st[s->nbuf]);
	s->nbuf = 0;
	s->aoff = 0;
	return r;
}

static char *adup(struct rf_fleet_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *adup(struct rf_fleet_store *s, const char *fmt, ...)
{
	va_list ap;
	char *p = s->arena + s->aoff;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, ARENA_SZ - s->aoff, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= ARENA_SZ - s->aoff)
		return NULL;
	s->aoff += (size_t)n + 1;
	return p;
}

int rf_fleet_store_put_host(struct rf_fleet_store *s, const struct rf_fleet_host_row *row)
{
	char **v;
	char hex[65];

	if (s->pg) {
		/* COPY text: host ids, hex keys, ring names and "client:version" lists
		 * contain no tab, newline or backslash */
		size_t need = 64 + strlen(row->host) + 65 + strlen(row->running) + 64;
		int n;
		if (s->clen + need > s->ccap) {
			size_t nc = (s->ccap + need) * 2;
			char *p = realloc(s->copy, nc);
			if (!p)
				return -ENOMEM;
			s->copy = p;
			s->ccap = nc;
		}
		if (row->key)
			sodium_bin2hex(hex, sizeof(hex), row->key, 32);
		n = snprintf(s->copy + s->clen, s->ccap - s->clen, "%s\t%s\t%llu\t%lld\t%d\t%s\t%s\t%d\n",
			     row->host, row->key ? hex : "\\N",
			     (unsigned long long)(row->seq & INT64_MAX), (long long)row->last_seen,
			     row->internal ? 1 : 0, rf_fleet_ring_name(row->ring), row->running,
			     row->failing ? 1 : 0);
		if (n < 0 || (size_t)n >= s->ccap - s->clen)
			return -ENOSPC;
		s->clen += (size_t)n;
		return 0;
	}
	if (s->nbuf == HOST_BATCH || ARENA_SZ - s->aoff < 400) {
		int r = flush_hosts(s);
		if (r < 0)
			return r;
	}
	v = &s->vals[s->nbuf * HOST_COLS];
	if (row->key)
		sodium_bin2hex(hex, sizeof(hex), row->key, 32);
	v[0] = adup(s, "%s", row->host);
	v[1] = row->key ? adup(s, "%s", hex) : NULL;
	v[2] = adup(s, "%llu", (unsigned long long)(row->seq & INT64_MAX));
	v[3] = adup(s, "%lld", (long long)row->last_seen);
	v[4] = adup(s, "%d", row->internal ? 1 : 0);
	v[5] = adup(s, "%s", rf_fleet_ring_name(row->ring));
	v[6] = adup(s, "%s", row->running);
	v[7] = adup(s, "%d", row->failing ? 1 : 0);
	if (!v[0] || !v[2] || !v[6])
		return -ENOMEM;
	s->nbuf++;
	return 0;
}

int rf_fleet_store_commit(struct rf_fleet_store *s)
{
	int r = flush_hosts(s);

	if (r < 0) {
		exec(s, "ROLLBACK");
		return r;
	}
	return exec(s, "COMMIT");
}

int rf_fleet_store_rollback(struct rf_fleet_store *s)
{
	s->clen = 0;
	s->nbuf = 0;
	s->aoff = 0;
	return exec(s, "ROLLBACK");
}

int rf_fleet_store_put_track(struct rf_fleet_store *s, const struct rf_fleet_track_info *t)
{
	char b[10][24];
	const char *p[12];

	snprintf(b[0], 24, "%llu", (unsigned long long)(t->stable & INT64_MAX));
	snprintf(b[1], 24, "%llu", (unsigned long long)(t->target & INT64_MAX));
	snprintf(b[2], 24, "%llu", (unsigned long long)(t->bad & INT64_MAX));
	snprintf(b[3], 24, "%llu", (unsigned long long)(t->highest & INT64_MAX));
	snprintf(b[4], 24, "%lld", (long long)t->stage_start);
	snprintf(b[5], 24, "%lld", (long long)t->rollout_start);
	snprintf(b[6], 24, "%lld", (long long)t->halt_time);
	snprintf(b[7], 24, "%lld", (long long)t->done_time);
	snprintf(b[8], 24, "%u", t->canary_given);
	p[0] = t->client;
	p[1] = rf_fleet_stage_name(t->stage);
	for (int i = 0; i < 9; i++)
		p[2 + i] = b[i];
	p[11] = t->reason;
	return run(s,
		   "INSERT INTO tracks (client, stage, stable, target, bad, highest, stage_start,"
		   " rollout_start, halt_time, done_time, canary_given, reason) VALUES ($1, $2, $3,"
		   " $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (client) DO UPDATE SET"
		   " stage = excluded.stage, stable = excluded.stable, target = excluded.target,"
		   " bad = excluded.bad, highest = excluded.highest, stage_start ="
		   " excluded.stage_start, rollout_start = excluded.rollout_start, halt_time ="
		   " excluded.halt_time, done_time = excluded.done_time, canary_given ="
		   " excluded.canary_given, reason = excluded.reason",
		   12, p, NULL, NULL);
}

int rf_fleet_store_put_event(struct rf_fleet_store *s, int64_t time, const char *text)
{
	char t[24];
	const char *p[2] = {t, text};

	snprintf(t, sizeof(t), "%lld", (long long)time);
	return run(s, "INSERT INTO events (time, text) VALUES ($1, $2)", 2, p, NULL, NULL);
}

int rf_fleet_store_put_pin(struct rf_fleet_store *s, const char *host, const char *client,
			   uint64_t version)
{
	char v[24];
	const char *p[3] = {host, client, v};

	snprintf(v, sizeof(v), "%llu", (unsigned long long)(version & INT64_MAX));
	if (!version)
		return run(s, "DELETE FROM pins WHERE host = $1 AND client = $2", 2, p, NULL, NULL);
	return run(s,
		   "INSERT INTO pins (host, client, version) VALUES ($1, $2, $3)"
		   " ON CONFLICT (host, client) DO UPDATE SET version = excluded.version",
		   3, p, NULL, NULL);
}

int rf_fleet_store_put_override(struct rf_fleet_store *s, const char *host, int ring)
{
	const char *p[2] = {host, rf_fleet_ring_name(ring)};

	if (ring == RF_RING_NONE)
		return run(s, "DELETE FROM overrides WHERE host = $1", 1, p, NULL, NULL);
	return run(s,
		   "INSERT INTO overrides (host, ring) VALUES ($1, $2)"
		   " ON CONFLICT (host) DO UPDATE SET ring = excluded.ring",
		   2, p, NULL, NULL);
}

struct load_ctx {
	struct rf_fleet_core *fc;
	int64_t now;
};

static uint64_t u64(const char *s)
{
	return s ? strtoull(s, NULL, 10) : 0;
}

static int load_host(void *ctx, int nc, const char *const *v)
{
	struct load_ctx *x = ctx;
	uint8_t key[32];
	bool have = v[1] && strlen(v[1]) == 64 &&
		    sodium_hex2bin(key, 32, v[1], 64, NULL, NULL, NULL) == 0;

	if (nc < 6 || !v[0])
		return -EINVAL;
	return rf_fleet_core_restore_host(x->fc, v[0], have ? key : NULL, u64(v[2]),
					  u64(v[4]) != 0, (int64_t)u64(v[3]), v[5]);
}

static int load_override(void *ctx, int nc, const char *const *v)
{
	struct load_ctx *x = ctx;
	int ring = v[1] ? rf_fleet_ring_parse(v[1]) : -1;

	if (nc < 2 || !v[0] || ring < 0)
		return 0; /* a row this version does not understand is skipped */
	return rf_fleet_core_override(x->fc, v[0], ring);
}

static int load_pin(void *ctx, int nc, const char *const *v)
{
	struct load_ctx *x = ctx;

	if (nc < 3 || !v[0] || !v[1])
		return 0;
	return rf_fleet_core_pin(x->fc, v[0], v[1], u64(v[2]));
}

static int load_track(void *ctx, int nc, const char *const *v)
{
	struct load_ctx *x = ctx;
	struct rf_fleet_track_info t = {0};
	int st;

	if (nc < 12 || !v[0] || !v[1])
		return 0;
	snprintf(t.client, sizeof(t.client), "%s", v[0]);
	for (st = 0; st <= RF_STAGE_ROLLBACK; st++)
		if (!strcmp(v[1], rf_fleet_stage_name(st)))
			break;
	if (st > RF_STAGE_ROLLBACK)
		return 0;
	t.stage = st;
	t.stable = u64(v[2]);
	t.target = u64(v[3]);
	t.bad = u64(v[4]);
	t.highest = u64(v[5]);
	t.stage_start = (int64_t)u64(v[6]);
	t.rollout_start = (int64_t)u64(v[7]);
	t.halt_time = (int64_t)u64(v[8]);
	t.done_time = (int64_t)u64(v[9]);
	t.canary_given = (uint32_t)u64(v[10]);
	snprintf(t.reason, sizeof(t.reason), "%s", v[11] ? v[11] : "");
	return rf_fleet_core_restore_track(x->fc, &t);
}

int rf_fleet_store_load(struct rf_fleet_store *s, struct rf_fleet_core *fc, int64_t now)
{
	struct load_ctx x = {fc, now};
	int r;

	r = run(s, "SELECT client, stage, stable, target, bad, highest, stage_start, rollout_start,"
		   " halt_time, done_time, canary_given, reason FROM tracks ORDER BY client",
		0, NULL, load_track, &x);
	if (r == 0)
		r = run(s, "SELECT host, pubkey, seq, last_seen, internal, running FROM hosts", 0, NULL,
			load_host, &x);
	if (r == 0)
		r = run(s, "SELECT host, ring FROM overrides", 0, NULL, load_override, &x);
	if (r == 0)
		r = run(s, "SELECT host, client, version FROM pins", 0, NULL, load_pin, &x);
	if (r < 0 && !s->err[0])
		snprintf(s->err, sizeof(s->err), "loading: %s", strerror(-r));
	return r;
}

static int count_cb(void *ctx, int nc, const char *const *v)
{
	*(uint64_t *)ctx = nc > 0 ? u64(v[0]) : 0;
	return 0;
}

int rf_fleet_store_count(struct rf_fleet_store *s, const char *table, uint64_t *n)
{
	char sql[128];

	if (strcmp(table, "hosts") && strcmp(table, "events") && strcmp(table, "pins") &&
	    strcmp(table, "overrides") && strcmp(table, "tracks"))
		return -EINVAL;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	*n = 0;
	return run(s, sql, 0, NULL, count_cb, n);
}
