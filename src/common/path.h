/* SPDX-License-Identifier: MIT */
/* path.h: path-prefix tests shared by the daemon's components. */
#ifndef RF_PATH_H
#define RF_PATH_H

#include <stdbool.h>
#include <string.h>

/* PATH is DIR or lies beneath it ("/a/b" is under "/a" and "/a/", not under "/ab").
 * An empty DIR contains nothing. */
static inline bool rf_path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return n && !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/' || dir[n - 1] == '/');
}

#endif
