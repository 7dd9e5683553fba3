// SPDX-License-Identifier: MIT
/* attest_glue.c: the daemon's measurements (attest_glue.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "attest/attest.h"
#include "common/log.h"
#include "content/content.h"
#include "content/content_int.h"
#include "daemon/attest_glue.h"
#include "daemon/manifest.h"
#include "netpolicy.skel.h"
#include "sensor.skel.h"

static struct rf_attest *g_att;
static bool g_failed; /* one loud line per kind of failure is enough */

struct rf_attest *rf_dattest_get(void)
{
	return g_att;
}

static void measured(int r, const char *why)
{
	if (r < 0 && !g_failed) {
		rf_err("ATTESTATION: %s: quotes from now on will not verify", why);
		g_failed = true;
	}
}

static void measure(int type, const char *name, const uint8_t sha[32], const char *detail,
		    bool only_changed)
{
	char why[512];
	int r;

	if (!g_att)
		return;
	r = only_changed ? rf_attest_measure_changed(g_att, type, name, sha, detail, why, sizeof(why))
			 : rf_attest_measure(g_att, type, name, sha, detail, why, sizeof(why));
	measured(r, why);
}

int rf_dattest_start(const char *tcti, const char *state, int argc, char **argv,
		     const char *config)
{
	struct rf_attest_opts o = {.tcti = tcti, .state = state};
	char why[512], exe[PATH_MAX], detail[RF_ATTEST_DETAIL_MAX];
	uint8_t sha[32];
	crypto_hash_sha256_state st;
	ssize_t n;
	size_t dl = 0;
	int r, i;

	if (!getenv("TSS2_LOG"))
		setenv("TSS2_LOG", "all+NONE", 1); /* the TSS would print to stderr; we log */
	r = rf_attest_open(&o, &g_att, why, sizeof(why));
	if (r < 0) {
		rf_err("ATTESTATION OFF: %s", why);
		return r;
	}
	if (rf_attest_is_tpm(g_att))
		rf_info("attestation: measurements extended into TPM PCR %u (%s); log %s/attest.log",
			RF_ATTEST_PCR, tcti && *tcti ? tcti : getenv("RINGFENCE_TCTI") ? getenv("RINGFENCE_TCTI") : "device:/dev/tpmrm0", state);
	else
		rf_warn("ATTESTATION SOFTWARE-ONLY: %s", why);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	r = rf_attest_sha256_file("/proc/self/exe", sha);
	if (r < 0)
		measured(r, "cannot read /proc/self/exe");
	else
		measure(RF_AT_DAEMON, "ringfence", sha, exe, false);
	/* the options (NUL-separated); the detail shows them, cut to fit */
	crypto_hash_sha256_init(&st);
	detail[0] = 0;
	for (i = 0; i < argc; i++) {
		crypto_hash_sha256_update(&st, (const uint8_t *)argv[i], strlen(argv[i]) + 1);
		if (dl + strlen(argv[i]) + 2 < sizeof(detail))
			dl += (size_t)snprintf(detail + dl, sizeof(detail) - dl, "%s%s", i ? " " : "", argv[i]);
	}
	crypto_hash_sha256_final(&st, sha);
	measure(RF_AT_CONFIG, "daemon-options", sha, detail, false);
	rf_dattest_manifests(config);
	return 0;
}

void rf_dattest_stop(void)
{
	rf_attest_free(g_att);
	g_att = NULL;
}

static int conf_filter(const struct dirent *d)
{
	size_t l = strlen(d->d_name);

	return d->d_name[0] != '.' && l > 5 && !strcmp(d->d_name + l - 5, ".conf");
}

void rf_dattest_manifests(const char *config)
{
	struct dirent **v = NULL;
	char dir[PATH_MAX], path[PATH_MAX + 256], name[RF_ATTEST_NAME_MAX];
	int n, i;

	if (!g_att)
		return;
	snprintf(dir, sizeof(dir), "%s/clients.d", config);
	n = scandir(dir, &v, conf_filter, alphasort);
	for (i = 0; i < n; i++) {
		uint8_t sha[32];
		size_t l = strlen(v[i]->d_name) - 5;

		snprintf(path, sizeof(path), "%s/%s", dir, v[i]->d_name);
		snprintf(name, sizeof(name), "%.*s", (int)(l < sizeof(name) - 1 ? l : sizeof(name) - 1),
			 v[i]->d_name);
		if (rf_attest_sha256_file(path, sha) == 0)
			measure(RF_AT_CLIENT_MANIFEST, name, sha, path, true);
		free(v[i]);
	}
	free(v);
}

void rf_dattest_bpf(const char *which)
{
	const void *p = NULL;
	size_t sz = 0;
	uint8_t sha[32];

	if (!g_att)
		return;
	if (!strcmp(which, "sensor"))
		p = rf_sensor_bpf__elf_bytes(&sz);
	else if (!strcmp(which, "netpolicy"))
		p = rf_netpolicy_bpf__elf_bytes(&sz);
	if (!p)
		return;
	crypto_hash_sha256(sha, p, sz);
	measure(RF_AT_BPF, which, sha, "ELF object built into the daemon, loaded", false);
}

void rf_dattest_client(const char *name, pid_t pid, const char *exe)
{
	char proc[64], detail[RF_ATTEST_DETAIL_MAX];
	uint8_t sha[32];
	int r;

	if (!g_att)
		return;
	snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)pid);
	r = rf_attest_sha256_file(proc, sha);
	if (r == 0) {
		snprintf(detail, sizeof(detail), "%s (running, pid %d)", exe, (int)pid);
	} else {
		r = rf_attest_sha256_file(exe, sha);
		snprintf(detail, sizeof(detail), "%s (by path: process already gone)", exe);
	}
	if (r < 0) {
		rf_warn("attestation: cannot measure client '%s' (%s): %s", name, exe, strerror(-r));
		return;
	}
	measure(RF_AT_CLIENT_EXE, name, sha, detail, true);
}

/* The bundle a store slot came from: version and signer keys from its targets. */
static int bundle_info(const char *path, uint8_t sha[32], char *detail, size_t dlen)
{
	struct rf_content_err e;
	struct rf_bundle b;
	struct rf_meta m;
	uint8_t *buf = NULL;
	size_t len, dl;
	unsigned i;
	int r;

	r = rf_bundle_read(path, &buf, &len, &e);
	if (r < 0)
		return r;
	crypto_hash_sha256(sha, buf, len);
	dl = (size_t)snprintf(detail, dlen, "version=%s", "?");
	if (rf_bundle_parse(buf, len, &b, &e) == 0 && rf_meta_parse(b.targets, b.targets_len, &m, &e) == 0) {
		dl = (size_t)snprintf(detail, dlen, "version=%llu signers=",
				      (unsigned long long)b.hdr.content_version);
		/* only keys whose signature over the targets body verifies (a bundle may carry
		 * other signature records; the store checked the threshold at install) */
		size_t ml = sizeof(RF_SIG_CONTEXT) + m.body_len;
		uint8_t *msg = malloc(ml);
		unsigned listed = 0;
		if (msg) {
			memcpy(msg, RF_SIG_CONTEXT, sizeof(RF_SIG_CONTEXT));
			memcpy(msg + sizeof(RF_SIG_CONTEXT), m.body, m.body_len);
		}
		for (i = 0; msg && i < m.nsigs && listed < RF_ATTEST_SIGNERS_MAX && dl + 66 < dlen; i++) {
			if (crypto_sign_ed25519_verify_detached(m.sigs[i] + 32, msg, ml, m.sigs[i]) != 0)
				continue;
			if (listed++)
				detail[dl++] = ',';
			rf_attest_hex_encode(m.sigs[i], 32, detail + dl);
			dl += 64;
		}
		free(msg);
	}
	if (dl + 8 < dlen)
		snprintf(detail + dl, dlen - dl, " bundle=%s", path);
	free(buf);
	return 0;
}

void rf_dattest_content(int type, const struct rf_manifest *m)
{
	char payload[PATH_MAX], path[PATH_MAX + 32], detail[RF_ATTEST_DETAIL_MAX];
	uint8_t sha[32];
	int r;

	if (!g_att || !m->content_store[0])
		return; /* stand-in content directories (m->content) are not measured */
	r = rf_content_current(m->content_store, m->name, payload, sizeof(payload));
	if (r < 0)
		return;
	/* STORE/CLIENT/SLOT/payload -> STORE/CLIENT/SLOT/bundle.rfb */
	char *slash = strrchr(payload, '/');
	if (!slash)
		return;
	*slash = 0;
	snprintf(path, sizeof(path), "%s/bundle.rfb", payload);
	r = bundle_info(path, sha, detail, sizeof(detail));
	if (r < 0) {
		rf_warn("attestation: cannot measure the content of '%s' (%s): %s", m->name, path,
			strerror(-r));
		return;
	}
	measure(type, m->name, sha, detail, type != RF_AT_CONTENT_ROLLBACK);
}

int rf_dattest_fleet_quote(const uint8_t *nonce, size_t nlen, char **b64)
{
	char why[512];
	int r = rf_attest_quote_b64(g_att, nonce, nlen, b64, why, sizeof(why));

	if (r < 0 && r != -ENODATA)
		rf_warn("attestation: no quote for the fleet report: %s", why);
	return r;
}
