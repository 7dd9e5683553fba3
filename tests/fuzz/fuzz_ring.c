// SPDX-License-Identifier: MIT
/*
 * fuzz_ring: the client's ring reader (lib/ring.c) on a hostile ring. Input: 8 bytes
 * head, 8 bytes tail, then the data area (up to RF_RING_MIN bytes, rest zero). The
 * ring lives in an exactly sized heap buffer, so ASan sees any read outside it. The
 * reader is called until it reports empty or corrupt; every event it hands out must
 * lie inside the data area and pass rf_event_validate().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring_int.h"
#include "ringfence/schema.h"

/* Compiled in so that libFuzzer's coverage instrumentation sees it (see
 * fuzz_control.c). */
#include "../../lib/ring.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = RF_RING_HDR_BYTES + RF_RING_MIN;
	unsigned char *map = calloc(1, len);
	struct rf_ring_hdr *h = (struct rf_ring_hdr *)map;
	struct rf_ring_reader r;
	const struct rf_event_hdr *ev;
	uint64_t head = 0, tail = 0;
	int i, n;

	if (!map)
		return 0;
	if (size >= 16) {
		memcpy(&head, data, 8);
		memcpy(&tail, data + 8, 8);
		data += 16;
		size -= 16;
	}
	h->magic = RF_RING_MAGIC;
	h->version = RF_RING_VERSION;
	h->hdr_bytes = RF_RING_HDR_BYTES;
	h->data_bytes = RF_RING_MIN;
	h->head = head;
	h->tail = tail;
	memcpy(map + RF_RING_HDR_BYTES, data, size < RF_RING_MIN ? size : RF_RING_MIN);
	if (rf_ring_reader_init(&r, map, len, RF_RING_MIN, NULL) == 0) {
		for (i = 0; i < 100000; i++) {
			n = rf_ring_read(&r, &ev, NULL);
			if (n <= 0)
				break;
			if ((const unsigned char *)ev < map + RF_RING_HDR_BYTES ||
			    (const unsigned char *)ev + ev->size > map + len ||
			    rf_event_validate(ev, ev->size, NULL) != 0)
				abort();
		}
	}
	free(map);
	return 0;
}
