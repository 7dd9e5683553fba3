// SPDX-License-Identifier: MIT
/* Unit tests of the process table: keys, pid reuse, fork/exec/exit, bounds, /proc. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "proctable/proctable.h"
#include "ringfence/limits.h"

static void exec_proc(struct rf_proctable *t, uint32_t pid, uint64_t start, uint32_t ppid,
		      uint64_t pstart, const char *exe, const char *cmd)
{
	struct rf_proc p = {.pid = pid, .start_ns = start, .ppid = ppid, .parent_start_ns = pstart,
			    .uid = 1000, .exe = (char *)exe, .cmdline = (char *)cmd, .cgroup = ""};
	assert_int_equal(rf_proctable_exec(t, &p), 0);
}

static void test_lookup_by_key(void **state)
{
	struct rf_proctable *t = rf_proctable_new(16);
	struct rf_proc *p;

	exec_proc(t, 100, 5000, 1, 10, "/usr/bin/bash", "bash -l");
	p = rf_proctable_lookup(t, 100, 5000);
	assert_non_null(p);
	assert_string_equal(p->exe, "/usr/bin/bash");
	assert_string_equal(p->cmdline, "bash -l");
	assert_null(rf_proctable_lookup(t, 100, 5001)); /* same pid, other process */
	assert_null(rf_proctable_lookup(t, 101, 5000));
	assert_ptr_equal(rf_proctable_lookup(t, 100, 0), p); /* any: the newest */
	rf_proctable_free(t);
}

static void test_pid_reuse(void **state)
{
	struct rf_proctable *t = rf_proctable_new(16);
	struct rf_proctable_stats st;

	exec_proc(t, 200, 1000, 1, 10, "/old", "old");
	/* the old process's exit was missed; a new one gets pid 200 */
	exec_proc(t, 200, 9000, 1, 10, "/new", "new");
	assert_string_equal(rf_proctable_lookup(t, 200, 1000)->exe, "/old");
	assert_string_equal(rf_proctable_lookup(t, 200, 9000)->exe, "/new");
	assert_string_equal(rf_proctable_lookup(t, 200, 0)->exe, "/new");
	assert_true(rf_proctable_lookup(t, 200, 1000)->exited_ns != 0); /* retired */
	rf_proctable_stats(t, &st);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.entries, 2);
	rf_proctable_free(t);
}

static void test_fork_inherits_then_exec_replaces(void **state)
{
	struct rf_proctable *t = rf_proctable_new(16);
	struct rf_proc *c;

	exec_proc(t, 10, 100, 1, 1, "/usr/bin/bash", "bash");
	assert_int_equal(rf_proctable_fork(t, 10, 100, 11, 200), 0);
	c = rf_proctable_lookup(t, 11, 200);
	assert_non_null(c);
	assert_string_equal(c->exe, "/usr/bin/bash");
	assert_int_equal(c->ppid, 10);
	assert_int_equal(c->parent_start_ns, 100);
	assert_int_equal(c->uid, 1000);
	exec_proc(t, 11, 200, 10, 100, "/usr/bin/ls", "ls -la");
	c = rf_proctable_lookup(t, 11, 200);
	assert_string_equal(c->exe, "/usr/bin/ls");
	assert_string_equal(rf_proctable_lookup(t, 10, 100)->exe, "/usr/bin/bash");
	/* fork of an unknown parent still records the child */
	assert_int_equal(rf_proctable_fork(t, 77, 1, 78, 2), 0);
	assert_string_equal(rf_proctable_lookup(t, 78, 2)->exe, "");
	rf_proctable_free(t);
}

/* Children share their parent's strings; an exec or exit of one of them, or the
 * parent's expiry, leaves the others' strings intact (ASan sees any early free). */
static void test_shared_strings(void **state)
{
	struct rf_proctable *t = rf_proctable_new(16);
	struct rf_proc *a, *b;

	exec_proc(t, 10, 100, 1, 1, "/usr/bin/bash", "bash -l");
	assert_int_equal(rf_proctable_fork(t, 10, 100, 11, 200), 0);
	assert_int_equal(rf_proctable_fork(t, 10, 100, 12, 300), 0);
	a = rf_proctable_lookup(t, 11, 200);
	b = rf_proctable_lookup(t, 12, 300);
	assert_ptr_equal(a->exe, b->exe); /* shared, not copied */
	exec_proc(t, 10, 100, 1, 1, "/usr/bin/zsh", "zsh"); /* the parent moves on */
	exec_proc(t, 11, 200, 10, 100, "/usr/bin/bash", "bash -c x"); /* same exe, new args */
	a = rf_proctable_lookup(t, 11, 200);
	b = rf_proctable_lookup(t, 12, 300);
	assert_string_equal(rf_proctable_lookup(t, 10, 100)->exe, "/usr/bin/zsh");
	assert_string_equal(a->exe, "/usr/bin/bash");
	assert_string_equal(a->cmdline, "bash -c x");
	assert_string_equal(b->exe, "/usr/bin/bash");
	assert_string_equal(b->cmdline, "bash -l");
	rf_proctable_exit(t, 11, 200, 1000);
	rf_proctable_expire(t, 1000 + RF_PROC_EXITED_TTL_NS + 1);
	assert_null(rf_proctable_lookup(t, 11, 200));
	b = rf_proctable_lookup(t, 12, 300);
	assert_string_equal(b->exe, "/usr/bin/bash");
	assert_string_equal(b->cmdline, "bash -l");
	/* the empty string is never counted: a child of an unknown parent has it */
	assert_int_equal(rf_proctable_fork(t, 99, 9, 13, 400), 0);
	assert_string_equal(rf_proctable_lookup(t, 13, 400)->exe, "");
	rf_proctable_free(t);
}

static void test_exit_and_expiry(void **state)
{
	struct rf_proctable *t = rf_proctable_new(16);
	struct rf_proctable_stats st;

	exec_proc(t, 10, 100, 1, 1, "/a", "a");
	rf_proctable_exit(t, 10, 100, 1000);
	/* still there for late lookups */
	assert_non_null(rf_proctable_lookup(t, 10, 100));
	rf_proctable_expire(t, 1000 + RF_PROC_EXITED_TTL_NS / 2);
	assert_non_null(rf_proctable_lookup(t, 10, 100));
	rf_proctable_expire(t, 1000 + RF_PROC_EXITED_TTL_NS + 1);
	assert_null(rf_proctable_lookup(t, 10, 100));
	rf_proctable_stats(t, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.expired, 1);
	rf_proctable_free(t);
}

/* Bounded memory: a full table evicts the oldest exited entry, and refuses (counted)
 * when every entry is alive. */
static void test_bounded(void **state)
{
	struct rf_proctable *t = rf_proctable_new(4);
	struct rf_proctable_stats st;
	struct rf_proc p = {.exe = "/x", .cmdline = "x", .cgroup = ""};
	uint32_t i;

	for (i = 1; i <= 4; i++)
		exec_proc(t, i, i * 10, 0, 0, "/x", "x");
	rf_proctable_exit(t, 2, 20, 500);
	rf_proctable_exit(t, 3, 30, 400);
	exec_proc(t, 5, 50, 0, 0, "/y", "y"); /* evicts pid 3 (exited first) */
	assert_null(rf_proctable_lookup(t, 3, 30));
	assert_non_null(rf_proctable_lookup(t, 2, 20));
	exec_proc(t, 6, 60, 0, 0, "/y", "y"); /* evicts pid 2 */
	p.pid = 7;
	p.start_ns = 70;
	assert_int_equal(rf_proctable_exec(t, &p), -ENOSPC); /* all alive now */
	rf_proctable_stats(t, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(st.full, 1);
	rf_proctable_free(t);
}

/* Long strings are cut at the schema limits. */
static void test_string_limits(void **state)
{
	struct rf_proctable *t = rf_proctable_new(4);
	char *big = malloc(RF_ARGV_MAX * 2);

	memset(big, 'a', RF_ARGV_MAX * 2 - 1);
	big[RF_ARGV_MAX * 2 - 1] = 0;
	exec_proc(t, 1, 1, 0, 0, big, big);
	assert_int_equal(strlen(rf_proctable_lookup(t, 1, 1)->cmdline), RF_ARGV_MAX - 1);
	assert_int_equal(strlen(rf_proctable_lookup(t, 1, 1)->exe), RF_PATH_MAX - 1);
	free(big);
	rf_proctable_free(t);
}

static void write_file(const char *dir, const char *name, const char *content, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(content, 1, len, f);
	fclose(f);
}

#define write_lit(d, name, lit) write_file(d, name, lit, sizeof(lit) - 1)

/* Bootstrap from a fake /proc: comm with spaces and ')' must not confuse the parser,
 * start times are in ticks and match sensor times at tick resolution. */
static void test_bootstrap(void **state)
{
	char root[] = "/tmp/rf-proctest.XXXXXX", d[600];
	struct rf_proctable *t = rf_proctable_new(16);
	struct rf_proc *p;
	uint64_t tick = rf_proctable_ticks_to_ns(1);

	assert_non_null(mkdtemp(root));
	snprintf(d, sizeof(d), "%s/4242", root);
	mkdir(d, 0755);
	write_lit(d, "stat", "4242 (evil) name) S 17 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n");
	write_lit(d, "status", "Name:\tevil\nUid:\t1000\t1000\t1000\t1000\n");
	write_lit(d, "cmdline", "/usr/bin/evil\0--flag\0x y\0");
	write_lit(d, "cgroup", "0::/system.slice/docker-abc.scope\n");
	snprintf(d, sizeof(d), "%s/4242/exe", root);
	assert_int_equal(symlink("/usr/bin/evil", d), 0);
	snprintf(d, sizeof(d), "%s/notapid", root);
	mkdir(d, 0755);

	assert_int_equal(rf_proctable_bootstrap(t, root), 1);
	p = rf_proctable_lookup(t, 4242, 12345 * tick + tick / 2); /* within the tick */
	assert_non_null(p);
	assert_true(p->coarse);
	assert_int_equal(p->ppid, 17);
	assert_int_equal(p->uid, 1000);
	assert_string_equal(p->exe, "/usr/bin/evil");
	assert_string_equal(p->cmdline, "/usr/bin/evil --flag x y");
	assert_string_equal(p->cgroup, "docker-abc.scope");
	assert_null(rf_proctable_lookup(t, 4242, 12346 * tick)); /* next tick: another process */
	assert_true(rf_proctable_bootstrap(t, "/nonexistent") < 0);
	rf_proctable_free(t);
	snprintf(d, sizeof(d), "rm -rf '%s'", root);
	assert_int_equal(system(d), 0);
}

/* The real /proc: our own process is there with its executable. */
static void test_bootstrap_real_proc(void **state)
{
	struct rf_proctable *t = rf_proctable_new(0);
	struct rf_proc *p;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = 0;
	assert_true(rf_proctable_bootstrap(t, "/proc") > 0);
	p = rf_proctable_lookup(t, (uint32_t)getpid(), 0);
	assert_non_null(p);
	assert_string_equal(p->exe, exe);
	assert_int_equal(p->ppid, getppid());
	rf_proctable_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_by_key),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_fork_inherits_then_exec_replaces),
		cmocka_unit_test(test_shared_strings),
		cmocka_unit_test(test_exit_and_expiry),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_string_limits),
		cmocka_unit_test(test_bootstrap),
		cmocka_unit_test(test_bootstrap_real_proc),
	};
	return cmocka_run_group_tests_name("proctable", tests, NULL, NULL);
}
