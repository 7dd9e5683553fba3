// SPDX-License-Identifier: MIT
/*
 * Unit tests of attestation (src/attest/) without a TPM: the log and its hash chain
 * (equal to a PCR extend), the text forms and every rejection of their parsers, the
 * policy parser, software-only quotes end to end, and the TPM verification path with
 * TPMS_ATTEST blobs crafted and signed here with an ECDSA P-256 key (OpenSSL), so that
 * every check of the quote structure has a negative case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "attest/attest.h"
#include "attest/attest_int.h"

static char tdir[] = "/tmp/rf-attest-unit.XXXXXX";
static const uint8_t NONCE[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t NONCE2[16] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

static void sha_of(const char *s, uint8_t out[32])
{
	crypto_hash_sha256(out, (const uint8_t *)s, strlen(s));
}

static void build_log(struct rf_attest_log *l)
{
	uint8_t sha[32], d[32];

	rf_attest_log_init(l);
	sha_of("daemon", sha);
	assert_int_equal(rf_attest_log_append(l, RF_AT_DAEMON, "ringfence", sha, "/usr/bin/ringfence", d), 0);
	sha_of("client", sha);
	assert_int_equal(rf_attest_log_append(l, RF_AT_CLIENT_EXE, "rf detect%", sha, "", d), 0);
	sha_of("content", sha);
	assert_int_equal(rf_attest_log_append(l, RF_AT_CONTENT, "-", sha, "-", d), 0);
}

/* ---- the log ---------------------------------------------------------------------- */
static void test_chain_is_pcr_extend(void **st)
{
	struct rf_attest_log l;
	uint8_t pcr[32] = {0}, d[32];
	size_t i;

	(void)st;
	build_log(&l);
	for (i = 0; i < l.n; i++) {
		uint8_t buf[64];
		rf_attest_entry_digest(&l.v[i], d);
		memcpy(buf, pcr, 32);
		memcpy(buf + 32, d, 32);
		crypto_hash_sha256(pcr, buf, 64); /* PCR_new = H(PCR_old || digest) */
		assert_memory_equal(l.v[i].chain, pcr, 32);
	}
	assert_memory_equal(l.chain, pcr, 32);
	assert_int_equal(rf_attest_log_replay(&l), -1);
	assert_memory_equal(l.chain, pcr, 32);
	/* the digest covers seq, type, name, hash and detail */
	struct rf_attest_entry e = l.v[1];
	uint8_t d0[32], d1[32];
	rf_attest_entry_digest(&e, d0);
	e.seq++;
	rf_attest_entry_digest(&e, d1);
	assert_memory_not_equal(d0, d1, 32);
	e = l.v[1];
	e.type = RF_AT_CLIENT_MANIFEST;
	rf_attest_entry_digest(&e, d1);
	assert_memory_not_equal(d0, d1, 32);
	e = l.v[1];
	e.detail[0] = 'x';
	rf_attest_entry_digest(&e, d1);
	assert_memory_not_equal(d0, d1, 32);
	e = l.v[1];
	e.name[0] = 'x';
	rf_attest_entry_digest(&e, d1);
	assert_memory_not_equal(d0, d1, 32);
	/* an edited entry is found by replay */
	l.v[1].sha256[0] ^= 1;
	assert_int_equal(rf_attest_log_replay(&l), 1);
	rf_attest_log_fini(&l);
	rf_attest_log_fini(NULL);
}

static void test_log_roundtrip(void **st)
{
	struct rf_attest_log l, p;
	char *txt, why[256];
	size_t len, used, i;

	(void)st;
	build_log(&l);
	assert_int_equal(rf_attest_log_format(&l, &txt, &len), 0);
	assert_non_null(strstr(txt, " rf%20detect%25 "));
	assert_non_null(strstr(txt, " content %2D "));
	assert_int_equal(rf_attest_log_parse(txt, len, l.n, &p, &used, why, sizeof(why)), 0);
	assert_int_equal(used, len);
	assert_int_equal(p.n, l.n);
	for (i = 0; i < l.n; i++) {
		assert_int_equal(p.v[i].type, l.v[i].type);
		assert_string_equal(p.v[i].name, l.v[i].name);
		assert_string_equal(p.v[i].detail, l.v[i].detail);
		assert_memory_equal(p.v[i].sha256, l.v[i].sha256, 32);
		assert_memory_equal(p.v[i].chain, l.v[i].chain, 32);
	}
	assert_int_equal(rf_attest_log_replay(&p), -1);
	free(txt);
	rf_attest_log_fini(&p);
	rf_attest_log_fini(&l);
}

static void test_append_limits(void **st)
{
	struct rf_attest_log l;
	uint8_t sha[32] = {0}, d[32];
	char big[RF_ATTEST_DETAIL_MAX + 1];
	size_t i;

	(void)st;
	rf_attest_log_init(&l);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(rf_attest_log_append(&l, 0, "x", sha, "", d), -EINVAL);
	assert_int_equal(rf_attest_log_append(&l, RF_AT__COUNT, "x", sha, "", d), -EINVAL);
	assert_int_equal(rf_attest_log_append(&l, RF_AT_BPF, "", sha, "", d), -EINVAL);
	assert_int_equal(rf_attest_log_append(&l, RF_AT_BPF, big + RF_ATTEST_DETAIL_MAX - RF_ATTEST_NAME_MAX, sha, "", d), -EINVAL);
	assert_int_equal(rf_attest_log_append(&l, RF_AT_BPF, "x", sha, big, d), -EINVAL);
	for (i = 0; i < RF_ATTEST_LOG_MAX; i++)
		assert_int_equal(rf_attest_log_append(&l, RF_AT_BPF, "x", sha, NULL, d), 0);
	assert_int_equal(rf_attest_log_append(&l, RF_AT_BPF, "x", sha, NULL, d), -E2BIG);
	rf_attest_log_fini(&l);
	assert_null(rf_attest_type_name(0));
	assert_string_equal(rf_attest_type_name(RF_AT_CONTENT_ROLLBACK), "content-rollback");
	assert_int_equal(rf_attest_type_parse("content-good"), RF_AT_CONTENT_GOOD);
	assert_int_equal(rf_attest_type_parse("kernel"), -EINVAL);
}

static void test_log_parse_rejects(void **st)
{
	static const char H[] = "0000000000000000000000000000000000000000000000000000000000000000";
	char good[512];
	struct {
		const char *text;
		size_t count;
		const char *why;
	} bad[] = {
		{"", 1, "missing or unterminated"},
		{"0 daemon x HH HH -", 1, "missing or unterminated"}, /* no newline */
		{"0 daemon x HH HH\n", 1, "want 6 fields"},
		{"0 daemon x HH HH - y\n", 1, "want 6 fields"},
		{"0  daemon x HH HH -\n", 1, "want 6 fields"},
		{"0 daemon x HH HH - \n", 1, "want 6 fields"},
		{"1 daemon x HH HH -\n", 1, "out of order"},
		{"00 daemon x HH HH -\n", 1, "bad sequence number"},
		{"+0 daemon x HH HH -\n", 1, "bad sequence number"},
		{"x daemon x HH HH -\n", 1, "bad sequence number"},
		{"99999999999999999999 daemon x HH HH -\n", 1, "bad sequence number"},
		{"0 kernel x HH HH -\n", 1, "unknown type"},
		{"0 daemonxxxxxxxxxxxxxxxxxxxxxxxxxxx x HH HH -\n", 1, "bad sequence number or type"},
		{"0 daemon - HH HH -\n", 1, "bad name"},
		{"0 daemon a%0 HH HH -\n", 1, "bad name"},
		{"0 daemon a%00 HH HH -\n", 1, "bad name"},
		{"0 daemon a%zz HH HH -\n", 1, "bad name"},
		{"0 daemon a\"b HH HH -\n", 1, "bad name"},
		{"0 daemon x 00 HH -\n", 1, "bad name"},
		{"0 daemon x HH 0g00000000000000000000000000000000000000000000000000000000000000 -\n", 1, "bad name"},
		{"0 daemon x HH HH a\tb\n", 1, "bad name"},
		{"0 daemon x HH HH -\n", RF_ATTEST_LOG_MAX + 1, "at most"},
	};
	struct rf_attest_log l;
	char why[256], buf[512];
	size_t i, used;

	(void)st;
	snprintf(good, sizeof(good), "0 daemon x %s %s -\n", H, H);
	assert_int_equal(rf_attest_log_parse(good, strlen(good), 1, &l, &used, why, sizeof(why)), 0);
	rf_attest_log_fini(&l);
	/* a NUL byte inside a line */
	memcpy(buf, good, strlen(good));
	buf[3] = 0;
	assert_int_equal(rf_attest_log_parse(buf, strlen(good), 1, &l, &used, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "NUL"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* HH stands for a valid 64-digit hash */
		const char *s = bad[i].text;
		size_t o = 0;
		while (*s && o < sizeof(buf) - 70) {
			if (s[0] == 'H' && s[1] == 'H') {
				memcpy(buf + o, H, 64);
				o += 64;
				s += 2;
			} else {
				buf[o++] = *s++;
			}
		}
		buf[o] = 0;
		why[0] = 0;
		int r = rf_attest_log_parse(buf, o, bad[i].count, &l, &used, why, sizeof(why));
		if (r == 0 || !strstr(why, bad[i].why))
			fail_msg("log case %zu '%s': got %d '%s', want '%s'", i, bad[i].text, r, why,
				 bad[i].why);
		assert_null(l.v);
	}
}

static void test_pct(void **st)
{
	struct rf_strbuf sb = {0};
	char out[16];

	(void)st;
	assert_int_equal(rf_attest_pct_encode(&sb, ""), 0);
	assert_int_equal(rf_attest_pct_encode(&sb, " "), 0);
	assert_int_equal(rf_attest_pct_encode(&sb, "-"), 0);
	assert_int_equal(rf_attest_pct_encode(&sb, "a-b*"), 0);
	assert_string_equal(sb.buf, "-%20%2Da-b*");
	free(sb.buf);
	assert_int_equal(rf_attest_pct_decode("-", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(rf_attest_pct_decode("%2D", 3, out, sizeof(out)), 0);
	assert_string_equal(out, "-");
	assert_int_equal(rf_attest_pct_decode("%2", 2, out, sizeof(out)), -EINVAL);
	assert_int_equal(rf_attest_pct_decode("%", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(rf_attest_pct_decode("%00", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(rf_attest_pct_decode("a b", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(rf_attest_pct_decode("0123456789abcdef", 16, out, sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(rf_attest_pct_decode("0123456789abcde", 15, out, sizeof(out)), 0);
}

/* ---- policy ------------------------------------------------------------------------ */
static void test_policy_parse(void **st)
{
	static const char H[] = "1111111111111111111111111111111111111111111111111111111111111111";
	char txt[2048], why[256];
	struct rf_attest_policy p;
	struct {
		const char *line;
		const char *why;
	} bad[] = {
		{"key tpm 00", "want 'key tpm"},
		{"key software 00", "want 'key tpm"},
		{"key sgx HHHH", "want 'key tpm"},
		{"software maybe", "want 'software allow'"},
		{"software allow yes", "want 'software allow'"},
		{"allow kernel x sha256 HH", "unknown type"},
		{"allow content-rollback x sha256 HH", "unknown type"},
		{"allow daemon x md5 HH", "want 'allow TYPE NAME"},
		{"allow daemon x sha256", "want 'allow TYPE NAME"},
		{"allow daemon x sha256 00", "not 32 bytes"},
		{"allow daemon x sha256 HH zz", "not 32 bytes"},
		{"allow daemon x signer HH", "content only"},
		{"allow daemon - sha256 HH", "component name"},
		{"allow daemon a%zz sha256 HH", "component name"},
		{"allow daemon", "component name"},
		{"require daemon", "component name"},
		{"require daemon x y", "want 'require TYPE NAME'"},
		{"require daemon *", "want 'require TYPE NAME'"},
		{"deny daemon x", "unknown keyword"},
		{"allow  daemon x sha256 HH", "too few fields"},
		{"allow daemonxxxxxxxxxxxxxxxxxxxxxxxxx x sha256 HH", "unknown type"},
		{"x", "too few fields"},
	};
	size_t i;

	(void)st;
	snprintf(txt, sizeof(txt),
		 "ringfence-attest-policy 1\n# comment\n\nkey software %s\nsoftware allow\n"
		 "allow daemon ringfence sha256 %s %s\nallow content * signer %s\nrequire content detect\n",
		 H, H, H, H);
	assert_int_equal(rf_attest_policy_parse(txt, strlen(txt), &p, why, sizeof(why)), 0);
	assert_int_equal(p.nsw_keys, 1);
	assert_int_equal(p.ntpm_keys, 0);
	assert_true(p.allow_software);
	assert_int_equal(p.nrules, 3);
	assert_int_equal(p.rules[0].nvalues, 2);
	assert_string_equal(p.rules[1].name, "*");
	rf_attest_policy_fini(&p);
	rf_attest_policy_fini(NULL);
	/* no trailing newline is fine; a wrong or missing first line is not */
	assert_int_equal(rf_attest_policy_parse("ringfence-attest-policy 1", 25, &p, why, sizeof(why)), 0);
	rf_attest_policy_fini(&p);
	assert_int_equal(rf_attest_policy_parse("", 0, &p, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "line 1"));
	assert_int_equal(rf_attest_policy_parse("ringfence-attest-policy 2\n", 26, &p, why, sizeof(why)), -EBADMSG);
	assert_int_equal(rf_attest_policy_parse("ringfence-attest-policy 1\n\0", 27, &p, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "NUL"));
	assert_int_equal(rf_attest_policy_parse("x", RF_ATTEST_POLICY_MAX + 1, &p, why, sizeof(why)), -E2BIG);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[512];
		const char *s = bad[i].line;
		size_t o = 0;
		while (*s && o < sizeof(line) - 70) {
			if (s[0] == 'H' && s[1] == 'H') {
				memcpy(line + o, H, 64);
				o += 64;
				s += 2;
			} else {
				line[o++] = *s++;
			}
		}
		line[o] = 0;
		snprintf(txt, sizeof(txt), "ringfence-attest-policy 1\n%s\n", line);
		why[0] = 0;
		int r = rf_attest_policy_parse(txt, strlen(txt), &p, why, sizeof(why));
		if (r == 0 || !strstr(why, bad[i].why) || !strstr(why, "line 2"))
			fail_msg("policy case %zu '%s': got %d '%s', want '%s'", i, bad[i].line, r, why,
				 bad[i].why);
	}
	/* too many rules */
	{
		size_t n = RF_ATTEST_RULES_MAX + 1, len = 0;
		char *big = malloc(40 + n * 20);
		len = (size_t)sprintf(big, "ringfence-attest-policy 1\n");
		for (i = 0; i < n; i++)
			len += (size_t)sprintf(big + len, "require daemon x\n");
		assert_int_equal(rf_attest_policy_parse(big, len, &p, why, sizeof(why)), -EBADMSG);
		assert_non_null(strstr(why, "more than"));
		free(big);
	}
}

/* ---- software-only quotes end to end ---------------------------------------------------- */
static int mkstate(const char *name, struct rf_attest **a)
{
	struct rf_attest_opts o = {.software = true};
	char path[256], why[512];
	uint8_t sha[32];

	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	o.state = path;
	if (rf_attest_open(&o, a, why, sizeof(why)) < 0)
		return -1;
	if (!strstr(why, RF_ATTEST_SW_WARNING) || rf_attest_is_tpm(*a))
		return -1;
	sha_of("daemon", sha);
	if (rf_attest_measure(*a, RF_AT_DAEMON, "ringfence", sha, "/usr/bin/ringfence", why, sizeof(why)))
		return -1;
	sha_of("client", sha);
	if (rf_attest_measure(*a, RF_AT_CLIENT_EXE, "detect", sha, "", why, sizeof(why)))
		return -1;
	/* unchanged: no new entry */
	if (rf_attest_measure_changed(*a, RF_AT_CLIENT_EXE, "detect", sha, "", why, sizeof(why)) ||
	    rf_attest_log(*a)->n != 2)
		return -1;
	return 0;
}

static char *policy_text(const uint8_t key[32], bool allow_sw, const char *client)
{
	char hk[65], hd[65], hc[65], *t = malloc(2048);
	uint8_t sha[32];

	rf_attest_hex_encode(key, 32, hk);
	sha_of("daemon", sha);
	rf_attest_hex_encode(sha, 32, hd);
	sha_of(client, sha);
	rf_attest_hex_encode(sha, 32, hc);
	snprintf(t, 2048, "ringfence-attest-policy 1\nkey software %s\nsoftware %s\n"
		 "allow daemon ringfence sha256 %s\nallow client-exe detect sha256 %s\nrequire client-exe detect\n",
		 hk, allow_sw ? "allow" : "deny", hd, hc);
	return t;
}

static int verify_text(const uint8_t *q, size_t ql, const uint8_t *nonce, const char *pol,
		       char *why, size_t wl)
{
	struct rf_attest_policy p;
	int r;

	assert_int_equal(rf_attest_policy_parse(pol, strlen(pol), &p, why, wl), 0);
	r = rf_attest_verify_mem(q, ql, nonce, 16, &p, why, wl);
	rf_attest_policy_fini(&p);
	return r;
}

static void test_software_quote(void **st)
{
	struct rf_attest *a = NULL, *b = NULL;
	struct rf_attest_quote q;
	uint8_t *qt = NULL, *qt2 = NULL;
	size_t ql, ql2;
	char why[2048], *pol, *pol2, *gen;
	size_t glen;

	(void)st;
	assert_int_equal(mkstate("a", &a), 0);
	assert_int_equal(mkstate("b", &b), 0);
	assert_int_equal(rf_attest_quote_mem(a, NONCE, 4, &qt, &ql, why, sizeof(why)), -EINVAL);
	assert_int_equal(rf_attest_quote_mem(a, NONCE, 16, &qt, &ql, why, sizeof(why)), 0);
	assert_non_null(strstr((char *)qt, "# " RF_ATTEST_SW_WARNING "\n"));
	assert_int_equal(rf_attest_quote_parse(qt, ql, &q, why, sizeof(why)), 0);
	assert_false(q.tpm);
	assert_int_equal(q.log.n, 2);
	uint8_t key[32];
	memcpy(key, q.key, 32);
	pol = policy_text(key, true, "client");
	pol2 = policy_text(key, false, "client");
	/* a policy made from the quote accepts it */
	assert_int_equal(rf_attest_policy_from_quote(&q, &gen, &glen), 0);
	assert_int_equal(verify_text(qt, ql, NONCE, gen, why, sizeof(why)), 0);
	free(gen);
	rf_attest_quote_fini(&q);
	rf_attest_quote_fini(NULL);

	assert_int_equal(verify_text(qt, ql, NONCE, pol, why, sizeof(why)), 0);
	assert_non_null(strstr(why, RF_ATTEST_SW_WARNING));
	assert_int_equal(verify_text(qt, ql, NONCE, pol2, why, sizeof(why)), -EKEYREJECTED);
	assert_non_null(strstr(why, "requires a TPM"));
	assert_int_equal(verify_text(qt, ql, NONCE2, pol, why, sizeof(why)), -ESTALE);
	assert_non_null(strstr(why, "another nonce"));
	free(pol2);
	pol2 = policy_text(key, true, "other client");
	assert_int_equal(verify_text(qt, ql, NONCE, pol2, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "client-exe detect (entry 1): sha256"));
	/* another endpoint's key */
	assert_int_equal(rf_attest_quote_mem(b, NONCE, 16, &qt2, &ql2, why, sizeof(why)), 0);
	assert_int_equal(verify_text(qt2, ql2, NONCE, pol, why, sizeof(why)), -EKEYREJECTED);
	assert_non_null(strstr(why, "does not list"));
	/* an edited entry */
	char *p = strstr((char *)qt, "\n1 client-exe detect ");
	assert_non_null(p);
	p += strlen("\n1 client-exe detect ");
	*p = *p == '0' ? '1' : '0';
	assert_int_equal(verify_text(qt, ql, NONCE, pol, why, sizeof(why)), -EILSEQ);
	assert_non_null(strstr(why, "client-exe detect (entry 1): log entry edited"));
	/* a changed signature */
	*p = *p == '0' ? '1' : '0';
	p = strstr((char *)qt, "\nsig ") + 5;
	*p = *p == '0' ? '1' : '0';
	assert_int_equal(verify_text(qt, ql, NONCE, pol, why, sizeof(why)), -EKEYREJECTED);
	assert_non_null(strstr(why, "signature does not verify"));
	free(pol);
	free(pol2);
	free(qt);
	free(qt2);
	rf_attest_free(a);
	rf_attest_free(b);
	rf_attest_free(NULL);
}

static void test_quote_state(void **st)
{
	struct rf_attest *a = NULL;
	uint8_t *q = NULL;
	size_t ql;
	char why[512], path[512];
	FILE *f;

	(void)st;
	assert_int_equal(mkstate("c", &a), 0);
	snprintf(path, sizeof(path), "%s/c", tdir);
	assert_int_equal(rf_attest_quote_state(path, NULL, NONCE, 16, &q, &ql, why, sizeof(why)), 0);
	assert_non_null(strstr((char *)q, "\nlog 2\n"));
	free(q);
	q = NULL;
	rf_attest_free(a);
	/* a damaged log file is refused */
	snprintf(path, sizeof(path), "%s/c/attest.log", tdir);
	f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, -10, SEEK_END);
	fputc('x', f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/c", tdir);
	assert_int_not_equal(rf_attest_quote_state(path, NULL, NONCE, 16, &q, &ql, why, sizeof(why)), 0);
	assert_null(q);
	snprintf(path, sizeof(path), "%s/none", tdir);
	assert_int_equal(rf_attest_quote_state(path, NULL, NONCE, 16, &q, &ql, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "is the daemon running"));
}

/* ---- quote file rejections -------------------------------------------------------------- */
static void test_quote_parse_rejects(void **st)
{
	struct rf_attest *a = NULL;
	struct rf_attest_quote q;
	uint8_t *qt = NULL;
	size_t ql, i;
	char why[512], buf[8192];
	struct {
		const char *from, *to, *why;
	} bad[] = {
		{"ringfence-attest-quote 1\n", "ringfence-attest-quote 2\n", "'header'"},
		{"mode software\n", "mode hsm\n", "'mode'"},
		{"mode software\n", "", "'mode'"},
		{"pcr 23\n", "pcr 22\n", "'pcr'"},
		{"pcr 23\n", "pcr 023\n", "'pcr'"},
		{"nonce 0102030405060708090a0b0c0d0e0f10\n", "nonce 01020304\n", "'nonce'"},
		{"nonce 0102030405060708090a0b0c0d0e0f10\n", "nonce 0102030405060708090a0b0c0d0e0f1\n", "'nonce'"},
		{"\nkey ", "\nkey 00", "'key'"},
		{"\nattest ", "\nattest x", "'attest'"},
		{"\nsig ", "\nsig 00", "'sig'"},
		{"\nlog 2\n", "\nlog 3\n", "log entry 2: want 6 fields"},
		{"\nlog 2\n", "\nlog 1\n", "'end'"},
		{"\nlog 2\n", "\nlog 1025\n", "'log'"},
		{"\nend\n", "\nend\nx", "'end'"},
		{"\nend\n", "\nend", "'end'"},
		{"\n1 client-exe ", "\n2 client-exe ", "out of order"},
	};

	(void)st;
	assert_int_equal(mkstate("d", &a), 0);
	assert_int_equal(rf_attest_quote_mem(a, NONCE, 16, &qt, &ql, why, sizeof(why)), 0);
	assert_true(ql < sizeof(buf) - 64);
	assert_int_equal(rf_attest_quote_parse(qt, ql, &q, why, sizeof(why)), 0);
	rf_attest_quote_fini(&q);
	assert_int_equal(rf_attest_quote_parse(qt, RF_ATTEST_QUOTE_MAX + 1, &q, why, sizeof(why)), -E2BIG);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = strstr((const char *)qt, bad[i].from);
		size_t o, fl = strlen(bad[i].from), tl = strlen(bad[i].to);
		assert_non_null(p);
		o = (size_t)(p - (const char *)qt);
		memcpy(buf, qt, o);
		memcpy(buf + o, bad[i].to, tl);
		memcpy(buf + o + tl, p + fl, ql - o - fl);
		why[0] = 0;
		int r = rf_attest_quote_parse((uint8_t *)buf, ql - fl + tl, &q, why, sizeof(why));
		if (r == 0 || !strstr(why, bad[i].why))
			fail_msg("quote case %zu: got %d '%s', want '%s'", i, r, why, bad[i].why);
		assert_null(q.attest);
		assert_null(q.log.v);
	}
	free(qt);
	rf_attest_free(a);
}

/* ---- the TPM path, with a TPMS_ATTEST crafted and signed here ---------------------------- */
static size_t put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
	return 2;
}

static size_t put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	return 4;
}

enum { M_NONE, M_MAGIC, M_TYPE, M_COUNT, M_HASH, M_SELECT, M_SELSIZE, M_DIGESTSIZE, M_TRAILING, M_SHORT };

static size_t tpms(uint8_t *b, const uint8_t *nonce, const uint8_t digest[32], int mutate)
{
	size_t o = 0;

	o += put32(b + o, mutate == M_MAGIC ? 0xff544348u : 0xff544347u);
	o += put16(b + o, mutate == M_TYPE ? 0x8017 : 0x8018);
	o += put16(b + o, 4); /* qualifiedSigner */
	memset(b + o, 0xaa, 4);
	o += 4;
	o += put16(b + o, 16);
	memcpy(b + o, nonce, 16);
	o += 16;
	memset(b + o, 0, 25); /* clockInfo, firmwareVersion */
	o += 25;
	o += put32(b + o, mutate == M_COUNT ? 2 : 1);
	o += put16(b + o, mutate == M_HASH ? 0x0004 : 0x000B);
	b[o++] = mutate == M_SELSIZE ? 5 : 3;
	b[o++] = 0;
	b[o++] = 0;
	b[o++] = mutate == M_SELECT ? 0x40 : 0x80;
	if (mutate == M_SELSIZE) {
		b[o++] = 0;
		b[o++] = 0;
	}
	o += put16(b + o, mutate == M_DIGESTSIZE ? 20 : 32);
	memcpy(b + o, digest, 32);
	o += 32;
	if (mutate == M_TRAILING)
		b[o++] = 0;
	if (mutate == M_SHORT)
		o -= 1;
	return o;
}

static void ecdsa_sign(EVP_PKEY *k, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	const unsigned char *dp = der;
	size_t dl = sizeof(der);
	ECDSA_SIG *es;

	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, der, &dl, msg, len), 1);
	es = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
	assert_non_null(es);
	BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
}

static void test_tpm_verify_crafted(void **st)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct rf_attest_log l;
	struct rf_attest_policy p;
	uint8_t key[65], blob[256], sig[64], digest[32];
	size_t kl = 0, bl, len;
	char hk[131], hb[513], hs[129], *logtxt, *q, pol[1024], why[2048];
	int m;

	(void)st;
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, key, sizeof(key), &kl), 1);
	assert_int_equal(kl, 65);
	build_log(&l);
	crypto_hash_sha256(digest, l.chain, 32);
	assert_int_equal(rf_attest_log_format(&l, &logtxt, &len), 0);
	rf_attest_hex_encode(key, 65, hk);
	/* the policy: the three hashes of build_log */
	{
		uint8_t s[32];
		char h1[65], h2[65], h3[65];
		sha_of("daemon", s);
		rf_attest_hex_encode(s, 32, h1);
		sha_of("client", s);
		rf_attest_hex_encode(s, 32, h2);
		sha_of("content", s);
		rf_attest_hex_encode(s, 32, h3);
		snprintf(pol, sizeof(pol), "ringfence-attest-policy 1\nkey tpm %s\nallow daemon * sha256 %s\n"
			 "allow client-exe * sha256 %s\nallow content * sha256 %s\n", hk, h1, h2, h3);
	}
	assert_int_equal(rf_attest_policy_parse(pol, strlen(pol), &p, why, sizeof(why)), 0);
	q = malloc(8192);
	for (m = M_NONE; m <= M_SHORT + 2; m++) {
		bool resign = m != M_SHORT + 1; /* +1: the signature of the genuine blob on another */
		bl = tpms(blob, NONCE, digest, m <= M_SHORT ? m : M_NONE);
		if (m == M_SHORT + 2) /* a PCR digest that the log does not replay to */
			blob[bl - 1] ^= 1;
		if (resign)
			ecdsa_sign(k, blob, bl, sig);
		else
			blob[10] ^= 1;
		rf_attest_hex_encode(blob, bl, hb);
		rf_attest_hex_encode(sig, 64, hs);
		snprintf(q, 8192, "ringfence-attest-quote 1\nmode tpm\npcr 23\nnonce %s\nkey %s\nattest %s\n"
			 "sig %s\nlog %zu\n%send\n", "0102030405060708090a0b0c0d0e0f10", hk, hb, hs, l.n,
			 logtxt);
		int r = rf_attest_verify_mem((uint8_t *)q, strlen(q), NONCE, 16, &p, why, sizeof(why));
		if (m == M_NONE) {
			if (r != 0)
				fail_msg("genuine crafted TPM quote: %d %s", r, why);
			r = rf_attest_verify_mem((uint8_t *)q, strlen(q), NONCE2, 16, &p, why, sizeof(why));
			assert_int_equal(r, -ESTALE);
		} else if (m == M_SHORT + 1) {
			assert_int_equal(r, -EKEYREJECTED);
			assert_non_null(strstr(why, "signature does not verify"));
		} else if (m == M_SHORT + 2) {
			assert_int_equal(r, -EILSEQ);
			assert_non_null(strstr(why, "does not replay to the quoted PCR"));
		} else if (r != -EBADMSG || !strstr(why, "not a quote of PCR 23")) {
			fail_msg("crafted TPMS_ATTEST mutation %d: got %d '%s'", m, r, why);
		}
	}
	free(q);
	free(logtxt);
	rf_attest_policy_fini(&p);
	rf_attest_log_fini(&l);
	EVP_PKEY_free(k);
	/* a key that is no curve point */
	memset(key + 1, 0x11, 64);
	assert_int_equal(rf_attest_ecdsa_verify(key, (const uint8_t *)"x", 1, sig), -EKEYREJECTED);
}

static void test_fleet_b64(void **st)
{
	struct rf_attest *a = NULL;
	struct rf_attest_policy p;
	struct rf_attest_quote q;
	uint8_t *qt;
	size_t ql;
	char why[2048], *b64 = NULL, *pol;

	(void)st;
	assert_int_equal(mkstate("f", &a), 0);
	assert_int_equal(rf_attest_quote_b64(NULL, NONCE, 16, &b64, why, sizeof(why)), -ENODEV);
	assert_int_equal(rf_attest_quote_b64(a, NONCE, 0, &b64, why, sizeof(why)), -ENODATA);
	assert_null(b64);
	/* the policy for this endpoint's key */
	assert_int_equal(rf_attest_quote_mem(a, NONCE, 16, &qt, &ql, why, sizeof(why)), 0);
	assert_int_equal(rf_attest_quote_parse(qt, ql, &q, why, sizeof(why)), 0);
	pol = policy_text(q.key, true, "client");
	rf_attest_quote_fini(&q);
	free(qt);
	assert_int_equal(rf_attest_policy_parse(pol, strlen(pol), &p, why, sizeof(why)), 0);
	assert_int_equal(rf_attest_quote_b64(a, NONCE, 16, &b64, why, sizeof(why)), 0);
	assert_int_equal(rf_attest_verify_b64(b64, strlen(b64), NONCE, 16, &p, why, sizeof(why)), 0);
	assert_int_equal(rf_attest_verify_b64(b64, strlen(b64), NONCE2, 16, &p, why, sizeof(why)), -ESTALE);
	assert_int_equal(rf_attest_verify_b64(NULL, 0, NONCE, 16, &p, why, sizeof(why)), -ENODATA);
	assert_int_equal(rf_attest_verify_b64("", 0, NONCE, 16, &p, why, sizeof(why)), -ENODATA);
	assert_int_equal(rf_attest_verify_b64("@@@@", 4, NONCE, 16, &p, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "not base64"));
	assert_int_equal(rf_attest_verify_b64(b64, (RF_ATTEST_QUOTE_MAX / 3 + 2) * 4, NONCE, 16, &p, why,
					      sizeof(why)), -E2BIG);
	b64[strlen(b64) / 2] ^= 1; /* still base64, but another quote */
	assert_int_not_equal(rf_attest_verify_b64(b64, strlen(b64), NONCE, 16, &p, why, sizeof(why)), 0);
	free(b64);
	free(pol);
	rf_attest_policy_fini(&p);
	rf_attest_free(a);
}

static int setup(void **st)
{
	(void)st;
	if (sodium_init() < 0 || !mkdtemp(tdir))
		return -1;
	return 0;
}

static int teardown(void **st)
{
	char cmd[128];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_is_pcr_extend),
		cmocka_unit_test(test_log_roundtrip),
		cmocka_unit_test(test_append_limits),
		cmocka_unit_test(test_log_parse_rejects),
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_policy_parse),
		cmocka_unit_test(test_software_quote),
		cmocka_unit_test(test_quote_state),
		cmocka_unit_test(test_quote_parse_rejects),
		cmocka_unit_test(test_tpm_verify_crafted),
		cmocka_unit_test(test_fleet_b64),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
