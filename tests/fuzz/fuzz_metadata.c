// SPDX-License-Identifier: MIT
/* Fuzz the metadata parser (TLV envelope and body) and the signature check. */
#include <stdint.h>
#include <stdlib.h>

#include "content/content.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rf_content_err e;
	struct rf_meta *m = malloc(sizeof(*m));

	if (!m)
		return 0;
	if (rf_meta_parse(data, size, m, &e) == 0 && m->type == RF_META_ROOT) {
		/* self-signed root: exercises the signature loop on fuzzed keys */
		(void)!rf_meta_check_sigs(m, m, RF_ROLE_ROOT, &e);
		(void)!rf_meta_check_sigs(m, m, RF_ROLE_TARGETS, &e);
	}
	free(m);
	return 0;
}
