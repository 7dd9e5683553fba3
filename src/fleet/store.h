/* SPDX-License-Identifier: MIT */
/*
 * store.h: the controller's state (docs/fleet.md, "State"). Two back ends with
 * the same schema and the same SQL text: SQLite (default, a file) and PostgreSQL
 * (libpq, for fleets that outgrow one machine). Parameters are written $1, $2, ...,
 * which both understand.
 *
 * Not thread-safe: one thread (the server's flusher) owns a store.
 */
#ifndef RF_FLEET_STORE_H
#define RF_FLEET_STORE_H

#include <stdint.h>

#include "fleet/fleet.h"

struct rf_fleet_store;

/* URL: "postgresql://..." or "postgres://..." or "host=... dbname=..." (libpq
 * conninfo, starts with a key=) opens PostgreSQL; "sqlite:PATH" or a plain PATH
 * opens SQLite. Creates the schema if it is missing. err gets one line. */
int rf_fleet_store_open(const char *url, struct rf_fleet_store **ret, char *err, size_t errlen);
void rf_fleet_store_close(struct rf_fleet_store *s);
const char *rf_fleet_store_kind(const struct rf_fleet_store *s);

int rf_fleet_store_begin(struct rf_fleet_store *s);
int rf_fleet_store_commit(struct rf_fleet_store *s);
int rf_fleet_store_rollback(struct rf_fleet_store *s);

/* Buffered host upserts: put_host collects rows; they are written in multi-row
 * statements (flushed when the buffer fills and by commit). */
int rf_fleet_store_put_host(struct rf_fleet_store *s, const struct rf_fleet_host_row *row);
int rf_fleet_store_put_track(struct rf_fleet_store *s, const struct rf_fleet_track_info *t);
int rf_fleet_store_put_event(struct rf_fleet_store *s, int64_t time, const char *text);
/* version 0 deletes the pin; ring RF_RING_NONE deletes the override. */
int rf_fleet_store_put_pin(struct rf_fleet_store *s, const char *host, const char *client,
			   uint64_t version);
int rf_fleet_store_put_override(struct rf_fleet_store *s, const char *host, int ring);

/* Load hosts, overrides, pins and tracks into a fresh core. */
int rf_fleet_store_load(struct rf_fleet_store *s, struct rf_fleet_core *fc, int64_t now);

/* Counts for tests: hosts rows, events rows. */
int rf_fleet_store_count(struct rf_fleet_store *s, const char *table, uint64_t *n);

/* Last error text of the back end. */
const char *rf_fleet_store_error(const struct rf_fleet_store *s);

#endif
