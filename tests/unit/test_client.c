// SPDX-License-Identifier: MIT
/* Unit tests of libringfence's rf_client_open() option checks (no daemon needed: the
 * checks come before the connection): spin_us, flags, reserved, the size of older
 * callers' struct, and RF_CLIENT_SHORT_SLICE's effect on the calling thread. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "ringfence/ringfence.h"

#define NOSOCK "/nonexistent/ringfence-test.sock"

static int try_open(struct rf_client_opts *o)
{
	struct rf_client *c = NULL;
	char why[256];
	int r = rf_client_open(o, &c, why, sizeof(why));

	assert_null(c);
	return r;
}

static struct rf_client_opts opts(void)
{
	return (struct rf_client_opts){.size = sizeof(struct rf_client_opts),
				       .abi_version = RF_ABI_VERSION, .name = "t",
				       .socket_path = NOSOCK};
}

static void bad_options(void **state)
{
	struct rf_client_opts o = opts();

	(void)state;
	assert_int_equal(try_open(&o), -ENOENT); /* valid: fails at connect */
	o.spin_us = RF_CLIENT_SPIN_MAX_US;
	assert_int_equal(try_open(&o), -ENOENT);
	o.spin_us = RF_CLIENT_SPIN_MAX_US + 1;
	assert_int_equal(try_open(&o), -EINVAL);
	o = opts();
	o.flags = 0x4; /* unknown */
	assert_int_equal(try_open(&o), -EINVAL);
	o = opts();
	o.reserved = 1;
	assert_int_equal(try_open(&o), -EINVAL);
	/* an older caller's struct ends before spin_us: its garbage beyond size is not read */
	o = opts();
	o.size = offsetof(struct rf_client_opts, spin_us);
	o.spin_us = 99999;
	o.flags = 0xff;
	o.reserved = 7;
	assert_int_equal(try_open(&o), -ENOENT);
	o.size = offsetof(struct rf_client_opts, ring_bytes); /* the oldest one */
	assert_int_equal(try_open(&o), -ENOENT);
	o.size = offsetof(struct rf_client_opts, ring_bytes) - 1;
	assert_int_equal(try_open(&o), -EINVAL);
}

struct attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

static void short_slice(void **state)
{
	struct rf_client_opts o = opts();
	struct attr a = {0};
	int r;

	(void)state;
	o.flags = RF_CLIENT_SHORT_SLICE;
	r = try_open(&o);
	if (r == -EOPNOTSUPP) {
		skip(); /* kernel before 6.12: said so by the error */
		return;
	}
	assert_int_equal(r, -ENOENT); /* applied, then the connection failed */
	assert_int_equal(syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0), 0);
	assert_int_equal(a.policy, 0 /* SCHED_OTHER */);
	assert_int_equal(a.runtime, RF_CLIENT_SLICE_NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_options),
		cmocka_unit_test(short_slice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
