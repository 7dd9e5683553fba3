// SPDX-License-Identifier: MIT
/* placeholder until the sensor lands (this commit is the build skeleton) */
#include "cli/commands.h"
#include "common/log.h"
int rf_cmd_events(int argc, char **argv) { rf_err("events: not built yet"); return 1; }
int rf_cmd_record(int argc, char **argv) { rf_err("record: not built yet"); return 1; }
int rf_cmd_replay(int argc, char **argv) { rf_err("replay: not built yet"); return 1; }
int rf_cmd_run(int argc, char **argv) { rf_err("run: not built yet"); return 1; }
