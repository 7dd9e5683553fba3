/* SPDX-License-Identifier: MIT */
/*
 * ringfence/event.h: the event wire format, shared by the eBPF sensor, the daemon,
 * capture files, the client rings and libringfence.
 *
 * An event is one contiguous record:
 *   struct rf_event_hdr  (48 bytes: size, class, flags, cpu, sequence numbers, time,
 *                         process key)
 *   class fields          (fixed size, from schema/events.yaml)
 *   data area             (the bytes of string fields, each NUL-terminated)
 * String fields are struct rf_str {off, len}: offsets from the start of the event,
 * never pointers. A reader must call rf_event_validate() (ringfence/schema.h) before
 * it trusts any offset. The structs are generated into ringfence/events_gen.h.
 *
 * Safe to include from eBPF programs (after vmlinux.h) and from user space.
 */
#ifndef RINGFENCE_EVENT_H
#define RINGFENCE_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "ringfence/limits.h"
#include "ringfence/events_gen.h"

/* rf_event_hdr.flags */
#define RF_EVF_DEGRADED     0x0001 /* from the fallback sensor (no eBPF): fewer fields, racy /proc reads */
#define RF_EVF_TRUNCATED    0x0002 /* a string field was cut at its limit */
#define RF_EVF_PATH_PARTIAL 0x0004 /* a path could not be fully resolved (too deep, unreachable, deleted) */
#define RF_EVF_NO_PARENT    0x0008 /* the parent was not in the process table: parent_* fields empty */
#define RF_EVF_REPLAYED     0x0010 /* read from a capture file, not live */

#endif /* RINGFENCE_EVENT_H */
