/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sensor.h: what the eBPF sensor and its user-space loader share besides the event
 * structs (ringfence/events_gen.h): the per-CPU counters and the config layout.
 * Plain constants and structs only.
 */
#ifndef RF_SENSOR_BPF_H
#define RF_SENSOR_BPF_H

/* Per-CPU counters (map rf_stats, one entry). Indexed by class id. */
struct rf_cpu_stats {
	__u64 emitted[RF_CLASS_COUNT]; /* events written to the ring buffer */
	__u64 dropped[RF_CLASS_COUNT]; /* failed ring-buffer writes (ring full) */
	__u64 path_partial;            /* paths cut at RF_PATH_DEPTH_MAX or the buffer */
};

/* One path-prefix exclusion for file events (map rf_path_excl). */
struct rf_path_excl {
	__u32 len;
	char p[RF_PATH_EXCL_LEN];
};

/* Scratch sizes: the event is built in a per-CPU buffer and copied to the ring with
 * its exact size. Paths are built backwards in a buffer twice RF_PATH_MAX long so that
 * every masked offset stays inside it. */
#define RF_BPF_EVENT_BUF 16384u /* power of two, >= fixed part + exe + args + cwd + small strings */
#define RF_BPF_PATH_BUF  (2 * RF_PATH_MAX)
#define RF_BPF_NAME_MAX  256u   /* one path component (NAME_MAX + 1) */

#endif
