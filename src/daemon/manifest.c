// SPDX-License-Identifier: MIT
/* manifest.c: read the client manifests (manifest.h). Root-owned input, still
 * parsed as if it were hostile: every length is bounded. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/manifest.h"
#include "daemon/ring_prod.h"
#include "ringfence/proto.h"
#include "ringfence/schema.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int parse_classes(char *v, uint64_t *out, const char **bad)
{
	char *save = NULL, *tok;

	*out = 0;
	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct rf_class_desc *c;

		tok = trim(tok);
		if (!strcmp(tok, "*")) {
			unsigned i;
			for (i = 1; i < rf_schema_class_count() && i < RF_CLASSES_MAX; i++)
				if (rf_schema_class(i))
					*out |= 1ull << i;
			continue;
		}
		c = rf_schema_class_by_name(tok);
		if (!c || c->id >= RF_CLASSES_MAX) {
			*bad = tok;
			return -EINVAL;
		}
		*out |= 1ull << c->id;
	}
	return 0;
}

static int parse_size(const char *v, uint32_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		n <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		n <<= 20, end++;
	if (*end || n < 1 || n > RF_RING_MAX)
		return -EINVAL;
	*out = (uint32_t)rf_ring_size_round(n);
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* A decimal number in [lo, hi], with a K/M/G suffix when sized. */
static int parse_u64(const char *v, bool sized, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -EINVAL;
	if (sized && *end) {
		unsigned sh = (*end == 'K' || *end == 'k') ? 10 : (*end == 'M' || *end == 'm') ? 20
			: (*end == 'G' || *end == 'g') ? 30 : 0;
		if (!sh || n > (hi >> sh))
			return -EINVAL;
		n <<= sh;
		end++;
	}
	if (*end || n < lo || n > hi)
		return -EINVAL;
	*out = n;
	return 0;
}

int rf_manifest_parse(const char *text, size_t len, struct rf_manifest *m, char *err,
		      size_t errlen)
{
	char line[RF_PATH_MAX + 128];
	size_t i = 0, lineno = 0;
	int have_name = 0, have_exe = 0, have_user = 0;

	memset(m, 0, sizeof(*m));
	m->modes = RF_SUB_NOTIFY;
	m->ring_bytes = RF_RING_DEFAULT;
	m->mem_bytes = RF_SUP_MEM_DEFAULT;
	m->nofile = RF_SUP_NOFILE_DEFAULT;
	m->nproc = RF_SUP_NPROC_DEFAULT;
	m->cpu_pct = RF_SUP_CPU_DEFAULT;
	m->stall_s = RF_SUP_STALL_DEFAULT_S;
	m->loop_crashes = RF_SUP_LOOP_CRASHES;
	m->loop_window_s = RF_SUP_LOOP_WINDOW_S;
	m->healthy_s = RF_SUP_HEALTHY_S;
	if (len > RF_MANIFEST_BYTES_MAX) {
		snprintf(err, errlen, "longer than %u bytes", RF_MANIFEST_BYTES_MAX);
		return -EINVAL;
	}
	while (i < len) {
		size_t j = i, ll;
		char *k, *v, *eq;

		while (j < len && text[j] != '\n')
			j++;
		lineno++;
		ll = j - i;
		if (ll >= sizeof(line)) {
			snprintf(err, errlen, "line %zu: too long", lineno);
			return -EINVAL;
		}
		memcpy(line, text + i, ll);
		line[ll] = 0;
		i = j + 1;
		if (memchr(line, 0, ll)) {
			snprintf(err, errlen, "line %zu: NUL byte", lineno);
			return -EINVAL;
		}
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			snprintf(err, errlen, "line %zu: expected 'key = value'", lineno);
			return -EINVAL;
		}
		*eq = 0;
		v = eq + 1;
		if ((eq = strchr(v, '#')))
			*eq = 0;
		k = trim(k);
		v = trim(v);
		if (!strcmp(k, "name")) {
			size_t n = strlen(v), q;
			if (!n || n >= RF_CLIENT_NAME_MAX)
				goto badval;
			for (q = 0; q < n; q++)
				if (!isalnum((unsigned char)v[q]) && !strchr("._-", v[q]))
					goto badval;
			strcpy(m->name, v);
			have_name = 1;
		} else if (!strcmp(k, "executable")) {
			if (v[0] != '/' || strlen(v) >= RF_PATH_MAX)
				goto badval;
			strcpy(m->exe, v);
			have_exe = 1;
		} else if (!strcmp(k, "user")) {
			struct passwd *pw;
			char *end;
			unsigned long u;

			if (!*v)
				goto badval;
			if (!strcmp(v, "auto")) {
				m->auto_user = true;
				m->uid = (uid_t)-1;
				have_user = 1;
				continue;
			}
			errno = 0;
			u = strtoul(v, &end, 10);
			if (!*end && !errno && u < (uid_t)-1) {
				m->uid = (uid_t)u;
			} else if ((pw = getpwnam(v))) {
				m->uid = pw->pw_uid;
			} else {
				snprintf(err, errlen, "line %zu: no user '%.64s'", lineno, v);
				return -EINVAL;
			}
			have_user = 1;
		} else if (!strcmp(k, "classes")) {
			const char *bad = "";
			if (parse_classes(v, &m->classes, &bad) < 0) {
				snprintf(err, errlen, "line %zu: unknown event class '%.64s'", lineno, bad);
				return -EINVAL;
			}
		} else if (!strcmp(k, "modes")) {
			char *save = NULL, *tok;
			m->modes = 0;
			for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				tok = trim(tok);
				if (!strcmp(tok, "notify"))
					m->modes |= RF_SUB_NOTIFY;
				else if (!strcmp(tok, "auth"))
					m->modes |= RF_SUB_AUTH;
				else
					goto badval;
			}
		} else if (!strcmp(k, "ring_size")) {
			if (parse_size(v, &m->ring_bytes) < 0)
				goto badval;
		} else if (!strcmp(k, "start")) {
			if (parse_bool(v, &m->start) < 0)
				goto badval;
		} else if (!strcmp(k, "vendor")) {
			if (!*v)
				goto badval;
			m->platform = !strcmp(v, "platform");
		} else if (!strcmp(k, "args")) {
			if (strlen(v) >= sizeof(m->args))
				goto badval;
			strcpy(m->args, v);
		} else if (!strcmp(k, "content") || !strcmp(k, "content_store")) {
			char *dst = k[7] ? m->content_store : m->content;
			if (v[0] != '/' || strlen(v) >= RF_PATH_MAX)
				goto badval;
			strcpy(dst, v);
		} else if (!strcmp(k, "shadow")) {
			if (!*v || strlen(v) >= sizeof(m->shadow) || !strstr(v, "{content}"))
				goto badval;
			strcpy(m->shadow, v);
		} else if (!strcmp(k, "shadow_capture")) {
			if (v[0] != '/' || strlen(v) >= sizeof(m->shadow_capture))
				goto badval;
			strcpy(m->shadow_capture, v);
		} else if (!strcmp(k, "syscalls")) {
			if (strlen(v) >= sizeof(m->syscalls))
				goto badval;
			strcpy(m->syscalls, v);
		} else if (!strcmp(k, "memory")) {
			uint64_t x;
			if (parse_u64(v, true, 1ull << 20, 1ull << 40, &x) < 0)
				goto badval;
			m->mem_bytes = x;
		} else if (!strcmp(k, "nofile") || !strcmp(k, "nproc") || !strcmp(k, "cpu") ||
			   !strcmp(k, "stall_timeout") || !strcmp(k, "heartbeat") ||
			   !strcmp(k, "healthy_after")) {
			uint64_t x;
			uint32_t *dst = !strcmp(k, "nofile") ? &m->nofile : !strcmp(k, "nproc") ? &m->nproc
				: !strcmp(k, "cpu") ? &m->cpu_pct : !strcmp(k, "stall_timeout") ? &m->stall_s
				: !strcmp(k, "heartbeat") ? &m->heartbeat_s : &m->healthy_s;
			uint64_t lo = (dst == &m->heartbeat_s) ? 0 : (dst == &m->nofile) ? 16 : 1;
			if (parse_u64(v, false, lo, dst == &m->cpu_pct ? 6400 : 65536, &x) < 0)
				goto badval;
			*dst = (uint32_t)x;
		} else if (!strcmp(k, "crash_loop")) {
			char *slash = strchr(v, '/');
			uint64_t a, w;
			if (!slash)
				goto badval;
			*slash = 0;
			if (parse_u64(trim(v), false, 1, 1000, &a) < 0 ||
			    parse_u64(trim(slash + 1), false, 1, 86400, &w) < 0)
				goto badval;
			m->loop_crashes = (uint32_t)a;
			m->loop_window_s = (uint32_t)w;
		} else {
			snprintf(err, errlen, "line %zu: unknown key '%.32s'", lineno, k);
			return -EINVAL;
		}
		continue;
badval:
		snprintf(err, errlen, "line %zu: bad value for '%.32s'", lineno, k);
		return -EINVAL;
	}
	if (!have_name || !have_exe || !have_user) {
		snprintf(err, errlen, "missing %s", !have_name ? "name" : !have_exe ? "executable" : "user");
		return -EINVAL;
	}
	if (m->auto_user && !m->start) {
		snprintf(err, errlen, "'user = auto' needs 'start = yes'");
		return -EINVAL;
	}
	if ((m->shadow_capture[0] && !m->shadow[0]) || (m->shadow[0] && !m->content_store[0])) {
		snprintf(err, errlen, "'shadow' needs 'content_store'; 'shadow_capture' needs 'shadow'");
		return -EINVAL;
	}
	if (m->content[0] && m->content_store[0]) {
		snprintf(err, errlen, "give 'content' or 'content_store', not both");
		return -EINVAL;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rf_manifests_load(const char *dir, struct rf_manifests *out, char *err, size_t errlen)
{
	char path[4096], sub[4096], *text = NULL, *names[RF_MANIFESTS_MAX];
	size_t nnames = 0, i, k;
	struct dirent *e;
	DIR *d;
	int r = 0;

	memset(out, 0, sizeof(*out));
	snprintf(sub, sizeof(sub), "%s/clients.d", dir);
	d = opendir(sub);
	if (!d)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", sub, strerror(errno)), -errno);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".conf"))
			continue;
		if (nnames == RF_MANIFESTS_MAX) {
			snprintf(err, errlen, "%s: more than %u manifests", sub, RF_MANIFESTS_MAX);
			r = -E2BIG;
			goto out;
		}
		names[nnames] = strdup(e->d_name);
		if (!names[nnames]) {
			r = -ENOMEM;
			goto out;
		}
		nnames++;
	}
	qsort(names, nnames, sizeof(names[0]), cmp_names);
	out->v = calloc(nnames ? nnames : 1, sizeof(*out->v));
	text = malloc(RF_MANIFEST_BYTES_MAX + 1);
	if (!out->v || !text) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nnames; i++) {
		char perr[256];
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", sub, names[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		n = read(fd, text, RF_MANIFEST_BYTES_MAX + 1);
		close(fd);
		if (n < 0) {
			r = -EIO;
			snprintf(err, errlen, "%s: cannot read", path);
			goto out;
		}
		r = rf_manifest_parse(text, (size_t)n, &out->v[out->n], perr, sizeof(perr));
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, perr);
			goto out;
		}
		for (k = 0; k < out->n; k++)
			if (!strcmp(out->v[k].name, out->v[out->n].name)) {
				snprintf(err, errlen, "%s: name '%s' is used by another manifest", path,
					 out->v[k].name);
				r = -EINVAL;
				goto out;
			}
		out->n++;
	}
out:
	closedir(d);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(text);
	if (r < 0)
		rf_manifests_free(out);
	return r;
}

const struct rf_manifest *rf_manifests_find(const struct rf_manifests *ms, const char *name)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		if (!strcmp(ms->v[i].name, name))
			return &ms->v[i];
	return NULL;
}

void rf_manifests_free(struct rf_manifests *ms)
{
	if (!ms)
		return;
	free(ms->v);
	ms->v = NULL;
	ms->n = 0;
}
