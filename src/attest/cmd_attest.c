// SPDX-License-Identifier: MIT
/* cmd_attest.c: `ringfence attest quote|verify|policy` (docs/attest.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest/attest.h"
#include "cli/commands.h"
#include "common/log.h"
#include "ringfence/ringfence.h"

static void usage(FILE *o)
{
	fprintf(o,
		"usage: ringfence attest quote --nonce HEX [--out FILE] [--state DIR | --socket PATH]\n"
		"                              [--tcti TCTI]\n"
		"       ringfence attest verify FILE --nonce HEX --policy FILE\n"
		"       ringfence attest policy FILE       (print a policy allowing what quote FILE shows)\n\n"
		"quote: a quote over the daemon's measurement log (STATE/attest.log): with a TPM, a\n"
		"  TPM2_Quote of PCR %u signed by the TPM's attestation key; without one, the chain\n"
		"  signed with the software key STATE/attest.sec (" RF_ATTEST_SW_WARNING ").\n"
		"  --nonce: %u to %u bytes in hex, fresh from the verifier. Run as root. STATE is\n"
		"  the daemon's --state (default /var/lib/ringfence/daemon; with --socket PATH:\n"
		"  DIR-OF-PATH/state, as the daemon picks it). --tcti overrides the TPM the log names.\n"
		"verify: replays the log, checks the signature, the key and the nonce, and compares\n"
		"  every measurement with the policy. Prints every deviating component; exit 0 when\n"
		"  genuine, 1 when anything deviates, 2 on bad usage.\n"
		"docs/attest.md describes the formats and what each mode protects against.\n",
		RF_ATTEST_PCR, RF_ATTEST_NONCE_MIN, RF_ATTEST_NONCE_MAX);
}

static int read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	uint8_t *buf = malloc(max + 1);
	size_t got = 0;
	ssize_t n;
	int fd;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		n = -errno;
		free(buf);
		return (int)n;
	}
	while (got <= max && (n = read(fd, buf + got, max + 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got > max) {
		free(buf);
		return -EFBIG;
	}
	*out = buf;
	*len = got;
	return 0;
}

static int parse_nonce(const char *s, uint8_t *out, size_t *len)
{
	if (!s || rf_attest_hex_decode(s, strlen(s), out, RF_ATTEST_NONCE_MAX, len) < 0 ||
	    *len < RF_ATTEST_NONCE_MIN) {
		rf_err("attest: --nonce wants %u to %u bytes in hex", RF_ATTEST_NONCE_MIN,
		       RF_ATTEST_NONCE_MAX);
		return -1;
	}
	return 0;
}

static int cmd_quote(int argc, char **argv)
{
	static const struct option opts[] = {
		{"nonce", required_argument, NULL, 'n'}, {"out", required_argument, NULL, 'o'},
		{"state", required_argument, NULL, 'S'}, {"socket", required_argument, NULL, 's'},
		{"tcti", required_argument, NULL, 't'},  {"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *nonce_hex = NULL, *out = NULL, *state = NULL, *sock = NULL, *tcti = NULL;
	uint8_t nonce[RF_ATTEST_NONCE_MAX], *q = NULL;
	size_t nlen, qlen;
	char why[512], sbuf[4096];
	int o, r;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'n': nonce_hex = optarg; break;
		case 'o': out = optarg; break;
		case 'S': state = optarg; break;
		case 's': sock = optarg; break;
		case 't': tcti = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || parse_nonce(nonce_hex, nonce, &nlen) < 0) {
		if (optind < argc)
			rf_err("attest quote: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!state) {
		if (!sock)
			sock = getenv("RINGFENCE_SOCKET");
		if (sock && *sock && strcmp(sock, RF_DEFAULT_SOCKET)) {
			char *slash;
			snprintf(sbuf, sizeof(sbuf), "%s", sock);
			slash = strrchr(sbuf, '/');
			if (slash)
				snprintf(slash, sizeof(sbuf) - (size_t)(slash - sbuf), "/state");
			else
				snprintf(sbuf, sizeof(sbuf), "state");
			state = sbuf;
		} else {
			state = "/var/lib/ringfence/daemon";
		}
	}
	if (!getenv("TSS2_LOG"))
		setenv("TSS2_LOG", "all+NONE", 1);
	r = rf_attest_quote_state(state, tcti, nonce, nlen, &q, &qlen, why, sizeof(why));
	if (r < 0) {
		rf_err("attest quote: %s", why);
		return 1;
	}
	if (strstr((const char *)q, "\nmode software\n"))
		rf_warn("attest quote: %s", RF_ATTEST_SW_WARNING);
	if (out) {
		FILE *f = fopen(out, "w");
		if (!f || fwrite(q, 1, qlen, f) != qlen || fclose(f)) {
			rf_err("attest quote: cannot write %s: %s", out, strerror(errno));
			free(q);
			return 1;
		}
	} else if (fwrite(q, 1, qlen, stdout) != qlen) {
		free(q);
		return 1;
	}
	free(q);
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"nonce", required_argument, NULL, 'n'}, {"policy", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},        {0},
	};
	const char *nonce_hex = NULL, *policy = NULL, *file = NULL;
	struct rf_attest_policy p;
	struct rf_attest_quote q;
	uint8_t nonce[RF_ATTEST_NONCE_MAX], *buf = NULL;
	size_t nlen, len;
	char why[8192], *s;
	bool sw = false;
	int o, r;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'n': nonce_hex = optarg; break;
		case 'p': policy = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || !policy) {
		rf_err("attest verify: want one quote FILE, --nonce HEX and --policy FILE");
		return 2;
	}
	file = argv[optind];
	if (parse_nonce(nonce_hex, nonce, &nlen) < 0)
		return 2;
	if (rf_attest_policy_load(policy, &p, why, sizeof(why)) < 0) {
		rf_err("attest verify: %s: %s", policy, why);
		return 2;
	}
	r = read_file(file, RF_ATTEST_QUOTE_MAX, &buf, &len);
	if (r < 0) {
		rf_err("attest verify: cannot read %s: %s", file, strerror(-r));
		rf_attest_policy_fini(&p);
		return 1;
	}
	r = rf_attest_quote_parse(buf, len, &q, why, sizeof(why));
	free(buf);
	if (r < 0) {
		printf("DEVIATION: %s\nFAILED: %s does not verify\n", why, file);
		rf_attest_policy_fini(&p);
		return 1;
	}
	r = rf_attest_verify(&q, nonce, nlen, &p, &sw, why, sizeof(why));
	/* one line per finding */
	for (s = why; *s;) {
		char *e = strchr(s, '\n');
		if (e)
			*e = 0;
		if (!strncmp(s, "software-only", 13))
			printf("WARNING: %s\n", s);
		else
			printf("DEVIATION: %s\n", s);
		if (!e)
			break;
		s = e + 1;
	}
	if (r == 0)
		printf("OK: %s verifies: %s, %zu measurements, all allowed by the policy%s\n", file,
		       sw ? "software-only" : "TPM quote of PCR 23", q.log.n,
		       sw ? " (weaker: " RF_ATTEST_SW_WARNING ")" : "");
	else
		printf("FAILED: %s does not verify\n", file);
	rf_attest_quote_fini(&q);
	rf_attest_policy_fini(&p);
	return r == 0 ? 0 : 1;
}

static int cmd_policy(int argc, char **argv)
{
	struct rf_attest_quote q;
	uint8_t *buf;
	size_t len;
	char why[512], *out;
	int r;

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		usage(argc == 2 ? stdout : stderr);
		return argc == 2 ? 0 : 2;
	}
	r = read_file(argv[1], RF_ATTEST_QUOTE_MAX, &buf, &len);
	if (r < 0) {
		rf_err("attest policy: cannot read %s: %s", argv[1], strerror(-r));
		return 1;
	}
	r = rf_attest_quote_parse(buf, len, &q, why, sizeof(why));
	free(buf);
	if (r < 0) {
		rf_err("attest policy: %s: %s", argv[1], why);
		return 1;
	}
	r = rf_attest_policy_from_quote(&q, &out, &len);
	rf_attest_quote_fini(&q);
	if (r < 0)
		return 1;
	fwrite(out, 1, len, stdout);
	free(out);
	return 0;
}

int rf_cmd_attest(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "quote"))
		return cmd_quote(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "policy"))
		return cmd_policy(argc - 1, argv + 1);
	rf_err("attest: unknown subcommand '%s' (quote, verify, policy)", argv[1]);
	return 2;
}
