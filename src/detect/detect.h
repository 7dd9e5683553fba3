/* SPDX-License-Identifier: MIT */
/*
 * detect.h: the Sigma detection engine (docs/detect.md).
 *
 * Loads Sigma 2.x rules and correlation rules from YAML, checks every field they name
 * against the event schema, compiles them into a matcher (one Hyperscan database per
 * (event class, field), conditions evaluated on bitsets) or into the naive evaluator
 * (each rule on its own, plain string compare and regex.h; the benchmark baseline and
 * the test oracle), and evaluates events.
 *
 * Use:
 *   struct rf_detect_report rep = {0};
 *   struct rf_detect *d = rf_detect_new();
 *   rf_detect_load_dir(d, "rules/default", &rep);      (any number of dirs/files/buffers)
 *   rf_detect_compile(d, RF_DETECT_HYPERSCAN, &rep);
 *   rf_detect_event(d, ev, ev->size, on_hit, ctx);     (for every validated event)
 *   rf_detect_free(d); rf_detect_report_free(&rep);
 * A rule that cannot be loaded or compiled is reported (file, line, reason) and
 * left out; the others load. The library does not log.
 *
 * Not thread-safe: one engine per thread (it keeps per-event scratch space).
 */
#ifndef RF_DETECT_H
#define RF_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ringfence/event.h"

enum rf_rule_status {
	RF_RULE_COMPILED = 0,
	RF_RULE_UNSUPPORTED, /* valid Sigma, but for a log source or feature ringfence cannot feed */
	RF_RULE_INVALID,     /* not valid Sigma, or names a field the event schema lacks */
};

/* One rule (one YAML document, or one file that could not be read). */
struct rf_detect_status {
	char *file;        /* path as given */
	unsigned line, col; /* of the problem, else of the document; 1-based (0: unknown) */
	char *id;          /* may be NULL */
	char *title;       /* may be NULL */
	bool correlation;
	int status;        /* enum rf_rule_status */
	char *reason;      /* NULL when compiled */
};

/* Filled by the load and compile calls; owned by the caller, zero-initialise it and
 * release it with rf_detect_report_free(). */
struct rf_detect_report {
	struct rf_detect_status *v;
	size_t n, cap;
	unsigned compiled, unsupported, invalid;
};
void rf_detect_report_free(struct rf_detect_report *rep);
const char *rf_detect_status_name(int status);

enum rf_detect_mode {
	RF_DETECT_HYPERSCAN = 1, /* the matcher */
	RF_DETECT_NAIVE = 2,     /* each rule on its own: benchmark baseline, test oracle */
};

struct rf_detect;

/* An empty engine, or NULL when out of memory. */
struct rf_detect *rf_detect_new(void);
/* Destructor; accepts NULL. */
void rf_detect_free(struct rf_detect *d);

/* Load rules: every *.yml / *.yaml below DIR (sorted, RF_RULE_DIR_DEPTH_MAX levels),
 * one file, or a YAML text in memory (NAME is used in the report). Each document is
 * recorded in REP. Returns 0 when everything could be read (rules may still be
 * invalid: see REP), or -errno when a directory or file could not be read (also in
 * REP) or after rf_detect_compile(). */
int rf_detect_load_dir(struct rf_detect *d, const char *dir, struct rf_detect_report *rep);
int rf_detect_load_file(struct rf_detect *d, const char *path, struct rf_detect_report *rep);
int rf_detect_load_buffer(struct rf_detect *d, const char *name, const char *buf, size_t len,
			  struct rf_detect_report *rep);

/* Resolve correlations, build the matcher for MODE (enum rf_detect_mode) and finish
 * REP's counts. Rules whose patterns the matcher refuses are marked invalid in REP
 * and left out. Returns 0 or -errno (-ENOMEM, -EALREADY when called twice). */
int rf_detect_compile(struct rf_detect *d, int mode, struct rf_detect_report *rep);

/* Convenience: new + load every dir + compile. NULL on a fatal error (out of memory);
 * rules that failed are only in REP. */
struct rf_detect *rf_detect_open(const char *const *dirs, int ndirs, int mode,
				 struct rf_detect_report *rep);

/*
 * Compile and schema-check a rules directory without running anything (the content
 * pipeline's validator). Returns 0 when every rule compiled, 1 when some are
 * unsupported but none invalid, 2 when some are invalid, or -errno when the
 * directory could not be read. REP as above.
 */
int rf_detect_compile_dir(const char *dir, struct rf_detect_report *rep);

/*
 * The same, as the content pipeline's "sigma" validator wants it
 * (src/content/content.h: `rf_content_sigma_compile = rf_detect_validate_dir;`):
 * returns 0 when every rule compiled or is unsupported (valid Sigma for a log source
 * the sensor does not feed: accepted, never run), -EINVAL when a rule is invalid
 * (ERR: "file:line:col: rule ID: reason (N invalid of M)"), -ENOENT when nothing
 * compiles, -errno when the directory cannot be read.
 */
int rf_detect_validate_dir(const char *dir, char *err, size_t errlen);

/* A detection. Strings belong to the engine and live as long as it does. */
struct rf_detect_hit {
	const char *rule_id;    /* "" when the rule has none */
	const char *rule_title;
	const char *level;      /* "informational" .. "critical"; "" when unset */
	const char *const *tags;
	unsigned ntags;
	const char *file;       /* rule file */
	bool correlation;       /* a correlation rule fired; the event is the last one */
	const char *group;      /* correlations: "Field=value, ..." of the group; else NULL */
	unsigned count;         /* correlations: events (or values, rules) in the window */
};
typedef void (*rf_detect_hit_cb)(const struct rf_detect_hit *hit,
				 const struct rf_event_hdr *ev, void *ctx);

/*
 * Evaluate one event (LEN bytes; it is validated with rf_event_validate()) against
 * every compiled rule; calls CB for each rule that matches and for each correlation
 * that fires. Returns the number of hits, or -EINVAL for an event that does not
 * validate, -EALREADY before rf_detect_compile().
 */
int rf_detect_event(struct rf_detect *d, const struct rf_event_hdr *ev, size_t len,
		    rf_detect_hit_cb cb, void *ctx);

/* Event classes (bit per enum rf_class_id) that compiled rules look at: what a client
 * subscribes to. 0 before rf_detect_compile(). */
uint64_t rf_detect_classes(const struct rf_detect *d);

struct rf_detect_stats {
	uint64_t events, hits, correlation_hits;
	uint64_t groups_dropped; /* correlation groups refused because a table was full */
	unsigned rules, correlations, atoms, databases;
};
void rf_detect_stats(const struct rf_detect *d, struct rf_detect_stats *st);

/* Output of a detection, one line each (docs/detect.md):
 *   RF_DETECT_OUT_TEXT  readable: time, level, title, id, the event's main fields
 *   RF_DETECT_OUT_JSON  {"rule_id","rule_title","level","tags","event":{...}}
 *   RF_DETECT_OUT_OCSF  an OCSF 1.x Detection Finding (class_uid 2004)
 * EVENT_JSON writes the event as one JSON object; NULL uses rf_detect_event_json()
 * (libringfence's rf_event_to_json(), as `ringfence events --json`). Returns 0 or
 * -EIO. */
enum rf_detect_out { RF_DETECT_OUT_TEXT, RF_DETECT_OUT_JSON, RF_DETECT_OUT_OCSF };
typedef int (*rf_detect_event_json_fn)(FILE *f, const struct rf_event_hdr *ev);
int rf_detect_write_hit(FILE *f, int format, const struct rf_detect_hit *hit,
			const struct rf_event_hdr *ev, rf_detect_event_json_fn event_json);
/* The default event writer: rf_event_to_json() onto F. Returns 0 or -errno. */
int rf_detect_event_json(FILE *f, const struct rf_event_hdr *ev);

#endif
