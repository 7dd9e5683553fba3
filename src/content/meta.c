// SPDX-License-Identifier: MIT
/*
 * meta.c: TUF-style metadata in a fixed binary TLV encoding (docs/content.md).
 *
 * A TLV record is {u16 tag, u16 flags, u32 len, value[len]}, little-endian.
 * Flag bit 0 marks a record critical: a reader that does not know a critical tag
 * refuses the document; unknown non-critical records are skipped. Other flag bits
 * must be zero. Every length is checked before it is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/hex.h"
#include "content/content.h"
#include "content/content_int.h"

static const char *const code_names[RF_CE__COUNT] = {
	[RF_CE_OK] = "OK",
	[RF_CE_FORMAT] = "FORMAT",
	[RF_CE_BAD_SIGNATURE] = "BAD_SIGNATURE",
	[RF_CE_TOO_FEW_SIGNATURES] = "TOO_FEW_SIGNATURES",
	[RF_CE_EXPIRED] = "EXPIRED",
	[RF_CE_ROLLBACK] = "ROLLBACK",
	[RF_CE_LENGTH_MISMATCH] = "LENGTH_MISMATCH",
	[RF_CE_HASH_MISMATCH] = "HASH_MISMATCH",
	[RF_CE_UNKNOWN_CRITICAL] = "UNKNOWN_CRITICAL",
	[RF_CE_HEADER_MISMATCH] = "HEADER_MISMATCH",
	[RF_CE_ROOT_CHAIN] = "ROOT_CHAIN",
	[RF_CE_NO_TRUST_ROOT] = "NO_TRUST_ROOT",
	[RF_CE_SCHEMA] = "SCHEMA",
	[RF_CE_UNKNOWN_TYPE] = "UNKNOWN_TYPE",
	[RF_CE_INVALID] = "INVALID",
	[RF_CE_VALIDATOR_CRASH] = "VALIDATOR_CRASH",
	[RF_CE_VALIDATOR_TIMEOUT] = "VALIDATOR_TIMEOUT",
	[RF_CE_SHADOW] = "SHADOW",
	[RF_CE_IO] = "IO",
	[RF_CE_STATE] = "STATE",
};

const char *rf_content_code_name(int code)
{
	if (code < 0 || code >= RF_CE__COUNT || !code_names[code])
		return "UNKNOWN";
	return code_names[code];
}

int rf_content_err_set(struct rf_content_err *e, int code, int ret, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return ret;
}

void rf_sha256(const uint8_t *buf, size_t len, uint8_t out[RF_SHA256_LEN])
{
	crypto_hash_sha256(out, buf, len);
}

void rf_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = 0;
}

int rf_unhex(const char *in, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int h = rf_hexval(in[2 * i]), l;
		if (h < 0)
			return -EINVAL;
		l = rf_hexval(in[2 * i + 1]);
		if (l < 0)
			return -EINVAL;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

/* --- TLV -------------------------------------------------------------------- */
int rf_tlv_next(struct rf_tlv_iter *it, struct rf_tlv *t, struct rf_content_err *e)
{
	size_t left = it->len - it->off;
	const uint8_t *p = it->buf + it->off;

	if (left == 0)
		return 0;
	if (left < 8)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "%s: truncated record header at byte %zu", it->what,
					  it->off);
	t->tag = rd16(p);
	t->flags = rd16(p + 2);
	t->len = rd32(p + 4);
	if (t->flags & ~RF_TLV_CRITICAL)
		return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EBADMSG,
					  "%s: record 0x%04x at byte %zu has unknown flags 0x%04x",
					  it->what, t->tag, it->off, t->flags);
	if (t->len > left - 8)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "%s: record 0x%04x at byte %zu claims %u bytes, %zu left",
					  it->what, t->tag, it->off, t->len, left - 8);
	t->val = p + 8;
	t->off = it->off;
	it->off += 8 + (size_t)t->len;
	return 1;
}

/* A record this reader does not know: refuse when critical, skip otherwise. */
int rf_tlv_unknown(const struct rf_tlv_iter *it, const struct rf_tlv *t,
		   struct rf_content_err *e)
{
	if (t->flags & RF_TLV_CRITICAL)
		return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EPROTO,
					  "%s: unknown critical field 0x%04x at byte %zu: this "
					  "ringfence is too old for it",
					  it->what, t->tag, t->off);
	return 0;
}

void rf_tlv_put(struct rf_buf *b, uint16_t tag, uint16_t flags, const void *val, uint32_t len)
{
	uint8_t h[8];

	wr16(h, tag);
	wr16(h + 2, flags);
	wr32(h + 4, len);
	rf_buf_add(b, h, 8);
	rf_buf_add(b, val, len);
}

void rf_buf_add(struct rf_buf *b, const void *p, size_t n)
{
	if (b->failed || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *nb;
		while (cap < b->len + n)
			cap *= 2;
		nb = realloc(b->p, cap);
		if (!nb) {
			b->failed = 1;
			return;
		}
		b->p = nb;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_u64(struct rf_buf *b, uint16_t tag, uint64_t v)
{
	uint8_t x[8];

	wr64(x, v);
	rf_tlv_put(b, tag, RF_TLV_CRITICAL, x, 8);
}

/* --- metadata --------------------------------------------------------------- */
static int want_len(const struct rf_tlv_iter *it, const struct rf_tlv *t, uint32_t n,
		    struct rf_content_err *e)
{
	if (t->len != n)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "%s: field 0x%04x at byte %zu has %u bytes, want %u",
					  it->what, t->tag, t->off, t->len, n);
	return 0;
}

static int get_str(const struct rf_tlv_iter *it, const struct rf_tlv *t, char *out,
		   size_t outsz, struct rf_content_err *e)
{
	uint32_t i;

	if (t->len == 0 || t->len >= outsz)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "%s: name field 0x%04x at byte %zu: %u bytes (1..%zu allowed)",
					  it->what, t->tag, t->off, t->len, outsz - 1);
	for (i = 0; i < t->len; i++) {
		uint8_t c = t->val[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "%s: name field 0x%04x at byte %zu: character 0x%02x "
						  "not allowed (use [A-Za-z0-9._-])",
						  it->what, t->tag, t->off, c);
	}
	memcpy(out, t->val, t->len);
	out[t->len] = 0;
	return 0;
}

static int parse_role(const struct rf_tlv_iter *it, const struct rf_tlv *t, struct rf_meta *m,
		      struct rf_content_err *e)
{
	unsigned role, thr, n, i, j;
	struct rf_role_keys *rk;

	if (t->len < 4)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG, "%s: role at byte %zu too short",
					  it->what, t->off);
	role = t->val[0];
	thr = t->val[1];
	n = rd16(t->val + 2);
	if (role != RF_ROLE_ROOT && role != RF_ROLE_TARGETS)
		return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EBADMSG,
					  "%s: unknown role %u at byte %zu", it->what, role, t->off);
	rk = &m->roles[role];
	if (rk->nkeys)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG, "%s: role %u listed twice",
					  it->what, role);
	if (n == 0 || n > RF_META_KEYS_MAX || thr == 0 || thr > n)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "%s: role %u: %u keys, threshold %u (want 1..%u keys, "
					  "1 <= threshold <= keys)",
					  it->what, role, n, thr, RF_META_KEYS_MAX);
	if (t->len != 4 + (uint64_t)n * RF_PUBKEY_LEN)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "%s: role %u: %u bytes for %u keys", it->what, role,
					  t->len, n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (!memcmp(t->val + 4 + j * RF_PUBKEY_LEN, t->val + 4 + i * RF_PUBKEY_LEN,
				    RF_PUBKEY_LEN))
				return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
							  "%s: role %u lists a key twice", it->what,
							  role);
		memcpy(rk->keys[i], t->val + 4 + i * RF_PUBKEY_LEN, RF_PUBKEY_LEN);
	}
	rk->nkeys = (uint16_t)n;
	rk->threshold = (uint8_t)thr;
	return 0;
}

static int parse_body(const uint8_t *buf, size_t len, struct rf_meta *m, struct rf_content_err *e)
{
	struct rf_tlv_iter it = {buf, len, 0, "metadata body"};
	struct rf_tlv t;
	uint32_t seen = 0;
	int r;

	while ((r = rf_tlv_next(&it, &t, e)) > 0) {
		uint32_t bit = 0;

		switch (t.tag) {
		case T_TYPE:
			if ((r = want_len(&it, &t, 1, e)) < 0)
				return r;
			m->type = t.val[0];
			if (m->type != RF_META_ROOT && m->type != RF_META_TARGETS)
				return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EBADMSG,
							  "metadata body: unknown type %d", m->type);
			bit = 1u << 0;
			break;
		case T_SPEC:
			if ((r = want_len(&it, &t, 4, e)) < 0)
				return r;
			if (rd32(t.val) != RF_META_SPEC)
				return rf_content_err_set(e, RF_CE_UNKNOWN_CRITICAL, -EBADMSG,
							  "metadata body: spec version %u, this "
							  "ringfence reads %u",
							  rd32(t.val), RF_META_SPEC);
			bit = 1u << 1;
			break;
		case T_VERSION:
			if ((r = want_len(&it, &t, 8, e)) < 0)
				return r;
			m->version = rd64(t.val);
			bit = 1u << 2;
			break;
		case T_EXPIRES:
			if ((r = want_len(&it, &t, 8, e)) < 0)
				return r;
			m->expires = rd64(t.val);
			bit = 1u << 3;
			break;
		case T_ROLE:
			if ((r = parse_role(&it, &t, m, e)) < 0)
				return r;
			break;
		case T_TGT_TYPE:
			if ((r = get_str(&it, &t, m->target.type, sizeof(m->target.type), e)) < 0)
				return r;
			bit = 1u << 4;
			break;
		case T_TGT_CLIENT:
			if ((r = get_str(&it, &t, m->target.client, sizeof(m->target.client), e)) < 0)
				return r;
			bit = 1u << 5;
			break;
		case T_TGT_VERSION:
			if ((r = want_len(&it, &t, 8, e)) < 0)
				return r;
			m->target.content_version = rd64(t.val);
			bit = 1u << 6;
			break;
		case T_TGT_SCHEMA:
			if ((r = want_len(&it, &t, 4, e)) < 0)
				return r;
			m->target.schema_version = rd32(t.val);
			bit = 1u << 7;
			break;
		case T_TGT_LENGTH:
			if ((r = want_len(&it, &t, 8, e)) < 0)
				return r;
			m->target.length = rd64(t.val);
			bit = 1u << 8;
			break;
		case T_TGT_SHA256:
			if ((r = want_len(&it, &t, RF_SHA256_LEN, e)) < 0)
				return r;
			memcpy(m->target.sha256, t.val, RF_SHA256_LEN);
			bit = 1u << 9;
			break;
		default:
			if ((r = rf_tlv_unknown(&it, &t, e)) < 0)
				return r;
			break;
		}
		if (bit & seen)
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "metadata body: field 0x%04x at byte %zu given twice",
						  t.tag, t.off);
		seen |= bit;
	}
	if (r < 0)
		return r;
	if ((seen & 0xf) != 0xf)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "metadata body: type, spec, version or expiry missing");
	if (m->type == RF_META_ROOT) {
		if (seen & ~0xfu)
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "root metadata carries target fields");
		if (!m->roles[RF_ROLE_ROOT].nkeys || !m->roles[RF_ROLE_TARGETS].nkeys)
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "root metadata must list root and targets keys");
	} else {
		if (seen != 0x3ff)
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "targets metadata: a target field is missing");
		if (m->roles[RF_ROLE_ROOT].nkeys || m->roles[RF_ROLE_TARGETS].nkeys)
			return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
						  "targets metadata lists keys");
	}
	return 0;
}

static int parse_envelope(const uint8_t *buf, size_t len, struct rf_meta *m,
			  struct rf_content_err *e)
{
	struct rf_tlv_iter it = {buf, len, 0, "metadata envelope"};
	struct rf_tlv t;
	int r;

	memset(m, 0, sizeof(*m));
	if (len > RF_META_MAX)
		return rf_content_err_set(e, RF_CE_FORMAT, -EMSGSIZE,
					  "metadata envelope: %zu bytes, limit %u", len, RF_META_MAX);
	while ((r = rf_tlv_next(&it, &t, e)) > 0) {
		switch (t.tag) {
		case T_SIGNED:
			if (m->body)
				return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
							  "metadata envelope: two signed bodies");
			m->body = t.val;
			m->body_len = t.len;
			break;
		case T_SIGNATURE:
			if (t.len != RF_PUBKEY_LEN + RF_SIG_LEN)
				return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
							  "metadata envelope: signature at byte %zu "
							  "has %u bytes, want %u",
							  t.off, t.len, RF_PUBKEY_LEN + RF_SIG_LEN);
			if (m->nsigs >= RF_META_SIGS_MAX)
				return rf_content_err_set(e, RF_CE_FORMAT, -EMSGSIZE,
							  "metadata envelope: more than %u signatures",
							  RF_META_SIGS_MAX);
			m->sigs[m->nsigs++] = t.val;
			break;
		default:
			if ((r = rf_tlv_unknown(&it, &t, e)) < 0)
				return r;
		}
	}
	if (r < 0)
		return r;
	if (!m->body)
		return rf_content_err_set(e, RF_CE_FORMAT, -EBADMSG,
					  "metadata envelope: no signed body");
	return 0;
}

int rf_meta_parse(const uint8_t *buf, size_t len, struct rf_meta *m, struct rf_content_err *e)
{
	int r = parse_envelope(buf, len, m, e);

	return r < 0 ? r : parse_body(m->body, m->body_len, m, e);
}

static void sig_message(const struct rf_meta *m, struct rf_buf *b)
{
	rf_buf_add(b, RF_SIG_CONTEXT, sizeof(RF_SIG_CONTEXT));
	rf_buf_add(b, m->body, m->body_len);
}

int rf_meta_check_sigs(const struct rf_meta *m, const struct rf_meta *keys, int role,
		       struct rf_content_err *e)
{
	const struct rf_role_keys *rk = &keys->roles[role];
	const char *rname = role == RF_ROLE_ROOT ? "root" : "targets";
	const char *what = m->type == RF_META_ROOT ? "root" : "targets";
	struct rf_buf msg = {0};
	uint32_t used = 0; /* bit per key of the role */
	unsigned i, k, good = 0;
	int r = 0;

	if (role != RF_ROLE_ROOT && role != RF_ROLE_TARGETS)
		return -EINVAL;
	sig_message(m, &msg);
	if (msg.failed) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m->nsigs; i++) {
		const uint8_t *kid = m->sigs[i], *sig = m->sigs[i] + RF_PUBKEY_LEN;
		for (k = 0; k < rk->nkeys; k++)
			if (!memcmp(rk->keys[k], kid, RF_PUBKEY_LEN))
				break;
		if (k == rk->nkeys)
			continue; /* not a key of this role: ignored, as TUF does */
		if (crypto_sign_ed25519_verify_detached(sig, msg.p, msg.len, kid) != 0) {
			char hex[2 * 8 + 1];
			rf_hex(kid, 8, hex);
			r = rf_content_err_set(e, RF_CE_BAD_SIGNATURE, -EKEYREJECTED,
					       "%s metadata v%llu: signature by %s key %s... does "
					       "not verify (tampered or corrupt)",
					       what, (unsigned long long)m->version, rname, hex);
			goto out;
		}
		if (!(used & (1u << k))) {
			used |= 1u << k;
			good++;
		}
	}
	if (good < rk->threshold)
		r = rf_content_err_set(e, RF_CE_TOO_FEW_SIGNATURES, -EKEYREJECTED,
				       "%s metadata v%llu: %u valid signature%s by %s keys, "
				       "threshold is %u",
				       what, (unsigned long long)m->version, good,
				       good == 1 ? "" : "s", rname, rk->threshold);
out:
	free(msg.p);
	return r;
}

static void put_role(struct rf_buf *b, int role, const struct rf_role_keys *rk)
{
	uint8_t h[4];
	struct rf_buf v = {0};

	h[0] = (uint8_t)role;
	h[1] = rk->threshold;
	wr16(h + 2, rk->nkeys);
	rf_buf_add(&v, h, 4);
	rf_buf_add(&v, rk->keys, (size_t)rk->nkeys * RF_PUBKEY_LEN);
	if (v.failed)
		b->failed = 1;
	else
		rf_tlv_put(b, T_ROLE, RF_TLV_CRITICAL, v.p, (uint32_t)v.len);
	free(v.p);
}

static void put_header(struct rf_buf *b, int type, uint64_t version, uint64_t expires)
{
	uint8_t t = (uint8_t)type, s[4];

	wr32(s, RF_META_SPEC);
	rf_tlv_put(b, T_TYPE, RF_TLV_CRITICAL, &t, 1);
	rf_tlv_put(b, T_SPEC, RF_TLV_CRITICAL, s, 4);
	put_u64(b, T_VERSION, version);
	put_u64(b, T_EXPIRES, expires);
}

static int wrap(struct rf_buf *body, uint8_t **out, size_t *outlen)
{
	struct rf_buf env = {0};

	if (body->failed) {
		free(body->p);
		return -ENOMEM;
	}
	rf_tlv_put(&env, T_SIGNED, RF_TLV_CRITICAL, body->p, (uint32_t)body->len);
	free(body->p);
	if (env.failed) {
		free(env.p);
		return -ENOMEM;
	}
	*out = env.p;
	*outlen = env.len;
	return 0;
}

int rf_meta_build_root(uint64_t version, uint64_t expires, const struct rf_role_keys *root,
		       const struct rf_role_keys *targets, uint8_t **out, size_t *outlen)
{
	struct rf_buf b = {0};

	put_header(&b, RF_META_ROOT, version, expires);
	put_role(&b, RF_ROLE_ROOT, root);
	put_role(&b, RF_ROLE_TARGETS, targets);
	return wrap(&b, out, outlen);
}

int rf_meta_build_targets(uint64_t version, uint64_t expires, const struct rf_target *t,
			  uint8_t **out, size_t *outlen)
{
	struct rf_buf b = {0};
	uint8_t x[4];

	put_header(&b, RF_META_TARGETS, version, expires);
	rf_tlv_put(&b, T_TGT_TYPE, RF_TLV_CRITICAL, t->type, (uint32_t)strlen(t->type));
	rf_tlv_put(&b, T_TGT_CLIENT, RF_TLV_CRITICAL, t->client, (uint32_t)strlen(t->client));
	put_u64(&b, T_TGT_VERSION, t->content_version);
	wr32(x, t->schema_version);
	rf_tlv_put(&b, T_TGT_SCHEMA, RF_TLV_CRITICAL, x, 4);
	put_u64(&b, T_TGT_LENGTH, t->length);
	rf_tlv_put(&b, T_TGT_SHA256, RF_TLV_CRITICAL, t->sha256, RF_SHA256_LEN);
	return wrap(&b, out, outlen);
}

int rf_meta_sign(uint8_t **buf, size_t *len, const uint8_t sk[RF_SECKEY_LEN])
{
	struct rf_meta m;
	struct rf_buf msg = {0}, env = {0};
	uint8_t sig[RF_PUBKEY_LEN + RF_SIG_LEN];
	const uint8_t *pk = sk + 32; /* libsodium keeps the public key in the second half */
	unsigned i;
	int r;

	/* only the envelope: a signer may sign fields its own version does not know */
	r = parse_envelope(*buf, *len, &m, NULL);
	if (r < 0)
		return r;
	sig_message(&m, &msg);
	if (msg.failed) {
		free(msg.p);
		return -ENOMEM;
	}
	memcpy(sig, pk, RF_PUBKEY_LEN);
	crypto_sign_ed25519_detached(sig + RF_PUBKEY_LEN, NULL, msg.p, msg.len, sk);
	free(msg.p);
	rf_tlv_put(&env, T_SIGNED, RF_TLV_CRITICAL, m.body, (uint32_t)m.body_len);
	for (i = 0; i < m.nsigs; i++)
		if (memcmp(m.sigs[i], pk, RF_PUBKEY_LEN))
			rf_tlv_put(&env, T_SIGNATURE, RF_TLV_CRITICAL, m.sigs[i],
				   RF_PUBKEY_LEN + RF_SIG_LEN);
	if (m.nsigs >= RF_META_SIGS_MAX) {
		free(env.p);
		return -E2BIG;
	}
	rf_tlv_put(&env, T_SIGNATURE, RF_TLV_CRITICAL, sig, sizeof(sig));
	if (env.failed) {
		free(env.p);
		return -ENOMEM;
	}
	free(*buf);
	*buf = env.p;
	*len = env.len;
	return 0;
}

/* --- files ------------------------------------------------------------------ */
int rf_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t got = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = -EFBIG;
		goto out;
	}
	p = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, p + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	*buf = p;
	*len = got;
	p = NULL;
out:
	free(p);
	close(fd);
	return r;
}

int rf_meta_file_read(const char *path, uint8_t **buf, size_t *len)
{
	uint8_t *p;
	size_t n;
	int r;

	r = rf_read_file(path, RF_META_MAX + 8, &p, &n);
	if (r < 0)
		return r;
	if (n < 8 || memcmp(p, RF_META_FILE_MAGIC, 8)) {
		free(p);
		return -EBADMSG;
	}
	memmove(p, p + 8, n - 8);
	*buf = p;
	*len = n - 8;
	return 0;
}

int rf_meta_file_write(const char *path, const uint8_t *env, size_t len)
{
	struct rf_buf b = {0};
	int r;

	rf_buf_add(&b, RF_META_FILE_MAGIC, 8);
	rf_buf_add(&b, env, len);
	if (b.failed) {
		free(b.p);
		return -ENOMEM;
	}
	r = rf_write_atomic(path, b.p, b.len, NULL);
	free(b.p);
	return r;
}

/* --- keys ------------------------------------------------------------------- */
static int write_line(const char *path, const char *line, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode), r = 0;
	size_t n = strlen(line);

	if (fd < 0)
		return -errno;
	if (write(fd, line, n) != (ssize_t)n || fsync(fd) < 0)
		r = -errno ? -errno : -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r)
		unlink(path);
	return r;
}

int rf_key_generate(const char *base, uint8_t pk[RF_PUBKEY_LEN])
{
	uint8_t sk[RF_SECKEY_LEN];
	char path[4096], line[2 * RF_SECKEY_LEN + 32];
	int r;

	if (sodium_init() < 0)
		return -EIO;
	crypto_sign_ed25519_keypair(pk, sk);
	if (snprintf(path, sizeof(path), "%s.sec", base) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	strcpy(line, "ringfence-ed25519-secret ");
	rf_hex(sk, RF_SECKEY_LEN, line + strlen(line));
	strcat(line, "\n");
	r = write_line(path, line, 0600);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(line, sizeof(line));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s.pub", base);
	strcpy(line, "ringfence-ed25519-public ");
	rf_hex(pk, RF_PUBKEY_LEN, line + strlen(line));
	strcat(line, "\n");
	return write_line(path, line, 0644);
}

static int read_key(const char *path, const char *prefix, uint8_t *out, size_t n)
{
	uint8_t *buf;
	size_t len, pl = strlen(prefix);
	int r;

	r = rf_read_file(path, 4096, &buf, &len);
	if (r < 0)
		return r;
	r = -EINVAL;
	if (len >= pl + 2 * n && !memcmp(buf, prefix, pl) &&
	    (len == pl + 2 * n || buf[pl + 2 * n] == '\n'))
		r = rf_unhex((const char *)buf + pl, out, n);
	sodium_memzero(buf, len);
	free(buf);
	return r;
}

int rf_key_read_secret(const char *path, uint8_t sk[RF_SECKEY_LEN])
{
	return read_key(path, "ringfence-ed25519-secret ", sk, RF_SECKEY_LEN);
}

int rf_key_read_public(const char *path, uint8_t pk[RF_PUBKEY_LEN])
{
	return read_key(path, "ringfence-ed25519-public ", pk, RF_PUBKEY_LEN);
}
