/* SPDX-License-Identifier: MIT */
/* Internals shared by the eBPF sensor (sensor.c), the fallback (fallback.c) and the
 * normalisation step (normalise.c). */
#ifndef RF_SENSOR_INT_H
#define RF_SENSOR_INT_H

#include "proctable/proctable.h"
#include "sensor/sensor.h"

struct rf_sensor_bpf;
struct ring_buffer;
struct bpf_link;

struct rf_user_cache {
	uint32_t uid[RF_USER_CACHE_MAX];
	char name[RF_USER_CACHE_MAX][64];
	bool used[RF_USER_CACHE_MAX];
};

/* fields normalise.c reads or fills by name (their descriptors cached per class) */
enum rf_named_field {
	RF_NF_USER,
	RF_NF_PARENT_EXE,
	RF_NF_PARENT_CMDLINE,
	RF_NF_CONTAINER_ID,
	RF_NF_CGROUP,
	RF_NF_EXE,
	RF_NF_CMDLINE,
	RF_NF_COUNT
};

struct rf_sensor {
	rf_sensor_cb cb;
	void *ctx;
	struct rf_sensor_opts opts;
	struct rf_proctable *pt;
	/* eBPF */
	struct rf_sensor_bpf *skel;
	struct ring_buffer *rb;
	const volatile uint64_t *rb_cons, *rb_prod; /* the ring's positions (read-only maps) */
	size_t rb_pagesz;
	int last_batch;             /* records the last poll delivered */
	uint64_t win_start_ns;      /* records counted in a window of 1 ms from here */
	unsigned win_count;
	bool hot, napping;          /* records come fast: nap and poll, no wake-ups (rf_sensor_idle) */
	uint64_t last_drop_hint;
	bool btf_walk; /* the open programs read kernel memory with plain loads (bpf_rdonly_cast) */
	struct bpf_link *links[RF_SENSOR_PROGS_MAX];
	unsigned nlinks;
	bool attached[RF_SENSOR_PROGS_MAX]; /* by program index: attach tried */
	const char *tracefs_err;
	bool no_modules; /* the kernel has no module support */
	char unavailable[512]; /* programs that could not attach */
	uint64_t kdropped_class[RF_CLASS_COUNT]; /* drops read from the kernel so far */
	/* fallback */
	int nl_fd;
	char degraded[256]; /* "" when the eBPF sensor runs */
	/* numbering and time */
	uint64_t seq, class_seq[RF_CLASS_COUNT];
	int64_t boot_to_epoch_ns;  /* add to CLOCK_BOOTTIME ns to get epoch ns */
	int64_t mono_to_boot_ns;   /* add to CLOCK_MONOTONIC ns to get CLOCK_BOOTTIME ns */
	uint64_t last_expire_ns;
	int stop_err;
	struct rf_sensor_stats st;
	struct rf_user_cache users;
	const struct rf_field_desc *fields[RF_CLASS_COUNT][RF_NF_COUNT];
	bool fields_known[RF_CLASS_COUNT];
	_Alignas(8) unsigned char buf[RF_EVENT_MAX];
};

/* normalise.c: take one raw event (kernel strings only, boot-time timestamp), check
 * it, enrich it into s->buf, number it and hand it to the callback. Returns the
 * callback's result, or 0 for an event that was dropped as invalid (counted). */
int rf_sensor_deliver(struct rf_sensor *s, const void *raw, size_t len);
/* Account n drops of class cls: the next events' seq and class_seq skip over them. */
void rf_sensor_account_drops(struct rf_sensor *s, unsigned cls, uint64_t n);
int64_t rf_sensor_clock_offset(int clk_from, int clk_to);

/* fallback.c */
int rf_sensor_fallback_open(struct rf_sensor *s, char *why, size_t whylen);
int rf_sensor_fallback_poll(struct rf_sensor *s, int timeout_ms);
void rf_sensor_fallback_close(struct rf_sensor *s);

#endif
