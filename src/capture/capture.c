// SPDX-License-Identifier: MIT
/*
 * capture.c: the capture file format (docs/capture-format.md).
 *
 *   header (64 bytes, little-endian)
 *     0  magic "RFCAPTUR"     8  u16 format version (1)   10 u16 header size (>= 64)
 *     12 u32 flags (0)        16 u32 schema version        20 u32 reserved (0)
 *     24 u64 schema layout hash                            32 u64 start time, epoch ns
 *     40 24 bytes reserved (0)
 *   records, until the end of the file
 *     u32 length L (1 .. RF_EVENT_MAX)   u32 CRC-32 (zlib) of the L bytes   L bytes: one event
 *
 * The reader checks every field and names the byte offset of the first problem.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "capture/capture.h"
#include "ringfence/schema.h"

#define CAP_MAGIC "RFCAPTUR"
#define CAP_VERSION 1
#define CAP_HDR 64

struct cap_header {
	char magic[8];
	uint16_t version;
	uint16_t header_size;
	uint32_t flags;
	uint32_t schema_version;
	uint32_t reserved0;
	uint64_t schema_hash;
	uint64_t start_ns;
	uint8_t reserved[24];
};
_Static_assert(sizeof(struct cap_header) == CAP_HDR, "capture header layout");

struct rf_capture_writer {
	FILE *f;
	int err;
};

struct rf_capture_reader {
	FILE *f;
	uint64_t off; /* byte offset of the next record */
	struct cap_header h;
	_Alignas(8) unsigned char buf[RF_EVENT_MAX];
};

int rf_capture_create(const char *path, struct rf_capture_writer **ret)
{
	struct rf_capture_writer *w = calloc(1, sizeof(*w));
	struct cap_header h = {0};
	struct timespec ts;

	if (!w)
		return -ENOMEM;
	w->f = fopen(path, "wbe");
	if (!w->f) {
		int e = -errno;
		free(w);
		return e;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	memcpy(h.magic, CAP_MAGIC, 8);
	h.version = CAP_VERSION;
	h.header_size = CAP_HDR;
	h.schema_version = rf_schema_version();
	h.schema_hash = rf_schema_hash();
	h.start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (fwrite(&h, sizeof(h), 1, w->f) != 1) {
		int e = -errno;
		fclose(w->f);
		free(w);
		return e ? e : -EIO;
	}
	*ret = w;
	return 0;
}

int rf_capture_write(struct rf_capture_writer *w, const struct rf_event_hdr *ev)
{
	uint32_t rec[2];

	if (w->err)
		return w->err;
	if (ev->size < sizeof(*ev) || ev->size > RF_EVENT_MAX)
		return -EINVAL;
	rec[0] = ev->size;
	rec[1] = (uint32_t)crc32(0, (const Bytef *)ev, ev->size);
	if (fwrite(rec, sizeof(rec), 1, w->f) != 1 || fwrite(ev, ev->size, 1, w->f) != 1)
		w->err = errno ? -errno : -EIO;
	return w->err;
}

int rf_capture_writer_close(struct rf_capture_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = w->err;
	if (fflush(w->f) != 0 && !err)
		err = -errno;
	if (fsync(fileno(w->f)) != 0 && !err && errno != EINVAL)
		err = -errno;
	if (fclose(w->f) != 0 && !err)
		err = -errno;
	free(w);
	return err;
}

static int open_stream(FILE *f, struct rf_capture_reader **ret, char *err, size_t errlen)
{
	struct rf_capture_reader *r;
	size_t n;

	if (!f) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -errno;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->f = f;
	n = fread(&r->h, 1, sizeof(r->h), f);
	if (n < 8 || memcmp(r->h.magic, CAP_MAGIC, 8) != 0) {
		snprintf(err, errlen, "offset 0: not a ringfence capture file (bad magic)");
		goto bad;
	}
	if (n < sizeof(r->h)) {
		snprintf(err, errlen, "offset %zu: truncated header (%zu of %d bytes)", n, n, CAP_HDR);
		goto bad;
	}
	if (r->h.version != CAP_VERSION) {
		snprintf(err, errlen, "offset 8: capture format version %u; this build reads version %d",
			 r->h.version, CAP_VERSION);
		goto bad;
	}
	if (r->h.header_size < CAP_HDR || r->h.header_size > RF_CAPTURE_HEADER_MAX) {
		snprintf(err, errlen, "offset 10: header size %u out of range (%d..%u)",
			 r->h.header_size, CAP_HDR, RF_CAPTURE_HEADER_MAX);
		goto bad;
	}
	if (r->h.schema_hash != rf_schema_hash()) {
		snprintf(err, errlen,
			 "offset 24: recorded with event schema v%u layout %016llx; this build has v%u "
			 "layout %016llx: record it again with this build",
			 r->h.schema_version, (unsigned long long)r->h.schema_hash, rf_schema_version(),
			 (unsigned long long)rf_schema_hash());
		goto bad;
	}
	if (r->h.header_size > CAP_HDR && fseek(f, r->h.header_size, SEEK_SET) != 0) {
		snprintf(err, errlen, "offset %d: truncated header", CAP_HDR);
		goto bad;
	}
	r->off = r->h.header_size;
	*ret = r;
	return 0;
bad:
	rf_capture_close(r);
	return -EINVAL;
}

int rf_capture_open(const char *path, struct rf_capture_reader **ret, char *err, size_t errlen)
{
	return open_stream(fopen(path, "rbe"), ret, err, errlen);
}

int rf_capture_open_mem(const void *buf, size_t len, struct rf_capture_reader **ret, char *err,
			size_t errlen)
{
	if (!len) { /* fmemopen refuses empty buffers */
		snprintf(err, errlen, "offset 0: empty file, not a ringfence capture");
		return -EINVAL;
	}
	return open_stream(fmemopen((void *)buf, len, "rb"), ret, err, errlen);
}

int rf_capture_next(struct rf_capture_reader *r, const struct rf_event_hdr **ev, char *err,
		    size_t errlen)
{
	uint32_t rec[2];
	size_t n;
	const char *why;
	const struct rf_event_hdr *h = (const struct rf_event_hdr *)r->buf;

	n = fread(rec, 1, sizeof(rec), r->f);
	if (n == 0 && feof(r->f))
		return 0;
	if (n < sizeof(rec)) {
		snprintf(err, errlen, "offset %llu: truncated record header (%zu of 8 bytes)",
			 (unsigned long long)r->off, n);
		return -EINVAL;
	}
	if (rec[0] < sizeof(struct rf_event_hdr) || rec[0] > RF_EVENT_MAX) {
		snprintf(err, errlen, "offset %llu: record length %u out of range (%zu..%u)",
			 (unsigned long long)r->off, rec[0], sizeof(struct rf_event_hdr), RF_EVENT_MAX);
		return -EINVAL;
	}
	n = fread(r->buf, 1, rec[0], r->f);
	if (n < rec[0]) {
		snprintf(err, errlen, "offset %llu: truncated record (%u bytes announced, %zu present)",
			 (unsigned long long)r->off, rec[0], n);
		return -EINVAL;
	}
	if ((uint32_t)crc32(0, r->buf, rec[0]) != rec[1]) {
		snprintf(err, errlen, "offset %llu: corrupt record (checksum mismatch)",
			 (unsigned long long)r->off);
		return -EINVAL;
	}
	if (rf_event_validate(r->buf, rec[0], &why) < 0 || h->size != rec[0]) {
		snprintf(err, errlen, "offset %llu: invalid event (%s)", (unsigned long long)r->off + 8,
			 why ? why : "event size differs from record length");
		return -EINVAL;
	}
	r->off += 8 + rec[0];
	*ev = h;
	return 1;
}

uint64_t rf_capture_schema_hash(const struct rf_capture_reader *r)
{
	return r->h.schema_hash;
}

uint64_t rf_capture_start_ns(const struct rf_capture_reader *r)
{
	return r->h.start_ns;
}

struct rf_capture_reader *rf_capture_close(struct rf_capture_reader *r)
{
	if (!r)
		return NULL;
	if (r->f)
		fclose(r->f);
	free(r);
	return NULL;
}
