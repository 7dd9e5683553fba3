/* SPDX-License-Identifier: MIT */
/* commands.h: the subcommands of the ringfence binary. Each returns the exit code:
 * 0 success, 1 failure at run time, 2 bad usage. */
#ifndef RF_COMMANDS_H
#define RF_COMMANDS_H

int rf_cmd_attest(int argc, char **argv);
int rf_cmd_auth(int argc, char **argv);
int rf_cmd_content(int argc, char **argv);
int rf_cmd_events(int argc, char **argv);
int rf_cmd_fleet(int argc, char **argv);
int rf_cmd_record(int argc, char **argv);
int rf_cmd_replay(int argc, char **argv);
int rf_cmd_run(int argc, char **argv);
int rf_cmd_rules(int argc, char **argv);
int rf_cmd_daemon(int argc, char **argv);
int rf_cmd_status(int argc, char **argv);

#endif
