// SPDX-License-Identifier: MIT
/* Unit tests of the control protocol parser (lib/proto.c), the manifest parser
 * (src/daemon/manifest.c) and the daemon's control handler and muting
 * (src/daemon/broker.c): every rejection path has a case here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/broker.h"
#include "daemon/recent.h"
#include "ringfence/ringfence.h"

static void *exec_event(uint32_t pid, const char *exe);

static void hdr(void *p, unsigned type, size_t size)
{
	struct rf_msg_hdr *h = p;

	memset(h, 0, sizeof(*h));
	h->magic = RF_PROTO_MAGIC;
	h->type = type;
	h->size = size;
	h->id = 7;
}

static int parse(const void *p, size_t n)
{
	struct rf_msg m;
	const char *why = NULL;
	int r = rf_proto_parse(p, n, &m, &why);

	if (r < 0)
		assert_non_null(why);
	return r;
}

static void test_parse_header(void **state)
{
	unsigned char b[64];
	struct rf_msg_hdr *h = (void *)b;

	hdr(b, RF_MSG_STATS_REQ, 16);
	assert_int_equal(parse(b, 16), 0);
	assert_int_equal(parse(b, 15), -EBADMSG);         /* short */
	assert_int_equal(parse(NULL, 16), -EBADMSG);
	h->magic = 0x1234;
	assert_int_equal(parse(b, 16), -EBADMSG);         /* magic */
	hdr(b, RF_MSG_STATS_REQ, 17);
	assert_int_equal(parse(b, 16), -EBADMSG);         /* size != packet */
	hdr(b, RF_MSG_STATS_REQ, 20);
	assert_int_equal(parse(b, 20), -EBADMSG);         /* size wrong for type */
	hdr(b, RF_MSG_STATS_REQ, 16);
	h->reserved = 1;
	assert_int_equal(parse(b, 16), -EBADMSG);         /* reserved */
	hdr(b, 0, 16);
	assert_int_equal(parse(b, 16), -EBADMSG);         /* type 0 */
	hdr(b, RF_MSG_TYPE_END, 16);
	assert_int_equal(parse(b, 16), -EBADMSG);         /* unknown type */
}

static void test_parse_hello_subscribe_invert(void **state)
{
	struct rf_msg_hello h;
	struct rf_msg_subscribe s;
	struct rf_msg_invert iv;
	struct rf_msg_welcome w;

	memset(&w, 0, sizeof(w));
	hdr(&w, RF_MSG_WELCOME, sizeof(w));
	assert_int_equal(parse(&w, sizeof(w)), 0);           /* not pinned */
	w.cpu_plus_one = RF_CPU_MAX;
	assert_int_equal(parse(&w, sizeof(w)), 0);           /* the last CPU */
	w.cpu_plus_one = RF_CPU_MAX + 1;
	assert_int_equal(parse(&w, sizeof(w)), -EBADMSG);   /* beyond any cpu_set_t */

	memset(&h, 0, sizeof(h));
	hdr(&h, RF_MSG_HELLO, sizeof(h));
	assert_int_equal(parse(&h, sizeof(h)), -EBADMSG); /* empty name */
	memset(h.name, 'a', sizeof(h.name));
	assert_int_equal(parse(&h, sizeof(h)), -EBADMSG); /* not terminated */
	strcpy(h.name, "x");
	assert_int_equal(parse(&h, sizeof(h)), 0);

	memset(&s, 0, sizeof(s));
	hdr(&s, RF_MSG_SUBSCRIBE, sizeof(s));
	s.classes = 1ull << RF_CLASS_PROCESS_FORK;
	s.modes = RF_SUB_NOTIFY;
	assert_int_equal(parse(&s, sizeof(s)), 0);
	s.modes = 0x80;
	assert_int_equal(parse(&s, sizeof(s)), -EBADMSG); /* unknown mode */
	s.modes = RF_SUB_NOTIFY;
	s.classes |= 1;
	assert_int_equal(parse(&s, sizeof(s)), -EBADMSG); /* class 0 */
	s.classes = 2;
	s.reserved = 1;
	assert_int_equal(parse(&s, sizeof(s)), -EBADMSG);

	memset(&iv, 0, sizeof(iv));
	hdr(&iv, RF_MSG_INVERT, sizeof(iv));
	iv.set = RF_MUTESET_EXE;
	iv.on = 1;
	assert_int_equal(parse(&iv, sizeof(iv)), 0);
	iv.on = 2;
	assert_int_equal(parse(&iv, sizeof(iv)), -EBADMSG);
	iv.on = 1;
	iv.set = 4;
	assert_int_equal(parse(&iv, sizeof(iv)), -EBADMSG);
	iv.set = 0;
	assert_int_equal(parse(&iv, sizeof(iv)), -EBADMSG);
}

static size_t mute(unsigned char *b, unsigned op, unsigned kind, uint32_t pid, const char *path,
		   size_t plen)
{
	struct rf_msg_mute *m = (void *)b;
	size_t n = sizeof(*m) + plen;

	memset(m, 0, sizeof(*m));
	hdr(m, RF_MSG_MUTE, n);
	m->op = op;
	m->kind = kind;
	m->pid = pid;
	m->path_len = plen;
	if (plen)
		memcpy(b + sizeof(*m), path, plen);
	return n;
}

static void test_parse_mute(void **state)
{
	unsigned char b[RF_PATH_MAX + 128];
	struct rf_msg m;
	size_t n;

	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_PREFIX, 0, "/usr/bin", 9);
	assert_int_equal(rf_proto_parse(b, n, &m, NULL), 0);
	assert_string_equal(m.path, "/usr/bin");
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_PROCESS, 5, NULL, 0);
	assert_int_equal(parse(b, n), 0);
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_PROCESS, 0, NULL, 0);
	assert_int_equal(parse(b, n), -EBADMSG);       /* process without pid */
	n = mute(b, RF_MUTE_OP_CLEAR, RF_MUTE_PROCESS, 0, NULL, 0);
	assert_int_equal(parse(b, n), 0);
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_PROCESS, 5, "/x", 3);
	assert_int_equal(parse(b, n), -EBADMSG);       /* process with a path */
	n = mute(b, 0, RF_MUTE_PROCESS, 5, NULL, 0);
	assert_int_equal(parse(b, n), -EBADMSG);       /* op */
	n = mute(b, 4, RF_MUTE_PROCESS, 5, NULL, 0);
	assert_int_equal(parse(b, n), -EBADMSG);
	n = mute(b, RF_MUTE_OP_ADD, 6, 0, "/x", 3);
	assert_int_equal(parse(b, n), -EBADMSG);       /* kind */
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 3, "/x", 3);
	assert_int_equal(parse(b, n), -EBADMSG);       /* path kind with pid */
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 0, "x/y", 4);
	assert_int_equal(parse(b, n), -EBADMSG);       /* relative */
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 0, "/x\0y", 5);
	assert_int_equal(parse(b, n), -EBADMSG);       /* NUL inside */
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 0, "/xy", 3);
	assert_int_equal(parse(b, n), -EBADMSG);       /* not terminated */
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 0, "/", 1);
	assert_int_equal(parse(b, n), -EBADMSG);       /* too short */
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 0, "/x", 3);
	((struct rf_msg_mute *)b)->path_len = 5;
	assert_int_equal(parse(b, n), -EBADMSG);       /* path_len != rest */
	memset(b + sizeof(struct rf_msg_mute), 'a', RF_PATH_MAX + 1);
	b[sizeof(struct rf_msg_mute)] = '/';
	b[sizeof(struct rf_msg_mute) + RF_PATH_MAX] = 0;
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 0, (char *)b + sizeof(struct rf_msg_mute), 0);
	((struct rf_msg_mute *)b)->path_len = RF_PATH_MAX + 1;
	((struct rf_msg_mute *)b)->hdr.size = n + RF_PATH_MAX + 1;
	assert_int_equal(parse(b, n + RF_PATH_MAX + 1), -EBADMSG); /* too long */
	n = mute(b, RF_MUTE_OP_CLEAR, RF_MUTE_EXE_LITERAL, 0, NULL, 0);
	assert_int_equal(parse(b, n), 0);
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 0, "/x", 3);
	((struct rf_msg_mute *)b)->reserved = 1;
	assert_int_equal(parse(b, n), -EBADMSG);
	n = mute(b, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 0, NULL, 0);
	assert_int_equal(parse(b, n), -EBADMSG);       /* path kind without a path */
	assert_int_equal(parse(b, sizeof(struct rf_msg_hdr) + 4), -EBADMSG);
}

static void test_parse_verdict(void **state)
{
	struct rf_msg_verdict v;

	memset(&v, 0, sizeof(v));
	hdr(&v, RF_MSG_VERDICT, sizeof(v));
	v.request_id = 1;
	v.verdict = RF_VERDICT_DENY;
	v.flags = RF_VERDICT_F_CACHE;
	assert_int_equal(parse(&v, sizeof(v)), 0);
	v.verdict = 0;
	assert_int_equal(parse(&v, sizeof(v)), -EBADMSG);         /* neither allow nor deny */
	v.verdict = RF_VERDICT_DENY + 1;
	assert_int_equal(parse(&v, sizeof(v)), -EBADMSG);
	v.verdict = RF_VERDICT_ALLOW;
	v.flags = 2;
	assert_int_equal(parse(&v, sizeof(v)), -EBADMSG);         /* unknown flag */
	v.flags = 0;
	v.request_id = 0;
	assert_int_equal(parse(&v, sizeof(v)), -EBADMSG);         /* id 0 */
	v.request_id = 1;
	hdr(&v, RF_MSG_VERDICT, sizeof(v) - 8);
	assert_int_equal(parse(&v, sizeof(v) - 8), -EBADMSG);     /* short */
}

static void test_parse_netrule(void **state)
{
	struct rf_msg_netrule r, ok;

	memset(&ok, 0, sizeof(ok));
	hdr(&ok, RF_MSG_NETRULE, sizeof(ok));
	ok.op = RF_NETRULE_ADD;
	ok.family = 2;
	ok.prefix = 24;
	ok.protocol = 6;
	ok.direction = RF_NETRULE_CONNECT;
	ok.port = 80;
	ok.addr[0] = 127;
	ok.addr[1] = 0;
	ok.addr[2] = 0;
	assert_int_equal(parse(&ok, sizeof(ok)), 0);
	r = ok; r.reserved0 = 1;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* reserved */
	r = ok; r.reserved2 = 1;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);
	r = ok; r.op = 3;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* op */
	r = ok; r.op = RF_NETRULE_CLEAR;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* clear with a rule */
	memset(&r, 0, sizeof(r)); hdr(&r, RF_MSG_NETRULE, sizeof(r)); r.op = RF_NETRULE_CLEAR;
	assert_int_equal(parse(&r, sizeof(r)), 0);
	r = ok; r.family = 1;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* family */
	r = ok; r.prefix = 33;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* prefix > 32 */
	r = ok; r.family = 10; r.prefix = 129;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* prefix > 128 */
	r = ok; r.addr[5] = 1;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* IPv4 longer than 4 bytes */
	r = ok; r.protocol = 1;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* protocol */
	r = ok; r.direction = 0;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* no direction */
	r = ok; r.direction = 4;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);
	r = ok; r.addr[3] = 1;
	assert_int_equal(parse(&r, sizeof(r)), -EBADMSG);          /* bits past /24 */
	r = ok; r.prefix = 0; r.addr[0] = 0; r.addr[1] = 0;
	assert_int_equal(parse(&r, sizeof(r)), 0);                 /* /0 parses; policy bounds it */
	assert_int_equal(parse(&ok, sizeof(ok) - 4), -EBADMSG);    /* size */
}

static void test_parse_auth_test(void **state)
{
	unsigned char b[sizeof(struct rf_msg_auth_test) + 16];
	struct rf_msg_auth_test *t = (void *)b;
	unsigned char rb[sizeof(struct rf_msg_auth_result) + sizeof(struct rf_auth_result_entry)];
	struct rf_msg_auth_result *r = (void *)rb;

	memset(b, 0, sizeof(b));
	hdr(t, RF_MSG_AUTH_TEST, sizeof(*t) + 5);
	t->class_id = RF_CLASS_AUTH_EXEC;
	t->path_len = 5;
	memcpy(b + sizeof(*t), "/bin", 5);
	assert_int_equal(parse(b, sizeof(*t) + 5), 0);
	t->class_id = RF_CLASS_PROCESS_EXEC;
	assert_int_equal(parse(b, sizeof(*t) + 5), -EBADMSG);      /* class */
	t->class_id = RF_CLASS_AUTH_OPEN;
	t->path_len = 6;
	assert_int_equal(parse(b, sizeof(*t) + 5), -EBADMSG);      /* length not the rest */
	t->path_len = 5;
	b[sizeof(*t)] = 'b';
	assert_int_equal(parse(b, sizeof(*t) + 5), -EBADMSG);      /* relative */
	b[sizeof(*t)] = '/';
	b[sizeof(*t) + 4] = 'x';
	assert_int_equal(parse(b, sizeof(*t) + 5), -EBADMSG);      /* not terminated */
	b[sizeof(*t) + 4] = 0;
	b[sizeof(*t) + 2] = 0;
	assert_int_equal(parse(b, sizeof(*t) + 5), -EBADMSG);      /* NUL inside */
	hdr(t, RF_MSG_AUTH_TEST, sizeof(*t) - 4);
	assert_int_equal(parse(b, sizeof(*t) - 4), -EBADMSG);      /* short */

	memset(rb, 0, sizeof(rb));
	hdr(r, RF_MSG_AUTH_RESULT, sizeof(rb));
	r->verdict = RF_VERDICT_ALLOW;
	r->nclients = 1;
	r->entry_size = sizeof(struct rf_auth_result_entry);
	assert_int_equal(parse(rb, sizeof(rb)), 0);
	r->verdict = 0;
	assert_int_equal(parse(rb, sizeof(rb)), -EBADMSG);         /* verdict */
	r->verdict = RF_VERDICT_DENY;
	r->nclients = 2;
	assert_int_equal(parse(rb, sizeof(rb)), -EBADMSG);         /* entries */
	r->nclients = RF_CLIENTS_MAX + 1;
	assert_int_equal(parse(rb, sizeof(rb)), -EBADMSG);
	r->nclients = 1;
	r->entry_size = 8;
	assert_int_equal(parse(rb, sizeof(rb)), -EBADMSG);         /* entry size */
	hdr(r, RF_MSG_AUTH_RESULT, 20);
	assert_int_equal(parse(rb, 20), -EBADMSG);                 /* short */
}

static void test_parse_replies(void **state)
{
	struct rf_msg_error e;
	unsigned char b[sizeof(struct rf_msg_status) + 2 * sizeof(struct rf_status_client)];
	struct rf_msg_status *s = (void *)b;
	struct rf_msg_stats st;

	memset(&e, 0, sizeof(e));
	hdr(&e, RF_MSG_ERROR, sizeof(e));
	e.code = RF_E_IDENTITY;
	strcpy(e.msg, "x");
	assert_int_equal(parse(&e, sizeof(e)), 0);
	e.code = 0;
	assert_int_equal(parse(&e, sizeof(e)), -EBADMSG);
	e.code = RF_E_END;
	assert_int_equal(parse(&e, sizeof(e)), -EBADMSG);
	e.code = RF_E_PROTO;
	memset(e.msg, 'x', sizeof(e.msg));
	assert_int_equal(parse(&e, sizeof(e)), -EBADMSG);

	memset(b, 0, sizeof(b));
	hdr(s, RF_MSG_STATUS, sizeof(b));
	s->nclients = 2;
	s->entry_size = sizeof(struct rf_status_client);
	assert_int_equal(parse(b, sizeof(b)), 0);
	s->nclients = 3;
	assert_int_equal(parse(b, sizeof(b)), -EBADMSG);
	s->nclients = 2;
	s->entry_size = 8;
	assert_int_equal(parse(b, sizeof(b)), -EBADMSG);
	s->entry_size = sizeof(struct rf_status_client);
	memset(s->source, 'x', sizeof(s->source));
	assert_int_equal(parse(b, sizeof(b)), -EBADMSG);

	memset(&st, 0, sizeof(st));
	hdr(&st, RF_MSG_STATS, sizeof(st));
	st.nclasses = RF_CLASSES_MAX;
	assert_int_equal(parse(&st, sizeof(st)), 0);
	st.nclasses = RF_CLASSES_MAX + 1;
	assert_int_equal(parse(&st, sizeof(st)), -EBADMSG);
}

/* ---- manifests ----------------------------------------------------------- */

static int man(const char *text, struct rf_manifest *m)
{
	char err[256] = "";
	int r = rf_manifest_parse(text, strlen(text), m, err, sizeof(err));

	if (r < 0)
		assert_true(err[0] != 0);
	return r;
}

static void test_manifest(void **state)
{
	struct rf_manifest m;

	assert_int_equal(man("# engine\nname = rf-detect\nexecutable = /usr/bin/x\nuser = 0\n"
			     "classes = process_exec, process_fork\nmodes = notify, auth\nring_size = 100K\n", &m), 0);
	assert_string_equal(m.name, "rf-detect");
	assert_int_equal(m.uid, 0);
	assert_int_equal(m.classes, (1ull << RF_CLASS_PROCESS_EXEC) | (1ull << RF_CLASS_PROCESS_FORK));
	assert_int_equal(m.modes, RF_SUB_NOTIFY | RF_SUB_AUTH);
	assert_int_equal(m.ring_bytes, 128 << 10);
	assert_int_equal(man("name=a\nexecutable=/x\nuser=root\nclasses=*\n", &m), 0);
	assert_true(m.classes & (1ull << RF_CLASS_PROCESS_EXIT));
	assert_int_equal(m.ring_bytes, RF_RING_DEFAULT);
	assert_int_equal(m.modes, RF_SUB_NOTIFY);
	/* rejections */
	assert_int_equal(man("executable=/x\nuser=0\n", &m), -EINVAL);            /* no name */
	assert_int_equal(man("name=a\nuser=0\n", &m), -EINVAL);                   /* no exe */
	assert_int_equal(man("name=a\nexecutable=/x\n", &m), -EINVAL);            /* no user */
	assert_int_equal(man("name=a b\nexecutable=/x\nuser=0\n", &m), -EINVAL);  /* bad name */
	assert_int_equal(man("name=a\nexecutable=x\nuser=0\n", &m), -EINVAL);     /* relative */
	assert_int_equal(man("name=a\nexecutable=/x\nuser=no-such-user-rf\n", &m), -EINVAL);
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\nclasses=nope\n", &m), -EINVAL);
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\nmodes=sometimes\n", &m), -EINVAL);
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\nring_size=1G\n", &m), -EINVAL);
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\nring_size=12Q\n", &m), -EINVAL);
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\ncolour=blue\n", &m), -EINVAL);
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\njust words\n", &m), -EINVAL);
	char big[RF_MANIFEST_BYTES_MAX + 2];
	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(man(big, &m), -EINVAL);
	char nul[] = "name=a\nexecutable=/x\0y\nuser=0\n";
	char err[128];
	assert_int_equal(rf_manifest_parse(nul, sizeof(nul) - 1, &m, err, sizeof(err)), -EINVAL);
}

static void test_manifest_supervisor(void **state)
{
	struct rf_manifest m;
	const char *base = "name=a\nexecutable=/x\n";
	char t[1024];

	assert_int_equal(man("name=a\nexecutable=/x\nuser=auto\nstart=yes\nargs=--c {content}\n"
			     "content=/srv/c\nmemory=64M\nnofile=32\nnproc=4\ncpu=50\n"
			     "stall_timeout=2\nheartbeat=1\ncrash_loop=5/30\nhealthy_after=7\n"
			     "syscalls=clone, clone3\nvendor=platform\n", &m), 0);
	assert_true(m.start);
	assert_true(m.auto_user);
	assert_true(m.platform);
	assert_string_equal(m.args, "--c {content}");
	assert_string_equal(m.content, "/srv/c");
	assert_int_equal(m.mem_bytes, 64ull << 20);
	assert_int_equal(m.nofile, 32);
	assert_int_equal(m.nproc, 4);
	assert_int_equal(m.cpu_pct, 50);
	assert_int_equal(m.stall_s, 2);
	assert_int_equal(m.heartbeat_s, 1);
	assert_int_equal(m.loop_crashes, 5);
	assert_int_equal(m.loop_window_s, 30);
	assert_int_equal(m.healthy_s, 7);
	assert_string_equal(m.syscalls, "clone, clone3");
	/* shadow run of fleet installs */
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\ncontent_store=/s\n"
			     "shadow=/bin/chk {content} {capture}\nshadow_capture=/c.cap\n", &m), 0);
	assert_string_equal(m.shadow, "/bin/chk {content} {capture}");
	assert_string_equal(m.shadow_capture, "/c.cap");
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\ncontent_store=/s\n"
			     "shadow=/bin/chk {content}\n", &m), 0); /* on the daemon's recording */
	assert_string_equal(m.shadow_capture, "");
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\ncontent_store=/s\n"
			     "shadow_capture=/c.cap\n", &m), -EINVAL);          /* no command */
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\n"
			     "shadow=/bin/chk {content}\nshadow_capture=/c\n", &m), -EINVAL); /* no store */
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\ncontent_store=/s\n"
			     "shadow=/bin/chk\nshadow_capture=/c\n", &m), -EINVAL); /* no {content} */
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\ncontent_store=/s\n"
			     "shadow=/bin/chk {content}\nshadow_capture=c\n", &m), -EINVAL); /* relative */
	/* defaults */
	assert_int_equal(man("name=a\nexecutable=/x\nuser=0\n", &m), 0);
	assert_false(m.start);
	assert_string_equal(m.shadow, "");
	assert_false(m.platform);
	assert_int_equal(m.mem_bytes, RF_SUP_MEM_DEFAULT);
	assert_int_equal(m.loop_crashes, RF_SUP_LOOP_CRASHES);
	assert_int_equal(m.loop_window_s, RF_SUP_LOOP_WINDOW_S);
	assert_int_equal(m.stall_s, RF_SUP_STALL_DEFAULT_S);
	assert_int_equal(m.heartbeat_s, 0);
	/* rejections: one bad line each */
	static const char *const bad[] = {
		"user=auto\n",                       /* auto without start */
		"user=0\nstart=maybe\n",
		"user=0\ncontent=relative\n",
		"user=0\ncontent_store=relative\n",
		"user=0\ncontent=/a\ncontent_store=/b\n", /* both */
		"user=0\nmemory=12Q\n",
		"user=0\nmemory=-1\n",
		"user=0\nmemory=99999999G\n",
		"user=0\nnofile=8\n",               /* below 16 */
		"user=0\nnproc=0\n",
		"user=0\ncpu=0\n",
		"user=0\ncpu=7000\n",
		"user=0\nstall_timeout=0\n",
		"user=0\nstall_timeout=x\n",
		"user=0\nheartbeat=-1\n",
		"user=0\ncrash_loop=3\n",
		"user=0\ncrash_loop=0/60\n",
		"user=0\ncrash_loop=3/0\n",
		"user=0\ncrash_loop=3/x\n",
		"user=0\nvendor=\n",
		"user=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(t, sizeof(t), "%s%s", base, bad[i]);
		assert_int_equal(man(t, &m), -EINVAL);
	}
	char longargs[RF_SUP_ARGS_MAX + 64];
	snprintf(t, sizeof(t), "%suser=0\nargs=", base);
	memset(longargs, 'a', sizeof(longargs) - 1);
	longargs[sizeof(longargs) - 1] = 0;
	char *big = malloc(strlen(t) + sizeof(longargs) + 2);
	assert_non_null(big);
	sprintf(big, "%s%s\n", t, longargs);
	assert_int_equal(man(big, &m), -EINVAL);
	free(big);
}

/* ---- the daemon's control handler ---------------------------------------- */

struct fixture {
	struct rf_broker b;
	struct rf_conn *c;
	unsigned char out[RF_BROKER_REPLY_MAX];
};

static struct fixture *fx_new(uid_t man_uid, const char *exe)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct rf_manifests ms = {.v = calloc(1, sizeof(struct rf_manifest)), .n = 1};
	ssize_t n;

	assert_non_null(f);
	strcpy(ms.v[0].name, "t");
	if (exe) {
		strcpy(ms.v[0].exe, exe);
	} else {
		n = readlink("/proc/self/exe", ms.v[0].exe, sizeof(ms.v[0].exe) - 1);
		assert_true(n > 0);
	}
	ms.v[0].uid = man_uid;
	ms.v[0].classes = (1ull << RF_CLASS_PROCESS_FORK) | (1ull << RF_CLASS_PROCESS_EXEC) |
			  (1ull << RF_CLASS_FILE_CREATE);
	ms.v[0].modes = RF_SUB_NOTIFY | RF_SUB_AUTH;
	ms.v[0].ring_bytes = RF_RING_MIN;
	rf_broker_init(&f->b, &ms, "/test");
	f->c = rf_broker_conn_new(&f->b, -1, getpid(), getuid(), getgid());
	assert_non_null(f->c);
	return f;
}

static void fx_free(struct fixture *f)
{
	rf_broker_fini(&f->b);
	free(f);
}

/* Send one message; returns the reply type, and the error code in *code. */
static int ctl(struct fixture *f, const void *msg, size_t n, int *code)
{
	int fds[2], nfds = 0;
	struct rf_msg m;
	size_t len = rf_broker_control(&f->b, f->c, msg, n, f->out, sizeof(f->out), fds, &nfds);

	assert_int_equal(rf_proto_parse(f->out, len, &m, NULL), 0);
	if (nfds >= 1)
		close(fds[0]); /* ring memfd (WELCOME) or recording (RECENT) */
	*code = m.hdr.type == RF_MSG_ERROR ? m.u.error.code : 0;
	return m.hdr.type;
}

static int hello(struct fixture *f, const char *name, uint32_t abi, int *code)
{
	struct rf_msg_hello h;

	memset(&h, 0, sizeof(h));
	hdr(&h, RF_MSG_HELLO, sizeof(h));
	h.abi_version = abi;
	strcpy(h.name, name);
	return ctl(f, &h, sizeof(h), code);
}

static int subscribe(struct fixture *f, uint64_t classes, uint32_t modes, int *code)
{
	struct rf_msg_subscribe s;

	memset(&s, 0, sizeof(s));
	hdr(&s, RF_MSG_SUBSCRIBE, sizeof(s));
	s.classes = classes;
	s.modes = modes;
	return ctl(f, &s, sizeof(s), code);
}

static void test_safe_mode_hello(void **state)
{
	struct fixture *f = fx_new(getuid(), NULL);
	int code;

	f->b.safe_mode = true;
	assert_int_equal(hello(f, "t", RF_ABI_VERSION, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_STATE);           /* third party: not admitted */
	f->b.manifests.v[0].platform = true;
	assert_int_equal(hello(f, "t", RF_ABI_VERSION, &code), RF_MSG_WELCOME);
	fx_free(f);
}

static void test_control_refusals(void **state)
{
	struct fixture *f;
	unsigned char junk[40] = {1, 2, 3};
	struct rf_msg_hdr h;
	int code;

	f = fx_new(getuid(), NULL);
	assert_int_equal(ctl(f, junk, sizeof(junk), &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_PROTO);
	assert_int_equal(subscribe(f, 1ull << RF_CLASS_PROCESS_FORK, RF_SUB_NOTIFY, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_STATE);                           /* before HELLO */
	assert_int_equal(hello(f, "nobody", RF_ABI_VERSION, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_UNKNOWN_CLIENT);
	assert_int_equal(hello(f, "t", RF_ABI_VERSION + 1, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_ABI);
	assert_int_equal(hello(f, "t", RF_ABI_VERSION, &code), RF_MSG_WELCOME);
	assert_int_equal(hello(f, "t", RF_ABI_VERSION, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_STATE);                           /* twice */
	assert_int_equal(subscribe(f, 1ull << RF_CLASS_PROCESS_EXIT, RF_SUB_NOTIFY, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_NOT_ENTITLED);
	assert_int_equal(subscribe(f, 1ull << RF_CLASS_PROCESS_FORK, RF_SUB_AUTH, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_UNSUPPORTED);                     /* AUTH of a NOTIFY class */
	assert_int_equal(subscribe(f, 1ull << RF_CLASS_PROCESS_FORK, RF_SUB_AUTH | RF_SUB_NOTIFY, &code), RF_MSG_OK);
	f->c->auth_demoted = true;                                    /* missed its deadlines */
	assert_int_equal(subscribe(f, 1ull << RF_CLASS_PROCESS_FORK, RF_SUB_AUTH | RF_SUB_NOTIFY, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_STATE);
	assert_int_equal(subscribe(f, 1ull << RF_CLASS_PROCESS_FORK, RF_SUB_NOTIFY, &code), RF_MSG_OK);
	{
		/* a VERDICT is never answered; without AUTH it is counted as late */
		struct rf_msg_verdict v;
		int fds[2], nfds = 0;

		memset(&v, 0, sizeof(v));
		hdr(&v, RF_MSG_VERDICT, sizeof(v));
		v.request_id = 5;
		v.verdict = RF_VERDICT_ALLOW;
		assert_int_equal(rf_broker_control(&f->b, f->c, &v, sizeof(v), f->out, sizeof(f->out),
						   fds, &nfds), 0);
		assert_int_equal(f->c->auth_late, 1);
		v.verdict = 9;                                        /* malformed: an error */
		assert_int_equal(ctl(f, &v, sizeof(v), &code), RF_MSG_ERROR);
		assert_int_equal(code, RF_E_PROTO);
	}
	hdr(&h, RF_MSG_HEARTBEAT, sizeof(h));                         /* the supervisor's */
	assert_int_equal(ctl(f, &h, sizeof(h), &code), RF_MSG_OK);
	assert_int_equal(f->c->heartbeats, 1);
	assert_true(f->c->heartbeat_ns > 0);
	hdr(&h, RF_MSG_OK, sizeof(h));
	assert_int_equal(ctl(f, &h, sizeof(h), &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_PROTO);                           /* not a request */
	hdr(&h, RF_MSG_STATS_REQ, sizeof(h));
	assert_int_equal(ctl(f, &h, sizeof(h), &code), RF_MSG_STATS);
	hdr(&h, RF_MSG_STATUS_REQ, sizeof(h));
	assert_int_equal(ctl(f, &h, sizeof(h), &code), RF_MSG_STATUS);
	hdr(&h, RF_MSG_RECENT_REQ, sizeof(h));                        /* no recording */
	assert_int_equal(ctl(f, &h, sizeof(h), &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_UNSUPPORTED);
	assert_int_equal(rf_recent_new(5, RF_RECENT_BYTES_MIN, &f->b.recent), 0);
	rf_broker_dispatch(&f->b, exec_event(42, "/usr/bin/x"));
	{
		struct rf_msg_recent *rm = (void *)f->out;

		assert_int_equal(ctl(f, &h, sizeof(h), &code), RF_MSG_RECENT);
		assert_int_equal(rm->events, 1);
	}
	hdr(&h, RF_MSG_RECENT, sizeof(h));                            /* a reply, not a request */
	assert_int_equal(ctl(f, &h, sizeof(h), &code), RF_MSG_ERROR);
	rf_recent_free(f->b.recent);
	f->b.recent = NULL;
	fx_free(f);

	f = fx_new(getuid() + 1, NULL);                               /* wrong user */
	assert_int_equal(hello(f, "t", RF_ABI_VERSION, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_IDENTITY);
	fx_free(f);
	f = fx_new(getuid(), "/usr/bin/not-this-program");            /* wrong executable */
	assert_int_equal(hello(f, "t", RF_ABI_VERSION, &code), RF_MSG_ERROR);
	assert_int_equal(code, RF_E_IDENTITY);
	assert_int_equal(f->b.refused, 1);
	fx_free(f);
}

static void *exec_event(uint32_t pid, const char *exe)
{
	static unsigned char buf[1024];
	struct rf_ev_process_exec *x = (void *)buf;
	size_t n = strlen(exe);

	memset(buf, 0, sizeof(buf));
	x->hdr.class_id = RF_CLASS_PROCESS_EXEC;
	x->hdr.pid = pid;
	x->hdr.start_ns = 77;
	if (n) {
		x->exe.off = sizeof(*x);
		x->exe.len = (uint16_t)n;
		memcpy(buf + sizeof(*x), exe, n + 1);
	}
	x->hdr.size = (uint16_t)(sizeof(*x) + n + 1);
	assert_int_equal(rf_event_validate(buf, x->hdr.size, NULL), 0);
	return buf;
}

static int mute_ctl(struct fixture *f, unsigned op, unsigned kind, uint32_t pid, const char *path)
{
	unsigned char b[RF_PATH_MAX + 128];
	int code;
	size_t n = mute(b, op, kind, pid, path, path ? strlen(path) + 1 : 0);

	return ctl(f, b, n, &code) == RF_MSG_OK ? 0 : -code;
}

static int invert(struct fixture *f, unsigned set, unsigned on)
{
	struct rf_msg_invert iv;
	int code;

	memset(&iv, 0, sizeof(iv));
	hdr(&iv, RF_MSG_INVERT, sizeof(iv));
	iv.set = set;
	iv.on = on;
	return ctl(f, &iv, sizeof(iv), &code) == RF_MSG_OK ? 0 : -code;
}

static void test_muting(void **state)
{
	struct fixture *f = fx_new(getuid(), NULL);
	struct rf_broker *b = &f->b;
	int code;

	assert_int_equal(hello(f, "t", RF_ABI_VERSION, &code), RF_MSG_WELCOME);
	assert_false(rf_broker_muted(b, f->c, exec_event(10, "/usr/bin/ls")));
	/* process */
	assert_int_equal(mute_ctl(f, RF_MUTE_OP_ADD, RF_MUTE_PROCESS, 10, NULL), 0);
	assert_true(rf_broker_muted(b, f->c, exec_event(10, "/usr/bin/ls")));
	assert_false(rf_broker_muted(b, f->c, exec_event(11, "/usr/bin/ls")));
	assert_int_equal(invert(f, RF_MUTESET_PROCESS, 1), 0);
	assert_false(rf_broker_muted(b, f->c, exec_event(10, "/usr/bin/ls")));
	assert_true(rf_broker_muted(b, f->c, exec_event(11, "/usr/bin/ls")));
	assert_int_equal(invert(f, RF_MUTESET_PROCESS, 0), 0);
	assert_int_equal(mute_ctl(f, RF_MUTE_OP_REMOVE, RF_MUTE_PROCESS, 10, NULL), 0);
	assert_int_equal(mute_ctl(f, RF_MUTE_OP_REMOVE, RF_MUTE_PROCESS, 10, NULL), -RF_E_STATE);
	assert_false(rf_broker_muted(b, f->c, exec_event(10, "/usr/bin/ls")));
	/* executable: literal and prefix */
	assert_int_equal(mute_ctl(f, RF_MUTE_OP_ADD, RF_MUTE_EXE_LITERAL, 0, "/usr/bin/ls"), 0);
	assert_true(rf_broker_muted(b, f->c, exec_event(1, "/usr/bin/ls")));
	assert_false(rf_broker_muted(b, f->c, exec_event(1, "/usr/bin/lsblk")));
	assert_false(rf_broker_muted(b, f->c, exec_event(1, "/usr/bin/l")));
	assert_int_equal(mute_ctl(f, RF_MUTE_OP_ADD, RF_MUTE_EXE_PREFIX, 0, "/opt/"), 0);
	assert_true(rf_broker_muted(b, f->c, exec_event(1, "/opt/x/y")));
	assert_false(rf_broker_muted(b, f->c, exec_event(1, "/opt")));
	assert_false(rf_broker_muted(b, f->c, exec_event(1, "")));    /* no exe: not affected */
	/* inverted: only matching executables pass */
	assert_int_equal(invert(f, RF_MUTESET_EXE, 1), 0);
	assert_false(rf_broker_muted(b, f->c, exec_event(1, "/usr/bin/ls")));
	assert_false(rf_broker_muted(b, f->c, exec_event(1, "/opt/x/y")));
	assert_true(rf_broker_muted(b, f->c, exec_event(1, "/usr/bin/cat")));
	assert_false(rf_broker_muted(b, f->c, exec_event(1, "")));
	assert_int_equal(invert(f, RF_MUTESET_EXE, 0), 0);
	assert_int_equal(mute_ctl(f, RF_MUTE_OP_CLEAR, RF_MUTE_EXE_LITERAL, 0, NULL), 0);
	assert_false(rf_broker_muted(b, f->c, exec_event(1, "/usr/bin/ls")));
	assert_true(rf_broker_muted(b, f->c, exec_event(1, "/opt/x/y")));
	assert_int_equal(mute_ctl(f, RF_MUTE_OP_REMOVE, RF_MUTE_EXE_PREFIX, 0, "/nope"), -RF_E_STATE);
	/* target set does not touch a class without a target path */
	assert_int_equal(invert(f, RF_MUTESET_TARGET, 1), 0);
	assert_false(rf_broker_muted(b, f->c, exec_event(1, "/usr/bin/ls")));
	/* limit */
	for (unsigned i = 0; i < RF_MUTE_MAX; i++)
		assert_int_equal(mute_ctl(f, RF_MUTE_OP_ADD, RF_MUTE_PROCESS, 100 + i, NULL), 0);
	assert_int_equal(mute_ctl(f, RF_MUTE_OP_ADD, RF_MUTE_PROCESS, 99, NULL), -RF_E_LIMIT);
	assert_int_equal(mute_ctl(f, RF_MUTE_OP_CLEAR, RF_MUTE_PROCESS, 0, NULL), 0);
	assert_int_equal(f->c->mutes.total, 1);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_header),
		cmocka_unit_test(test_parse_hello_subscribe_invert),
		cmocka_unit_test(test_parse_mute),
		cmocka_unit_test(test_parse_verdict),
		cmocka_unit_test(test_parse_netrule),
		cmocka_unit_test(test_parse_auth_test),
		cmocka_unit_test(test_parse_replies),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_manifest_supervisor),
		cmocka_unit_test(test_safe_mode_hello),
		cmocka_unit_test(test_control_refusals),
		cmocka_unit_test(test_muting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
