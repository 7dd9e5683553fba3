// SPDX-License-Identifier: MIT
/* ringfence: one binary, many subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/log.h"
#include "ringfence/schema.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"attest", rf_cmd_attest, "quote and verify the measurement log of what the platform runs"},
	{"auth", rf_cmd_auth, "AUTH: 'auth test PATH' shows each client's verdict and the combined one"},
	{"content", rf_cmd_content, "verify, validate, install and roll back content bundles"},
	{"daemon", rf_cmd_daemon, "run the broker: clients connect and receive events (foreground)"},
	{"fleet", rf_cmd_fleet, "fleet rollout: controller (serve), repository (publish), simulator"},
	{"events", rf_cmd_events, "stream live events from the sensor (human or --json)"},
	{"record", rf_cmd_record, "record live events into a capture file"},
	{"replay", rf_cmd_replay, "print the events of a capture file"},
	{"run", rf_cmd_run, "start ringfence and show live detections"},
	{"rules", rf_cmd_rules, "check, test and benchmark Sigma detection rules"},
	{"status", rf_cmd_status, "show the daemon's clients, events/s, drops and ring fill"},
};

static void usage(FILE *o)
{
	size_t i;

	fprintf(o, "usage: ringfence COMMAND [OPTIONS]\n\n"
		   "ringfence is an endpoint security platform for Linux: a small trusted daemon\n"
		   "with a verified eBPF sensor, and security engines as sandboxed user-space clients.\n\n"
		   "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(o, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(o, "\n'ringfence COMMAND --help' describes a command's options.\n"
		   "Event schema version %u (layout %016llx).\n",
		rf_schema_version(), (unsigned long long)rf_schema_hash());
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ringfence 0.1 (event schema %u, layout %016llx)\n", rf_schema_version(),
		       (unsigned long long)rf_schema_hash());
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	rf_err("unknown command '%s': 'ringfence --help' lists the commands", argv[1]);
	return 2;
}
