// SPDX-License-Identifier: MIT
/*
 * verify.c: the policy file (parser of operator input: tests/fuzz/fuzz_attest_policy.c)
 * and the verifier: key allowed, signature, nonce, log replay against the quoted PCR
 * (or the signed software chain), then every entry against the policy. Every deviating
 * component is named. docs/attest.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "attest/attest.h"
#include "attest/attest_int.h"

#define POLICY_MAGIC "ringfence-attest-policy 1"

enum { RULE_SHA = 1, RULE_SIGNER = 2, RULE_REQUIRE = 3 };

/* ---- ECDSA P-256 (OpenSSL libcrypto) ------------------------------------------------ */
int rf_attest_ecdsa_verify(const uint8_t key[65], const uint8_t *msg, size_t len,
			   const uint8_t sig[64])
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int dlen, ret = -EKEYREJECTED;

	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, key, 65))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL; /* owned by es */
	dlen = i2d_ECDSA_SIG(es, &der);
	md = EVP_MD_CTX_new();
	if (dlen <= 0 || !md || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) <= 0)
		goto out;
	if (EVP_DigestVerify(md, der, (size_t)dlen, msg, len) == 1)
		ret = 0;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

/* ---- policy ------------------------------------------------------------------------- */
void rf_attest_policy_fini(struct rf_attest_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nrules; i++)
		free(p->rules[i].values);
	free(p->rules);
	free(p->tpm_keys);
	free(p->sw_keys);
	memset(p, 0, sizeof(*p));
}

static size_t policy_lines(const struct rf_attest_policy *p)
{
	return p->nrules + p->ntpm_keys + p->nsw_keys;
}

int rf_attest_policy_parse(const char *buf, size_t len, struct rf_attest_policy *p, char *why,
			   size_t whylen)
{
	size_t pos = 0, lineno = 0;
	bool magic = false;

	memset(p, 0, sizeof(*p));
	if (len > RF_ATTEST_POLICY_MAX) {
		snprintf(why, whylen, "policy: %zu bytes, at most %u", len, RF_ATTEST_POLICY_MAX);
		return -E2BIG;
	}
	/* one allocation per table, sized for the worst case of RF_ATTEST_RULES_MAX lines */
	p->rules = calloc(RF_ATTEST_RULES_MAX, sizeof(*p->rules));
	p->tpm_keys = calloc(RF_ATTEST_RULES_MAX, sizeof(*p->tpm_keys));
	p->sw_keys = calloc(RF_ATTEST_RULES_MAX, sizeof(*p->sw_keys));
	if (!p->rules || !p->tpm_keys || !p->sw_keys) {
		rf_attest_policy_fini(p);
		snprintf(why, whylen, "policy: out of memory");
		return -ENOMEM;
	}
	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		const char *tok[4 + RF_ATTEST_RULE_VALUES_MAX];
		size_t tl[4 + RF_ATTEST_RULE_VALUES_MAX], ll, hl;
		char a[24], b[RF_ATTEST_NAME_MAX];
		int nt, i;

		lineno++;
		ll = nl ? (size_t)(nl - line) : len - pos;
		pos += ll + (nl ? 1 : 0);
		if (memchr(line, 0, ll)) {
			snprintf(why, whylen, "policy line %zu: NUL byte", lineno);
			goto bad;
		}
		if (!magic) {
			if (ll != strlen(POLICY_MAGIC) || memcmp(line, POLICY_MAGIC, ll)) {
				snprintf(why, whylen, "policy line 1: want '%s'", POLICY_MAGIC);
				goto bad;
			}
			magic = true;
			continue;
		}
		if (!ll || line[0] == '#')
			continue;
		nt = rf_attest_tokens(line, ll, tok, tl, 4 + RF_ATTEST_RULE_VALUES_MAX);
		if (nt < 2) {
			snprintf(why, whylen, "policy line %zu: too %s fields (single spaces between)",
				 lineno, nt == -E2BIG ? "many" : "few");
			goto bad;
		}
		if (policy_lines(p) >= RF_ATTEST_RULES_MAX) {
			snprintf(why, whylen, "policy line %zu: more than %u rules", lineno,
				 RF_ATTEST_RULES_MAX);
			goto bad;
		}
		if (tl[1] >= sizeof(a)) {
			snprintf(why, whylen, "policy line %zu: unknown type", lineno);
			goto bad;
		}
		memcpy(a, tok[1], tl[1]);
		a[tl[1]] = 0;
		if (tl[0] == 3 && !memcmp(tok[0], "key", 3)) {
			bool tpm = !strcmp(a, "tpm");
			if ((!tpm && strcmp(a, "software")) || nt != 3 ||
			    rf_attest_hex_decode(tok[2], tl[2],
						 tpm ? p->tpm_keys[p->ntpm_keys] : p->sw_keys[p->nsw_keys],
						 tpm ? 65 : 32, &hl) < 0 ||
			    hl != (tpm ? 65u : 32u)) {
				snprintf(why, whylen, "policy line %zu: want 'key tpm HEX(65 bytes)' or "
					 "'key software HEX(32 bytes)'", lineno);
				goto bad;
			}
			if (tpm)
				p->ntpm_keys++;
			else
				p->nsw_keys++;
			continue;
		}
		if (tl[0] == 8 && !memcmp(tok[0], "software", 8)) {
			if (nt != 2 || (strcmp(a, "allow") && strcmp(a, "deny"))) {
				snprintf(why, whylen, "policy line %zu: want 'software allow' or 'software deny'",
					 lineno);
				goto bad;
			}
			p->allow_software = !strcmp(a, "allow");
			continue;
		}
		bool allow = tl[0] == 5 && !memcmp(tok[0], "allow", 5);
		bool require = tl[0] == 7 && !memcmp(tok[0], "require", 7);
		if (!allow && !require) {
			snprintf(why, whylen, "policy line %zu: unknown keyword (key, software, allow, require)",
				 lineno);
			goto bad;
		}
		struct rf_attest_rule *ru = &p->rules[p->nrules];
		ru->type = rf_attest_type_parse(a);
		if (ru->type < 0 || ru->type == RF_AT_CONTENT_ROLLBACK || ru->type == RF_AT_CONTENT_GOOD) {
			snprintf(why, whylen, "policy line %zu: unknown type '%s' (content rules cover "
				 "rollback and good too)", lineno, a);
			goto bad;
		}
		if (rf_attest_pct_decode(tok[2 < nt ? 2 : 1], tl[2 < nt ? 2 : 1], b, sizeof(b)) < 0 ||
		    nt < 3 || !b[0]) {
			snprintf(why, whylen, "policy line %zu: bad or missing component name", lineno);
			goto bad;
		}
		snprintf(ru->name, sizeof(ru->name), "%s", b);
		if (require) {
			if (nt != 3 || !strcmp(b, "*")) {
				snprintf(why, whylen, "policy line %zu: want 'require TYPE NAME'", lineno);
				goto bad;
			}
			ru->kind = RULE_REQUIRE;
			p->nrules++;
			continue;
		}
		if (nt < 5 || (!(tl[3] == 6 && !memcmp(tok[3], "sha256", 6)) &&
			       !(tl[3] == 6 && !memcmp(tok[3], "signer", 6)))) {
			snprintf(why, whylen, "policy line %zu: want 'allow TYPE NAME sha256|signer HEX...'",
				 lineno);
			goto bad;
		}
		ru->kind = tok[3][1] == 'h' ? RULE_SHA : RULE_SIGNER;
		if (ru->kind == RULE_SIGNER && ru->type != RF_AT_CONTENT) {
			snprintf(why, whylen, "policy line %zu: signer keys apply to content only", lineno);
			goto bad;
		}
		ru->values = calloc((size_t)(nt - 4), 32);
		if (!ru->values) {
			snprintf(why, whylen, "policy: out of memory");
			goto bad;
		}
		p->nrules++;
		for (i = 4; i < nt; i++) {
			if (rf_attest_hex_decode(tok[i], tl[i], ru->values[ru->nvalues], 32, &hl) < 0 ||
			    hl != 32) {
				snprintf(why, whylen, "policy line %zu: value %d is not 32 bytes of hex",
					 lineno, i - 3);
				goto bad;
			}
			ru->nvalues++;
		}
	}
	if (!magic) {
		snprintf(why, whylen, "policy line 1: want '%s'", POLICY_MAGIC);
		goto bad;
	}
	return 0;
bad:
	rf_attest_policy_fini(p);
	return -EBADMSG;
}

int rf_attest_policy_load(const char *path, struct rf_attest_policy *p, char *why, size_t whylen)
{
	char *buf = malloc(RF_ATTEST_POLICY_MAX + 1);
	size_t got = 0;
	ssize_t n;
	int fd, r;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		free(buf);
		return r;
	}
	while (got <= RF_ATTEST_POLICY_MAX &&
	       (n = read(fd, buf + got, RF_ATTEST_POLICY_MAX + 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	r = rf_attest_policy_parse(buf, got, p, why, whylen);
	free(buf);
	return r;
}

/* ---- verification -------------------------------------------------------------------- */
struct report {
	char *why;
	size_t whylen, used;
	int ret;
};

__attribute__((format(printf, 3, 4)))
static void dev(struct report *rp, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!rp->ret)
		rp->ret = code;
	if (!rp->whylen || rp->used + 2 >= rp->whylen)
		return;
	if (rp->used)
		rp->why[rp->used++] = '\n';
	va_start(ap, fmt);
	n = vsnprintf(rp->why + rp->used, rp->whylen - rp->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		rp->used += (size_t)n < rp->whylen - rp->used ? (size_t)n : rp->whylen - rp->used - 1;
	rp->why[rp->used] = 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* TPMS_ATTEST of a quote: the nonce (extraData) and the PCR digest; checks the magic,
 * the type, and that exactly PCR is selected in the SHA-256 bank. */
static int tpms_attest(const uint8_t *b, size_t len, uint32_t pcr, const uint8_t **nonce,
		       size_t *nlen, const uint8_t **digest)
{
	size_t o = 0, n;
	uint32_t cnt;
	unsigned i;

#define NEED(k) do { if (len - o < (size_t)(k)) return -EBADMSG; } while (0)
	NEED(6);
	if (be32(b) != 0xff544347u || be16(b + 4) != 0x8018)
		return -EBADMSG;
	o = 6;
	NEED(2);
	n = be16(b + o); /* qualifiedSigner */
	o += 2;
	NEED(n);
	o += n;
	NEED(2);
	n = be16(b + o); /* extraData */
	o += 2;
	NEED(n);
	*nonce = b + o;
	*nlen = n;
	o += n;
	NEED(17 + 8); /* clockInfo, firmwareVersion */
	o += 25;
	NEED(4);
	cnt = be32(b + o);
	o += 4;
	if (cnt != 1)
		return -EBADMSG;
	NEED(3);
	if (be16(b + o) != 0x000B)
		return -EBADMSG;
	n = b[o + 2];
	o += 3;
	if (n < 3 || n > 4)
		return -EBADMSG;
	NEED(n);
	for (i = 0; i < n; i++) {
		uint8_t want = i == pcr / 8 ? (uint8_t)(1u << (pcr % 8)) : 0;
		if (b[o + i] != want)
			return -EBADMSG;
	}
	o += n;
	NEED(2);
	if (be16(b + o) != 32)
		return -EBADMSG;
	o += 2;
	NEED(32);
	*digest = b + o;
	o += 32;
	return o == len ? 0 : -EBADMSG;
#undef NEED
}

static bool is_content(int type)
{
	return type == RF_AT_CONTENT || type == RF_AT_CONTENT_ROLLBACK || type == RF_AT_CONTENT_GOOD;
}

/* signers=HEX,HEX in a content entry's detail */
static size_t signers_of(const char *detail, uint8_t out[][32], size_t max)
{
	const char *s = strstr(detail, "signers=");
	size_t n = 0, hl;

	if (!s)
		return 0;
	s += 8;
	while (n < max) {
		size_t k = strcspn(s, ", ");
		if (k != 64 || rf_attest_hex_decode(s, 64, out[n], 32, &hl) < 0)
			break;
		n++;
		s += k;
		if (*s != ',')
			break;
		s++;
	}
	return n;
}

static void check_entry(const struct rf_attest_entry *e, const struct rf_attest_policy *p,
			struct report *rp)
{
	uint8_t signers[RF_ATTEST_SIGNERS_MAX][32];
	size_t ns = is_content(e->type) ? signers_of(e->detail, signers, RF_ATTEST_SIGNERS_MAX) : 0;
	int rtype = is_content(e->type) ? RF_AT_CONTENT : e->type;
	bool found = false, ok = false;
	char hex[65];
	size_t i, j, k;

	for (i = 0; i < p->nrules && !ok; i++) {
		const struct rf_attest_rule *ru = &p->rules[i];
		if (ru->kind == RULE_REQUIRE || ru->type != rtype ||
		    (strcmp(ru->name, "*") && strcmp(ru->name, e->name)))
			continue;
		found = true;
		for (j = 0; j < ru->nvalues && !ok; j++) {
			if (ru->kind == RULE_SHA && !memcmp(ru->values[j], e->sha256, 32))
				ok = true;
			for (k = 0; ru->kind == RULE_SIGNER && k < ns && !ok; k++)
				if (!memcmp(ru->values[j], signers[k], 32))
					ok = true;
		}
	}
	if (ok)
		return;
	rf_attest_hex_encode(e->sha256, 32, hex);
	if (!found)
		dev(rp, -EPERM, "%s %s (entry %u): not in the policy", rf_attest_type_name(e->type),
		    e->name, e->seq);
	else
		dev(rp, -EPERM, "%s %s (entry %u): sha256 %.16s... not allowed by the policy%s",
		    rf_attest_type_name(e->type), e->name, e->seq, hex,
		    rtype == RF_AT_CONTENT ? " (nor is any of its signers)" : "");
}

int rf_attest_verify(struct rf_attest_quote *q, const uint8_t *nonce, size_t nlen,
		     const struct rf_attest_policy *p, bool *software, char *why, size_t whylen)
{
	struct report rp = {.why = why, .whylen = whylen};
	const uint8_t *qnonce = NULL, *digest = NULL;
	uint8_t expect[32];
	size_t qnlen = 0, i;
	bool key_ok = false, sig_ok = false;
	long first_bad;

	if (whylen)
		why[0] = 0;
	*software = !q->tpm;
	if (!q->tpm)
		dev(&rp, 0, "%s", RF_ATTEST_SW_WARNING);
	/* 1. the key */
	if (q->tpm) {
		for (i = 0; i < p->ntpm_keys; i++)
			key_ok |= !memcmp(p->tpm_keys[i], q->key, 65);
	} else {
		for (i = 0; i < p->nsw_keys; i++)
			key_ok |= !memcmp(p->sw_keys[i], q->key, 32);
		if (!p->allow_software)
			dev(&rp, -EKEYREJECTED, "quote: software-only, the policy requires a TPM");
	}
	if (!key_ok) {
		char hex[131];
		rf_attest_hex_encode(q->key, q->keylen, hex);
		dev(&rp, -EKEYREJECTED, "quote: signed by key %.16s... which the policy does not list "
		    "(another endpoint or a forged quote)", hex);
	}
	/* 2. the signature over the signed blob */
	if (q->tpm) {
		sig_ok = rf_attest_ecdsa_verify(q->key, q->attest, q->attestlen, q->sig) == 0;
		if (sig_ok && tpms_attest(q->attest, q->attestlen, q->pcr, &qnonce, &qnlen, &digest) < 0) {
			dev(&rp, -EBADMSG, "quote: the signed TPMS_ATTEST is not a quote of PCR %u (SHA-256)",
			    q->pcr);
			sig_ok = false;
		}
	} else {
		uint8_t msg[sizeof(RF_ATTEST_SW_DOMAIN) + 1024];
		if (q->attestlen <= 1024) {
			memcpy(msg, RF_ATTEST_SW_DOMAIN, sizeof(RF_ATTEST_SW_DOMAIN));
			memcpy(msg + sizeof(RF_ATTEST_SW_DOMAIN), q->attest, q->attestlen);
			sig_ok = crypto_sign_ed25519_verify_detached(
					 q->sig, msg, sizeof(RF_ATTEST_SW_DOMAIN) + q->attestlen, q->key) == 0;
		}
		if (sig_ok) {
			const uint8_t *b = q->attest;
			size_t l = q->attestlen;
			if (l < 9 || memcmp(b, RF_ATTEST_SW_MAGIC, 8) || l != 9u + b[8] + 4 + 32) {
				dev(&rp, -EBADMSG, "quote: malformed software blob");
				sig_ok = false;
			} else {
				qnonce = b + 9;
				qnlen = b[8];
				digest = b + 9 + qnlen + 4;
				uint32_t cnt = (uint32_t)b[9 + qnlen] | (uint32_t)b[10 + qnlen] << 8 |
					       (uint32_t)b[11 + qnlen] << 16 | (uint32_t)b[12 + qnlen] << 24;
				if (cnt != q->log.n)
					dev(&rp, -EILSEQ, "log: %zu entries, but %u were signed "
					    "(log truncated or extended)", q->log.n, cnt);
			}
		}
	}
	if (!sig_ok)
		dev(&rp, -EKEYREJECTED, "quote: the signature does not verify with the quote's key "
		    "(quote altered or forged)");
	/* 3. the nonce (freshness) */
	if (sig_ok && (qnlen != nlen || memcmp(qnonce, nonce, nlen)))
		dev(&rp, -ESTALE, "quote: signed over another nonce (stale or replayed quote)");
	/* 4. the log against the quoted value */
	first_bad = rf_attest_log_replay(&q->log);
	if (first_bad >= 0) {
		const struct rf_attest_entry *e = &q->log.v[first_bad];
		dev(&rp, -EILSEQ, "%s %s (entry %ld): log entry edited, moved or removed (its "
		    "recorded chain does not follow)", rf_attest_type_name(e->type), e->name,
		    first_bad);
	}
	if (sig_ok) {
		if (q->tpm)
			crypto_hash_sha256(expect, q->log.chain, 32); /* pcrDigest = H(PCR value) */
		else
			memcpy(expect, q->log.chain, 32);
		if (memcmp(expect, digest, 32))
			dev(&rp, -EILSEQ, "log: does not replay to the %s (entries edited, removed, added "
			    "or reordered)", q->tpm ? "quoted PCR" : "signed chain");
	}
	/* 5. every entry against the policy */
	for (i = 0; i < q->log.n; i++)
		check_entry(&q->log.v[i], p, &rp);
	for (i = 0; i < p->nrules; i++) {
		const struct rf_attest_rule *ru = &p->rules[i];
		size_t j;
		bool seen = false;
		if (ru->kind != RULE_REQUIRE)
			continue;
		for (j = 0; j < q->log.n && !seen; j++)
			seen = q->log.v[j].type == ru->type && !strcmp(q->log.v[j].name, ru->name);
		if (!seen)
			dev(&rp, -EPERM, "%s %s: required by the policy but not in the log (not "
			    "measured, or the log was truncated)", rf_attest_type_name(ru->type), ru->name);
	}
	return rp.ret;
}

int rf_attest_verify_mem(const uint8_t *quote, size_t qlen, const uint8_t *nonce, size_t nlen,
			 const struct rf_attest_policy *p, char *why, size_t whylen)
{
	struct rf_attest_quote q;
	bool sw;
	int r = rf_attest_quote_parse(quote, qlen, &q, why, whylen);

	if (r < 0)
		return r;
	r = rf_attest_verify(&q, nonce, nlen, p, &sw, why, whylen);
	rf_attest_quote_fini(&q);
	return r;
}

int rf_attest_policy_from_quote(const struct rf_attest_quote *q, char **out, size_t *len)
{
	struct rf_strbuf sb = {0};
	char hex[131];
	size_t i, j;
	int r;

	rf_attest_hex_encode(q->key, q->keylen, hex);
	r = rf_strbuf_printf(&sb, "%s\n# made from a quote by 'ringfence attest policy'; review it\n"
			     "key %s %s\nsoftware %s\n", POLICY_MAGIC, q->tpm ? "tpm" : "software",
			     hex, q->tpm ? "deny" : "allow");
	for (i = 0; !r && i < q->log.n; i++) {
		const struct rf_attest_entry *e = &q->log.v[i];
		int rtype = is_content(e->type) ? RF_AT_CONTENT : e->type;
		bool dup = false;
		for (j = 0; j < i && !dup; j++)
			dup = (is_content(q->log.v[j].type) ? RF_AT_CONTENT : q->log.v[j].type) == rtype &&
			      !strcmp(q->log.v[j].name, e->name) && !memcmp(q->log.v[j].sha256, e->sha256, 32);
		if (dup)
			continue;
		rf_attest_hex_encode(e->sha256, 32, hex);
		r = rf_strbuf_printf(&sb, "allow %s ", rf_attest_type_name(rtype));
		if (!r)
			r = rf_attest_pct_encode(&sb, e->name);
		if (!r)
			r = rf_strbuf_printf(&sb, " sha256 %s\n", hex);
		if (!r && !is_content(e->type)) {
			r = rf_strbuf_printf(&sb, "require %s ", rf_attest_type_name(rtype));
			if (!r)
				r = rf_attest_pct_encode(&sb, e->name);
			if (!r)
				r = rf_strbuf_add(&sb, "\n", 1);
		}
	}
	if (r < 0) {
		free(sb.buf);
		return -ENOMEM;
	}
	*out = sb.buf;
	*len = sb.len;
	return 0;
}
