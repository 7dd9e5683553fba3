// SPDX-License-Identifier: MIT
/* cmd_fleet.c: `ringfence fleet VERB ...` (docs/fleet.md). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "cli/commands.h"
#include "common/log.h"
#include "content/content.h"
#include "content/content_int.h"
#include "fleet/server.h"
#include "fleet/sim.h"

static const char usage_text[] =
	"usage: ringfence fleet VERB [OPTIONS]\n"
	"\n"
	"Staged content rollout to a fleet: rings, health gates, automatic halt and\n"
	"rollback (docs/fleet.md).\n"
	"\n"
	"  serve --repo DIR [--listen ADDR:PORT] [--store URL] [--config FILE]\n"
	"        [--admin-token-file FILE] [--targets-key SEC] [--port-file FILE]\n"
	"        [--threads N] [--scan-s N] [--expires-days D]\n"
	"              the rollout controller: POST /v1/report, the status page at /,\n"
	"              GET /v1/status; admin requests need the token of --admin-token-file\n"
	"              (created, mode 0600, when missing). --store: a SQLite file (default\n"
	"              none: state in memory only) or a PostgreSQL URL (postgresql://...).\n"
	"              --targets-key signs rollback versions (N+1 carrying the old content)\n"
	"  publish --repo DIR [--root ROOT.rfm] [BUNDLE...]\n"
	"              put signed bundles into DIR/targets/CLIENT/VERSION.rfb (atomic,\n"
	"              never replacing a version); --root installs DIR/root.rfm\n"
	"  pin --controller URL --admin-token-file FILE HOST CLIENT VERSION\n"
	"              keep HOST on VERSION of CLIENT (0 removes the pin)\n"
	"  override --controller URL --admin-token-file FILE HOST RING\n"
	"              put HOST into RING (canary, early, broad, holdback; none removes)\n"
	"  status --controller URL      print the controller's status JSON\n"
	"  sim [--endpoints N] [--scenario good|bad] [--config FILE] [--seed N]\n"
	"      [--hours H] [--bad-fraction F] [--bad-silent F] [--internal-fraction F]\n"
	"      [--crash-rate P] [--offline-rate P] [--quiet]\n"
	"              drive N simulated endpoints through the real rollout core on a\n"
	"              simulated clock; print time to full rollout, time to halt, blast\n"
	"              radius and endpoints left on bad content; exit 1 when a goal is missed\n"
	"\n"
	"Exit status: 0 ok, 1 failure, 2 bad usage.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage_err(const char *msg, const char *arg)
{
	rf_err("fleet: %s%s ('ringfence fleet --help' lists the options)", msg, arg ? arg : "");
	return 2;
}

static int read_token(const char *path, bool create, char *tok, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f && errno == ENOENT && create) {
		uint8_t rnd[24];
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(tok, len, rnd, sizeof(rnd));
		if (write(fd, tok, strlen(tok)) < 0 || write(fd, "\n", 1) < 0) {
			close(fd);
			return -EIO;
		}
		close(fd);
		return 0;
	}
	if (!f)
		return -errno;
	if (!fgets(tok, (int)len, f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	tok[strcspn(tok, "\r\n")] = 0;
	return strlen(tok) >= 16 ? 0 : -EINVAL;
}

static int cmd_serve(int argc, char **argv)
{
	struct rf_fleet_serve_opts o = {.listen = "127.0.0.1:8440", .expires_days = 30};
	const char *config = NULL, *token_file = NULL;
	char token[128], err[300];
	struct sigaction sa = {.sa_handler = on_signal};
	int i, r;

	rf_fleet_config_default(&o.cfg);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return usage_err("missing value or unknown option: ", a);
		i++;
		if (!strcmp(a, "--repo"))
			o.repo = v;
		else if (!strcmp(a, "--listen"))
			o.listen = v;
		else if (!strcmp(a, "--store"))
			o.store_url = v;
		else if (!strcmp(a, "--config"))
			config = v;
		else if (!strcmp(a, "--admin-token-file"))
			token_file = v;
		else if (!strcmp(a, "--targets-key"))
			o.targets_key = v;
		else if (!strcmp(a, "--port-file"))
			o.port_file = v;
		else if (!strcmp(a, "--threads"))
			o.threads = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--scan-s"))
			o.scan_s = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--expires-days"))
			o.expires_days = (unsigned)strtoul(v, NULL, 10);
		else
			return usage_err("unknown option ", a);
	}
	if (!o.repo)
		return usage_err("serve needs --repo DIR", NULL);
	if (config && rf_fleet_config_load(config, &o.cfg, err, sizeof(err)) < 0) {
		rf_err("fleet: %s", err);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (token_file) {
		r = read_token(token_file, true, token, sizeof(token));
		if (r < 0) {
			rf_err("fleet: --admin-token-file %s: %s (at least 16 characters)", token_file,
			       strerror(-r));
			return 1;
		}
		o.admin_token = token;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = rf_fleet_serve(&o, &stop);
	return r < 0 ? 1 : 0;
}

static int cmd_publish(int argc, char **argv)
{
	const char *repo = NULL, *root = NULL;
	const char *bundles[64];
	unsigned nb = 0;
	char err[400];
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repo") && i + 1 < argc)
			repo = argv[++i];
		else if (!strcmp(argv[i], "--root") && i + 1 < argc)
			root = argv[++i];
		else if (argv[i][0] == '-')
			return usage_err("unknown option or missing value: ", argv[i]);
		else if (nb < 64)
			bundles[nb++] = argv[i];
		else
			return usage_err("at most 64 bundles at once", NULL);
	}
	if (!repo || (!root && !nb))
		return usage_err("publish needs --repo DIR and --root FILE or bundles", NULL);
	if (mkdir(repo, 0755) < 0 && errno != EEXIST) {
		rf_err("fleet: %s: %s", repo, strerror(errno));
		return 1;
	}
	if (root) {
		uint8_t *env = NULL;
		size_t len;
		char path[4096];
		struct rf_meta m;
		struct rf_content_err e;
		int r = rf_meta_file_read(root, &env, &len);
		if (r == 0 && (rf_meta_parse(env, len, &m, &e) < 0 || m.type != RF_META_ROOT ||
			       rf_meta_check_sigs(&m, &m, RF_ROLE_ROOT, &e) < 0))
			r = -EINVAL;
		snprintf(path, sizeof(path), "%s/root.rfm", repo);
		if (r == 0)
			r = rf_meta_file_write(path, env, len);
		free(env);
		if (r < 0) {
			rf_err("fleet: %s: not a self-signed root metadata file or not writable (%s)",
			       root, strerror(-r));
			return 1;
		}
		printf("%s: root installed\n", path);
	}
	for (unsigned b = 0; b < nb; b++) {
		char client[RF_FLEET_CLIENT_NAME_MAX];
		uint64_t v;
		if (rf_fleet_publish(repo, bundles[b], client, &v, err, sizeof(err)) < 0) {
			rf_err("fleet: publish: %s", err);
			rc = 1;
			continue;
		}
		printf("%s/targets/%s/%llu.rfb: published\n", repo, client, (unsigned long long)v);
	}
	return rc;
}

static size_t sink(char *p, size_t sz, size_t n, void *ctx)
{
	fwrite(p, sz, n, (FILE *)ctx);
	return sz * n;
}

static int http(const char *url, const char *token, bool post)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char auth[200];
	long code = 0;
	CURLcode cr;

	if (!c)
		return 1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, stdout);
	if (post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	cr = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	printf("\n");
	if (cr != CURLE_OK) {
		rf_err("fleet: %s: %s", url, curl_easy_strerror(cr));
		return 1;
	}
	if (code != 200) {
		rf_err("fleet: %s: HTTP %ld", url, code);
		return 1;
	}
	return 0;
}

static int cmd_admin(int argc, char **argv, bool pin)
{
	const char *ctl = NULL, *tf = NULL, *pos[3];
	unsigned np = 0, want = pin ? 3 : 2;
	char token[128], url[1024], *eh = NULL, *ec = NULL, *ev = NULL;
	CURL *c;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--controller") && i + 1 < argc)
			ctl = argv[++i];
		else if (!strcmp(argv[i], "--admin-token-file") && i + 1 < argc)
			tf = argv[++i];
		else if (argv[i][0] == '-')
			return usage_err("unknown option or missing value: ", argv[i]);
		else if (np < 3)
			pos[np++] = argv[i];
		else
			return usage_err("too many arguments at ", argv[i]);
	}
	if (!ctl || !tf || np != want)
		return usage_err(pin ? "pin needs --controller, --admin-token-file, HOST CLIENT VERSION"
				     : "override needs --controller, --admin-token-file, HOST RING",
				 NULL);
	r = read_token(tf, false, token, sizeof(token));
	if (r < 0) {
		rf_err("fleet: %s: %s", tf, strerror(-r));
		return 1;
	}
	c = curl_easy_init();
	if (!c)
		return 1;
	eh = curl_easy_escape(c, pos[0], 0);
	ec = curl_easy_escape(c, pos[1], 0);
	if (pin)
		ev = curl_easy_escape(c, pos[2], 0);
	if (pin)
		snprintf(url, sizeof(url), "%s/v1/admin/pin?host=%s&client=%s&version=%s", ctl, eh,
			 ec, ev);
	else
		snprintf(url, sizeof(url), "%s/v1/admin/override?host=%s&ring=%s", ctl, eh, ec);
	curl_free(eh);
	curl_free(ec);
	curl_free(ev);
	curl_easy_cleanup(c);
	return http(url, token, true);
}

static int cmd_status(int argc, char **argv)
{
	char url[1024];

	if (argc != 3 || strcmp(argv[1], "--controller"))
		return usage_err("status needs --controller URL", NULL);
	snprintf(url, sizeof(url), "%s/v1/status", argv[2]);
	return http(url, NULL, false);
}

int rf_cmd_fleet(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "publish"))
		return cmd_publish(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pin"))
		return cmd_admin(argc - 1, argv + 1, true);
	if (!strcmp(argv[1], "override"))
		return cmd_admin(argc - 1, argv + 1, false);
	if (!strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sim"))
		return rf_fleet_sim_main(argc - 1, argv + 1);
	return usage_err("unknown verb ", argv[1]);
}
