// SPDX-License-Identifier: MIT
/* config.c: the controller's config file: "key = value" lines, '#' comments. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"

static int num(const char *v, double lo, double hi, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (end == v || *end || errno || d < lo || d > hi)
		return -1;
	*out = d;
	return 0;
}

int rf_fleet_config_load(const char *path, struct rf_fleet_config *c, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned ln = 0;
	int r = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k = line, *v, *e;
		double d;
		struct { const char *name; double lo, hi; void *dst; int kind; } keys[] = {
			{"poll_s", 1, 86400, &c->poll_s, 0},
			{"silence_polls", 1, 100, &c->silence_polls, 0},
			{"canary_pct", 0, 100, &c->canary_pct, 1},
			{"canary_max_pct", 0, 100, &c->canary_max_pct, 1},
			{"early_pct", 0, 100, &c->early_pct, 1},
			{"holdback_pct", 0, 100, &c->holdback_pct, 1},
			{"canary_bake_s", 0, 30 * 86400, &c->bake_s[0], 0},
			{"early_bake_s", 0, 30 * 86400, &c->bake_s[1], 0},
			{"broad_bake_s", 0, 30 * 86400, &c->bake_s[2], 0},
			{"margin", 0, 1, &c->margin, 1},
			{"adopt_pct", 0, 100, &c->adopt_pct, 1},
			{"min_epochs", 0, 1000, &c->min_epochs, 0},
			{"auth_miss_limit", 0, 1e9, &c->auth_miss_limit, 0},
			{"rollback_bake_s", 0, 30 * 86400, &c->rollback_bake_s, 0},
			{"internal_canary", 0, 1, &c->internal_canary, 2},
		};
		unsigned i;

		ln++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, ln);
			r = -EINVAL;
			break;
		}
		line[strcspn(line, "#\r\n")] = 0;
		while (*k == ' ' || *k == '\t')
			k++;
		if (!*k)
			continue;
		v = strchr(k, '=');
		if (!v) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, ln);
			r = -EINVAL;
			break;
		}
		for (e = v; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = 0;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = 0;
		if (!strcmp(k, "ring_salt")) {
			if (!*v) {
				snprintf(err, errlen, "%s:%u: ring_salt is empty", path, ln);
				r = -EINVAL;
				break;
			}
			memset(c->salt, 0, sizeof(c->salt));
			memcpy(c->salt, v, strlen(v) < 16 ? strlen(v) : 16);
			continue;
		}
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(k, keys[i].name))
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path, ln, k);
			r = -EINVAL;
			break;
		}
		if (keys[i].kind == 2) {
			if (strcmp(v, "true") && strcmp(v, "false")) {
				snprintf(err, errlen, "%s:%u: %s must be true or false", path, ln, k);
				r = -EINVAL;
				break;
			}
			*(bool *)keys[i].dst = !strcmp(v, "true");
			continue;
		}
		if (num(v, keys[i].lo, keys[i].hi, &d) < 0 ||
		    (keys[i].kind == 0 && d != (double)(unsigned)d)) {
			snprintf(err, errlen, "%s:%u: %s must be a %s in [%g, %g]", path, ln, k,
				 keys[i].kind ? "number" : "whole number", keys[i].lo, keys[i].hi);
			r = -EINVAL;
			break;
		}
		if (keys[i].kind == 1)
			*(double *)keys[i].dst = d;
		else
			*(unsigned *)keys[i].dst = (unsigned)d;
	}
	fclose(f);
	if (r == 0 && c->canary_pct + c->early_pct + c->holdback_pct > 100.0) {
		snprintf(err, errlen, "%s: canary_pct + early_pct + holdback_pct exceed 100", path);
		r = -EINVAL;
	}
	return r;
}
