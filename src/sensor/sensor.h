/* SPDX-License-Identifier: MIT */
/*
 * sensor.h: the event source of the daemon. Loads the platform's eBPF programs (or,
 * when that is impossible or --no-bpf is given, falls back to the netlink process
 * connector plus /proc, marking every event RF_EVF_DEGRADED), normalises what the
 * kernel sends into validated events, enriches them from the process table, numbers
 * them (seq, class_seq; a gap = events the kernel had to drop) and hands each one to a
 * callback.
 */
#ifndef RF_SENSOR_H
#define RF_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ringfence/event.h"

struct rf_sensor;
struct rf_proctable;

struct rf_sensor_opts {
	uint64_t class_mask; /* bit (1 << class id) per class to emit; 0 = all */
	bool no_bpf;         /* do not try eBPF: use the degraded fallback */
	bool bootstrap;      /* fill the process table from /proc at start (default on) */
	uint32_t ring_bytes; /* kernel ring buffer size: a power of two >= 4096; 0 = RF_RINGBUF_BYTES */
	bool raw_syscall_hooks; /* open family through raw_tp/sys_exit instead of per-syscall
				 * tracepoints (for the benchmark that compares the two) */
	/* path prefixes whose file events are dropped in the kernel; NULL: "/proc/",
	 * "/sys/"; at most RF_PATH_EXCL_MAX, each shorter than RF_PATH_EXCL_LEN */
	const char *const *path_excl;
	unsigned npath_excl;
	bool bench;          /* also load the benchmark's event generator (rf_sensor_bench_emit) */
};

/* Called once per event, in the thread that calls rf_sensor_poll(). `ev` is validated
 * and enriched and stays valid only during the call. Return 0 to go on, or a negative
 * errno to make rf_sensor_poll() stop and return it. */
typedef int (*rf_sensor_cb)(const struct rf_event_hdr *ev, void *ctx);

struct rf_sensor_stats {
	uint64_t delivered;                 /* events handed to the callback */
	uint64_t dropped;                   /* events the kernel could not queue (ring full) */
	uint64_t per_class[RF_CLASS_COUNT]; /* delivered, by class */
	uint64_t dropped_class[RF_CLASS_COUNT];
	uint64_t invalid;                   /* records from the kernel that failed validation */
};

/*
 * Start the sensor. On failure returns -errno and writes a one-line reason into
 * why (what failed and what to do). With BPF impossible it does not fail: it starts
 * degraded and rf_sensor_degraded() gives the reason.
 * The caller owns *ret and frees it with rf_sensor_free().
 */
int rf_sensor_open(const struct rf_sensor_opts *opts, rf_sensor_cb cb, void *ctx,
		   struct rf_sensor **ret, char *why, size_t whylen);
/* File descriptor that becomes readable when events are waiting (for epoll). */
int rf_sensor_fd(const struct rf_sensor *s);
/* Deliver waiting events, waiting up to timeout_ms (-1: forever, 0: not at all) for
 * the first. Returns the number delivered, or -errno (-EINTR when a signal came). */
int rf_sensor_poll(struct rf_sensor *s, int timeout_ms);
/* For a caller that waits on rf_sensor_fd() itself (epoll): call rf_sensor_idle()
 * right before waiting, and poll instead of waiting when it returns true; call
 * rf_sensor_awake() right after the wait. The eBPF writers wake the reader only
 * when it said it sleeps (bpf/common.bpf.h, "Wake-ups"). */
bool rf_sensor_idle(struct rf_sensor *s);
void rf_sensor_awake(struct rf_sensor *s);
void rf_sensor_stats(struct rf_sensor *s, struct rf_sensor_stats *st);
/* NULL when the eBPF sensor runs; else why it does not (e.g. "--no-bpf given"). */
const char *rf_sensor_degraded(const struct rf_sensor *s);
/* Whether this kernel takes the sensor's plain-load open programs (bpf_rdonly_cast, 6.2+;
 * RINGFENCE_PATH_WALK=probe forces the bpf_probe_read_kernel ones). */
bool rf_sensor_btf_walk(void);
/* Change which classes are emitted, at run time, without reloading anything. */
int rf_sensor_set_classes(struct rf_sensor *s, uint64_t class_mask);
/* Never report this process (ringfence's own clients and helpers). 0 or -errno. */
int rf_sensor_exclude_pid(struct rf_sensor *s, uint32_t pid, bool exclude);
/* Classes whose programs could not be attached (e.g. no tracefs), as a readable
 * list, or NULL when everything the sensor has is running. */
const char *rf_sensor_unavailable(const struct rf_sensor *s);
/* The process table the sensor keeps (for lookups by other components). */
struct rf_proctable *rf_sensor_proctable(struct rf_sensor *s);
/* Benchmark: make the kernel write runs x 256 process_exit events into the ring buffer
 * now, on the calling CPU (needs opts.bench). Returns 0 or -errno. */
int rf_sensor_bench_emit(struct rf_sensor *s, unsigned runs);
/* Stop and free; accepts NULL; returns NULL. */
struct rf_sensor *rf_sensor_free(struct rf_sensor *s);

#endif
