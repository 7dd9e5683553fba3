// SPDX-License-Identifier: MIT
/* cmd_content.c: `ringfence content VERB ...` (docs/content.md). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/commands.h"
#include "common/log.h"
#include "content/content.h"
#include "content/content_int.h"
#include "daemon/recent.h"
#include "ringfence/proto.h"
#include "ringfence/ringfence.h"
#include "ringfence/schema.h"

static const char usage_text[] =
	"usage: ringfence content VERB [OPTIONS]\n"
	"\n"
	"Signed, schema-checked, shadow-tested, reversible content updates (docs/content.md).\n"
	"\n"
	"Authoring:\n"
	"  keygen NAME                  write an ed25519 key pair to NAME.sec and NAME.pub\n"
	"  root --version N --root-key PUB... --root-threshold T --targets-key PUB...\n"
	"       --targets-threshold T [--expires-days D | --expires-at UNIX] -o FILE\n"
	"                               write unsigned root metadata; then sign it\n"
	"  build --type TYPE --client NAME --version N [--targets-version N]\n"
	"       [--schema V] [--expires-days D | --expires-at UNIX] [--root FILE]...\n"
	"       [--key SEC]... DIR -o FILE\n"
	"                               pack DIR into a bundle; --root adds rotated root\n"
	"                               versions (oldest first); --key signs the targets\n"
	"  sign --key SEC [--key SEC]... FILE\n"
	"                               add signatures to a root file or to a bundle's targets\n"
	"  validate --type TYPE DIR     run TYPE's validator on DIR, sandboxed\n"
	"\n"
	"Endpoint (--store DIR, default " RF_CONTENT_STORE_DEFAULT "):\n"
	"  init ROOT.rfm                trust this root metadata (first use)\n"
	"  verify [--root ROOT.rfm] BUNDLE\n"
	"                               check signatures, expiry, rollback, length and hash\n"
	"  install (--shadow 'CMD {content} {capture}' [--capture FILE | --socket PATH]\n"
	"       | --no-shadow) [--shadow-cpu SEC] [--shadow-timeout MS]\n"
	"       [--shadow-realtime PCT] [--validate-timeout MS] BUNDLE\n"
	"                               verify, validate (sandboxed), shadow-run, activate;\n"
	"                               the shadow run replays --capture FILE, or else the\n"
	"                               daemon's recording of its last seconds of events\n"
	"                               (daemon socket: --socket, $RINGFENCE_SOCKET or\n"
	"                               " RF_DEFAULT_SOCKET "); the shadow client must\n"
	"                               finish within PCT% (default 100) of the events'\n"
	"                               time span plus 1 s, or it would fall behind\n"
	"  list [CLIENT]                show current and known-good versions\n"
	"  rollback CLIENT              make the last known good version current\n"
	"  mark-good CLIENT             declare the current version known good\n"
	"  recover CLIENT               what the daemon does at start: clean up, count the\n"
	"                               start, roll back after too many unproven starts\n"
	"  check CLIENT                 verify the store's slots against their bundles\n"
	"  current [--good] CLIENT      print the payload directory of the current (or last\n"
	"                               known good) version\n"
	"\n"
	"A refusal prints 'refused (CODE): reason'; exit status 0 ok, 1 refused or failed,\n"
	"2 bad usage. Content types: fieldmap, sigma (refused until a Sigma compiler is\n"
	"linked). The shadow run is skipped only when --no-shadow says so.\n";

struct opts {
	const char *store, *out, *type, *client, *root_file, *capture, *shadow, *socket;
	const char *keys[RF_META_SIGS_MAX];
	unsigned nkeys;
	const char *roots[RF_ROOT_CHAIN_MAX];
	unsigned nroots;
	const char *root_keys[RF_META_KEYS_MAX], *targets_keys[RF_META_KEYS_MAX];
	unsigned nroot_keys, ntargets_keys;
	unsigned long long version, targets_version, expires;
	unsigned root_thr, targets_thr, schema, shadow_cpu, shadow_tmo, validate_tmo, shadow_rt;
	bool have_version, have_targets_version, have_schema, good, no_shadow;
	char *pos[4];
	unsigned npos;
};

static int usage_err(const char *fmt, const char *arg)
{
	char buf[512];

	snprintf(buf, sizeof(buf), fmt, arg);
	rf_err("content: %s ('ringfence content --help' lists the options)", buf);
	return 2;
}

static int num(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return (!*s || *end || errno || s[0] == '-') ? -1 : 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	unsigned long long days = 0, x;
	bool have_days = false;
	int i;

	memset(o, 0, sizeof(*o));
	o->store = getenv("RINGFENCE_CONTENT_STORE");
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-' || !strcmp(a, "-")) {
			if (o->npos >= 4)
				return usage_err("too many arguments at '%s'", a);
			o->pos[o->npos++] = argv[i];
		} else if (!strcmp(a, "--good")) {
			o->good = true;
		} else if (!strcmp(a, "--no-shadow")) {
			o->no_shadow = true;
		} else if (!strcmp(a, "--store") || !strcmp(a, "-o") || !strcmp(a, "--type") ||
			   !strcmp(a, "--client") || !strcmp(a, "--root") ||
			   !strcmp(a, "--capture") || !strcmp(a, "--shadow") ||
			   !strcmp(a, "--socket") ||
			   !strcmp(a, "--key") || !strcmp(a, "--root-key") ||
			   !strcmp(a, "--targets-key")) {
			if (!v)
				return usage_err("%s needs a value", a);
			i++;
			if (!strcmp(a, "--store"))
				o->store = v;
			else if (!strcmp(a, "-o"))
				o->out = v;
			else if (!strcmp(a, "--type"))
				o->type = v;
			else if (!strcmp(a, "--client"))
				o->client = v;
			else if (!strcmp(a, "--capture"))
				o->capture = v;
			else if (!strcmp(a, "--socket"))
				o->socket = v;
			else if (!strcmp(a, "--shadow"))
				o->shadow = v;
			else if (!strcmp(a, "--root")) {
				o->root_file = v;
				if (o->nroots >= RF_ROOT_CHAIN_MAX)
					return usage_err("at most %s --root files", "8");
				o->roots[o->nroots++] = v;
			} else if (!strcmp(a, "--key")) {
				if (o->nkeys >= RF_META_SIGS_MAX)
					return usage_err("too many %s", "--key");
				o->keys[o->nkeys++] = v;
			} else if (!strcmp(a, "--root-key")) {
				if (o->nroot_keys >= RF_META_KEYS_MAX)
					return usage_err("too many %s", "--root-key");
				o->root_keys[o->nroot_keys++] = v;
			} else {
				if (o->ntargets_keys >= RF_META_KEYS_MAX)
					return usage_err("too many %s", "--targets-key");
				o->targets_keys[o->ntargets_keys++] = v;
			}
		} else if (!strcmp(a, "--version") || !strcmp(a, "--targets-version") ||
			   !strcmp(a, "--expires-days") || !strcmp(a, "--expires-at") ||
			   !strcmp(a, "--root-threshold") || !strcmp(a, "--targets-threshold") ||
			   !strcmp(a, "--schema") || !strcmp(a, "--shadow-cpu") ||
			   !strcmp(a, "--shadow-timeout") || !strcmp(a, "--validate-timeout") ||
			   !strcmp(a, "--shadow-realtime")) {
			if (!v || num(v, &x) < 0)
				return usage_err("%s needs a non-negative number", a);
			i++;
			if (!strcmp(a, "--version")) {
				o->version = x;
				o->have_version = true;
			} else if (!strcmp(a, "--targets-version")) {
				o->targets_version = x;
				o->have_targets_version = true;
			} else if (!strcmp(a, "--expires-days")) {
				days = x;
				have_days = true;
			} else if (!strcmp(a, "--expires-at"))
				o->expires = x;
			else if (x > 0xffffffffull)
				return usage_err("%s: number too large", a);
			else if (!strcmp(a, "--root-threshold"))
				o->root_thr = (unsigned)x;
			else if (!strcmp(a, "--targets-threshold"))
				o->targets_thr = (unsigned)x;
			else if (!strcmp(a, "--schema")) {
				o->schema = (unsigned)x;
				o->have_schema = true;
			} else if (!strcmp(a, "--shadow-cpu"))
				o->shadow_cpu = (unsigned)x;
			else if (!strcmp(a, "--shadow-timeout"))
				o->shadow_tmo = (unsigned)x;
			else if (!strcmp(a, "--shadow-realtime")) {
				if (x < 1 || x > 10000)
					return usage_err("--shadow-realtime wants a percentage from 1 to 10000%s", "");
				o->shadow_rt = (unsigned)x;
			}
			else
				o->validate_tmo = (unsigned)x;
		} else {
			return usage_err("unknown option '%s'", a);
		}
	}
	if (!o->expires)
		o->expires = (unsigned long long)time(NULL) + (have_days ? days : 365) * 86400ull;
	return 0;
}

static int refused(const char *what, const struct rf_content_err *e, int r)
{
	if (e->code)
		rf_err("%s refused (%s): %s", what, rf_content_code_name(e->code), e->msg);
	else
		rf_err("%s failed: %s", what, strerror(-r));
	return 1;
}

static int cmd_keygen(struct opts *o)
{
	uint8_t pk[RF_PUBKEY_LEN];
	char hex[2 * RF_PUBKEY_LEN + 1];
	int r;

	if (o->npos != 1)
		return usage_err("keygen needs one NAME (writes NAME.sec and NAME.pub)%s", "");
	r = rf_key_generate(o->pos[0], pk);
	if (r < 0) {
		rf_err("keygen: %s.{sec,pub}: %s (an existing key is never overwritten)", o->pos[0],
		       strerror(-r));
		return 1;
	}
	rf_hex(pk, RF_PUBKEY_LEN, hex);
	printf("%s\n", hex);
	return 0;
}

static int read_pubs(const char *const *files, unsigned n, struct rf_role_keys *rk)
{
	unsigned i;

	rk->nkeys = (uint16_t)n;
	for (i = 0; i < n; i++) {
		int r = rf_key_read_public(files[i], rk->keys[i]);
		if (r < 0) {
			rf_err("%s: not a public key file (%s)", files[i], strerror(-r));
			return -1;
		}
	}
	return 0;
}

static int cmd_root(struct opts *o)
{
	struct rf_role_keys rk = {0}, tk = {0};
	uint8_t *env;
	size_t len;
	int r;

	if (!o->have_version || !o->nroot_keys || !o->ntargets_keys || !o->out || o->npos)
		return usage_err("root needs --version, --root-key, --targets-key and -o%s", "");
	rk.threshold = (uint8_t)(o->root_thr ? o->root_thr : 1);
	tk.threshold = (uint8_t)(o->targets_thr ? o->targets_thr : 1);
	if (rk.threshold > o->nroot_keys || tk.threshold > o->ntargets_keys)
		return usage_err("a threshold is larger than the number of keys%s", "");
	if (read_pubs(o->root_keys, o->nroot_keys, &rk) < 0 ||
	    read_pubs(o->targets_keys, o->ntargets_keys, &tk) < 0)
		return 1;
	r = rf_meta_build_root(o->version, o->expires, &rk, &tk, &env, &len);
	if (r == 0)
		r = rf_meta_file_write(o->out, env, len);
	if (r < 0) {
		rf_err("root: %s: %s", o->out, strerror(-r));
		return 1;
	}
	free(env);
	return 0;
}

static int sign_env(struct opts *o, uint8_t **env, size_t *len)
{
	uint8_t sk[RF_SECKEY_LEN];
	unsigned i;
	int r;

	if (sodium_init() < 0)
		return -EIO;
	for (i = 0; i < o->nkeys; i++) {
		r = rf_key_read_secret(o->keys[i], sk);
		if (r < 0) {
			rf_err("%s: not a secret key file (%s)", o->keys[i], strerror(-r));
			return r;
		}
		r = rf_meta_sign(env, len, sk);
		sodium_memzero(sk, sizeof(sk));
		if (r < 0) {
			rf_err("signing with %s: %s", o->keys[i], strerror(-r));
			return r;
		}
	}
	return 0;
}

static int rebuild_bundle(const struct rf_bundle *b, const uint8_t *targets, size_t tlen,
			  uint8_t **out, size_t *outlen)
{
	const uint8_t *roots[RF_ROOT_CHAIN_MAX];
	size_t rl[RF_ROOT_CHAIN_MAX];
	struct rf_bundle_hdr h = b->hdr;
	unsigned i;

	for (i = 0; i < b->nroots; i++) {
		roots[i] = b->roots[i];
		rl[i] = b->roots_len[i];
	}
	h.payload_len = b->payload_avail;
	return rf_bundle_write(&h, roots, rl, b->nroots, targets, tlen, b->payload, out, outlen);
}

static int cmd_sign(struct opts *o)
{
	struct rf_content_err e = {0};
	uint8_t *buf = NULL, *env = NULL, *out = NULL;
	size_t len, elen, olen;
	int r, rc = 1;

	if (o->npos != 1 || !o->nkeys)
		return usage_err("sign needs --key SEC and one FILE%s", "");
	r = rf_read_file(o->pos[0], RF_BUNDLE_MAX, &buf, &len);
	if (r < 0) {
		rf_err("sign: %s: %s", o->pos[0], strerror(-r));
		return 1;
	}
	if (len >= 8 && !memcmp(buf, RF_META_FILE_MAGIC, 8)) {
		elen = len - 8;
		env = malloc(elen ? elen : 1);
		if (!env)
			goto out;
		memcpy(env, buf + 8, elen);
		if (sign_env(o, &env, &elen) < 0)
			goto out;
		r = rf_meta_file_write(o->out ? o->out : o->pos[0], env, elen);
	} else {
		struct rf_bundle b;
		r = rf_bundle_parse(buf, len, &b, &e);
		if (r < 0) {
			rf_err("sign: %s: neither metadata nor a bundle: %s", o->pos[0], e.msg);
			goto out;
		}
		elen = b.targets_len;
		env = malloc(elen);
		if (!env)
			goto out;
		memcpy(env, b.targets, elen);
		if (sign_env(o, &env, &elen) < 0)
			goto out;
		r = rebuild_bundle(&b, env, elen, &out, &olen);
		if (r == 0)
			r = rf_write_atomic(o->out ? o->out : o->pos[0], out, olen, NULL);
	}
	if (r < 0) {
		rf_err("sign: writing %s: %s", o->out ? o->out : o->pos[0], strerror(-r));
		goto out;
	}
	rc = 0;
out:
	free(buf);
	free(env);
	free(out);
	return rc;
}

static int cmd_build(struct opts *o)
{
	struct rf_content_err e = {0};
	struct rf_bundle_hdr h = {0};
	struct rf_target t = {0};
	const uint8_t *roots[RF_ROOT_CHAIN_MAX];
	uint8_t *rbuf[RF_ROOT_CHAIN_MAX] = {0}, *payload = NULL, *env = NULL, *out = NULL;
	size_t rlen[RF_ROOT_CHAIN_MAX], plen, elen, olen;
	unsigned i;
	int r, rc = 1;

	if (o->npos != 1 || !o->type || !o->client || !o->have_version || !o->out)
		return usage_err("build needs --type, --client, --version, DIR and -o FILE%s", "");
	if (strlen(o->type) >= RF_CONTENT_TYPE_MAX || strlen(o->client) >= RF_CONTENT_CLIENT_MAX)
		return usage_err("type or client name too long%s", "");
	for (i = 0; i < o->nroots; i++) {
		r = rf_meta_file_read(o->roots[i], &rbuf[i], &rlen[i]);
		if (r < 0) {
			rf_err("build: %s: not a root metadata file (%s)", o->roots[i], strerror(-r));
			goto out;
		}
		roots[i] = rbuf[i];
	}
	r = rf_archive_pack(o->pos[0], &payload, &plen, &e);
	if (r < 0) {
		rf_err("build: %s", e.msg[0] ? e.msg : strerror(-r));
		goto out;
	}
	snprintf(t.type, sizeof(t.type), "%s", o->type);
	snprintf(t.client, sizeof(t.client), "%s", o->client);
	t.content_version = o->version;
	t.schema_version = o->have_schema ? o->schema : rf_schema_version();
	t.length = plen;
	rf_sha256(payload, plen, t.sha256);
	r = rf_meta_build_targets(o->have_targets_version ? o->targets_version : o->version,
				  o->expires, &t, &env, &elen);
	if (r < 0 || sign_env(o, &env, &elen) < 0) {
		rf_err("build: targets metadata: %s", strerror(r < 0 ? -r : EINVAL));
		goto out;
	}
	memcpy(h.type, t.type, sizeof(h.type));
	memcpy(h.client, t.client, sizeof(h.client));
	h.content_version = t.content_version;
	h.schema_version = t.schema_version;
	h.payload_len = plen;
	memcpy(h.payload_sha256, t.sha256, RF_SHA256_LEN);
	r = rf_bundle_write(&h, roots, rlen, o->nroots, env, elen, payload, &out, &olen);
	if (r == 0)
		r = rf_write_atomic(o->out, out, olen, NULL);
	if (r < 0) {
		rf_err("build: %s: %s", o->out, strerror(-r));
		goto out;
	}
	printf("%s: %s for %s, version %llu, %zu payload bytes, %u signature%s\n", o->out,
	       t.type, t.client, (unsigned long long)t.content_version, plen, o->nkeys,
	       o->nkeys == 1 ? "" : "s");
	rc = 0;
out:
	for (i = 0; i < o->nroots; i++)
		free(rbuf[i]);
	free(payload);
	free(env);
	free(out);
	return rc;
}

static int cmd_init(struct opts *o)
{
	uint8_t *root;
	size_t len;
	int r;

	if (o->npos != 1)
		return usage_err("init needs ROOT.rfm%s", "");
	r = rf_meta_file_read(o->pos[0], &root, &len);
	if (r < 0) {
		rf_err("init: %s: not a root metadata file (%s)", o->pos[0], strerror(-r));
		return 1;
	}
	r = rf_content_store_init(o->store, root, len);
	free(root);
	if (r < 0) {
		rf_err("init: %s: %s (root must be signed by its own root keys)", o->pos[0],
		       strerror(-r));
		return 1;
	}
	printf("trusted root installed in %s\n", o->store ? o->store : RF_CONTENT_STORE_DEFAULT);
	return 0;
}

static int cmd_verify(struct opts *o)
{
	struct rf_content_err e = {0};
	struct rf_content_state st;
	struct rf_installed inst = {0};
	struct rf_verified v;
	struct rf_bundle b;
	uint8_t *buf = NULL, *root = NULL;
	size_t len, rlen;
	char path[4096];
	bool have = false;
	int r, rc = 1;

	if (o->npos != 1)
		return usage_err("verify needs one BUNDLE%s", "");
	if (o->root_file)
		snprintf(path, sizeof(path), "%s", o->root_file);
	else
		snprintf(path, sizeof(path), "%s/root.rfm",
			 o->store ? o->store : RF_CONTENT_STORE_DEFAULT);
	r = rf_meta_file_read(path, &root, &rlen);
	if (r < 0) {
		rf_err("verify: %s: no trusted root (%s): give --root or run 'content init'", path,
		       strerror(-r));
		return 1;
	}
	r = rf_bundle_read(o->pos[0], &buf, &len, &e);
	if (r < 0) {
		rc = refused("verify", &e, r);
		goto out;
	}
	if (!o->root_file && rf_bundle_parse(buf, len, &b, NULL) == 0 &&
	    rf_content_state_read(o->store, b.hdr.client, &st) == 0) {
		inst.content_version = st.highest_version;
		inst.targets_version = st.targets_version;
		have = true;
	}
	r = rf_bundle_verify(buf, len, root, rlen, time(NULL), have ? &inst : NULL, &v, &e);
	if (r < 0) {
		rc = refused("verify", &e, r);
		goto out;
	}
	printf("%s: good: %s for %s, version %llu, schema %u, root v%llu, targets v%llu\n",
	       o->pos[0], v.target.type, v.target.client,
	       (unsigned long long)v.target.content_version, v.target.schema_version,
	       (unsigned long long)v.root_version, (unsigned long long)v.targets_version);
	free(v.new_root);
	rc = 0;
out:
	free(buf);
	free(root);
	return rc;
}

static char **split_cmd(const char *s)
{
	char *copy = strdup(s), *save = NULL, *tok;
	char **argv;
	size_t n = 0;

	argv = calloc(strlen(s) / 2 + 2, sizeof(*argv));
	if (!copy || !argv) {
		free(copy);
		free(argv);
		return NULL;
	}
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		argv[n++] = tok;
	if (!n) {
		free(copy);
		free(argv);
		return NULL;
	}
	return argv; /* argv[0] owns copy */
}

/* The shadow run's events when no --capture is given: the daemon's recording of its
 * last seconds, copied into a private file in the store. Returns 0 or an exit code. */
static int fetch_recent(const struct opts *o, char *path, size_t len)
{
	const char *store = o->store ? o->store : RF_CONTENT_STORE_DEFAULT;
	struct rf_msg_recent info;
	char err[512];
	int fd;

	snprintf(path, len, "%s/.recent-XXXXXX", store);
	fd = mkstemp(path);
	if (fd < 0) {
		rf_err("install: cannot create a file for the recording in %s: %s", store,
		       strerror(errno));
		path[0] = 0;
		return 1;
	}
	close(fd);
	if (rf_recent_fetch(o->socket, path, &info, err, sizeof(err)) < 0) {
		rf_err("install: the shadow run needs events: %s; give --capture FILE", err);
		goto fail;
	}
	if (!info.events) {
		rf_err("install: the daemon's recording of its last %u s is empty: nothing to "
		       "shadow-test against; give --capture FILE", info.window_s);
		goto fail;
	}
	rf_info("install: shadow run on the daemon's recording: %llu events over %.1f s "
		"(window %u s)", (unsigned long long)info.events,
		(double)(info.newest_ns - info.oldest_ns) / 1e9, info.window_s);
	return 0;
fail:
	unlink(path);
	path[0] = 0;
	return 1;
}

static int cmd_install(struct opts *o)
{
	struct rf_content_err e = {0};
	struct rf_content_state st;
	struct rf_install_opts io = {0};
	struct rf_shadow sh = {0};
	char recent[4096] = "";
	int r;

	if (o->npos != 1)
		return usage_err("install needs one BUNDLE%s", "");
	if (o->capture && o->socket)
		return usage_err("give --capture FILE or --socket PATH (the daemon's recording), "
				 "not both%s", "");
	if (!o->shadow == !o->no_shadow)
		return usage_err("install needs either --shadow 'CMD {content} {capture}' or, "
				 "to skip the shadow run deliberately, --no-shadow%s", "");
	io.store = o->store;
	io.validate_timeout_ms = o->validate_tmo;
	if (o->shadow) {
		sh.argv = split_cmd(o->shadow);
		if (!sh.argv)
			return usage_err("--shadow '%s': empty command", o->shadow);
		sh.capture = o->capture;
		if (!sh.capture && strstr(o->shadow, "{capture}")) {
			r = fetch_recent(o, recent, sizeof(recent));
			if (r) {
				free(sh.argv[0]);
				free(sh.argv);
				return r;
			}
			sh.capture = recent;
		}
		sh.cpu_s = o->shadow_cpu;
		sh.timeout_ms = o->shadow_tmo;
		sh.realtime_pct = o->shadow_rt;
		io.shadow = &sh;
	} else {
		rf_warn("install: --no-shadow: the shadow run is skipped");
	}
	r = rf_content_install(o->pos[0], &io, &st, &e);
	if (recent[0])
		unlink(recent);
	if (sh.argv) {
		free(sh.argv[0]);
		free(sh.argv);
	}
	if (r < 0)
		return refused("install", &e, r);
	printf("installed: %s content version %llu is current (slot %c); last known good: ",
	       st.type, (unsigned long long)st.current_version, st.current_slot);
	if (st.good_slot)
		printf("version %llu (slot %c)\n", (unsigned long long)st.good_version,
		       st.good_slot);
	else
		printf("none yet\n");
	return 0;
}

static void print_state(const char *client, const struct rf_content_state *st)
{
	char cur[32], good[32];

	snprintf(cur, sizeof(cur), "%llu (%c)", (unsigned long long)st->current_version,
		 st->current_slot);
	if (st->good_slot)
		snprintf(good, sizeof(good), "%llu (%c)", (unsigned long long)st->good_version,
			 st->good_slot);
	else
		snprintf(good, sizeof(good), "-");
	printf("%-20s %-10s %-12s %-12s %s\n", client, st->type, cur, good,
	       st->current_slot == st->good_slot ? "good" : "attempting");
}

static int cmd_list(struct opts *o)
{
	struct rf_content_state st;
	char path[4096];
	int r, shown = 0;

	printf("%-20s %-10s %-12s %-12s %s\n", "CLIENT", "TYPE", "CURRENT", "LAST-GOOD", "STATUS");
	if (o->npos == 1) {
		r = rf_content_state_read(o->store, o->pos[0], &st);
		if (r < 0) {
			rf_err("list: %s: %s", o->pos[0],
			       r == -ENOENT ? "no content installed" : strerror(-r));
			return 1;
		}
		print_state(o->pos[0], &st);
		return 0;
	}
	snprintf(path, sizeof(path), "%s", o->store ? o->store : RF_CONTENT_STORE_DEFAULT);
	{
		struct dirent **ents = NULL;
		int n = scandir(path, &ents, NULL, alphasort), i;
		for (i = 0; i < n; i++) {
			if (ents[i]->d_name[0] != '.' &&
			    rf_content_state_read(o->store, ents[i]->d_name, &st) == 0) {
				print_state(ents[i]->d_name, &st);
				shown++;
			}
			free(ents[i]);
		}
		free(ents);
	}
	return 0;
}

static int client_arg(struct opts *o, const char *verb)
{
	if (o->npos != 1)
		return usage_err("%s needs one CLIENT", verb);
	return 0;
}

static int cmd_rollback(struct opts *o)
{
	struct rf_content_state st;
	int r;

	if (client_arg(o, "rollback"))
		return 2;
	r = rf_content_rollback(o->store, o->pos[0], &st);
	if (r == -EALREADY) {
		rf_err("rollback: %s already runs its last known good version %llu: nothing to "
		       "roll back to",
		       o->pos[0], (unsigned long long)st.good_version);
		return 1;
	}
	if (r == -ENOENT) {
		rf_err("rollback: %s has no known good version (mark one with 'content "
		       "mark-good')",
		       o->pos[0]);
		return 1;
	}
	if (r < 0) {
		rf_err("rollback: %s: %s", o->pos[0], strerror(-r));
		return 1;
	}
	printf("%s: rolled back to version %llu (slot %c)\n", o->pos[0],
	       (unsigned long long)st.current_version, st.current_slot);
	return 0;
}

static int cmd_mark_good(struct opts *o)
{
	int r;

	if (client_arg(o, "mark-good"))
		return 2;
	r = rf_content_mark_good(o->store, o->pos[0]);
	if (r < 0) {
		rf_err("mark-good: %s: %s", o->pos[0], strerror(-r));
		return 1;
	}
	return 0;
}

static int cmd_recover(struct opts *o)
{
	bool rb;
	int r;

	if (client_arg(o, "recover"))
		return 2;
	r = rf_content_recover(o->store, o->pos[0], &rb);
	if (r < 0) {
		rf_err("recover: %s: %s", o->pos[0], strerror(-r));
		return 1;
	}
	if (rb)
		printf("%s: too many starts without reaching known good: rolled back\n",
		       o->pos[0]);
	return 0;
}

static int cmd_check(struct opts *o)
{
	struct rf_content_err e = {0};
	struct rf_content_state st;
	int r;

	if (client_arg(o, "check"))
		return 2;
	r = rf_content_check(o->store, o->pos[0], &e);
	if (r < 0)
		return refused("check", &e, r);
	r = rf_content_state_read(o->store, o->pos[0], &st);
	if (r < 0)
		return 1;
	printf("%s: consistent: current %llu (slot %c), last good ", o->pos[0],
	       (unsigned long long)st.current_version, st.current_slot);
	if (st.good_slot)
		printf("%llu (slot %c)\n", (unsigned long long)st.good_version, st.good_slot);
	else
		printf("none\n");
	return 0;
}

static int cmd_current(struct opts *o)
{
	char path[4096];
	int r;

	if (client_arg(o, "current"))
		return 2;
	r = o->good ? rf_content_last_good(o->store, o->pos[0], path, sizeof(path))
		    : rf_content_current(o->store, o->pos[0], path, sizeof(path));
	if (r < 0) {
		rf_err("current: %s: %s", o->pos[0],
		       r == -ENOENT ? (o->good ? "no known good version" : "no content installed")
				    : strerror(-r));
		return 1;
	}
	printf("%s\n", path);
	return 0;
}

static int cmd_validate(struct opts *o)
{
	struct rf_content_err e = {0};
	int r;

	if (o->npos != 1 || !o->type)
		return usage_err("validate needs --type TYPE and DIR%s", "");
	r = rf_content_validate_sandboxed(o->type, o->pos[0], o->validate_tmo, &e);
	if (r < 0)
		return refused("validate", &e, r);
	printf("%s: valid %s content\n", o->pos[0], o->type);
	return 0;
}

int rf_cmd_content(int argc, char **argv)
{
	static const struct {
		const char *verb;
		int (*fn)(struct opts *o);
	} verbs[] = {
		{"keygen", cmd_keygen}, {"root", cmd_root}, {"build", cmd_build},
		{"sign", cmd_sign}, {"init", cmd_init}, {"verify", cmd_verify},
		{"install", cmd_install}, {"list", cmd_list}, {"rollback", cmd_rollback},
		{"mark-good", cmd_mark_good}, {"recover", cmd_recover}, {"check", cmd_check},
		{"validate", cmd_validate}, {"current", cmd_current},
	};
	struct opts o;
	size_t i;
	int r;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].verb))
			continue;
		if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
			fputs(usage_text, stdout);
			return 0;
		}
		r = parse(argc - 2, argv + 2, &o);
		if (r)
			return r;
		return verbs[i].fn(&o);
	}
	return usage_err("unknown verb '%s'", argv[1]);
}
