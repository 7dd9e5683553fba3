// SPDX-License-Identifier: MIT
/*
 * run: the main job. Starts the daemon (live eBPF sensor) on a private socket with a
 * manifest for rf-detect, then rf-detect as an ordinary client of it, and shows each
 * detection as rf-detect prints it. Ctrl-C, SIGTERM or --for stop both, client first.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/log.h"

#define RUN_RULES_MAX 32

static void usage(FILE *o)
{
	fprintf(o, "usage: ringfence run [--rules DIR]... [--json | --format text|json|ocsf] [--for SECONDS] [--no-bpf]\n\n"
		   "Start ringfence with the rf-detect client and print each detection as one line:\n"
		   "readable text, a JSON object (rule_id, rule_title, level, tags, event) with --json,\n"
		   "or an OCSF Detection Finding with --format ocsf. Without --rules, the project's own\n"
		   "rule pack (rules/default) runs. Needs root (the eBPF sensor).\n\n"
		   "  --rules DIR      Sigma rules to load (repeatable)\n"
		   "  --json           same as --format json\n"
		   "  --format F       text (default), json or ocsf\n"
		   "  --for SECONDS    stop after SECONDS\n"
		   "  --no-bpf         run the daemon's sensor degraded (process connector)\n\n"
		   "The daemon's log goes to standard error; detections to standard output.\n");
}

/* the directory this binary lives in (rf-detect and the rules are found from it) */
static int self_dir(char *buf, size_t sz)
{
	ssize_t n = readlink("/proc/self/exe", buf, sz - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	buf[n] = 0;
	slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return 0;
}

static pid_t spawn(char *const argv[])
{
	pid_t p = fork();

	if (p == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		fprintf(stderr, "ringfence: cannot start %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return p;
}

/* wait for pid with a timeout; returns its status or -1 */
static int wait_timeout(pid_t pid, int ms)
{
	int st;

	for (int i = 0; i < ms / 10; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	return -1;
}

int rf_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rules", required_argument, 0, 'r'}, {"json", no_argument, 0, 'j'},
		{"format", required_argument, 0, 'f'}, {"for", required_argument, 0, 't'},
		{"no-bpf", no_argument, 0, 'B'},      {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *rules[RUN_RULES_MAX], *format = "text", *secs_arg = NULL;
	char dir[PATH_MAX], bin[PATH_MAX + 32], detect[PATH_MAX + 32], tmp[] = "/tmp/ringfence-run.XXXXXX";
	char sock[PATH_MAX + 32], conf[PATH_MAX + 32], path[PATH_MAX + 64], defrules[PATH_MAX + 32];
	char *dargv[12], *cargv[8 + 2 * RUN_RULES_MAX];
	unsigned nrules = 0, i;
	double secs = 0;
	bool no_bpf = false;
	pid_t daemon = -1, client = -1;
	int c, ret = 1, st, n;
	FILE *f;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:jf:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (nrules == RUN_RULES_MAX) {
				rf_err("at most %d --rules directories", RUN_RULES_MAX);
				return 2;
			}
			rules[nrules++] = optarg;
			break;
		case 'j':
			format = "json";
			break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json") && strcmp(optarg, "ocsf")) {
				rf_err("--format takes text, json or ocsf, not '%s'", optarg);
				return 2;
			}
			format = optarg;
			break;
		case 't':
			if (rf_cli_parse_seconds(optarg, &secs) < 0) {
				rf_err("--for takes a positive number of seconds, not '%s'", optarg);
				return 2;
			}
			secs_arg = optarg;
			break;
		case 'B':
			no_bpf = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		rf_err("unexpected argument '%s' ('ringfence run --help')", argv[optind]);
		return 2;
	}
	if (geteuid() != 0) {
		rf_err("run needs root: the daemon loads the eBPF sensor ('sudo ringfence run')");
		return 1;
	}
	if (self_dir(dir, sizeof(dir)) < 0) {
		rf_err("cannot find my own executable: %s", strerror(errno));
		return 1;
	}
	snprintf(bin, sizeof(bin), "%s/ringfence", dir);
	snprintf(detect, sizeof(detect), "%s/rf-detect", dir);
	if (access(detect, X_OK) != 0) {
		rf_err("rf-detect not found next to ringfence (%s): build it with 'make'", detect);
		return 1;
	}
	for (i = 0; i < nrules; i++)
		if (access(rules[i], R_OK) != 0) {
			rf_err("--rules %s: %s", rules[i], strerror(errno));
			return 1;
		}
	if (!nrules) { /* the project's own pack, next to the build or installed */
		snprintf(defrules, sizeof(defrules), "%s/../rules/default", dir);
		if (access(defrules, R_OK) != 0)
			snprintf(defrules, sizeof(defrules), "/usr/share/ringfence/rules");
		if (access(defrules, R_OK) != 0) {
			rf_err("no rules given and the default rule pack is missing; use --rules DIR");
			return 1;
		}
		rules[nrules++] = defrules;
	}

	/* a private configuration: one manifest, for rf-detect */
	if (!mkdtemp(tmp)) {
		rf_err("cannot create a directory in /tmp: %s", strerror(errno));
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/ringfence.sock", tmp);
	snprintf(conf, sizeof(conf), "%s/conf", tmp);
	snprintf(path, sizeof(path), "%s/clients.d", conf);
	if (mkdir(conf, 0700) || mkdir(path, 0700)) {
		rf_err("cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/clients.d/rf-detect.conf", conf);
	f = fopen(path, "w");
	if (!f) {
		rf_err("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fprintf(f, "name = rf-detect\nexecutable = %s\nuser = root\nclasses = *\nmodes = notify\n"
		   "ring_size = 16M\n", detect);
	fclose(f);

	rf_cli_catch_signals();
	n = 0;
	dargv[n++] = bin;
	dargv[n++] = "daemon";
	dargv[n++] = "--socket";
	dargv[n++] = sock;
	dargv[n++] = "--config";
	dargv[n++] = conf;
	if (no_bpf)
		dargv[n++] = "--no-bpf";
	dargv[n] = NULL;
	daemon = spawn(dargv);
	for (i = 0; i < 500 && access(sock, F_OK) != 0; i++) {
		struct timespec ts = {0, 20000000};
		if (waitpid(daemon, &st, WNOHANG) == daemon) {
			rf_err("the daemon stopped before it was ready (see its messages above)");
			daemon = -1;
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	if (access(sock, F_OK) != 0) {
		rf_err("the daemon did not open its socket within 10 s");
		goto out;
	}

	n = 0;
	cargv[n++] = detect;
	for (i = 0; i < nrules; i++) {
		cargv[n++] = "--rules";
		cargv[n++] = (char *)rules[i];
	}
	cargv[n++] = "--format";
	cargv[n++] = (char *)format;
	cargv[n++] = "--socket";
	cargv[n++] = sock;
	if (secs_arg) {
		cargv[n++] = "--for";
		cargv[n++] = (char *)secs_arg;
	}
	cargv[n] = NULL;
	client = spawn(cargv);
	rf_info("running: rf-detect with %u rule director%s; Ctrl-C stops", nrules, nrules == 1 ? "y" : "ies");

	/* until the client ends (--for), or a signal, or the daemon dies */
	for (;;) {
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0 && errno == EINTR) {
			if (rf_cli_stopped())
				break;
			continue;
		}
		if (p == client) {
			client = -1;
			ret = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
			break;
		}
		if (p == daemon) {
			daemon = -1;
			rf_err("the daemon stopped (status %d); stopping rf-detect", st);
			break;
		}
		if (p < 0)
			break;
	}
	if (rf_cli_stopped())
		ret = 0;
out:
	if (client > 0) {
		kill(client, SIGTERM);
		if (wait_timeout(client, 5000) < 0) {
			kill(client, SIGKILL);
			waitpid(client, &st, 0);
		}
	}
	if (daemon > 0) {
		kill(daemon, SIGTERM);
		if (wait_timeout(daemon, 5000) < 0) {
			kill(daemon, SIGKILL);
			waitpid(daemon, &st, 0);
		}
	}
	snprintf(path, sizeof(path), "%s/conf/clients.d/rf-detect.conf", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/conf/clients.d", tmp);
	rmdir(path);
	rmdir(conf);
	unlink(sock);
	rmdir(tmp);
	return ret;
}
