// SPDX-License-Identifier: MIT
/* cmd_auth.c: `ringfence auth test PATH`: what each AUTH client would answer for an
 * exec (or open) of PATH, and the combined verdict (docs/auth.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/log.h"
#include "ringfence/event.h"
#include "ringfence/ringfence.h"

static const char *res_name(uint32_t r)
{
	switch (r) {
	case RF_AUTH_RES_ALLOW: return "allow";
	case RF_AUTH_RES_DENY: return "deny";
	case RF_AUTH_RES_MISSED: return "missed";
	case RF_AUTH_RES_MUTED: return "muted";
	case RF_AUTH_RES_GONE: return "gone";
	default: return "?";
	}
}

static void usage(FILE *o)
{
	fprintf(o, "usage: ringfence auth test PATH [--open] [--json] [--socket PATH]\n\n"
		   "Ask every AUTH client what it would answer for an exec (--open: an open) of\n"
		   "PATH, without executing or opening anything, and show each answer and the\n"
		   "combined verdict (any deny wins; a missed deadline gets the default, deny\n"
		   "under a fail-closed prefix). Waits at most the class's deadline. Needs root or\n"
		   "the daemon's user and a daemon with --auth-mount. Socket: --socket,\n"
		   "$RINGFENCE_SOCKET or " RF_DEFAULT_SOCKET ".\n");
}

int rf_cmd_auth(int argc, char **argv)
{
	static const struct option opts[] = {
		{"open", no_argument, NULL, 'o'}, {"json", no_argument, NULL, 'j'},
		{"socket", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {0},
	};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *sock = getenv("RINGFENCE_SOCKET"), *path, *why;
	struct timeval tv = {.tv_sec = RF_AUTH_DEADLINE_MAX_MS / 1000 + 2};
	unsigned char req[sizeof(struct rf_msg_auth_test) + RF_PATH_MAX];
	size_t rbuf_len = sizeof(struct rf_msg_auth_result) + RF_CLIENTS_MAX * sizeof(struct rf_auth_result_entry) + 1;
	unsigned char *rbuf = NULL;
	struct rf_msg_auth_test *t = (void *)req;
	struct rf_msg m;
	bool open_cls = false, json = false;
	int o, fd = -1, ret = 1;
	ssize_t n;
	size_t plen;
	uint32_t i;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'o': open_cls = true; break;
		case 'j': json = true; break;
		case 's': sock = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 2 || strcmp(argv[optind], "test")) {
		usage(stderr);
		return 2;
	}
	path = argv[optind + 1];
	plen = strlen(path) + 1;
	if (path[0] != '/' || plen > RF_PATH_MAX) {
		rf_err("auth test: PATH must be absolute and at most %u bytes", RF_PATH_MAX - 1);
		return 2;
	}
	if (!sock || !*sock)
		sock = RF_DEFAULT_SOCKET;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		rf_err("auth test: socket path too long");
		return 2;
	}
	strcpy(sa.sun_path, sock);
	memset(t, 0, sizeof(*t));
	t->hdr.magic = RF_PROTO_MAGIC;
	t->hdr.type = RF_MSG_AUTH_TEST;
	t->hdr.size = (uint32_t)(sizeof(*t) + plen);
	t->hdr.id = 1;
	t->class_id = open_cls ? RF_CLASS_AUTH_OPEN : RF_CLASS_AUTH_EXEC;
	t->path_len = (uint32_t)plen;
	memcpy(req + sizeof(*t), path, plen);
	rbuf = malloc(rbuf_len);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (!rbuf || fd < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rf_err("auth test: cannot connect to %s: %s (is 'ringfence daemon' running?)", sock,
		       strerror(errno));
		goto out;
	}
	if (send(fd, req, t->hdr.size, MSG_NOSIGNAL) != (ssize_t)t->hdr.size ||
	    (n = recv(fd, rbuf, rbuf_len, 0)) <= 0) {
		rf_err("auth test: no answer from the daemon on %s", sock);
		goto out;
	}
	if (rf_proto_parse(rbuf, (size_t)n, &m, &why) < 0) {
		rf_err("auth test: malformed answer from the daemon: %s", why);
		goto out;
	}
	if (m.hdr.type == RF_MSG_ERROR) {
		rf_err("auth test: daemon refused: %s: %s", rf_proto_error_name(m.u.error.code),
		       m.u.error.msg);
		goto out;
	}
	if (m.hdr.type != RF_MSG_AUTH_RESULT) {
		rf_err("auth test: unexpected answer %s", rf_proto_type_name(m.hdr.type));
		goto out;
	}
	if (json)
		printf("{\"class\":\"%s\",\"verdict\":\"%s\",\"fail_closed\":%s,\"clients\":[",
		       open_cls ? "auth_open" : "auth_exec",
		       m.u.auth_result.verdict == RF_VERDICT_DENY ? "deny" : "allow",
		       m.u.auth_result.fail_closed ? "true" : "false");
	else
		printf("%s %s: %s%s\n%-24s %6s %-8s %10s %s\n", open_cls ? "open" : "exec", path,
		       m.u.auth_result.verdict == RF_VERDICT_DENY ? "DENY" : "ALLOW",
		       m.u.auth_result.fail_closed ? " (fail-closed path)" : "", "CLIENT", "ID",
		       "ANSWER", "TIME_US", "CACHEABLE");
	for (i = 0; i < m.u.auth_result.nclients; i++) {
		struct rf_auth_result_entry e;

		memcpy(&e, m.entries + (size_t)i * sizeof(e), sizeof(e));
		e.name[sizeof(e.name) - 1] = 0;
		for (char *q = e.name; *q; q++)
			if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20)
				*q = '?';
		if (json)
			printf("%s{\"name\":\"%s\",\"id\":%u,\"answer\":\"%s\",\"time_us\":%u,\"cacheable\":%s}",
			       i ? "," : "", e.name, e.client_id, res_name(e.result), e.answer_us,
			       e.cacheable ? "true" : "false");
		else
			printf("%-24s %6u %-8s %10u %s\n", e.name, e.client_id, res_name(e.result),
			       e.answer_us, e.cacheable ? "yes" : "no");
	}
	if (json)
		printf("]}\n");
	else if (!m.u.auth_result.nclients)
		printf("(no AUTH client is subscribed to %s)\n", open_cls ? "auth_open" : "auth_exec");
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(rbuf);
	return ret;
}
