// SPDX-License-Identifier: MIT
/* publish.c: the static repository (docs/fleet.md): REPO/root.rfm and
 * REPO/targets/CLIENT/VERSION.rfb. Bundles are written to a temporary name,
 * fsynced, and linked to their final name (link fails on an existing name, so a
 * published version is never replaced), then the directory is fsynced. */
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
#include "fleet/server.h"

static int write_noreplace(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char tmp[4096], path[4096];
	int fd, r = 0;
	size_t off = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name, (int)getpid()) >=
		    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && link(tmp, path) < 0)
		r = -errno;
	unlink(tmp);
	if (r == 0)
		r = rf_fsync_dir(dir);
	return r;
}

static int mkdirs(const char *repo, const char *client, char *dir, size_t dlen)
{
	if (snprintf(dir, dlen, "%s/targets", repo) >= (int)dlen)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (snprintf(dir, dlen, "%s/targets/%s", repo, client) >= (int)dlen)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int read_root(const char *repo, uint8_t **root, size_t *rlen)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/root.rfm", repo);
	if (access(path, F_OK) < 0)
		return -ENOENT;
	return rf_meta_file_read(path, root, rlen);
}

int rf_fleet_publish(const char *repo, const char *path, char client[RF_FLEET_CLIENT_NAME_MAX],
		     uint64_t *version, char *err, size_t errlen)
{
	struct rf_content_err e = {0};
	struct rf_bundle b;
	struct rf_verified v = {0};
	uint8_t *buf = NULL, *root = NULL;
	size_t len, rlen;
	char dir[4096], name[64];
	int r;

	r = rf_bundle_read(path, &buf, &len, &e);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, e.msg[0] ? e.msg : strerror(-r));
		goto out;
	}
	r = rf_bundle_parse(buf, len, &b, &e);
	if (r < 0) {
		snprintf(err, errlen, "%s: not a bundle: %s", path, e.msg);
		goto out;
	}
	r = read_root(repo, &root, &rlen);
	if (r == 0) {
		r = rf_bundle_verify(buf, len, root, rlen, time(NULL), NULL, &v, &e);
		free(v.new_root);
		if (r < 0) {
			snprintf(err, errlen, "%s does not verify against %s/root.rfm: %s (%s)", path,
				 repo, e.msg, rf_content_code_name(e.code));
			goto out;
		}
	} else if (r != -ENOENT) {
		snprintf(err, errlen, "%s/root.rfm: %s", repo, strerror(-r));
		goto out;
	}
	if (strlen(b.hdr.client) >= RF_FLEET_CLIENT_NAME_MAX || !b.hdr.client[0]) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: client name unusable", path);
		goto out;
	}
	r = mkdirs(repo, b.hdr.client, dir, sizeof(dir));
	if (r < 0) {
		snprintf(err, errlen, "%s/targets/%s: %s", repo, b.hdr.client, strerror(-r));
		goto out;
	}
	snprintf(name, sizeof(name), "%llu.rfb", (unsigned long long)b.hdr.content_version);
	r = write_noreplace(dir, name, buf, len);
	if (r < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, name,
			 r == -EEXIST ? "already published (versions are immutable)" : strerror(-r));
		goto out;
	}
	snprintf(client, RF_FLEET_CLIENT_NAME_MAX, "%s", b.hdr.client);
	*version = b.hdr.content_version;
out:
	free(buf);
	free(root);
	return r;
}

int rf_fleet_publish_rollback(const char *repo, const char *client, uint64_t from_version,
			      uint64_t new_version, const uint8_t sk[64], unsigned expires_days,
			      int64_t now, char *err, size_t errlen)
{
	struct rf_content_err e = {0};
	struct rf_bundle b;
	struct rf_meta m;
	struct rf_target t;
	struct rf_bundle_hdr h;
	uint8_t *buf = NULL, *env = NULL, *out = NULL;
	size_t len, elen = 0, olen = 0;
	char path[4096], dir[4096], name[64];
	int r;

	snprintf(path, sizeof(path), "%s/targets/%s/%llu.rfb", repo, client,
		 (unsigned long long)from_version);
	r = rf_bundle_read(path, &buf, &len, &e);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, e.msg[0] ? e.msg : strerror(-r));
		goto out;
	}
	r = rf_bundle_parse(buf, len, &b, &e);
	if (r == 0)
		r = rf_meta_parse(b.targets, b.targets_len, &m, &e);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, e.msg);
		goto out;
	}
	if (b.payload_avail != b.hdr.payload_len) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: payload length differs from its header", path);
		goto out;
	}
	/* the same content under a new, higher version: never a downgrade */
	t = m.target;
	t.content_version = new_version;
	r = rf_meta_build_targets(new_version, (uint64_t)now + (uint64_t)(expires_days ? expires_days : 30) * 86400,
				  &t, &env, &elen);
	if (r == 0)
		r = rf_meta_sign(&env, &elen, sk);
	if (r < 0) {
		snprintf(err, errlen, "targets metadata: %s", strerror(-r));
		goto out;
	}
	h = b.hdr;
	h.content_version = new_version;
	r = rf_bundle_write(&h, b.roots, b.roots_len, b.nroots, env, elen, b.payload, &out, &olen);
	if (r < 0) {
		snprintf(err, errlen, "bundle: %s", strerror(-r));
		goto out;
	}
	r = mkdirs(repo, client, dir, sizeof(dir));
	if (r == 0) {
		snprintf(name, sizeof(name), "%llu.rfb", (unsigned long long)new_version);
		r = write_noreplace(dir, name, out, olen);
	}
	if (r < 0)
		snprintf(err, errlen, "%s/%llu.rfb: %s", dir, (unsigned long long)new_version,
			 strerror(-r));
out:
	free(buf);
	free(env);
	free(out);
	return r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int rf_fleet_repo_scan(const char *repo, int64_t now, rf_fleet_scan_cb cb, void *ctx)
{
	char dir[4096], path[4096], hex[65];
	uint8_t *root = NULL;
	size_t rlen = 0;
	DIR *td, *cd;
	struct dirent *ce, *ve;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/targets", repo);
	td = opendir(dir);
	if (!td)
		return -errno;
	if (read_root(repo, &root, &rlen) < 0)
		root = NULL;
	while ((ce = readdir(td))) {
		uint64_t vers[256];
		unsigned nv = 0;

		if (ce->d_name[0] == '.' || strlen(ce->d_name) >= RF_FLEET_CLIENT_NAME_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, ce->d_name);
		cd = opendir(path);
		if (!cd)
			continue;
		while ((ve = readdir(cd)) && nv < 256) {
			char *end;
			unsigned long long v = strtoull(ve->d_name, &end, 10);
			if (ve->d_name[0] < '1' || ve->d_name[0] > '9' || strcmp(end, ".rfb"))
				continue;
			vers[nv++] = v;
		}
		closedir(cd);
		qsort(vers, nv, sizeof(vers[0]), cmp_u64);
		for (unsigned i = 0; i < nv; i++) {
			struct rf_content_err e;
			struct rf_verified v = {0};
			struct rf_bundle b;
			uint8_t *buf = NULL, sha[32];
			size_t len;

			snprintf(path, sizeof(path), "%s/%s/%llu.rfb", dir, ce->d_name,
				 (unsigned long long)vers[i]);
			if (rf_bundle_read(path, &buf, &len, &e) < 0)
				continue;
			if (rf_bundle_parse(buf, len, &b, &e) < 0 ||
			    b.hdr.content_version != vers[i] || strcmp(b.hdr.client, ce->d_name) ||
			    (root && rf_bundle_verify(buf, len, root, rlen, (time_t)now, NULL, &v,
						      &e) < 0)) {
				free(v.new_root);
				free(buf);
				continue; /* not offered: it would be refused anyway */
			}
			free(v.new_root);
			crypto_hash_sha256(sha, buf, len);
			sodium_bin2hex(hex, sizeof(hex), sha, sizeof(sha));
			free(buf);
			cb(ctx, ce->d_name, vers[i], hex);
			n++;
		}
	}
	closedir(td);
	free(root);
	return n;
}
