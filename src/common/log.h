/* SPDX-License-Identifier: MIT */
/* log.h: messages from the ringfence programs (libraries return errors instead). */
#ifndef RF_LOG_H
#define RF_LOG_H

enum rf_log_level { RF_LOG_ERROR, RF_LOG_WARN, RF_LOG_INFO, RF_LOG_DEBUG };

/* Messages at or below this level are printed to stderr; default RF_LOG_INFO,
 * RF_LOG_DEBUG when RINGFENCE_DEBUG is set in the environment. */
void rf_log_set_level(enum rf_log_level lvl);
void rf_log(enum rf_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rf_err(...)   rf_log(RF_LOG_ERROR, __VA_ARGS__)
#define rf_warn(...)  rf_log(RF_LOG_WARN, __VA_ARGS__)
#define rf_info(...)  rf_log(RF_LOG_INFO, __VA_ARGS__)
#define rf_debug(...) rf_log(RF_LOG_DEBUG, __VA_ARGS__)

#endif
