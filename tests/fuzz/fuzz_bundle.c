// SPDX-License-Identifier: MIT
/*
 * Fuzz the bundle reader: header, metadata section, every metadata envelope in it,
 * the payload archive, and full verification against a fixed trusted root (whose
 * keys the fuzzer does not have, so it explores the refusal paths).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"

static int count_cb(void *ctx, int type, const char *name, const uint8_t *data, uint64_t size)
{
	size_t *n = ctx;

	*n += strlen(name) + (size_t)size + (size_t)type;
	if (size)
		*n += data[0] + data[size - 1]; /* touch both ends: ASan checks the bounds */
	return 0;
}

/* root metadata v1 for an all-zero key (no one can sign for it) */
static const uint8_t root_env[] = {
	0x01, 0x00, 0x01, 0x00, 0x8d, 0x00, 0x00, 0x00, /* SIGNED, 141 bytes */
	0x20, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* type root */
	0x21, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* spec 1 */
	0x22, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, /* version 1 */
	0x23, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
	0x30, 0x00, 0x01, 0x00, 0x24, 0x00, 0x00, 0x00, 1, 1, 1, 0, /* root role, 1 key */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0,
	0x30, 0x00, 0x01, 0x00, 0x24, 0x00, 0x00, 0x00, 2, 1, 1, 0, /* targets role, 1 key */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0,
};
_Static_assert(sizeof(root_env) == 8 + 141, "root_env length field");

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rf_content_err e;
	struct rf_installed inst = {1, 1};
	struct rf_verified v;
	struct rf_bundle b;
	struct rf_meta m;
	size_t n = 0;
	unsigned i;

	if (rf_meta_parse(root_env, sizeof(root_env), &m, &e) != 0)
		abort(); /* the fixed root must parse, or verification is never reached */

	if (rf_bundle_parse(data, size, &b, &e) == 0) {
		for (i = 0; i < b.nroots; i++)
			(void)!rf_meta_parse(b.roots[i], b.roots_len[i], &m, &e);
		(void)!rf_meta_parse(b.targets, b.targets_len, &m, &e);
		(void)!rf_archive_walk(b.payload, b.payload_avail, count_cb, &n, &e);
	}
	(void)!rf_archive_walk(data, size, count_cb, &n, &e);
	if (rf_bundle_verify(data, size, root_env, sizeof(root_env), 1800000000, &inst, &v, &e) ==
	    0)
		abort(); /* nobody holds the zero key: acceptance would be a forgery */
	return 0;
}
