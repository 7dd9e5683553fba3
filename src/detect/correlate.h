/* SPDX-License-Identifier: MIT */
/* correlate.h: correlation rules at run time (event_count, value_count, temporal,
 * temporal_ordered), private to src/detect/. */
#ifndef RF_DETECT_CORRELATE_H
#define RF_DETECT_CORRELATE_H

#include "detect/detect_int.h"

/* Allocate the group table of C. Returns 0 or -ENOMEM. */
int rf_corr_init_(struct corr *c);
/* Rule BASE matched the current event (d->ev): update correlation rule CORR_RULE and
 * call CB when it fires. Returns the number of hits (0 or 1), or -errno. */
int rf_corr_feed_(struct rf_detect *d, int corr_rule, int base, rf_detect_hit_cb cb, void *ctx);

/* Free every group of C (the table itself stays). */
void rf_corr_free_groups_(struct corr *c);

#endif
