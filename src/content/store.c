// SPDX-License-Identifier: MIT
/*
 * store.c: the content store (docs/content.md, "The store").
 *
 *   <store>/root.rfm                 trusted root metadata (replaced on rotation)
 *   <store>/<client>/state           which slot is current and which known good
 *   <store>/<client>/attempting      marker: version being tried, starts counted
 *   <store>/<client>/lock            flock() serialising writers
 *   <store>/<client>/{a,b}/payload/  extracted content of a slot
 *   <store>/<client>/{a,b}/bundle.rfb  the verified bundle the slot came from
 *
 * Invariants: a slot referenced by state is complete and never written; a new
 * version is built in <slot>.new and renamed into place; state, marker and root
 * change only by write-temp, fsync, rename, fsync-directory. So a crash or a full
 * disk at any step leaves the previous state, whose slots are intact.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "content/content.h"
#include "content/content_int.h"
#include <sodium.h>

/* RINGFENCE_FILL_AT=step with RINGFENCE_FILL_FILE=path: at STEP, grow PATH until
 * its file system is full, so that the next write of the installer meets ENOSPC. */
static void fill_disk(const char *step)
{
	const char *want = getenv("RINGFENCE_FILL_AT"), *path = getenv("RINGFENCE_FILL_FILE");
	static const char zero[4096];
	size_t chunk = sizeof(zero);
	int fd;

	if (!want || !path || strcmp(want, step))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	size_t total = 0;

	/* at most 64 MiB: meant for a tiny tmpfs, never for a real disk */
	while (chunk && total < (64u << 20)) {
		ssize_t w = write(fd, zero, chunk);
		if (w < 0)
			chunk /= 2;
		else
			total += (size_t)w;
	}
	close(fd);
	fprintf(stderr, "ringfence: RINGFENCE_FILL_AT=%s: file system of %s filled\n", step, path);
}

void rf_content_crash_point(const char *step)
{
	const char *want = getenv("RINGFENCE_CRASH_AT");

	fill_disk(step);
	if (want && !strcmp(want, step)) {
		fprintf(stderr, "ringfence: RINGFENCE_CRASH_AT=%s: killing myself\n", step);
		kill(getpid(), SIGKILL);
		_exit(137);
	}
}

int rf_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void dir_of(const char *path, char *out, size_t n)
{
	const char *s = strrchr(path, '/');

	if (!s)
		snprintf(out, n, ".");
	else if (s == path)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(s - path), path);
}

int rf_write_atomic(const char *path, const void *buf, size_t len, const char *crash_step)
{
	char tmp[4096], dir[4096], step[64];
	const uint8_t *p = buf;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	if (crash_step) {
		snprintf(step, sizeof(step), "%s-tmp", crash_step);
		rf_content_crash_point(step);
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	if (crash_step) {
		snprintf(step, sizeof(step), "%s-renamed", crash_step);
		rf_content_crash_point(step);
	}
	dir_of(path, dir, sizeof(dir));
	return rf_fsync_dir(dir);
}

/* --- paths and state ---------------------------------------------------------- */
static const char *store_or_default(const char *store)
{
	return store && *store ? store : RF_CONTENT_STORE_DEFAULT;
}

static int client_ok(const char *client)
{
	size_t n = strlen(client);

	return n > 0 && n < RF_CONTENT_CLIENT_MAX && client[0] != '.' &&
	       strspn(client, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
		       n;
}

static int cpath(char *buf, size_t n, const char *store, const char *client, const char *rest)
{
	if (!client_ok(client))
		return -EINVAL;
	if (snprintf(buf, n, "%s/%s%s%s", store_or_default(store), client, rest ? "/" : "",
		     rest ? rest : "") >= (int)n)
		return -ENAMETOOLONG;
	return 0;
}

static int parse_slot(const char *s, char *slot)
{
	if (!strcmp(s, "-")) {
		*slot = 0;
		return 0;
	}
	if (!strcmp(s, "a") || !strcmp(s, "b")) {
		*slot = s[0];
		return 0;
	}
	return -1;
}

int rf_content_state_read(const char *store, const char *client, struct rf_content_state *st)
{
	char path[4096], cur[4], good[4], type[RF_CONTENT_TYPE_MAX + 1];
	unsigned long long cv, gv, hv, tv;
	uint8_t *buf;
	size_t len;
	int r, n = 0;

	memset(st, 0, sizeof(*st));
	if ((r = cpath(path, sizeof(path), store, client, "state")) < 0)
		return r;
	r = rf_read_file(path, 4096, &buf, &len);
	if (r < 0)
		return r;
	{
		char *t = malloc(len + 1);
		if (!t) {
			free(buf);
			return -ENOMEM;
		}
		memcpy(t, buf, len);
		t[len] = 0;
		r = sscanf(t,
			   "ringfence-content-state 1\ntype %16s\ncurrent %3s %llu\ngood %3s "
			   "%llu\nhighest %llu\ntargets %llu\n%n",
			   type, cur, &cv, good, &gv, &hv, &tv, &n);
		if (r != 7 || (size_t)n != len)
			r = -EBADMSG;
		free(t);
	}
	free(buf);
	if (r < 0)
		return r;
	if (parse_slot(cur, &st->current_slot) < 0 || parse_slot(good, &st->good_slot) < 0 ||
	    strlen(type) >= RF_CONTENT_TYPE_MAX)
		return -EBADMSG;
	snprintf(st->type, sizeof(st->type), "%s", type);
	st->current_version = cv;
	st->good_version = gv;
	st->highest_version = hv;
	st->targets_version = tv;
	if (!st->current_slot || (st->good_slot && st->good_slot == st->current_slot &&
				  st->good_version != st->current_version))
		return -EBADMSG;
	return 0;
}

static int state_write(const char *store, const char *client, const struct rf_content_state *st,
		       const char *step)
{
	char path[4096], buf[512];
	int n, r;

	if ((r = cpath(path, sizeof(path), store, client, "state")) < 0)
		return r;
	n = snprintf(buf, sizeof(buf),
		     "ringfence-content-state 1\ntype %s\ncurrent %c %llu\ngood %c %llu\n"
		     "highest %llu\ntargets %llu\n",
		     st->type, st->current_slot ? st->current_slot : '-',
		     (unsigned long long)st->current_version, st->good_slot ? st->good_slot : '-',
		     (unsigned long long)st->good_version,
		     (unsigned long long)st->highest_version,
		     (unsigned long long)st->targets_version);
	return rf_write_atomic(path, buf, (size_t)n, step);
}

struct marker {
	char slot;
	uint64_t version;
	unsigned starts;
};

static int marker_read(const char *store, const char *client, struct marker *m)
{
	char path[4096], s[4], t[64];
	unsigned long long v;
	uint8_t *buf;
	size_t len;
	int r;

	if ((r = cpath(path, sizeof(path), store, client, "attempting")) < 0)
		return r;
	r = rf_read_file(path, 63, &buf, &len);
	if (r < 0)
		return r;
	memcpy(t, buf, len);
	t[len] = 0;
	free(buf);
	if (sscanf(t, "attempting %3s %llu %u\n", s, &v, &m->starts) != 3 ||
	    parse_slot(s, &m->slot) < 0 || !m->slot)
		return -EBADMSG;
	m->version = v;
	return 0;
}

static int marker_write(const char *store, const char *client, const struct marker *m,
			const char *step)
{
	char path[4096], buf[64];
	int n, r;

	if ((r = cpath(path, sizeof(path), store, client, "attempting")) < 0)
		return r;
	n = snprintf(buf, sizeof(buf), "attempting %c %llu %u\n", m->slot,
		     (unsigned long long)m->version, m->starts);
	return rf_write_atomic(path, buf, (size_t)n, step);
}

static int marker_remove(const char *store, const char *client)
{
	char path[4096], dir[4096];
	int r;

	if ((r = cpath(path, sizeof(path), store, client, "attempting")) < 0)
		return r;
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -errno;
	dir_of(path, dir, sizeof(dir));
	return rf_fsync_dir(dir);
}

static int lock_client(const char *store, const char *client)
{
	char path[4096];
	int fd, r;

	if ((r = cpath(path, sizeof(path), store, client, "lock")) < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void unlock_client(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* rm -rf that refuses to follow symlinks (the store holds none of its own). */
static int rm_tree_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
		return -errno;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
			if (errno == EISDIR || errno == EPERM)
				r = rm_tree_at(dirfd(d), de->d_name);
			else
				r = -errno;
			if (r < 0)
				break;
		}
	}
	closedir(d);
	if (r == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

static int rm_tree(const char *path)
{
	return rm_tree_at(AT_FDCWD, path);
}

/* Remove what an interrupted install left: <slot>.new and *.tmp files. */
static void clean_leftovers(const char *cdir)
{
	char p[4096];
	const char *names[] = {"a.new", "b.new", "state.tmp", "attempting.tmp"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", cdir, names[i]);
		rm_tree(p);
	}
}

static int mkdir_p(const char *path)
{
	char tmp[4096], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int root_path(const char *store, char *buf, size_t n)
{
	if (snprintf(buf, n, "%s/root.rfm", store_or_default(store)) >= (int)n)
		return -ENAMETOOLONG;
	return 0;
}

int rf_content_store_init(const char *store, const uint8_t *root, size_t root_len)
{
	struct rf_meta m;
	char path[4096];
	int r;

	r = rf_meta_parse(root, root_len, &m, NULL);
	if (r < 0)
		return r;
	if (m.type != RF_META_ROOT)
		return -EINVAL;
	/* the first root is trusted on first use, but must be self-consistent */
	if (sodium_init() < 0)
		return -EIO;
	r = rf_meta_check_sigs(&m, &m, RF_ROLE_ROOT, NULL);
	if (r < 0)
		return r;
	if ((r = mkdir_p(store_or_default(store))) < 0)
		return r;
	if ((r = root_path(store, path, sizeof(path))) < 0)
		return r;
	return rf_meta_file_write(path, root, root_len);
}

/* --- install ------------------------------------------------------------------- */
static int write_file_in(int dfd, const char *name, const uint8_t *buf, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), r = 0;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		buf += w;
		len -= (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

#define IOERR(e, r, what) \
	rf_content_err_set(e, RF_CE_IO, r,                                                       \
			   "%s: %s (the store keeps its previous state and good version)", what, \
			   strerror(-(r)))

int rf_content_install(const char *bundle_path, const struct rf_install_opts *o,
		       struct rf_content_state *out, struct rf_content_err *e)
{
	const char *store = store_or_default(o ? o->store : NULL);
	struct rf_install_opts defo = {0};
	struct rf_content_state st = {0};
	struct rf_installed inst = {0};
	struct rf_verified v = {0};
	struct rf_bundle b;
	struct marker mk;
	uint8_t *buf = NULL, *root = NULL;
	size_t len = 0, root_len = 0;
	char cdir[4096], p[4096], p2[4096], slot;
	bool have_state;
	int lockfd = -1, dfd = -1, r;

	if (!o)
		o = &defo;
	r = rf_bundle_read(bundle_path, &buf, &len, e);
	if (r < 0)
		goto out;
	/* the client name in the header is only used to find the state to judge
	 * rollback; verification then binds it to the signed target */
	r = rf_bundle_parse(buf, len, &b, e);
	if (r < 0)
		goto out;
	if (!client_ok(b.hdr.client)) {
		r = rf_content_err_set(e, RF_CE_FORMAT, -EINVAL, "bad client name");
		goto out;
	}
	if ((r = root_path(store, p, sizeof(p))) < 0)
		goto out;
	r = rf_meta_file_read(p, &root, &root_len);
	if (r < 0) {
		r = rf_content_err_set(e, RF_CE_NO_TRUST_ROOT, r,
				       "%s: no trusted root (%s): run 'ringfence content init "
				       "--store %s ROOT.rfm' first",
				       p, strerror(-r), store);
		goto out;
	}
	if ((r = cpath(cdir, sizeof(cdir), store, b.hdr.client, NULL)) < 0)
		goto out;
	if ((r = mkdir_p(cdir)) < 0 || (r = rf_fsync_dir(store)) < 0) {
		IOERR(e, r, cdir);
		goto out;
	}
	lockfd = lock_client(store, b.hdr.client);
	if (lockfd < 0) {
		r = IOERR(e, lockfd, "lock");
		goto out;
	}
	clean_leftovers(cdir);
	r = rf_content_state_read(store, b.hdr.client, &st);
	if (r < 0 && r != -ENOENT) {
		r = rf_content_err_set(e, RF_CE_STATE, r, "%s/state unreadable: %s", cdir,
				       strerror(-r));
		goto out;
	}
	have_state = r == 0;
	if (have_state) {
		inst.content_version = st.highest_version;
		inst.targets_version = st.targets_version;
	}
	r = rf_bundle_verify(buf, len, root, root_len, o->now ? o->now : time(NULL),
			     have_state ? &inst : NULL, &v, e);
	if (r < 0)
		goto out;
	rf_content_crash_point("verified");
	if (have_state && strcmp(st.type, v.target.type)) {
		r = rf_content_err_set(e, RF_CE_HEADER_MISMATCH, -EINVAL,
				       "client %s runs %s content; this bundle is %s",
				       v.target.client, st.type, v.target.type);
		goto out;
	}
	if (!rf_content_type_find(v.target.type)) {
		r = rf_content_err_set(e, RF_CE_UNKNOWN_TYPE, -ENOENT,
				       "no validator for content type '%s'", v.target.type);
		goto out;
	}

	/* The slot to write: never the known-good one; never the current one unless
	 * we first point current back at known good. */
	if (!have_state)
		slot = 'a';
	else if (st.good_slot)
		slot = st.good_slot == 'a' ? 'b' : 'a';
	else
		slot = st.current_slot == 'a' ? 'b' : 'a';
	if (have_state && st.current_slot == slot) {
		st.current_slot = st.good_slot;
		st.current_version = st.good_version;
		r = state_write(store, v.target.client, &st, "revert");
		if (r < 0) {
			IOERR(e, r, "state");
			goto out;
		}
		marker_remove(store, v.target.client);
	}

	snprintf(p, sizeof(p), "%s/%c.new", cdir, slot);
	if (mkdir(p, 0755) < 0) {
		r = IOERR(e, -errno, p);
		goto out;
	}
	dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || mkdirat(dfd, "payload", 0755) < 0) {
		r = IOERR(e, -errno, p);
		goto out;
	}
	rf_content_crash_point("slot-created");
	{
		int pfd = openat(dfd, "payload", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0) {
			r = IOERR(e, -errno, "payload");
			goto out;
		}
		r = rf_archive_extract(b.payload, b.payload_avail, pfd, e);
		if (r == 0 && fsync(pfd) < 0)
			r = IOERR(e, -errno, "payload fsync");
		close(pfd);
		if (r < 0)
			goto out;
	}
	rf_content_crash_point("extracted");
	r = write_file_in(dfd, "bundle.rfb", buf, len);
	if (r == 0 && fsync(dfd) < 0)
		r = -errno;
	if (r < 0) {
		IOERR(e, r, "bundle copy");
		goto out;
	}
	rf_content_crash_point("bundle-copied");

	snprintf(p2, sizeof(p2), "%s/payload", p);
	r = rf_content_validate_sandboxed(v.target.type, p2, o->validate_timeout_ms, e);
	if (r < 0)
		goto out;
	rf_content_crash_point("validated");
	if (o->shadow) {
		r = rf_content_shadow_run(o->shadow, p2, e);
		if (r < 0)
			goto out;
	}
	rf_content_crash_point("shadowed");

	snprintf(p2, sizeof(p2), "%s/%c", cdir, slot);
	r = rm_tree(p2);
	if (r == 0)
		r = rf_fsync_dir(cdir);
	if (r < 0) {
		IOERR(e, r, p2);
		goto out;
	}
	rf_content_crash_point("slot-removed");
	if (rename(p, p2) < 0) {
		r = IOERR(e, -errno, p2);
		goto out;
	}
	rf_content_crash_point("slot-renamed");
	r = rf_fsync_dir(cdir);
	if (r < 0) {
		IOERR(e, r, cdir);
		goto out;
	}

	mk = (struct marker){slot, v.target.content_version, 0};
	r = marker_write(store, v.target.client, &mk, "attempting");
	if (r < 0) {
		IOERR(e, r, "attempting marker");
		goto out;
	}
	if (v.new_root) {
		struct rf_buf rb = {0};

		root_path(store, p, sizeof(p));
		rf_buf_add(&rb, RF_META_FILE_MAGIC, 8);
		rf_buf_add(&rb, v.new_root, v.new_root_len);
		r = rb.failed ? -ENOMEM : rf_write_atomic(p, rb.p, rb.len, "root");
		free(rb.p);
		if (r < 0) {
			IOERR(e, r, "root");
			marker_remove(store, v.target.client);
			goto out;
		}
	}
	if (!have_state) {
		snprintf(st.type, sizeof(st.type), "%s", v.target.type);
		st.good_slot = 0;
		st.good_version = 0;
	}
	st.current_slot = slot;
	st.current_version = v.target.content_version;
	st.highest_version = v.target.content_version;
	if (v.targets_version > st.targets_version)
		st.targets_version = v.targets_version;
	r = state_write(store, v.target.client, &st, "activate");
	if (r < 0) {
		IOERR(e, r, "state");
		marker_remove(store, v.target.client);
		goto out;
	}
	rf_content_crash_point("activated");
	if (out)
		*out = st;
	r = 0;
out:
	if (r < 0 && lockfd >= 0) {
		clean_leftovers(cdir);
		rf_fsync_dir(cdir);
	}
	if (dfd >= 0)
		close(dfd);
	unlock_client(lockfd);
	free(v.new_root);
	free(buf);
	free(root);
	return r;
}

/* --- supervisor API ------------------------------------------------------------- */
static int slot_payload(const char *store, const char *client, char slot, char *buf, size_t len)
{
	char rest[16];

	if (!slot)
		return -ENOENT;
	snprintf(rest, sizeof(rest), "%c/payload", slot);
	return cpath(buf, len, store, client, rest);
}

int rf_content_current(const char *store, const char *client, char *buf, size_t len)
{
	struct rf_content_state st;
	int r = rf_content_state_read(store, client, &st);

	return r < 0 ? r : slot_payload(store, client, st.current_slot, buf, len);
}

int rf_content_last_good(const char *store, const char *client, char *buf, size_t len)
{
	struct rf_content_state st;
	int r = rf_content_state_read(store, client, &st);

	return r < 0 ? r : slot_payload(store, client, st.good_slot, buf, len);
}

int rf_content_mark_good(const char *store, const char *client)
{
	struct rf_content_state st;
	int fd, r;

	fd = lock_client(store, client);
	if (fd < 0)
		return fd;
	r = rf_content_state_read(store, client, &st);
	if (r < 0)
		goto out;
	if (st.good_slot != st.current_slot || st.good_version != st.current_version) {
		st.good_slot = st.current_slot;
		st.good_version = st.current_version;
		r = state_write(store, client, &st, "mark-good");
		if (r < 0)
			goto out;
	}
	r = marker_remove(store, client);
out:
	unlock_client(fd);
	return r;
}

static int rollback_locked(const char *store, const char *client, struct rf_content_state *st)
{
	int r;

	r = rf_content_state_read(store, client, st);
	if (r < 0)
		return r;
	if (!st->good_slot)
		return -ENOENT;
	if (st->current_slot == st->good_slot)
		return -EALREADY;
	st->current_slot = st->good_slot;
	st->current_version = st->good_version;
	r = state_write(store, client, st, "rollback");
	if (r < 0)
		return r;
	return marker_remove(store, client);
}

int rf_content_rollback(const char *store, const char *client, struct rf_content_state *st)
{
	struct rf_content_state tmp;
	int fd, r;

	fd = lock_client(store, client);
	if (fd < 0)
		return fd;
	r = rollback_locked(store, client, st ? st : &tmp);
	unlock_client(fd);
	return r;
}

int rf_content_recover(const char *store, const char *client, bool *rolled_back)
{
	struct rf_content_state st;
	struct marker m;
	char cdir[4096];
	int fd, r;

	if (rolled_back)
		*rolled_back = false;
	if ((r = cpath(cdir, sizeof(cdir), store, client, NULL)) < 0)
		return r;
	fd = lock_client(store, client);
	if (fd < 0)
		return fd;
	clean_leftovers(cdir);
	r = rf_content_state_read(store, client, &st);
	if (r < 0)
		goto out;
	r = marker_read(store, client, &m);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r < 0 || m.slot != st.current_slot || m.version != st.current_version ||
	    (st.good_slot == st.current_slot && st.good_version == st.current_version)) {
		r = marker_remove(store, client); /* stale or unreadable marker */
		goto out;
	}
	if (++m.starts > RF_CONTENT_ATTEMPTS_MAX && st.good_slot) {
		r = rollback_locked(store, client, &st);
		if (r == 0 && rolled_back)
			*rolled_back = true;
		goto out;
	}
	r = marker_write(store, client, &m, NULL);
out:
	unlock_client(fd);
	return r;
}

static int check_slot(const char *store, const char *client, char slot, uint64_t version,
		      struct rf_content_err *e)
{
	char p[4096], rest[32];
	struct rf_bundle b;
	uint8_t *buf = NULL;
	size_t len;
	int pfd = -1, r;

	snprintf(rest, sizeof(rest), "%c/bundle.rfb", slot);
	if ((r = cpath(p, sizeof(p), store, client, rest)) < 0)
		return r;
	r = rf_read_file(p, RF_BUNDLE_MAX, &buf, &len);
	if (r < 0)
		return rf_content_err_set(e, RF_CE_STATE, r, "slot %c: %s: %s", slot, p,
					  strerror(-r));
	r = rf_bundle_parse(buf, len, &b, e);
	if (r < 0)
		goto out;
	if (b.hdr.content_version != version || b.payload_avail != b.hdr.payload_len) {
		r = rf_content_err_set(e, RF_CE_STATE, -EIO,
				       "slot %c holds version %llu, state says %llu", slot,
				       (unsigned long long)b.hdr.content_version,
				       (unsigned long long)version);
		goto out;
	}
	{
		uint8_t sha[RF_SHA256_LEN];
		rf_sha256(b.payload, b.payload_avail, sha);
		if (memcmp(sha, b.hdr.payload_sha256, RF_SHA256_LEN)) {
			r = rf_content_err_set(e, RF_CE_STATE, -EIO,
					       "slot %c: stored bundle is corrupt", slot);
			goto out;
		}
	}
	snprintf(rest, sizeof(rest), "%c/payload", slot);
	cpath(p, sizeof(p), store, client, rest);
	pfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		r = rf_content_err_set(e, RF_CE_STATE, -errno, "slot %c: %s: %s", slot, p,
				       strerror(errno));
		goto out;
	}
	r = rf_archive_compare(b.payload, b.payload_avail, pfd, e);
out:
	if (pfd >= 0)
		close(pfd);
	free(buf);
	return r;
}

int rf_content_check(const char *store, const char *client, struct rf_content_err *e)
{
	struct rf_content_state st;
	int r;

	r = rf_content_state_read(store, client, &st);
	if (r < 0)
		return rf_content_err_set(e, RF_CE_STATE, r, "%s: state: %s", client,
					  strerror(-r));
	r = check_slot(store, client, st.current_slot, st.current_version, e);
	if (r < 0)
		return r;
	if (st.good_slot && st.good_slot != st.current_slot)
		r = check_slot(store, client, st.good_slot, st.good_version, e);
	return r;
}
