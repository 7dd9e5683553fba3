// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/procfs.h"

ssize_t rf_read_small(int dirfd, const char *name, char *buf, size_t sz)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n, tot = 0;

	if (fd < 0)
		return -1;
	while ((size_t)tot < sz - 1 && (n = read(fd, buf + tot, sz - 1 - tot)) > 0)
		tot += n;
	close(fd);
	buf[tot] = 0;
	return tot;
}

int rf_procfs_stat(int piddirfd, uint32_t *ppid, uint64_t *start_ticks)
{
	char buf[1024], *p;
	unsigned long long st = 0;
	int pp = 0;

	/* pid (comm) state ppid ... field 22 starttime */
	if (rf_read_small(piddirfd, "stat", buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return -1;
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &pp, &st) != 2)
		return -1;
	*ppid = (uint32_t)pp;
	*start_ticks = st;
	return 0;
}

void rf_procfs_cgroup_leaf(int piddirfd, char *out, size_t outsz)
{
	char buf[1024], *p, *e, *slash;

	out[0] = 0;
	if (rf_read_small(piddirfd, "cgroup", buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "0::")))
		return;
	e = strchr(p, '\n');
	if (e)
		*e = 0;
	slash = strrchr(p, '/');
	if (slash)
		snprintf(out, outsz, "%s", slash + 1);
}

uint64_t rf_procfs_runq_wait_ns(pid_t pid)
{
	unsigned long long run, wait;
	char path[64], buf[128];

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if (rf_read_small(AT_FDCWD, path, buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return 0;
	return wait;
}
