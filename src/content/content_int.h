/* SPDX-License-Identifier: MIT */
/* content_int.h: internals shared by the files of src/content. */
#ifndef RF_CONTENT_INT_H
#define RF_CONTENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "content/content.h"

#define RF_META_SPEC 1
#define RF_META_FILE_MAGIC "RFMETA01"
#define RF_ARCHIVE_MAGIC "RFARCH01"
/* Domain separation: what a metadata signature covers is this string, its NUL, and
 * the body bytes exactly as they appear in the envelope. */
#define RF_SIG_CONTEXT "ringfence-metadata-v1"

#define RF_TLV_CRITICAL 0x0001

/* TLV tags */
enum {
	/* metadata section of a bundle */
	T_SEC_ROOT = 0x0010,    /* a root envelope (rotation chain, oldest first) */
	T_SEC_TARGETS = 0x0011, /* the targets envelope (exactly one) */
	/* envelope */
	T_SIGNED = 0x0001,
	T_SIGNATURE = 0x0002,
	/* body */
	T_TYPE = 0x0020,
	T_SPEC = 0x0021,
	T_VERSION = 0x0022,
	T_EXPIRES = 0x0023,
	T_ROLE = 0x0030,
	T_TGT_TYPE = 0x0040,
	T_TGT_CLIENT = 0x0041,
	T_TGT_VERSION = 0x0042,
	T_TGT_SCHEMA = 0x0043,
	T_TGT_LENGTH = 0x0044,
	T_TGT_SHA256 = 0x0045,
};

struct rf_tlv {
	uint16_t tag, flags;
	uint32_t len;
	const uint8_t *val;
	size_t off;
};

struct rf_tlv_iter {
	const uint8_t *buf;
	size_t len, off;
	const char *what;
};

/* 1 with *t filled, 0 at the end, or a negative error. */
int rf_tlv_next(struct rf_tlv_iter *it, struct rf_tlv *t, struct rf_content_err *e);
int rf_tlv_unknown(const struct rf_tlv_iter *it, const struct rf_tlv *t,
		   struct rf_content_err *e);

/* Growable buffer; after an allocation failure `failed` is set and adds are no-ops. */
struct rf_buf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};
void rf_buf_add(struct rf_buf *b, const void *p, size_t n);
void rf_tlv_put(struct rf_buf *b, uint16_t tag, uint16_t flags, const void *val, uint32_t len);

int rf_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);
/* Write temp file, fsync, rename over PATH, fsync the directory. CRASH_STEP (may be
 * NULL) names the crash points "<step>-tmp" (temp written) and "<step>-renamed". */
int rf_write_atomic(const char *path, const void *buf, size_t len, const char *crash_step);
int rf_fsync_dir(const char *dir);

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}
static inline void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

#endif
