// SPDX-License-Identifier: MIT
/* Unit tests of the generated schema tables, event validation and field access. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ringfence/schema.h"

static void test_classes_present(void **state)
{
	const struct rf_class_desc *c = rf_schema_class_by_name("process_exec");

	assert_non_null(c);
	assert_int_equal(c->id, RF_CLASS_PROCESS_EXEC);
	assert_ptr_equal(rf_schema_class(RF_CLASS_PROCESS_EXEC), c);
	assert_string_equal(c->sigma_category, "process_creation");
	assert_non_null(rf_schema_class_by_name("process_fork"));
	assert_non_null(rf_schema_class_by_name("process_exit"));
	assert_null(rf_schema_class_by_name("no_such_class"));
	assert_null(rf_schema_class(0));
	assert_null(rf_schema_class(9999));
	assert_int_equal(c->fixed_size, sizeof(struct rf_ev_process_exec));
}

static void test_sigma_mapping(void **state)
{
	const struct rf_class_desc *c = rf_schema_class(RF_CLASS_PROCESS_EXEC);
	static const struct { const char *sigma, *json; } m[] = {
		{"Image", "exe"}, {"CommandLine", "cmdline"}, {"ParentImage", "parent_exe"},
		{"ParentCommandLine", "parent_cmdline"}, {"User", "user"},
		{"CurrentDirectory", "cwd"}, {"LogonId", "loginuid"}, {"ProcessId", "pid"},
		{"ParentProcessId", "ppid"},
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		int k = rf_schema_field_by_sigma(c, m[i].sigma);
		assert_true(k >= 0);
		assert_string_equal(c->fields[k].json, m[i].json);
	}
	assert_int_equal(rf_schema_field_by_sigma(c, "NoSuchField"), -1);
	assert_int_equal(rf_schema_field_index(c, "nope"), -1);
	/* a derived field has no storage and points at its source */
	int k = rf_schema_field_index(c, "cmdline");
	assert_int_equal(c->fields[k].source, RF_FS_DERIVED);
	assert_string_equal(c->fields[c->fields[k].from].name, "args");
}

/* Offsets in the table agree with the generated structs (the layout BPF uses). */
static void test_offsets_match_structs(void **state)
{
	const struct rf_class_desc *c = rf_schema_class(RF_CLASS_PROCESS_EXEC);
	int k;

	k = rf_schema_field_index(c, "exe");
	assert_int_equal(c->fields[k].offset, offsetof(struct rf_ev_process_exec, exe));
	k = rf_schema_field_index(c, "cgroup_id");
	assert_int_equal(c->fields[k].offset, offsetof(struct rf_ev_process_exec, cgroup_id));
	k = rf_schema_field_index(c, "seq");
	assert_int_equal(c->fields[k].offset, offsetof(struct rf_event_hdr, seq));
	c = rf_schema_class(RF_CLASS_PROCESS_EXIT);
	k = rf_schema_field_index(c, "signal");
	assert_int_equal(c->fields[k].offset, offsetof(struct rf_ev_process_exit, signal));
}

struct exec_buf {
	struct rf_ev_process_exec ev;
	char data[256];
};

static void make_exec(struct exec_buf *b)
{
	static const char args[] = "/bin/echo\0hello\0world";
	char *p = (char *)b;
	uint16_t off = sizeof(b->ev);

	memset(b, 0, sizeof(*b));
	b->ev.hdr.class_id = RF_CLASS_PROCESS_EXEC;
	b->ev.hdr.pid = 42;
	b->ev.uid = 1000;
	memcpy(p + off, "/usr/bin/echo", 14);
	b->ev.exe.off = off;
	b->ev.exe.len = 13;
	off += 14;
	memcpy(p + off, args, sizeof(args));
	b->ev.args.off = off;
	b->ev.args.len = sizeof(args) - 1;
	off += sizeof(args);
	b->ev.hdr.size = off;
}

static void test_validate_and_read(void **state)
{
	struct exec_buf b;
	const struct rf_class_desc *c = rf_schema_class(RF_CLASS_PROCESS_EXEC);
	const char *why, *s;
	char buf[64];
	size_t len;
	uint64_t v;

	make_exec(&b);
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), 0);
	assert_int_equal(rf_event_str(&b.ev.hdr, &c->fields[rf_schema_field_index(c, "exe")], &s, &len), 0);
	assert_string_equal(s, "/usr/bin/echo");
	assert_int_equal(len, 13);
	assert_int_equal(rf_event_str_copy(&b.ev.hdr, c, &c->fields[rf_schema_field_index(c, "cmdline")],
					   buf, sizeof(buf)), 21);
	assert_string_equal(buf, "/bin/echo hello world");
	/* a too-small buffer is cut and says so */
	assert_int_equal(rf_event_str_copy(&b.ev.hdr, c, &c->fields[rf_schema_field_index(c, "cmdline")],
					   buf, 5), -ENOSPC);
	assert_string_equal(buf, "/bin");
	assert_int_equal(rf_event_u64(&b.ev.hdr, &c->fields[rf_schema_field_index(c, "uid")], &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(rf_event_u64(&b.ev.hdr, &c->fields[rf_schema_field_index(c, "pid")], &v), 0);
	assert_int_equal(v, 42);
	/* absent strings read as empty */
	assert_int_equal(rf_event_str(&b.ev.hdr, &c->fields[rf_schema_field_index(c, "cwd")], &s, &len), 0);
	assert_int_equal(len, 0);
	/* numbers cannot be read as strings and the other way round */
	assert_int_equal(rf_event_str(&b.ev.hdr, &c->fields[rf_schema_field_index(c, "uid")], &s, &len), -EINVAL);
	assert_int_equal(rf_event_u64(&b.ev.hdr, &c->fields[rf_schema_field_index(c, "exe")], &v), -EINVAL);
}

/* Every rejection path of the validator. */
static void test_validate_rejects(void **state)
{
	struct exec_buf b;
	const char *why;

	assert_int_equal(rf_event_validate(NULL, 0, &why), -EINVAL);
	make_exec(&b);
	assert_int_equal(rf_event_validate(&b, 10, &why), -EINVAL); /* shorter than a header */
	make_exec(&b);
	assert_int_equal(rf_event_validate(&b, b.ev.hdr.size - 1, &why), -EMSGSIZE); /* size beyond buffer */
	assert_non_null(why);
	make_exec(&b);
	b.ev.hdr.size = 20;
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), -EMSGSIZE); /* size below header */
	make_exec(&b);
	b.ev.hdr.class_id = 0;
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), -ENOENT);
	b.ev.hdr.class_id = 63;
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), -ENOENT);
	make_exec(&b);
	b.ev.hdr.size = sizeof(b.ev) - 8;
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), -EMSGSIZE); /* below fixed part */
	make_exec(&b);
	b.ev.exe.off = 10; /* points into the fixed part */
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), -EINVAL);
	make_exec(&b);
	b.ev.exe.len = 200; /* runs past the end */
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), -EINVAL);
	make_exec(&b);
	((char *)&b)[b.ev.exe.off + b.ev.exe.len] = 'x'; /* no NUL */
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), -EINVAL);
	assert_string_equal(why, "string field is not NUL-terminated");
	make_exec(&b);
	b.ev.tty.off = b.ev.exe.off; /* tty max is 32: exe is short enough, fine */
	b.ev.tty.len = b.ev.exe.len;
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), 0);
	b.ev.tty.off = b.ev.args.off; /* args are 21 bytes: fits 32 */
	b.ev.tty.len = b.ev.args.len;
	assert_int_equal(rf_event_validate(&b, sizeof(b), &why), 0);
	b.ev.hdr.size = RF_EVENT_MAX + 1;
	assert_int_equal(rf_event_validate(&b, RF_EVENT_MAX + 8, &why), -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes_present),
		cmocka_unit_test(test_sigma_mapping),
		cmocka_unit_test(test_offsets_match_structs),
		cmocka_unit_test(test_validate_and_read),
		cmocka_unit_test(test_validate_rejects),
	};
	return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
