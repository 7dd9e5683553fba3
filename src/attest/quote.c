// SPDX-License-Identifier: MIT
/*
 * quote.c: the measuring context (TPM or software-only), the daemon's log file
 * STATE/attest.log, and quote files: writing them and parsing them (untrusted input:
 * tests/fuzz/fuzz_attest_quote.c). Formats in docs/attest.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "attest/attest.h"
#include "attest/attest_int.h"
#include "content/content.h"

#define LOG_MAGIC "ringfence-attest-log 1"
#define QUOTE_MAGIC "ringfence-attest-quote 1"
#define ATTEST_BLOB_MAX 1024u

struct rf_attest {
	bool tpm;
	char tcti[256];
	char state[2048];
	uint8_t sk[64], pk[32];
	struct rf_attest_log log;
};

bool rf_attest_is_tpm(const struct rf_attest *a)
{
	return a->tpm;
}

const struct rf_attest_log *rf_attest_log(const struct rf_attest *a)
{
	return &a->log;
}

int rf_attest_sha256_file(const char *path, uint8_t out[32])
{
	crypto_hash_sha256_state st;
	uint8_t buf[65536];
	uint64_t total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		total += (uint64_t)n;
		if (total > RF_ATTEST_FILE_MAX) {
			r = -EFBIG;
			break;
		}
		crypto_hash_sha256_update(&st, buf, (size_t)n);
	}
	if (n < 0)
		r = -errno;
	close(fd);
	if (!r)
		crypto_hash_sha256_final(&st, out);
	return r;
}

/* ---- the log file ------------------------------------------------------------- */
static int write_atomic(const char *path, const char *buf, size_t len, mode_t mode)
{
	char tmp[4096];
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		buf += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

static int log_file_write(const struct rf_attest *a)
{
	struct rf_strbuf sb = {0};
	char path[4096];
	int r;

	if (snprintf(path, sizeof(path), "%s/attest.log", a->state) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = rf_strbuf_printf(&sb, "%s\nmode %s\ntcti ", LOG_MAGIC, a->tpm ? "tpm" : "software");
	if (!r)
		r = rf_attest_pct_encode(&sb, a->tpm ? a->tcti : "");
	if (!r)
		r = rf_strbuf_printf(&sb, "\npcr %u\nlog %zu\n", RF_ATTEST_PCR, a->log.n);
	if (!r)
		r = rf_attest_log_format_sb(&a->log, &sb);
	if (!r)
		r = rf_strbuf_add(&sb, "end\n", 4);
	if (!r)
		r = write_atomic(path, sb.buf, sb.len, 0600);
	free(sb.buf);
	return r;
}

static int read_all(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (r) {
		free(buf);
		return r;
	}
	buf[got] = 0;
	*out = buf;
	*len = got;
	return 0;
}

/* One line at *pos (without the newline). -1: no complete line. */
static int next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *ll)
{
	const char *nl;

	if (*pos >= len)
		return -1;
	nl = memchr(buf + *pos, '\n', len - *pos);
	if (!nl)
		return -1;
	*line = buf + *pos;
	*ll = (size_t)(nl - *line);
	*pos += *ll + 1;
	return memchr(*line, 0, *ll) ? -1 : 0;
}

/* "KEY VALUE" with KEY exactly as given: *val points at VALUE. */
static int keyed(const char *line, size_t ll, const char *key, const char **val, size_t *vl)
{
	size_t k = strlen(key);

	if (ll < k + 2 || memcmp(line, key, k) || line[k] != ' ')
		return -1;
	*val = line + k + 1;
	*vl = ll - k - 1;
	return 0;
}

static int parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (!n || n > 10 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

struct log_file {
	bool tpm;
	char tcti[256];
	struct rf_attest_log log;
};

static int log_file_parse(const char *buf, size_t len, struct log_file *f, char *why,
			  size_t whylen)
{
	const char *line, *v;
	size_t pos = 0, ll, vl, used;
	unsigned long n;

	memset(f, 0, sizeof(*f));
	if (next_line(buf, len, &pos, &line, &ll) || ll != strlen(LOG_MAGIC) ||
	    memcmp(line, LOG_MAGIC, ll))
		goto bad;
	if (next_line(buf, len, &pos, &line, &ll) || keyed(line, ll, "mode", &v, &vl))
		goto bad;
	if (vl == 3 && !memcmp(v, "tpm", 3))
		f->tpm = true;
	else if (!(vl == 8 && !memcmp(v, "software", 8)))
		goto bad;
	if (next_line(buf, len, &pos, &line, &ll) || keyed(line, ll, "tcti", &v, &vl) ||
	    rf_attest_pct_decode(v, vl, f->tcti, sizeof(f->tcti)) < 0)
		goto bad;
	if (next_line(buf, len, &pos, &line, &ll) || keyed(line, ll, "pcr", &v, &vl) ||
	    parse_uint(v, vl, 23, &n) || n != RF_ATTEST_PCR)
		goto bad;
	if (next_line(buf, len, &pos, &line, &ll) || keyed(line, ll, "log", &v, &vl) ||
	    parse_uint(v, vl, RF_ATTEST_LOG_MAX, &n))
		goto bad;
	if (rf_attest_log_parse(buf + pos, len - pos, n, &f->log, &used, why, whylen) < 0)
		return -EBADMSG;
	pos += used;
	if (next_line(buf, len, &pos, &line, &ll) || ll != 3 || memcmp(line, "end", 3)) {
		rf_attest_log_fini(&f->log);
		goto bad;
	}
	return 0;
bad:
	snprintf(why, whylen, "attest.log: malformed header or end (not written by this version?)");
	return -EBADMSG;
}

/* ---- the context --------------------------------------------------------------- */
static int sw_key(struct rf_attest *a, bool create)
{
	char base[4096], path[4200];
	int r;

	snprintf(base, sizeof(base), "%s/attest", a->state);
	snprintf(path, sizeof(path), "%s.sec", base);
	r = rf_key_read_secret(path, a->sk);
	if (r == -ENOENT && create) {
		r = rf_key_generate(base, a->pk);
		if (!r)
			r = rf_key_read_secret(path, a->sk);
	}
	if (!r)
		crypto_sign_ed25519_sk_to_pk(a->pk, a->sk);
	return r;
}

static const char *default_tcti(const struct rf_attest_opts *o)
{
	const char *t = o->tcti;

	if (!t || !*t)
		t = getenv("RINGFENCE_TCTI");
	if (!t || !*t)
		t = access("/dev/tpmrm0", F_OK) == 0 ? "device:/dev/tpmrm0" : NULL;
	if (t && !strcmp(t, "none"))
		t = NULL;
	return t;
}

int rf_attest_open(const struct rf_attest_opts *o, struct rf_attest **ret, char *why,
		   size_t whylen)
{
	struct rf_attest *a;
	const char *tcti = o->software ? NULL : default_tcti(o);
	int r;

	why[0] = 0;
	if (sodium_init() < 0)
		return -EIO;
	if (!o->state || strlen(o->state) >= sizeof(a->state))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	snprintf(a->state, sizeof(a->state), "%s", o->state);
	if (mkdir(a->state, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(why, whylen, "cannot create %s: %s", a->state, strerror(errno));
		goto fail;
	}
	if (tcti) {
		struct rf_tpm *t = NULL;
		uint8_t pcr[32], zero[32] = {0};
		char tw[256] = "";

		if (strlen(tcti) >= sizeof(a->tcti)) {
			snprintf(tw, sizeof(tw), "TCTI string too long");
		} else if (rf_tpm_open(tcti, &t, tw, sizeof(tw)) == 0 &&
			   rf_tpm_pcr_reset(t, RF_ATTEST_PCR, tw, sizeof(tw)) == 0 &&
			   rf_tpm_pcr_read(t, RF_ATTEST_PCR, pcr, tw, sizeof(tw)) == 0) {
			if (memcmp(pcr, zero, 32))
				snprintf(tw, sizeof(tw), "PCR %u is not zero after a reset", RF_ATTEST_PCR);
			else
				a->tpm = true;
		}
		rf_tpm_close(t);
		if (a->tpm)
			snprintf(a->tcti, sizeof(a->tcti), "%s", tcti);
		else
			snprintf(why, whylen, "%s: falling back to " RF_ATTEST_SW_WARNING, tw);
	} else {
		snprintf(why, whylen, "%s", o->software ? "software-only mode requested: " RF_ATTEST_SW_WARNING
						       : "no TPM configured or found (/dev/tpmrm0, "
							 "$RINGFENCE_TCTI): " RF_ATTEST_SW_WARNING);
	}
	if (!a->tpm) {
		r = sw_key(a, true);
		if (r < 0) {
			snprintf(why, whylen, "cannot read or create the software attestation key in %s: %s",
				 a->state, strerror(-r));
			goto fail;
		}
	}
	r = log_file_write(a);
	if (r < 0) {
		snprintf(why, whylen, "cannot write %s/attest.log: %s", a->state, strerror(-r));
		goto fail;
	}
	*ret = a;
	return 0;
fail:
	rf_attest_free(a);
	return r;
}

void rf_attest_free(struct rf_attest *a)
{
	if (!a)
		return;
	rf_attest_log_fini(&a->log);
	sodium_memzero(a->sk, sizeof(a->sk));
	free(a);
}

int rf_attest_measure(struct rf_attest *a, int type, const char *name, const uint8_t sha256[32],
		      const char *detail, char *why, size_t whylen)
{
	uint8_t d[32];
	int r = rf_attest_log_append(&a->log, type, name, sha256, detail, d);

	if (r < 0) {
		snprintf(why, whylen, "measurement log: %s", r == -E2BIG ? "full" : "bad name or detail");
		return r;
	}
	if (a->tpm) {
		struct rf_tpm *t = NULL;
		r = rf_tpm_open(a->tcti, &t, why, whylen);
		if (!r)
			r = rf_tpm_pcr_extend(t, RF_ATTEST_PCR, d, why, whylen);
		rf_tpm_close(t);
	}
	int w = log_file_write(a);
	if (!r && w < 0) {
		snprintf(why, whylen, "cannot write %s/attest.log: %s", a->state, strerror(-w));
		r = w;
	}
	return r;
}

int rf_attest_measure_mem(struct rf_attest *a, int type, const char *name, const void *buf,
			  size_t len, const char *detail, char *why, size_t whylen)
{
	uint8_t sha[32];

	crypto_hash_sha256(sha, buf, len);
	return rf_attest_measure(a, type, name, sha, detail, why, whylen);
}

int rf_attest_measure_file(struct rf_attest *a, int type, const char *name, const char *path,
			   const char *detail, char *why, size_t whylen)
{
	uint8_t sha[32];
	int r = rf_attest_sha256_file(path, sha);

	if (r < 0) {
		snprintf(why, whylen, "cannot measure %s: %s", path, strerror(-r));
		return r;
	}
	return rf_attest_measure(a, type, name, sha, detail, why, whylen);
}

int rf_attest_measure_changed(struct rf_attest *a, int type, const char *name,
			      const uint8_t sha256[32], const char *detail, char *why,
			      size_t whylen)
{
	size_t i;

	for (i = a->log.n; i-- > 0;)
		if (a->log.v[i].type == type && !strcmp(a->log.v[i].name, name)) {
			if (!memcmp(a->log.v[i].sha256, sha256, 32))
				return 0;
			break;
		}
	return rf_attest_measure(a, type, name, sha256, detail, why, whylen);
}

/* ---- quotes ------------------------------------------------------------------- */
static int sw_blob(const uint8_t *nonce, size_t nlen, const struct rf_attest_log *l,
		   uint8_t *out, size_t *outlen)
{
	size_t o = 0;

	memcpy(out, RF_ATTEST_SW_MAGIC, 8);
	o = 8;
	out[o++] = (uint8_t)nlen;
	memcpy(out + o, nonce, nlen);
	o += nlen;
	out[o++] = (uint8_t)l->n;
	out[o++] = (uint8_t)(l->n >> 8);
	out[o++] = (uint8_t)(l->n >> 16);
	out[o++] = (uint8_t)(l->n >> 24);
	memcpy(out + o, l->chain, 32);
	o += 32;
	*outlen = o;
	return 0;
}

static int sw_sign(const uint8_t sk[64], const uint8_t *blob, size_t blen, uint8_t sig[64])
{
	uint8_t msg[sizeof(RF_ATTEST_SW_DOMAIN) + ATTEST_BLOB_MAX];

	memcpy(msg, RF_ATTEST_SW_DOMAIN, sizeof(RF_ATTEST_SW_DOMAIN));
	memcpy(msg + sizeof(RF_ATTEST_SW_DOMAIN), blob, blen);
	return crypto_sign_ed25519_detached(sig, NULL, msg, sizeof(RF_ATTEST_SW_DOMAIN) + blen, sk);
}

static int quote_text(bool tpm, const uint8_t *nonce, size_t nlen, const uint8_t *key,
		      size_t keylen, const uint8_t *blob, size_t blen, const uint8_t sig[64],
		      const struct rf_attest_log *l, uint8_t **out, size_t *outlen)
{
	struct rf_strbuf sb = {0};
	char hex[2 * ATTEST_BLOB_MAX + 1];
	int r;

	r = rf_strbuf_printf(&sb, "%s\n", QUOTE_MAGIC);
	if (!r && !tpm)
		r = rf_strbuf_printf(&sb, "# %s\n", RF_ATTEST_SW_WARNING);
	if (!r)
		r = rf_strbuf_printf(&sb, "mode %s\npcr %u\n", tpm ? "tpm" : "software", RF_ATTEST_PCR);
	rf_attest_hex_encode(nonce, nlen, hex);
	if (!r)
		r = rf_strbuf_printf(&sb, "nonce %s\n", hex);
	rf_attest_hex_encode(key, keylen, hex);
	if (!r)
		r = rf_strbuf_printf(&sb, "key %s\n", hex);
	rf_attest_hex_encode(blob, blen, hex);
	if (!r)
		r = rf_strbuf_add(&sb, "attest ", 7);
	if (!r)
		r = rf_strbuf_add(&sb, hex, 2 * blen);
	rf_attest_hex_encode(sig, 64, hex);
	if (!r)
		r = rf_strbuf_printf(&sb, "\nsig %s\nlog %zu\n", hex, l->n);
	if (!r)
		r = rf_attest_log_format_sb(l, &sb);
	if (!r)
		r = rf_strbuf_add(&sb, "end\n", 4);
	if (r < 0) {
		free(sb.buf);
		return -ENOMEM;
	}
	*out = (uint8_t *)sb.buf;
	*outlen = sb.len;
	return 0;
}

static int quote_log(bool tpm, const char *tcti, const uint8_t *sk,
		     const struct rf_attest_log *l, const uint8_t *nonce, size_t nlen,
		     uint8_t **out, size_t *outlen, char *why, size_t whylen)
{
	uint8_t sig[64], key[65], *blob = NULL, swblob[ATTEST_BLOB_MAX];
	size_t blen = 0, keylen;
	int r;

	if (nlen < RF_ATTEST_NONCE_MIN || nlen > RF_ATTEST_NONCE_MAX) {
		snprintf(why, whylen, "the nonce must have %u to %u bytes", RF_ATTEST_NONCE_MIN,
			 RF_ATTEST_NONCE_MAX);
		return -EINVAL;
	}
	if (tpm) {
		struct rf_tpm *t = NULL;
		r = rf_tpm_open(tcti, &t, why, whylen);
		if (!r)
			r = rf_tpm_quote(t, RF_ATTEST_PCR, nonce, nlen, &blob, &blen, sig, key, why,
					 whylen);
		rf_tpm_close(t);
		if (r < 0)
			return r;
		keylen = 65;
		if (blen > ATTEST_BLOB_MAX) {
			free(blob);
			snprintf(why, whylen, "TPM quote too large");
			return -EIO;
		}
	} else {
		sw_blob(nonce, nlen, l, swblob, &blen);
		if (sw_sign(sk, swblob, blen, sig) < 0) {
			snprintf(why, whylen, "signing failed");
			return -EIO;
		}
		crypto_sign_ed25519_sk_to_pk(key, sk);
		keylen = 32;
	}
	r = quote_text(tpm, nonce, nlen, key, keylen, tpm ? blob : swblob, blen, sig, l, out,
		       outlen);
	free(blob);
	return r;
}

int rf_attest_quote_mem(struct rf_attest *a, const uint8_t *nonce, size_t nlen, uint8_t **out,
			size_t *outlen, char *why, size_t whylen)
{
	return quote_log(a->tpm, a->tcti, a->sk, &a->log, nonce, nlen, out, outlen, why, whylen);
}

int rf_attest_quote_state(const char *state, const char *tcti, const uint8_t *nonce,
			  size_t nlen, uint8_t **out, size_t *outlen, char *why, size_t whylen)
{
	char path[4096], *buf = NULL, *buf2 = NULL;
	size_t len, len2;
	struct log_file f;
	int r, tries;

	if (sodium_init() < 0)
		return -EIO;
	if (snprintf(path, sizeof(path), "%s/attest.log", state) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (tries = 0; tries < 10; tries++) {
		r = read_all(path, 4u << 20, &buf, &len);
		if (r < 0) {
			snprintf(why, whylen, "cannot read %s: %s (is the daemon running with this --state?)",
				 path, strerror(-r));
			return r;
		}
		r = log_file_parse(buf, len, &f, why, whylen);
		if (r < 0)
			goto out;
		if (rf_attest_log_replay(&f.log) >= 0) {
			snprintf(why, whylen, "%s: the recorded chain does not follow (file damaged or "
				 "edited)", path);
			rf_attest_log_fini(&f.log);
			r = -EBADMSG;
			goto out;
		}
		if (f.tpm) {
			r = quote_log(true, tcti && *tcti ? tcti : f.tcti, NULL, &f.log, nonce, nlen, out,
				      outlen, why, whylen);
		} else {
			struct rf_attest a = {0};
			snprintf(a.state, sizeof(a.state), "%s", state);
			r = sw_key(&a, false);
			if (r < 0)
				snprintf(why, whylen, "cannot read the software attestation key %s/attest.sec: %s",
					 state, strerror(-r));
			else
				r = quote_log(false, NULL, a.sk, &f.log, nonce, nlen, out, outlen, why,
					      whylen);
			sodium_memzero(a.sk, sizeof(a.sk));
		}
		rf_attest_log_fini(&f.log);
		if (r < 0)
			goto out;
		/* the daemon extends before it rewrites the file: a log unchanged across the
		 * quote is the one the quoted PCR covers */
		if (read_all(path, 4u << 20, &buf2, &len2) == 0 && len2 == len &&
		    !memcmp(buf, buf2, len))
			goto out;
		free(*out);
		*out = NULL;
		free(buf);
		free(buf2);
		buf = buf2 = NULL;
		usleep(10000);
	}
	snprintf(why, whylen, "the log kept changing while quoting; try again");
	r = -EAGAIN;
out:
	free(buf);
	free(buf2);
	return r;
}

/* ---- parsing a quote file (untrusted) ---------------------------------------------- */
void rf_attest_quote_fini(struct rf_attest_quote *q)
{
	if (!q)
		return;
	free(q->attest);
	rf_attest_log_fini(&q->log);
	memset(q, 0, sizeof(*q));
}

static int hexfield(const char *buf, size_t len, size_t *pos, const char *key, uint8_t *out,
		    size_t max, size_t *outlen)
{
	const char *line, *v;
	size_t ll, vl;

	if (next_line(buf, len, pos, &line, &ll) || keyed(line, ll, key, &v, &vl) ||
	    rf_attest_hex_decode(v, vl, out, max, outlen) < 0)
		return -1;
	return 0;
}

int rf_attest_quote_parse(const uint8_t *ubuf, size_t len, struct rf_attest_quote *q, char *why,
			  size_t whylen)
{
	const char *buf = (const char *)ubuf, *line, *v;
	size_t pos = 0, ll, vl, n, used;
	unsigned long u;
	const char *what = "header";

	memset(q, 0, sizeof(*q));
	if (len > RF_ATTEST_QUOTE_MAX) {
		snprintf(why, whylen, "quote: %zu bytes, at most %u", len, RF_ATTEST_QUOTE_MAX);
		return -E2BIG;
	}
	if (next_line(buf, len, &pos, &line, &ll) || ll != strlen(QUOTE_MAGIC) ||
	    memcmp(line, QUOTE_MAGIC, ll))
		goto bad;
	/* comment lines (the software-only warning) */
	for (;;) {
		size_t save = pos;
		what = "mode";
		if (next_line(buf, len, &pos, &line, &ll))
			goto bad;
		if (ll && line[0] == '#')
			continue;
		pos = save;
		break;
	}
	if (next_line(buf, len, &pos, &line, &ll) || keyed(line, ll, "mode", &v, &vl))
		goto bad;
	if (vl == 3 && !memcmp(v, "tpm", 3))
		q->tpm = true;
	else if (!(vl == 8 && !memcmp(v, "software", 8)))
		goto bad;
	what = "pcr";
	if (next_line(buf, len, &pos, &line, &ll) || keyed(line, ll, "pcr", &v, &vl) ||
	    parse_uint(v, vl, 23, &u) || u != RF_ATTEST_PCR)
		goto bad;
	q->pcr = (uint32_t)u;
	what = "nonce";
	if (hexfield(buf, len, &pos, "nonce", q->nonce, sizeof(q->nonce), &q->nlen) ||
	    q->nlen < RF_ATTEST_NONCE_MIN)
		goto bad;
	what = "key";
	if (hexfield(buf, len, &pos, "key", q->key, sizeof(q->key), &q->keylen) ||
	    q->keylen != (q->tpm ? 65u : 32u))
		goto bad;
	what = "attest";
	q->attest = malloc(ATTEST_BLOB_MAX);
	if (!q->attest) {
		snprintf(why, whylen, "quote: out of memory");
		return -ENOMEM;
	}
	if (hexfield(buf, len, &pos, "attest", q->attest, ATTEST_BLOB_MAX, &q->attestlen) ||
	    !q->attestlen)
		goto bad;
	what = "sig";
	if (hexfield(buf, len, &pos, "sig", q->sig, sizeof(q->sig), &n) || n != 64)
		goto bad;
	what = "log";
	if (next_line(buf, len, &pos, &line, &ll) || keyed(line, ll, "log", &v, &vl) ||
	    parse_uint(v, vl, RF_ATTEST_LOG_MAX, &u))
		goto bad;
	if (rf_attest_log_parse(buf + pos, len - pos, u, &q->log, &used, why, whylen) < 0) {
		free(q->attest);
		q->attest = NULL;
		return -EBADMSG;
	}
	pos += used;
	what = "end";
	if (next_line(buf, len, &pos, &line, &ll) || ll != 3 || memcmp(line, "end", 3) ||
	    pos != len)
		goto bad;
	return 0;
bad:
	snprintf(why, whylen, "quote: malformed or missing '%s' line", what);
	rf_attest_quote_fini(q);
	return -EBADMSG;
}
