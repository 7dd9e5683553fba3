// SPDX-License-Identifier: MIT
/* Unit tests of the audit record parser behind sandbox incidents (src/daemon/incident.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/incident.h"

static int parse(const char *t, struct rf_audit_rec *r)
{
	return rf_audit_parse(t, strlen(t), r);
}

static void access_record(void **state)
{
	struct rf_audit_rec r;

	(void)state;
	assert_int_equal(parse("audit(1795300105.815:946404): domain=15ba40af8 blockers=fs.read_file "
			       "path=\"/etc/shadow\" dev=\"vda\" ino=409628", &r), 0);
	assert_int_equal(r.serial, 946404);
	assert_int_equal(r.domain, 0x15ba40af8ull);
	assert_string_equal(r.blockers, "fs.read_file");
	assert_string_equal(r.path, "/etc/shadow");
	assert_int_equal(r.pid, 0);
}

static void domain_record(void **state)
{
	struct rf_audit_rec r;

	(void)state;
	assert_int_equal(parse("audit(1795300105.811:946403): domain=15ba40af8 status=allocated "
			       "mode=enforcing pid=7823 uid=0 exe=\"/tmp/x y/ll\" comm=\"ll\"", &r), 0);
	assert_string_equal(r.status, "allocated");
	assert_int_equal(r.pid, 7823);
	assert_int_equal(r.domain, 0x15ba40af8ull);
	assert_int_equal(parse("audit(1.2:3): domain=15ba40af8 status=deallocated denials=2", &r), 0);
	assert_string_equal(r.status, "deallocated");
}

/* Paths with blanks or quotes are hex-encoded by audit; NUL bytes never come out. */
static void hex_path(void **state)
{
	struct rf_audit_rec r;

	(void)state;
	assert_int_equal(parse("audit(1.2:3): domain=1 blockers=fs.read_file path=2F746D702F6120620A", &r), 0);
	assert_string_equal(r.path, "/tmp/a b\n");
	assert_int_equal(parse("audit(1.2:3): path=2F0041", &r), 0);
	assert_string_equal(r.path, "/?A");
	assert_int_equal(parse("audit(1.2:3): path=2F7", &r), 0);   /* odd length: as is */
	assert_string_equal(r.path, "2F7");
}

static void bounds(void **state)
{
	struct rf_audit_rec r;
	char big[1200];
	const char *t = "audit(1.2:3): domain=ff pid=12";

	(void)state;
	/* cut short: fields beyond LEN are not read */
	assert_int_equal(rf_audit_parse(t, strlen("audit(1.2:3): domain=ff"), &r), 0);
	assert_int_equal(r.domain, 0xff);
	assert_int_equal(r.pid, 0);
	/* long values are cut at the buffer, NUL-terminated */
	memcpy(big, "audit(1.2:3): path=\"/", 21);
	memset(big + 21, 'a', sizeof(big) - 23);
	big[sizeof(big) - 2] = '"';
	big[sizeof(big) - 1] = 0;
	assert_int_equal(parse(big, &r), 0);
	assert_int_equal(strlen(r.path), sizeof(r.path) - 1);
	/* an unterminated quote ends at LEN */
	assert_int_equal(parse("audit(1.2:3): path=\"/etc", &r), 0);
	/* numbers that are not numbers are ignored, not half-parsed */
	assert_int_equal(parse("audit(1.2:3): pid=12x domain=zz", &r), 0);
	assert_int_equal(r.pid, 0);
	assert_int_equal(r.domain, 0);
	assert_int_equal(parse("audit(1.2:3): pid=99999999999999", &r), 0);
	assert_int_equal(r.pid, 0);
}

static void malformed(void **state)
{
	struct rf_audit_rec r;

	(void)state;
	assert_int_equal(parse("", &r), -EBADMSG);
	assert_int_equal(parse("domain=1", &r), -EBADMSG);
	assert_int_equal(parse("audit(1795300105.815", &r), -EBADMSG);   /* no ')' */
	assert_int_equal(parse("audit(1795300105)", &r), -EBADMSG);      /* no serial */
	assert_int_equal(parse("audit(1.2:3a): domain=1", &r), -EBADMSG); /* serial not a number */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(access_record), cmocka_unit_test(domain_record),
		cmocka_unit_test(hex_path), cmocka_unit_test(bounds), cmocka_unit_test(malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
