// SPDX-License-Identifier: MIT
/*
 * Unit tests of the content pipeline: every refusal of bundle verification with a
 * crafted bundle, root rotation, the archive reader, the fieldmap and sigma
 * validators, the validator sandbox and the shadow run.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "content/content.h"
#include "content/content_int.h"
#include "ringfence/schema.h"

#define NOW ((time_t)1800000000)
#define LATER ((uint64_t)NOW + 86400)

struct key {
	uint8_t pk[32], sk[64];
};
static struct key K_root, K_root2, K_tgt, K_tgt2, K_other;

static void keygen(struct key *k)
{
	crypto_sign_ed25519_keypair(k->pk, k->sk);
}

static struct rf_role_keys role(unsigned thr, int n, ...)
{
	struct rf_role_keys rk = {0};
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		memcpy(rk.keys[i], va_arg(ap, struct key *)->pk, 32);
	va_end(ap);
	rk.nkeys = (uint16_t)n;
	rk.threshold = (uint8_t)thr;
	return rk;
}

struct blob {
	uint8_t *p;
	size_t len;
};

static struct blob root_meta(uint64_t version, uint64_t expires, struct rf_role_keys r,
			     struct rf_role_keys t, int nsign, ...)
{
	struct blob b;
	va_list ap;
	int i;

	assert_int_equal(rf_meta_build_root(version, expires, &r, &t, &b.p, &b.len), 0);
	va_start(ap, nsign);
	for (i = 0; i < nsign; i++)
		assert_int_equal(rf_meta_sign(&b.p, &b.len, va_arg(ap, struct key *)->sk), 0);
	va_end(ap);
	return b;
}

/* An archive holding one file "rules.fm" with TEXT. */
static struct blob archive(const char *text)
{
	struct rf_buf b = {0};
	uint8_t h[16] = {0}, end[16] = {0};

	rf_buf_add(&b, RF_ARCHIVE_MAGIC, 8);
	h[0] = RF_AR_FILE;
	wr16(h + 2, 8);
	wr64(h + 8, strlen(text));
	rf_buf_add(&b, h, 16);
	rf_buf_add(&b, "rules.fm", 8);
	rf_buf_add(&b, text, strlen(text));
	rf_buf_add(&b, end, 16);
	return (struct blob){b.p, b.len};
}

struct spec {
	const char *client;
	uint64_t version, targets_version, expires;
	uint32_t schema;
	const char *payload;
	struct key *signers[4];
	int nsigners;
	struct blob roots[3];
	int nroots;
	uint16_t extra_tag, extra_flags; /* an extra TLV in the targets body */
};

static struct spec good_spec(void)
{
	struct spec s = {0};

	s.client = "fragile";
	s.version = 5;
	s.targets_version = 5;
	s.expires = LATER;
	s.schema = rf_schema_version();
	s.payload = "template t process_exec 0 7:int\n";
	s.signers[0] = &K_tgt;
	s.nsigners = 1;
	return s;
}

/* Re-wrap an envelope's body with an extra record appended. */
static void add_body_field(struct blob *env, uint16_t tag, uint16_t flags)
{
	struct rf_meta m;
	struct rf_buf body = {0}, out = {0};

	assert_int_equal(rf_meta_parse(env->p, env->len, &m, NULL), 0);
	rf_buf_add(&body, m.body, m.body_len);
	rf_tlv_put(&body, tag, flags, "xyz", 3);
	rf_tlv_put(&out, T_SIGNED, RF_TLV_CRITICAL, body.p, (uint32_t)body.len);
	free(body.p);
	free(env->p);
	env->p = out.p;
	env->len = out.len;
}

static struct blob make_bundle(const struct spec *s)
{
	struct blob pay = archive(s->payload), env, out;
	struct rf_target t = {0};
	struct rf_bundle_hdr h = {0};
	const uint8_t *roots[3];
	size_t rl[3];
	int i;

	snprintf(t.type, sizeof(t.type), "fieldmap");
	snprintf(t.client, sizeof(t.client), "%s", s->client);
	t.content_version = s->version;
	t.schema_version = s->schema;
	t.length = pay.len;
	rf_sha256(pay.p, pay.len, t.sha256);
	assert_int_equal(rf_meta_build_targets(s->targets_version, s->expires, &t, &env.p, &env.len),
			 0);
	if (s->extra_tag)
		add_body_field(&env, s->extra_tag, s->extra_flags);
	for (i = 0; i < s->nsigners; i++)
		assert_int_equal(rf_meta_sign(&env.p, &env.len, s->signers[i]->sk), 0);
	memcpy(h.type, t.type, sizeof(h.type));
	memcpy(h.client, t.client, sizeof(h.client));
	h.content_version = t.content_version;
	h.schema_version = t.schema_version;
	h.payload_len = pay.len;
	memcpy(h.payload_sha256, t.sha256, 32);
	for (i = 0; i < s->nroots; i++) {
		roots[i] = s->roots[i].p;
		rl[i] = s->roots[i].len;
	}
	assert_int_equal(rf_bundle_write(&h, roots, rl, (unsigned)s->nroots, env.p, env.len, pay.p,
					 &out.p, &out.len),
			 0);
	free(pay.p);
	free(env.p);
	return out;
}

static struct blob trusted_root(void)
{
	return root_meta(1, LATER, role(1, 1, &K_root), role(1, 1, &K_tgt), 1, &K_root);
}

/* Verify B against the standard root; returns the refusal code (0 = accepted). */
static int verify_code(struct blob b, const struct rf_installed *inst, struct rf_content_err *e)
{
	struct blob root = trusted_root();
	struct rf_verified v;
	int r;

	memset(e, 0, sizeof(*e));
	r = rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, inst, &v, e);
	free(root.p);
	if (r == 0) {
		free(v.new_root);
		assert_int_equal(e->code, 0);
		return 0;
	}
	assert_int_not_equal(e->code, 0);
	assert_true(e->msg[0] != 0);
	return e->code;
}

static void expect(struct blob b, const struct rf_installed *inst, int code)
{
	struct rf_content_err e;
	int got = verify_code(b, inst, &e);

	if (got != code)
		fail_msg("want %s, got %s: %s", rf_content_code_name(code), rf_content_code_name(got),
			 e.msg);
	free(b.p);
}

static void test_good_bundle(void **state)
{
	struct spec s = good_spec();
	struct rf_installed inst = {4, 4};

	expect(make_bundle(&s), NULL, RF_CE_OK);
	expect(make_bundle(&s), &inst, RF_CE_OK);
}

static void test_bad_signature(void **state)
{
	struct spec s = good_spec();
	struct blob b = make_bundle(&s);
	struct rf_bundle p;

	/* flip the last byte of the signature (the targets envelope ends with it) */
	assert_int_equal(rf_bundle_parse(b.p, b.len, &p, NULL), 0);
	((uint8_t *)p.targets)[p.targets_len - 1] ^= 1;
	expect(b, NULL, RF_CE_BAD_SIGNATURE);

	/* change a signed byte (the content version inside the body) */
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_parse(b.p, b.len, &p, NULL), 0);
	{
		struct rf_meta m;
		assert_int_equal(rf_meta_parse(p.targets, p.targets_len, &m, NULL), 0);
		/* the body's expiry is at a fixed place: TYPE(9) SPEC(12) VERSION(16) EXPIRES */
		((uint8_t *)m.body)[9 + 12 + 16 + 8] ^= 0x40;
	}
	expect(b, NULL, RF_CE_BAD_SIGNATURE);
}

static void test_too_few_signatures(void **state)
{
	struct spec s = good_spec();
	struct rf_content_err e;
	struct blob root, b;
	struct rf_verified v;

	/* no signature at all */
	s.nsigners = 0;
	expect(make_bundle(&s), NULL, RF_CE_TOO_FEW_SIGNATURES);
	/* signed only by a key that is not a targets key */
	s.signers[0] = &K_other;
	s.nsigners = 1;
	expect(make_bundle(&s), NULL, RF_CE_TOO_FEW_SIGNATURES);
	/* signed by the root key: roles are separate */
	s.signers[0] = &K_root;
	expect(make_bundle(&s), NULL, RF_CE_TOO_FEW_SIGNATURES);

	/* threshold 2 of 2: one signature is not enough, two are */
	root = root_meta(1, LATER, role(1, 1, &K_root), role(2, 2, &K_tgt, &K_tgt2), 1, &K_root);
	s = good_spec();
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, NULL, &v, &e),
			 -EKEYREJECTED);
	assert_int_equal(e.code, RF_CE_TOO_FEW_SIGNATURES);
	assert_non_null(strstr(e.msg, "threshold is 2"));
	free(b.p);
	s.signers[1] = &K_tgt2;
	s.nsigners = 2;
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, NULL, &v, &e), 0);
	free(b.p);
	/* the same key twice counts once */
	s.signers[1] = &K_tgt;
	b = make_bundle(&s);
	{
		/* rf_meta_sign replaces a key's own signature; duplicate it by hand */
		struct rf_bundle p;
		struct rf_meta m;
		struct rf_buf env = {0};
		uint8_t *nb;
		size_t nl;
		const uint8_t *roots[1];
		size_t rl[1];
		assert_int_equal(rf_bundle_parse(b.p, b.len, &p, NULL), 0);
		assert_int_equal(rf_meta_parse(p.targets, p.targets_len, &m, NULL), 0);
		assert_int_equal(m.nsigs, 1);
		rf_tlv_put(&env, T_SIGNED, RF_TLV_CRITICAL, m.body, (uint32_t)m.body_len);
		rf_tlv_put(&env, T_SIGNATURE, RF_TLV_CRITICAL, m.sigs[0], 96);
		rf_tlv_put(&env, T_SIGNATURE, RF_TLV_CRITICAL, m.sigs[0], 96);
		p.hdr.payload_len = p.payload_avail;
		assert_int_equal(rf_bundle_write(&p.hdr, roots, rl, 0, env.p, env.len, p.payload, &nb,
						 &nl),
				 0);
		free(env.p);
		assert_int_equal(rf_bundle_verify(nb, nl, root.p, root.len, NOW, NULL, &v, &e),
				 -EKEYREJECTED);
		assert_int_equal(e.code, RF_CE_TOO_FEW_SIGNATURES);
		free(nb);
	}
	free(b.p);
	free(root.p);
}

static void test_expired(void **state)
{
	struct spec s = good_spec();
	struct rf_content_err e;
	struct rf_verified v;
	struct blob root, b;

	s.expires = (uint64_t)NOW - 1;
	expect(make_bundle(&s), NULL, RF_CE_EXPIRED);
	s.expires = (uint64_t)NOW; /* expiry is exclusive */
	expect(make_bundle(&s), NULL, RF_CE_EXPIRED);

	/* an expired trusted root refuses everything until a new root arrives */
	root = root_meta(1, (uint64_t)NOW - 10, role(1, 1, &K_root), role(1, 1, &K_tgt), 1, &K_root);
	s = good_spec();
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, NULL, &v, &e),
			 -EKEYEXPIRED);
	assert_int_equal(e.code, RF_CE_EXPIRED);
	assert_non_null(strstr(e.msg, "root"));
	free(b.p);
	free(root.p);
}

static void test_rollback(void **state)
{
	struct spec s = good_spec();
	struct rf_installed inst = {5, 1};

	expect(make_bundle(&s), &inst, RF_CE_ROLLBACK); /* same version */
	inst.content_version = 9;
	expect(make_bundle(&s), &inst, RF_CE_ROLLBACK); /* older */
	inst.content_version = 1;
	inst.targets_version = 6;
	expect(make_bundle(&s), &inst, RF_CE_ROLLBACK); /* older targets metadata */
}

static void test_length_and_hash(void **state)
{
	struct spec s = good_spec();
	struct blob b = make_bundle(&s), c;
	uint8_t *p;

	/* endless data: bytes beyond the signed length */
	p = realloc(b.p, b.len + 100);
	assert_non_null(p);
	memset(p + b.len, 'A', 100);
	expect((struct blob){p, b.len + 100}, NULL, RF_CE_LENGTH_MISMATCH);
	/* truncated */
	b = make_bundle(&s);
	expect((struct blob){b.p, b.len - 1}, NULL, RF_CE_LENGTH_MISMATCH);
	/* a flipped payload byte */
	b = make_bundle(&s);
	b.p[b.len - 20] ^= 1;
	expect(b, NULL, RF_CE_HASH_MISMATCH);
	/* mix-and-match: the payload of another bundle of the same length */
	b = make_bundle(&s);
	s.payload = "template t process_exec 0 8:int\n";
	c = make_bundle(&s);
	assert_int_equal(b.len, c.len);
	{
		struct rf_bundle pb, pc;
		assert_int_equal(rf_bundle_parse(b.p, b.len, &pb, NULL), 0);
		assert_int_equal(rf_bundle_parse(c.p, c.len, &pc, NULL), 0);
		memcpy((uint8_t *)pb.payload, pc.payload, pc.payload_avail);
	}
	free(c.p);
	expect(b, NULL, RF_CE_HASH_MISMATCH);
	/* a file over the bundle limit is refused without being read */
	{
		char path[] = "/tmp/rf-test-big.XXXXXX";
		struct rf_content_err e = {0};
		uint8_t *buf;
		size_t len;
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, (off_t)RF_BUNDLE_MAX + 1), 0);
		close(fd);
		assert_int_equal(rf_bundle_read(path, &buf, &len, &e), -EFBIG);
		assert_int_equal(e.code, RF_CE_LENGTH_MISMATCH);
		unlink(path);
	}
}

static void test_unknown_critical(void **state)
{
	struct spec s = good_spec();
	struct blob b;

	s.extra_tag = 0x7777;
	s.extra_flags = RF_TLV_CRITICAL;
	expect(make_bundle(&s), NULL, RF_CE_UNKNOWN_CRITICAL);
	/* the same field, not critical, is skipped */
	s.extra_flags = 0;
	expect(make_bundle(&s), NULL, RF_CE_OK);
	/* unknown flag bits on a record */
	s.extra_flags = 0x8000;
	expect(make_bundle(&s), NULL, RF_CE_UNKNOWN_CRITICAL);
	/* unknown header flags and reserved bytes */
	s = good_spec();
	b = make_bundle(&s);
	b.p[12] = 1;
	expect(b, NULL, RF_CE_UNKNOWN_CRITICAL);
	b = make_bundle(&s);
	b.p[130] = 1;
	expect(b, NULL, RF_CE_UNKNOWN_CRITICAL);
	/* a newer bundle format */
	b = make_bundle(&s);
	b.p[8] = 2;
	expect(b, NULL, RF_CE_UNKNOWN_CRITICAL);
}

static void test_header_mismatch_and_schema(void **state)
{
	struct spec s = good_spec();
	struct blob b = make_bundle(&s);

	/* the unsigned header names another client than the signed target */
	memcpy(b.p + 32, "victim\0", 8);
	expect(b, NULL, RF_CE_HEADER_MISMATCH);
	b = make_bundle(&s);
	b.p[64] ^= 1; /* content version */
	expect(b, NULL, RF_CE_HEADER_MISMATCH);
	s.schema = rf_schema_version() + 1;
	expect(make_bundle(&s), NULL, RF_CE_SCHEMA);
}

static void test_root_rotation(void **state)
{
	struct spec s = good_spec();
	struct rf_content_err e;
	struct rf_verified v;
	struct blob root = trusted_root(), b;

	/* v2 moves root to K_root2 and targets to K_tgt2; signed by old and new root */
	s.roots[0] = root_meta(2, LATER, role(1, 1, &K_root2), role(1, 1, &K_tgt2), 2, &K_root,
			       &K_root2);
	s.nroots = 1;
	s.signers[0] = &K_tgt2;
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, NULL, &v, &e), 0);
	assert_int_equal(v.root_version, 2);
	assert_non_null(v.new_root);
	free(v.new_root);
	free(b.p);
	/* the old targets key is no longer trusted after the rotation */
	s.signers[0] = &K_tgt;
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, NULL, &v, &e),
			 -EKEYREJECTED);
	assert_int_equal(e.code, RF_CE_TOO_FEW_SIGNATURES);
	free(b.p);
	free(s.roots[0].p);

	/* v2 signed only by the new root key: the old root did not approve it */
	s = good_spec();
	s.roots[0] = root_meta(2, LATER, role(1, 1, &K_root2), role(1, 1, &K_tgt2), 1, &K_root2);
	s.nroots = 1;
	s.signers[0] = &K_tgt2;
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, NULL, &v, &e),
			 -EKEYREJECTED);
	assert_int_equal(e.code, RF_CE_TOO_FEW_SIGNATURES);
	free(b.p);
	free(s.roots[0].p);

	/* v2 signed only by the old key: the new keys did not accept their role */
	s.roots[0] = root_meta(2, LATER, role(1, 1, &K_root2), role(1, 1, &K_tgt2), 1, &K_root);
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, NULL, &v, &e),
			 -EKEYREJECTED);
	free(b.p);
	free(s.roots[0].p);

	/* a gap in the chain: v1 -> v3 */
	s.roots[0] = root_meta(3, LATER, role(1, 1, &K_root2), role(1, 1, &K_tgt2), 2, &K_root,
			       &K_root2);
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, NULL, &v, &e),
			 -EBADMSG);
	assert_int_equal(e.code, RF_CE_ROOT_CHAIN);
	free(b.p);
	free(s.roots[0].p);

	/* a two-step chain v2, v3 */
	s = good_spec();
	s.roots[0] = root_meta(2, LATER, role(1, 1, &K_root2), role(1, 1, &K_tgt), 2, &K_root,
			       &K_root2);
	s.roots[1] = root_meta(3, LATER, role(1, 1, &K_root), role(1, 1, &K_tgt2), 2, &K_root2,
			       &K_root);
	s.nroots = 2;
	s.signers[0] = &K_tgt2;
	b = make_bundle(&s);
	assert_int_equal(rf_bundle_verify(b.p, b.len, root.p, root.len, NOW, NULL, &v, &e), 0);
	assert_int_equal(v.root_version, 3);
	free(v.new_root);
	free(b.p);
	free(s.roots[0].p);
	free(s.roots[1].p);
	free(root.p);
}

static void test_meta_parse_rejects(void **state)
{
	struct rf_content_err e;
	struct rf_meta m;
	struct rf_buf b = {0};
	struct blob root = trusted_root();
	uint8_t tr[8] = {0x01, 0, 1, 0, 0xff, 0xff, 0, 0};

	/* truncated record header, record longer than the buffer */
	assert_true(rf_meta_parse(tr, 5, &m, &e) < 0);
	assert_int_equal(e.code, RF_CE_FORMAT);
	assert_true(rf_meta_parse(tr, 8, &m, &e) < 0);
	assert_int_equal(e.code, RF_CE_FORMAT);
	/* no body */
	rf_tlv_put(&b, 0x0099, 0, "x", 1);
	assert_true(rf_meta_parse(b.p, b.len, &m, &e) < 0);
	assert_int_equal(e.code, RF_CE_FORMAT);
	free(b.p);
	/* two bodies */
	memset(&b, 0, sizeof(b));
	rf_buf_add(&b, root.p, root.len);
	rf_buf_add(&b, root.p, root.len);
	assert_true(rf_meta_parse(b.p, b.len, &m, &e) < 0);
	free(b.p);
	/* a signature of the wrong size */
	memset(&b, 0, sizeof(b));
	rf_buf_add(&b, root.p, root.len);
	rf_tlv_put(&b, T_SIGNATURE, RF_TLV_CRITICAL, "short", 5);
	assert_true(rf_meta_parse(b.p, b.len, &m, &e) < 0);
	free(b.p);
	/* a body missing its version */
	{
		struct rf_buf body = {0}, env = {0};
		uint8_t one = 1, spec[4] = {1, 0, 0, 0};
		rf_tlv_put(&body, T_TYPE, 1, &one, 1);
		rf_tlv_put(&body, T_SPEC, 1, spec, 4);
		rf_tlv_put(&env, T_SIGNED, 1, body.p, (uint32_t)body.len);
		assert_true(rf_meta_parse(env.p, env.len, &m, &e) < 0);
		assert_int_equal(e.code, RF_CE_FORMAT);
		free(body.p);
		free(env.p);
	}
	/* a role with threshold above its key count */
	{
		struct rf_role_keys r = role(1, 1, &K_root), t = role(1, 1, &K_tgt);
		uint8_t *p;
		size_t n;
		t.threshold = 2;
		assert_int_equal(rf_meta_build_root(1, LATER, &r, &t, &p, &n), 0);
		assert_true(rf_meta_parse(p, n, &m, &e) < 0);
		assert_int_equal(e.code, RF_CE_FORMAT);
		free(p);
	}
	assert_int_equal(rf_meta_parse(root.p, root.len, &m, &e), 0);
	free(root.p);
}

/* --- archive -------------------------------------------------------------- */
static struct blob one_entry(int type, const char *name, const char *data)
{
	struct rf_buf b = {0};
	uint8_t h[16] = {0}, end[16] = {0};
	size_t dl = data ? strlen(data) : 0;

	rf_buf_add(&b, RF_ARCHIVE_MAGIC, 8);
	h[0] = (uint8_t)type;
	wr16(h + 2, (uint16_t)strlen(name));
	wr64(h + 8, dl);
	rf_buf_add(&b, h, 16);
	rf_buf_add(&b, name, strlen(name));
	rf_buf_add(&b, data, dl);
	rf_buf_add(&b, end, 16);
	return (struct blob){b.p, b.len};
}

static void test_archive_rejects(void **state)
{
	static const char *const bad[] = {"../x", "/etc/passwd", "a/../../x", "a//b", ".", "..",
					  "a/", "x\ny"};
	struct rf_content_err e;
	struct blob a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = one_entry(RF_AR_FILE, bad[i], "x");
		if (rf_archive_walk(a.p, a.len, NULL, NULL, &e) >= 0)
			fail_msg("archive path '%s' accepted", bad[i]);
		assert_int_equal(e.code, RF_CE_FORMAT);
		free(a.p);
	}
	a = one_entry(RF_AR_FILE, "ok/name.fm", "x");
	assert_int_equal(rf_archive_walk(a.p, a.len, NULL, NULL, &e), 0);
	/* trailing bytes after the end entry */
	a.p = realloc(a.p, a.len + 1);
	a.p[a.len] = 0;
	assert_true(rf_archive_walk(a.p, a.len + 1, NULL, NULL, &e) < 0);
	/* missing end entry */
	assert_true(rf_archive_walk(a.p, a.len - 16, NULL, NULL, &e) < 0);
	free(a.p);
	a = one_entry(9, "x", NULL);
	assert_true(rf_archive_walk(a.p, a.len, NULL, NULL, &e) < 0);
	assert_int_equal(e.code, RF_CE_UNKNOWN_CRITICAL);
	free(a.p);
	a = one_entry(RF_AR_DIR, "d", "data");
	assert_true(rf_archive_walk(a.p, a.len, NULL, NULL, &e) < 0);
	free(a.p);
	/* a name longer than the limit (found by fuzz_bundle: it overflowed the name
	 * buffer before the length was checked) */
	{
		char longname[RF_ARCHIVE_NAME_MAX + 2];
		memset(longname, 'a', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = 0;
		a = one_entry(RF_AR_FILE, longname, "x");
		assert_true(rf_archive_walk(a.p, a.len, NULL, NULL, &e) < 0);
		assert_int_equal(e.code, RF_CE_FORMAT);
		free(a.p);
	}
	/* a size that runs past the end */
	a = one_entry(RF_AR_FILE, "f", "abc");
	wr64(a.p + 8 + 8, 1u << 30);
	assert_true(rf_archive_walk(a.p, a.len, NULL, NULL, &e) < 0);
	free(a.p);
}

static void test_archive_roundtrip(void **state)
{
	char dir[] = "/tmp/rf-test-ar.XXXXXX", out[] = "/tmp/rf-test-out.XXXXXX", p[256];
	struct rf_content_err e;
	uint8_t *ar;
	size_t len;
	int fd;

	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(out));
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sub/a.fm", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(rf_archive_pack(dir, &ar, &len, &e), 0);
	fd = open(out, O_RDONLY | O_DIRECTORY);
	assert_int_equal(rf_archive_extract(ar, len, fd, &e), 0);
	assert_int_equal(rf_archive_compare(ar, len, fd, &e), 0);
	/* extracting twice collides (no silent overwrite) */
	assert_true(rf_archive_extract(ar, len, fd, &e) < 0);
	/* a changed file is noticed */
	snprintf(p, sizeof(p), "%s/sub/a.fm", out);
	fd = open(p, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "hellO", 5), 5);
	close(fd);
	fd = open(out, O_RDONLY | O_DIRECTORY);
	assert_true(rf_archive_compare(ar, len, fd, &e) < 0);
	close(fd);
	free(ar);
	snprintf(p, sizeof(p), "rm -rf '%s' '%s'", dir, out);
	assert_int_equal(system(p), 0);
}

/* --- validators -------------------------------------------------------------- */
static char tdir[64];

static void write_fm(const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/rules.fm", tdir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int fm(const char *text, char *err, size_t n)
{
	write_fm(text);
	err[0] = 0;
	return rf_fieldmap_validate(tdir, err, n);
}

static void test_fieldmap(void **state)
{
	const struct rf_class_desc *c = rf_schema_class_by_name("process_fork");
	char err[512], line[256];
	int exe = rf_schema_field_index(rf_schema_class_by_name("process_exec"), "exe");

	assert_non_null(c);
	assert_non_null(mkdtemp(strcpy(tdir, "/tmp/rf-test-fm.XXXXXX")));
	/* the last field of the class is fine, one more is the Channel File 291 bug */
	snprintf(line, sizeof(line), "# ok\n\ntemplate last process_fork 0 %u\n", c->nfields - 1);
	assert_int_equal(fm(line, err, sizeof(err)), 0);
	snprintf(line, sizeof(line), "template t291 process_fork 0 %u\n", c->nfields);
	assert_int_equal(fm(line, err, sizeof(err)), -ERANGE);
	snprintf(line, sizeof(line),
		 "rules.fm:1: template 't291': field %u out of range: event class process_fork "
		 "supplies %u fields (0..%u)",
		 c->nfields, c->nfields, c->nfields - 1);
	assert_string_equal(err, line);
	/* types: exe is a path, so it reads as str or path but not int */
	snprintf(line, sizeof(line), "template p process_exec %d:path %d:str\n", exe, exe);
	assert_int_equal(fm(line, err, sizeof(err)), 0);
	snprintf(line, sizeof(line), "template p process_exec %d:int\n", exe);
	assert_int_equal(fm(line, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "(process_exec.exe) cannot be read as int: incompatible type"));
	assert_int_equal(fm("template x no_such_class 1\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no event class"));
	assert_int_equal(fm("template x process_exec\n", err, sizeof(err)), -EINVAL);
	assert_int_equal(fm("template x process_exec -1\n", err, sizeof(err)), -EINVAL);
	assert_int_equal(fm("template x process_exec 1:float\n", err, sizeof(err)), -EINVAL);
	assert_int_equal(fm("rule x process_exec 1\n", err, sizeof(err)), -EINVAL);
	assert_int_equal(fm("template x process_exec 99999999999999999999\n", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(fm("template x/y process_exec 1\n", err, sizeof(err)), -EINVAL);
	/* an invalid template on a later line refuses the whole file */
	assert_int_equal(fm("template a process_exec 1\ntemplate b process_exec 500\n", err,
			    sizeof(err)),
			 -ERANGE);
	assert_non_null(strstr(err, "rules.fm:2:"));
}

static int accept_all(const char *d, char *err, size_t n)
{
	return 0;
}

static void test_sigma_refused_without_compiler(void **state)
{
	struct rf_content_err e = {0};
	int (*linked)(const char *, char *, size_t) = rf_content_sigma_compile;

	/* rf-detect's compiler is linked in; without one, sigma content is refused */
	assert_non_null(linked);
	rf_content_sigma_compile = NULL;
	assert_int_equal(rf_content_validate_sandboxed("sigma", tdir, 0, &e), -EINVAL);
	assert_int_equal(e.code, RF_CE_INVALID);
	assert_non_null(strstr(e.msg, "no sigma compiler linked"));
	rf_content_sigma_compile = accept_all;
	assert_int_equal(rf_content_validate_sandboxed("sigma", tdir, 0, &e), 0);
	rf_content_sigma_compile = linked;
	assert_int_equal(rf_content_validate_sandboxed("nosuchtype", tdir, 0, &e), -ENOENT);
	assert_int_equal(e.code, RF_CE_UNKNOWN_TYPE);
}

static int v_crash(const char *d, char *err, size_t n)
{
	raise(SIGSEGV);
	return 0;
}

static int v_spin(const char *d, char *err, size_t n)
{
	volatile unsigned long x = 0;
	for (;;)
		x++;
	return 0;
}

/* Each of these returns 0 (accept) only if the sandbox let the action through. */
static int v_write(const char *d, char *err, size_t n)
{
	int fd = open("/tmp/rf-test-sandbox-escape", O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		return 0;
	snprintf(err, n, "blocked: open for writing: %s", strerror(errno));
	return -EPERM;
}

static int v_exec(const char *d, char *err, size_t n)
{
	char *argv[] = {"/bin/true", NULL};
	execv(argv[0], argv);
	snprintf(err, n, "blocked: exec: %s", strerror(errno));
	return -EPERM;
}

static int v_socket(const char *d, char *err, size_t n)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0)
		return 0;
	snprintf(err, n, "blocked: socket: %s", strerror(errno));
	return -EPERM;
}

static void test_sandbox(void **state)
{
	static const struct rf_content_type t_crash = {"t-crash", v_crash},
					     t_spin = {"t-spin", v_spin},
					     t_write = {"t-write", v_write},
					     t_exec = {"t-exec", v_exec},
					     t_socket = {"t-socket", v_socket};
	static const struct rf_content_type *const blocked[] = {&t_write, &t_exec, &t_socket};
	struct rf_content_err e = {0};
	size_t i;

	assert_int_equal(rf_content_type_register(&t_crash), 0);
	assert_int_equal(rf_content_type_register(&t_crash), -EEXIST);
	assert_int_equal(rf_content_type_register(&t_spin), 0);
	assert_int_equal(rf_content_validate_sandboxed("t-crash", tdir, 0, &e), -ECHILD);
	assert_int_equal(e.code, RF_CE_VALIDATOR_CRASH);
	assert_int_equal(rf_content_validate_sandboxed("t-spin", tdir, 300, &e), -ETIMEDOUT);
	assert_int_equal(e.code, RF_CE_VALIDATOR_TIMEOUT);
	for (i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
		assert_int_equal(rf_content_type_register(blocked[i]), 0);
		memset(&e, 0, sizeof(e));
		if (rf_content_validate_sandboxed(blocked[i]->name, tdir, 0, &e) == 0)
			fail_msg("sandbox let %s through", blocked[i]->name);
		assert_int_equal(e.code, RF_CE_INVALID);
		assert_non_null(strstr(e.msg, "blocked"));
	}
	assert_int_equal(access("/tmp/rf-test-sandbox-escape", F_OK), -1);
	/* the real validator works inside the sandbox */
	write_fm("template a process_exec 1\n");
	assert_int_equal(rf_content_validate_sandboxed("fieldmap", tdir, 0, &e), 0);
	write_fm("template a process_exec 500\n");
	assert_int_equal(rf_content_validate_sandboxed("fieldmap", tdir, 0, &e), -EINVAL);
	assert_int_equal(e.code, RF_CE_INVALID);
	assert_non_null(strstr(e.msg, "field 500 out of range"));
}

static void test_shadow(void **state)
{
	char *ok[] = {"/bin/sh", "-c", "test -d \"$0\" && test \"$1\" = cap", "{content}",
		      "{capture}", NULL};
	char *fail_[] = {"/bin/sh", "-c", "exit 3", NULL};
	char *crash[] = {"/bin/sh", "-c", "kill -SEGV $$", NULL};
	char *hang[] = {"/bin/sleep", "10", NULL};
	char *spin[] = {"/bin/sh", "-c", "while :; do :; done", NULL};
	struct rf_shadow s = {ok, "cap", 0, 0};
	struct rf_content_err e = {0};

	assert_int_equal(rf_content_shadow_run(&s, tdir, &e), 0);
	s.argv = fail_;
	assert_true(rf_content_shadow_run(&s, tdir, &e) < 0);
	assert_int_equal(e.code, RF_CE_SHADOW);
	assert_non_null(strstr(e.msg, "status 3"));
	s.argv = crash;
	assert_true(rf_content_shadow_run(&s, tdir, &e) < 0);
	assert_non_null(strstr(e.msg, "crashed"));
	s.argv = hang;
	s.timeout_ms = 200;
	assert_true(rf_content_shadow_run(&s, tdir, &e) < 0);
	assert_non_null(strstr(e.msg, "wall-clock"));
	s.argv = spin;
	s.cpu_s = 1;
	s.timeout_ms = 5000;
	assert_true(rf_content_shadow_run(&s, tdir, &e) < 0);
	assert_non_null(strstr(e.msg, "CPU budget"));
}

static int setup(void **state)
{
	assert_true(sodium_init() >= 0);
	keygen(&K_root);
	keygen(&K_root2);
	keygen(&K_tgt);
	keygen(&K_tgt2);
	keygen(&K_other);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	if (tdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_bundle),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_too_few_signatures),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_length_and_hash),
		cmocka_unit_test(test_unknown_critical),
		cmocka_unit_test(test_header_mismatch_and_schema),
		cmocka_unit_test(test_root_rotation),
		cmocka_unit_test(test_meta_parse_rejects),
		cmocka_unit_test(test_archive_rejects),
		cmocka_unit_test(test_archive_roundtrip),
		cmocka_unit_test(test_fieldmap),
		cmocka_unit_test(test_sigma_refused_without_compiler),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_shadow),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
