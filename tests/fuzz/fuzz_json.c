// SPDX-License-Identifier: MIT
/* Fuzz the checked JSON reader (lib/json_read.c) that fleet reports and controller
 * responses go through, and its typed readers on every token it accepted. */
#include <stdint.h>
#include <string.h>

#include "ringfence/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rf_json_tok toks[256];
	static char s[1024];
	struct rf_json j;
	uint64_t u;
	double d;

	if (rf_json_parse(&j, (const char *)data, size, toks, 256, 8) < 0) {
		if (!j.err || j.err_pos > size)
			__builtin_trap();
		return 0;
	}
	for (uint32_t i = 0; i < j.nt; i++) {
		const struct rf_json_tok *t = &j.t[i];

		/* structure: inside the document, children after their parent */
		if (t->start > t->end || t->end > size || t->next <= i || t->next > j.nt)
			__builtin_trap();
		if (t->type == RF_JSON_STRING) {
			int n = rf_json_string(&j, i, s, sizeof(s));
			/* decoding never grows a string, and a fitting one has no NUL */
			if (n > (int)(t->end - t->start) || (n >= 0 && strlen(s) != (size_t)n))
				__builtin_trap();
			(void)rf_json_key_is(&j, i, "v");
		}
		if (t->type == RF_JSON_NUMBER) {
			(void)rf_json_uint(&j, i, 0, UINT64_MAX, &u);
			(void)rf_json_double(&j, i, &d);
		}
	}
	return 0;
}
