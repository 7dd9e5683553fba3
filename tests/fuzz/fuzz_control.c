// SPDX-License-Identifier: MIT
/*
 * fuzz_control: the daemon's control protocol, parser and handler together. The input
 * is a conversation: records of [u16 little-endian length][message bytes], handed one
 * by one to rf_broker_control() on one connection whose peer is this process (the
 * manifest "fuzz" names our own executable and uid, so HELLO can succeed and the
 * later messages reach subscription, muting and stats). After each message one
 * synthetic event of every class is dispatched, so fuzzed mute lists are exercised.
 * The whole input also goes through rf_proto_parse() as one message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/broker.h"
#include "daemon/recent.h"
#include "ringfence/ringfence.h"

/* The code under test is compiled into this file so that libFuzzer's coverage
 * instrumentation (only this file gets -fsanitize=fuzzer) sees it; the archive
 * members with the same symbols are then not linked. */
#include "../../lib/proto.c"
#include "../../src/daemon/broker.c"
#include "../../src/daemon/ring_prod.c"

static struct rf_manifests manifests(void)
{
	static struct rf_manifest m;
	struct rf_manifests ms = {0};
	ssize_t n;

	memset(&m, 0, sizeof(m));
	strcpy(m.name, "fuzz");
	n = readlink("/proc/self/exe", m.exe, sizeof(m.exe) - 1);
	if (n > 0)
		m.exe[n] = 0;
	m.uid = getuid();
	m.classes = ~1ull;
	m.modes = RF_SUB_NOTIFY;
	m.ring_bytes = RF_RING_MIN;
	ms.v = malloc(sizeof(m));
	if (ms.v) {
		ms.v[0] = m;
		ms.n = 1;
	}
	return ms;
}

static void dispatch_all(struct rf_broker *b)
{
	static unsigned char ev[RF_EVENT_MAX];
	unsigned id;

	for (id = 1; id < rf_schema_class_count() && id < RF_CLASSES_MAX; id++) {
		const struct rf_class_desc *c = rf_schema_class(id);
		struct rf_event_hdr *h = (struct rf_event_hdr *)ev;
		int i;
		size_t off;

		if (!c)
			continue;
		memset(ev, 0, c->fixed_size + 64);
		h->class_id = id;
		h->pid = 1000 + id % 4;
		off = c->fixed_size;
		for (i = 0; i < c->nfields; i++) {
			const struct rf_field_desc *f = &c->fields[i];
			struct rf_str s;
			if (f->type != RF_FT_PATH || f->source == RF_FS_DERIVED)
				continue;
			s.off = (uint16_t)off;
			s.len = 6;
			memcpy(ev + off, "/a/b/c", 7);
			memcpy(ev + f->offset, &s, sizeof(s));
			off += 7;
		}
		h->size = (uint16_t)off;
		rf_broker_dispatch(b, h);
	}
	rf_broker_flush(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[RF_BROKER_REPLY_MAX];
	struct rf_manifests ms = manifests();
	struct rf_broker *b = malloc(sizeof(*b));
	struct rf_conn *c;
	struct rf_msg m;
	size_t pos = 0;
	int fds[2], nfds;

	(void)!rf_proto_parse(data, size, &m, NULL);
	if (!b)
		return 0;
	rf_broker_init(b, &ms, "/nonexistent");
	(void)!rf_recent_new(1, RF_RECENT_BYTES_MIN, &b->recent); /* RECENT_REQ dumps it */
	c = rf_broker_conn_new(b, -1, getpid(), getuid(), getgid());
	while (c && pos + 2 <= size) {
		size_t len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
		size_t reply;

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		reply = rf_broker_control(b, c, data + pos, len, out, sizeof(out), fds, &nfds);
		if (reply == 0) {
			/* only a well-formed VERDICT goes unanswered (proto.h) */
			if (rf_proto_parse(data + pos, len, &m, NULL) < 0 || m.hdr.type != RF_MSG_VERDICT)
				abort();
		} else if (reply < sizeof(struct rf_msg_hdr) || rf_proto_parse(out, reply, &m, NULL) < 0) {
			abort(); /* the daemon must always answer with a well-formed message */
		}
		if (nfds)
			close(fds[0]);
		pos += len;
		dispatch_all(b);
	}
	rf_recent_free(b->recent);
	rf_broker_fini(b);
	free(b);
	return 0;
}
