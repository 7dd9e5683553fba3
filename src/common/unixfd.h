/* SPDX-License-Identifier: MIT */
/* unixfd.h: receiving one message with at most one descriptor on a Unix socket. */
#ifndef RF_UNIXFD_H
#define RF_UNIXFD_H

#include <stddef.h>
#include <sys/types.h>

/* Receive one message into BUF (LEN bytes) and the descriptor that came with it into
 * *fd (-1: none; close-on-exec). Returns the message length (0 at EOF) or -errno;
 * -EMSGSIZE when the message or its control data was truncated (no descriptor is
 * kept then). Retries on EINTR. */
ssize_t rf_recv_with_fd(int sock, void *buf, size_t len, int *fd);

#endif
