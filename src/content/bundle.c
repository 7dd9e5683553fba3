// SPDX-License-Identifier: MIT
/* bundle.c: the bundle container, its verification, and the payload archive. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "content/content.h"
#include "content/content_int.h"
#include "ringfence/schema.h"

/* Header layout (little-endian), RF_BUNDLE_HDR_SIZE bytes:
 *   0 magic[8] | 8 u16 format | 10 u16 header_size | 12 u32 flags | 16 type[16]
 *   32 client[32] | 64 u64 content_version | 72 u32 schema_version | 76 u32 meta_len
 *   80 u64 payload_len | 88 sha256[32] | 120 reserved[40] (zero) */
_Static_assert(RF_CONTENT_TYPE_MAX == 16, "header layout holds a 16-byte type");
_Static_assert(RF_CONTENT_CLIENT_MAX == 32, "header layout holds a 32-byte client");
_Static_assert(120 + 40 == RF_BUNDLE_HDR_SIZE, "header layout");

static int name_ok(const uint8_t *p, size_t max, char *out)
{
	size_t i;

	for (i = 0; i < max && p[i]; i++) {
		uint8_t c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return -1;
	}
	if (i == 0 || i == max)
		return -1;
	for (; i < max; i++)
		if (p[i])
			return -1;
	memcpy(out, p, max);
	return 0;
}

int rf_bundle_parse(const uint8_t *buf, size_t len, struct rf_bundle *b, struct rf_content_err *e)
{
	struct rf_bundle_hdr *h = &b->hdr;
	struct rf_tlv_iter it;
	struct rf_tlv t;
	size_t i;
	int r;

	memset(b, 0, sizeof(*b));
	if (len < RF_BUNDLE_HDR_SIZE)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "bundle: %zu bytes, shorter than its %u-byte header", len,
					  RF_BUNDLE_HDR_SIZE);
	if (memcmp(buf, RF_BUNDLE_MAGIC, 8))
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "bundle: bad magic (not a ringfence bundle)");
	h->format = rd16(buf + 8);
	if (h->format != RF_BUNDLE_FORMAT)
		return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EPROTO,
					  "bundle: format version %u, this ringfence reads %u",
					  h->format, RF_BUNDLE_FORMAT);
	if (rd16(buf + 10) != RF_BUNDLE_HDR_SIZE)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "bundle: header size %u, want %u", rd16(buf + 10),
					  RF_BUNDLE_HDR_SIZE);
	h->flags = rd32(buf + 12);
	if (h->flags)
		return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EPROTO,
					  "bundle: unknown critical header flags 0x%08x", h->flags);
	if (name_ok(buf + 16, RF_CONTENT_TYPE_MAX, h->type) < 0 ||
	    name_ok(buf + 32, RF_CONTENT_CLIENT_MAX, h->client) < 0)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "bundle: content type or client name malformed");
	h->content_version = rd64(buf + 64);
	h->schema_version = rd32(buf + 72);
	h->meta_len = rd32(buf + 76);
	h->payload_len = rd64(buf + 80);
	memcpy(h->payload_sha256, buf + 88, RF_SHA256_LEN);
	for (i = 120; i < RF_BUNDLE_HDR_SIZE; i++)
		if (buf[i])
			return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EPROTO,
						  "bundle: reserved header byte %zu is not zero", i);
	if (h->meta_len > RF_META_MAX || h->meta_len > len - RF_BUNDLE_HDR_SIZE)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "bundle: metadata section of %u bytes (limit %u, %zu in file)",
					  h->meta_len, RF_META_MAX, len - RF_BUNDLE_HDR_SIZE);
	it = (struct rf_tlv_iter){buf + RF_BUNDLE_HDR_SIZE, h->meta_len, 0, "bundle metadata"};
	while ((r = rf_tlv_next(&it, &t, e)) > 0) {
		switch (t.tag) {
		case T_SEC_ROOT:
			if (b->targets)
				return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
							  "bundle metadata: root after targets");
			if (b->nroots >= RF_ROOT_CHAIN_MAX)
				return rf_content_err_set(e, RF_CE_FORMAT, -EMSGSIZE,
							  "bundle metadata: more than %u root versions",
							  RF_ROOT_CHAIN_MAX);
			b->roots[b->nroots] = t.val;
			b->roots_len[b->nroots++] = t.len;
			break;
		case T_SEC_TARGETS:
			if (b->targets)
				return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
							  "bundle metadata: two targets documents");
			b->targets = t.val;
			b->targets_len = t.len;
			break;
		default:
			if ((r = rf_tlv_unknown(&it, &t, e)) < 0)
				return r;
		}
	}
	if (r < 0)
		return r;
	if (!b->targets)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "bundle metadata: no targets document");
	b->payload = buf + RF_BUNDLE_HDR_SIZE + h->meta_len;
	b->payload_avail = len - RF_BUNDLE_HDR_SIZE - h->meta_len;
	return 0;
}

int rf_bundle_write(const struct rf_bundle_hdr *h, const uint8_t *const *roots,
		    const size_t *roots_len, unsigned nroots, const uint8_t *targets,
		    size_t targets_len, const uint8_t *payload, uint8_t **out, size_t *outlen)
{
	struct rf_buf meta = {0}, b = {0};
	uint8_t hdr[RF_BUNDLE_HDR_SIZE] = {0};
	unsigned i;

	for (i = 0; i < nroots; i++)
		rf_tlv_put(&meta, T_SEC_ROOT, RF_TLV_CRITICAL, roots[i], (uint32_t)roots_len[i]);
	rf_tlv_put(&meta, T_SEC_TARGETS, RF_TLV_CRITICAL, targets, (uint32_t)targets_len);
	if (meta.failed || meta.len > RF_META_MAX) {
		free(meta.p);
		return meta.failed ? -ENOMEM : -EMSGSIZE;
	}
	memcpy(hdr, RF_BUNDLE_MAGIC, 8);
	wr16(hdr + 8, RF_BUNDLE_FORMAT);
	wr16(hdr + 10, RF_BUNDLE_HDR_SIZE);
	wr32(hdr + 12, h->flags);
	strncpy((char *)hdr + 16, h->type, RF_CONTENT_TYPE_MAX - 1);
	strncpy((char *)hdr + 32, h->client, RF_CONTENT_CLIENT_MAX - 1);
	wr64(hdr + 64, h->content_version);
	wr32(hdr + 72, h->schema_version);
	wr32(hdr + 76, (uint32_t)meta.len);
	wr64(hdr + 80, h->payload_len);
	memcpy(hdr + 88, h->payload_sha256, RF_SHA256_LEN);
	rf_buf_add(&b, hdr, sizeof(hdr));
	rf_buf_add(&b, meta.p, meta.len);
	rf_buf_add(&b, payload, h->payload_len);
	free(meta.p);
	if (b.failed) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

int rf_bundle_read(const char *path, uint8_t **buf, size_t *len, struct rf_content_err *e)
{
	int r = rf_read_file(path, RF_BUNDLE_MAX, buf, len);

	if (r == -EFBIG)
		return rf_content_err_set(e, RF_CE_LENGTH_MISMATCH, r,
					  "%s: larger than the bundle limit of %u bytes (endless "
					  "data?); not read",
					  path, RF_BUNDLE_MAX);
	if (r < 0)
		return rf_content_err_set(e, RF_CE_IO, r, "%s: %s", path, strerror(-r));
	return 0;
}

static int check_expiry(const struct rf_meta *m, time_t now, struct rf_content_err *e)
{
	if ((uint64_t)now >= m->expires)
		return rf_content_err_set(e, RF_CE_EXPIRED, -EKEYEXPIRED,
					  "%s metadata v%llu expired at %llu (now %lld): refusing "
					  "stale metadata (freeze attack?)",
					  m->type == RF_META_ROOT ? "root" : "targets",
					  (unsigned long long)m->version,
					  (unsigned long long)m->expires, (long long)now);
	return 0;
}

int rf_bundle_verify(const uint8_t *buf, size_t len, const uint8_t *root, size_t root_len,
		     time_t now, const struct rf_installed *inst, struct rf_verified *v,
		     struct rf_content_err *e)
{
	struct rf_bundle b;
	struct rf_meta *trusted = NULL, *next = NULL, *tg = NULL;
	const struct rf_bundle_hdr *h;
	const uint8_t *newest = NULL;
	size_t newest_len = 0;
	uint8_t sha[RF_SHA256_LEN];
	unsigned i;
	int r;

	memset(v, 0, sizeof(*v));
	if (sodium_init() < 0)
		return rf_content_err_set(e, RF_CE_IO, -EIO, "libsodium failed to initialise");
	if (!root)
		return rf_content_err_set(e, RF_CE_NO_TRUST_ROOT, -ENOKEY,
					  "no trusted root metadata: run 'ringfence content init'");
	trusted = calloc(1, sizeof(*trusted));
	next = calloc(1, sizeof(*next));
	tg = calloc(1, sizeof(*tg));
	if (!trusted || !next || !tg) {
		r = -ENOMEM;
		goto out;
	}
	r = rf_meta_parse(root, root_len, trusted, e);
	if (r < 0)
		goto out;
	if (trusted->type != RF_META_ROOT) {
		r = rf_content_err_set(e, RF_CE_NO_TRUST_ROOT, -ENOKEY,
				       "the trusted root file holds targets metadata");
		goto out;
	}
	r = rf_bundle_parse(buf, len, &b, e);
	if (r < 0)
		goto out;
	h = &b.hdr;

	/* 1. Root rotation: each new root is signed by a threshold of the keys of
	 * the root it replaces and by a threshold of its own root keys. */
	for (i = 0; i < b.nroots; i++) {
		struct rf_meta *tmp;

		r = rf_meta_parse(b.roots[i], b.roots_len[i], next, e);
		if (r < 0)
			goto out;
		if (next->type != RF_META_ROOT) {
			r = rf_content_err_set(e, RF_CE_ROOT_CHAIN, -EBADMSG,
					       "root chain entry %u is not root metadata", i);
			goto out;
		}
		if (next->version <= trusted->version)
			continue; /* older than what we trust already: ignored */
		if (next->version != trusted->version + 1) {
			r = rf_content_err_set(e, RF_CE_ROOT_CHAIN, -EBADMSG,
					       "root chain jumps from v%llu to v%llu: every "
					       "version in between is needed",
					       (unsigned long long)trusted->version,
					       (unsigned long long)next->version);
			goto out;
		}
		r = rf_meta_check_sigs(next, trusted, RF_ROLE_ROOT, e);
		if (r < 0)
			goto out;
		r = rf_meta_check_sigs(next, next, RF_ROLE_ROOT, e);
		if (r < 0)
			goto out;
		newest = b.roots[i];
		newest_len = b.roots_len[i];
		tmp = trusted;
		trusted = next;
		next = tmp;
	}
	r = check_expiry(trusted, now, e);
	if (r < 0)
		goto out;

	/* 2. Targets: threshold of the targets keys of the newest root. */
	r = rf_meta_parse(b.targets, b.targets_len, tg, e);
	if (r < 0)
		goto out;
	if (tg->type != RF_META_TARGETS) {
		r = rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
				       "bundle: the targets document holds root metadata");
		goto out;
	}
	r = rf_meta_check_sigs(tg, trusted, RF_ROLE_TARGETS, e);
	if (r < 0)
		goto out;
	r = check_expiry(tg, now, e);
	if (r < 0)
		goto out;
	if (inst && tg->version < inst->targets_version) {
		r = rf_content_err_set(e, RF_CE_ROLLBACK, -ESTALE,
				       "targets metadata v%llu is older than the v%llu already "
				       "accepted (rollback attack?)",
				       (unsigned long long)tg->version,
				       (unsigned long long)inst->targets_version);
		goto out;
	}
	if (inst && tg->target.content_version <= inst->content_version) {
		r = rf_content_err_set(e, RF_CE_ROLLBACK, -ESTALE,
				       "content version %llu for '%s' is not newer than the "
				       "installed %llu (rollback attack?); publish old content "
				       "as a new version instead",
				       (unsigned long long)tg->target.content_version,
				       tg->target.client,
				       (unsigned long long)inst->content_version);
		goto out;
	}

	/* 3. The unsigned header must agree with the signed target. */
	if (strcmp(h->type, tg->target.type) || strcmp(h->client, tg->target.client) ||
	    h->content_version != tg->target.content_version ||
	    h->schema_version != tg->target.schema_version) {
		r = rf_content_err_set(e, RF_CE_HEADER_MISMATCH, -EBADMSG,
				       "bundle header (%s for %s v%llu, schema %u) differs from "
				       "its signed targets (%s for %s v%llu, schema %u)",
				       h->type, h->client, (unsigned long long)h->content_version,
				       h->schema_version, tg->target.type, tg->target.client,
				       (unsigned long long)tg->target.content_version,
				       tg->target.schema_version);
		goto out;
	}
	/* 4. Length before hash: never hash more than the signed length. */
	if (h->payload_len != tg->target.length || b.payload_avail != tg->target.length) {
		r = rf_content_err_set(e, RF_CE_LENGTH_MISMATCH, -EBADMSG,
				       "payload is %zu bytes (header says %llu), signed length is "
				       "%llu (endless data or truncation)",
				       b.payload_avail, (unsigned long long)h->payload_len,
				       (unsigned long long)tg->target.length);
		goto out;
	}
	rf_sha256(b.payload, b.payload_avail, sha);
	if (sodium_memcmp(sha, tg->target.sha256, RF_SHA256_LEN) ||
	    sodium_memcmp(h->payload_sha256, tg->target.sha256, RF_SHA256_LEN)) {
		r = rf_content_err_set(e, RF_CE_HASH_MISMATCH, -EBADMSG,
				       "payload hash differs from the signed hash (mix-and-match "
				       "or corruption)");
		goto out;
	}
	if (tg->target.schema_version > rf_schema_version()) {
		r = rf_content_err_set(e, RF_CE_SCHEMA, -EPROTO,
				       "content needs event schema %u, this ringfence has %u",
				       tg->target.schema_version, rf_schema_version());
		goto out;
	}
	v->target = tg->target;
	v->targets_version = tg->version;
	v->root_version = trusted->version;
	if (newest) {
		v->new_root = malloc(newest_len);
		if (!v->new_root) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(v->new_root, newest, newest_len);
		v->new_root_len = newest_len;
	}
	r = 0;
out:
	free(trusted);
	free(next);
	free(tg);
	return r;
}

/* --- archive ---------------------------------------------------------------- */
static int path_ok(const char *n, size_t len)
{
	size_t i, comp = 0, depth = 1;

	if (len == 0 || len > RF_ARCHIVE_NAME_MAX || n[0] == '/')
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || n[i] == '/') {
			if (comp == 0 || comp > RF_ARCHIVE_COMPONENT_MAX)
				return 0;
			if ((comp == 1 && n[i - 1] == '.') ||
			    (comp == 2 && n[i - 1] == '.' && n[i - 2] == '.'))
				return 0;
			comp = 0;
			if (i < len && ++depth > RF_ARCHIVE_DEPTH_MAX)
				return 0;
			continue;
		}
		if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f)
			return 0;
		comp++;
	}
	return 1;
}

int rf_archive_walk(const uint8_t *buf, size_t len, rf_archive_cb cb, void *ctx,
		    struct rf_content_err *e)
{
	size_t off = 8, nent = 0;
	char name[RF_ARCHIVE_NAME_MAX + 1];

	if (len < 8 || memcmp(buf, RF_ARCHIVE_MAGIC, 8))
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "payload: not a ringfence archive (bad magic)");
	for (;;) {
		unsigned type, nlen;
		uint64_t size;
		int r;

		if (len - off < 16)
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "payload: truncated entry at byte %zu", off);
		type = buf[off];
		nlen = rd16(buf + off + 2);
		size = rd64(buf + off + 8);
		if (buf[off + 1] || rd32(buf + off + 4))
			return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EBADMSG,
						  "payload: entry at byte %zu has non-zero reserved "
						  "bytes",
						  off);
		if (type == RF_AR_END) {
			if (nlen || size || off + 16 != len)
				return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
							  "payload: bytes after the end entry at %zu",
							  off);
			return 0;
		}
		if (type != RF_AR_DIR && type != RF_AR_FILE)
			return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EBADMSG,
						  "payload: unknown entry type %u at byte %zu", type,
						  off);
		if (++nent > RF_ARCHIVE_ENTRIES_MAX)
			return rf_content_err_set(e, RF_CE_FORMAT, -EMSGSIZE,
						  "payload: more than %u entries",
						  RF_ARCHIVE_ENTRIES_MAX);
		if (type == RF_AR_DIR && size)
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "payload: directory with data at byte %zu", off);
		off += 16;
		if (nlen > len - off || size > len - off - nlen)
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "payload: entry at byte %zu runs past the end", off - 16);
		if (nlen == 0 || nlen > RF_ARCHIVE_NAME_MAX)
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "payload: name of %u bytes at byte %zu (1..%u allowed)",
						  nlen, off, RF_ARCHIVE_NAME_MAX);
		memcpy(name, buf + off, nlen);
		name[nlen] = 0;
		if (memchr(name, 0, nlen) || !path_ok(name, nlen))
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "payload: unsafe or malformed path at byte %zu", off);
		off += nlen;
		if (cb && (r = cb(ctx, (int)type, name, buf + off, size)) < 0)
			return r;
		off += size;
	}
}

/* pack ---------------------------------------------------------------------- */
static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_entry(struct rf_buf *b, int type, const char *name, const uint8_t *data,
		      uint64_t size)
{
	uint8_t h[16] = {0};
	size_t n = strlen(name);

	h[0] = (uint8_t)type;
	wr16(h + 2, (uint16_t)n);
	wr64(h + 8, size);
	rf_buf_add(b, h, 16);
	rf_buf_add(b, name, n);
	rf_buf_add(b, data, size);
}

static int pack_dir(const char *root, const char *rel, struct rf_buf *b, size_t *nent,
		    struct rf_content_err *e)
{
	char path[4096], sub[RF_ARCHIVE_NAME_MAX + 2];
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel);
	d = opendir(path);
	if (!d)
		return rf_content_err_set(e, RF_CE_IO, -errno, "%s: %s", path, strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
			if (!nn) {
				r = -ENOMEM;
				goto out;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n && r == 0; i++) {
		struct stat st;
		int w = snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]);

		if (w < 0 || (size_t)w >= sizeof(sub) || !path_ok(sub, (size_t)w)) {
			r = rf_content_err_set(e, RF_CE_FORMAT, -EINVAL,
					       "%s/%s: path not allowed in a bundle", root, sub);
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", root, sub);
		if (lstat(path, &st) < 0) {
			r = rf_content_err_set(e, RF_CE_IO, -errno, "%s: %s", path, strerror(errno));
			break;
		}
		if (++*nent > RF_ARCHIVE_ENTRIES_MAX) {
			r = rf_content_err_set(e, RF_CE_FORMAT, -EMSGSIZE, "more than %u entries",
					       RF_ARCHIVE_ENTRIES_MAX);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			put_entry(b, RF_AR_DIR, sub, NULL, 0);
			r = pack_dir(root, sub, b, nent, e);
		} else if (S_ISREG(st.st_mode)) {
			uint8_t *data;
			size_t len;
			r = rf_read_file(path, RF_BUNDLE_MAX, &data, &len);
			if (r < 0) {
				rf_content_err_set(e, RF_CE_IO, r, "%s: %s", path, strerror(-r));
				break;
			}
			put_entry(b, RF_AR_FILE, sub, data, len);
			free(data);
		} else {
			r = rf_content_err_set(e, RF_CE_FORMAT, -EINVAL,
					       "%s: only regular files and directories go into "
					       "a bundle",
					       path);
		}
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

int rf_archive_pack(const char *dir, uint8_t **out, size_t *outlen, struct rf_content_err *e)
{
	struct rf_buf b = {0};
	uint8_t end[16] = {0};
	size_t nent = 0;
	int r;

	rf_buf_add(&b, RF_ARCHIVE_MAGIC, 8);
	r = pack_dir(dir, "", &b, &nent, e);
	rf_buf_add(&b, end, 16);
	if (r == 0 && b.failed)
		r = -ENOMEM;
	if (r == 0 && b.len > RF_BUNDLE_MAX)
		r = rf_content_err_set(e, RF_CE_FORMAT, -EFBIG, "payload over %u bytes",
				       RF_BUNDLE_MAX);
	if (r < 0) {
		free(b.p);
		return r;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* extract ------------------------------------------------------------------- */
struct xctx {
	int dirfd;
	struct rf_content_err *e;
};

/* Open the parent directory of NAME below DIRFD without following symlinks; the
 * last component goes to *base. */
static int open_parent(int dirfd, char *name, const char **base)
{
	char *slash = strrchr(name, '/');
	int fd;

	if (!slash) {
		*base = name;
		return dup(dirfd);
	}
	*slash = 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	*slash = '/';
	*base = slash + 1;
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int extract_cb(void *vctx, int type, const char *cname, const uint8_t *data,
		      uint64_t size)
{
	struct xctx *x = vctx;
	char name[RF_ARCHIVE_NAME_MAX + 1];
	const char *base;
	int pfd, fd, r = 0;

	snprintf(name, sizeof(name), "%s", cname);
	pfd = open_parent(x->dirfd, name, &base);
	if (pfd < 0)
		return rf_content_err_set(x->e, errno == ENOENT ? RF_CE_FORMAT : RF_CE_IO, -errno,
					  "payload: %s: parent directory: %s", name,
					  strerror(errno));
	if (type == RF_AR_DIR) {
		if (mkdirat(pfd, base, 0755) < 0)
			r = rf_content_err_set(x->e, errno == EEXIST ? RF_CE_FORMAT : RF_CE_IO,
					       -errno, "payload: %s: %s", name, strerror(errno));
		else if (fsync(pfd) < 0)
			r = rf_content_err_set(x->e, RF_CE_IO, -errno, "payload: %s: fsync: %s",
					       name, strerror(errno));
		close(pfd);
		return r;
	}
	fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = rf_content_err_set(x->e, errno == EEXIST ? RF_CE_FORMAT : RF_CE_IO, -errno,
				       "payload: %s: %s", name, strerror(errno));
		close(pfd);
		return r;
	}
	r = write_all(fd, data, size);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && fsync(pfd) < 0)
		r = -errno;
	close(pfd);
	if (r < 0)
		return rf_content_err_set(x->e, RF_CE_IO, r, "payload: writing %s: %s", name,
					  strerror(-r));
	rf_content_crash_point("extract-file");
	return 0;
}

int rf_archive_extract(const uint8_t *buf, size_t len, int dirfd, struct rf_content_err *e)
{
	struct xctx x = {dirfd, e};

	return rf_archive_walk(buf, len, extract_cb, &x, e);
}

static int compare_cb(void *vctx, int type, const char *cname, const uint8_t *data,
		      uint64_t size)
{
	struct xctx *x = vctx;
	struct stat st;
	uint8_t *got = NULL;
	int fd, r = 0;

	fd = openat(x->dirfd, cname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = rf_content_err_set(x->e, RF_CE_STATE, -errno ? -errno : -EIO,
				       "slot: %s missing: %s", cname, strerror(errno));
		goto out;
	}
	if (type == RF_AR_DIR) {
		if (!S_ISDIR(st.st_mode))
			r = rf_content_err_set(x->e, RF_CE_STATE, -EIO, "slot: %s not a directory",
					       cname);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		r = rf_content_err_set(x->e, RF_CE_STATE, -EIO, "slot: %s has the wrong size",
				       cname);
		goto out;
	}
	got = malloc(size ? size : 1);
	if (!got || (size && pread(fd, got, size, 0) != (ssize_t)size) ||
	    memcmp(got, data, size)) {
		r = rf_content_err_set(x->e, RF_CE_STATE, -EIO, "slot: %s differs from the bundle",
				       cname);
	}
out:
	free(got);
	if (fd >= 0)
		close(fd);
	return r;
}

int rf_archive_compare(const uint8_t *buf, size_t len, int dirfd, struct rf_content_err *e)
{
	struct xctx x = {dirfd, e};

	return rf_archive_walk(buf, len, compare_cb, &x, e);
}
