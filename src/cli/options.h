/* SPDX-License-Identifier: MIT */
/* options.h: helpers shared by the subcommands. */
#ifndef RF_CLI_OPTIONS_H
#define RF_CLI_OPTIONS_H

#include <stdint.h>
#include "sensor/sensor.h"

/* "process_exec,file" -> class bit mask (0 = all); prints the valid names on error. */
int rf_cli_parse_classes(const char *list, uint64_t *mask);
/* positive seconds, fractions allowed */
int rf_cli_parse_seconds(const char *s, double *out);
/* SIGINT/SIGTERM set a flag that rf_cli_stopped() returns; SIGPIPE ignored. */
void rf_cli_catch_signals(void);
int rf_cli_stopped(void);
void rf_cli_print_summary(const char *what, const struct rf_sensor_stats *ss, const char *degraded);

#endif
