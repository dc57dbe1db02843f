/*
 * test_policy.c: unit tests of the policy module (cmocka).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/policy.h"

static int
parse(const char *src, struct policy *p, struct policy_diags *d)
{
	memset(d, 0, sizeof(*d));
	return policy_parse(src, strlen(src), p, d);
}

static void
test_canonical_body(void **state)
{
	struct policy		p;
	struct policy_diags	d;

	(void)state;
	assert_int_equal(parse("# a comment\n\nmax_age: 1209600\nmx: MAIL."
	    "Example.com\nmode: enforce\nmx: *.example.NET\nversion: STSv1",
	    &p, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 0);
	assert_int_equal(p.mode, POLICY_MODE_ENFORCE);
	assert_int_equal(p.max_age, 1209600);
	assert_int_equal(p.nmx, 2);
	assert_string_equal(p.mx[0], "mail.example.com");
	assert_string_equal(p.mx[1], "*.example.net");
	assert_string_equal(p.body, "version: STSv1\r\nmode: enforce\r\n"
	    "mx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 1209600\r\n");
	assert_int_equal(p.bodylen, strlen(p.body));
	policy_free(&p);
	policy_diags_free(&d);
}

static void
test_crlf_and_wsp(void **state)
{
	struct policy		p;
	struct policy_diags	d;

	(void)state;
	assert_int_equal(parse("version:STSv1\r\nmode:\ttesting \r\n"
	    "mx:  a.example.com\t\r\nmax_age: 86400\r\n", &p, &d), 0);
	assert_int_equal(p.mode, POLICY_MODE_TESTING);
	assert_string_equal(p.mx[0], "a.example.com");
	policy_free(&p);
	policy_diags_free(&d);
}

static void
test_errors_all_reported(void **state)
{
	struct policy		p;
	struct policy_diags	d;

	(void)state;
	assert_int_equal(parse("version: STSv2\nmode: Enforce\nnmx: x\n"
	    "max_age: 31557601\n", &p, &d), -1);
	assert_int_equal(d.errors, 4);
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[1].line, 2);
	assert_int_equal(d.v[2].line, 3);
	assert_non_null(strstr(d.v[2].msg, "unknown key 'nmx'"));
	assert_int_equal(d.v[3].line, 4);
	assert_null(p.body);
	assert_int_equal(p.nmx, 0);
	policy_diags_free(&d);
}

static void
test_missing_mx(void **state)
{
	struct policy		p;
	struct policy_diags	d;

	(void)state;
	assert_int_equal(parse("version: STSv1\nmode: testing\n"
	    "max_age: 86400\n", &p, &d), -1);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.v[0].msg, "requires at least one mx"));
	policy_diags_free(&d);

	assert_int_equal(parse("version: STSv1\nmode: none\n"
	    "max_age: 86400\n", &p, &d), 0);
	assert_int_equal(d.warnings, 1);
	assert_string_equal(p.body, "version: STSv1\r\nmode: none\r\n"
	    "max_age: 86400\r\n");
	policy_free(&p);
	policy_diags_free(&d);
}

static void
test_dedup_keeps_first(void **state)
{
	struct policy		p;
	struct policy_diags	d;

	(void)state;
	assert_int_equal(parse("version: STSv1\nmode: testing\nmx: b.example"
	    ".com\nmx: a.example.com\nmx: B.EXAMPLE.COM\nmx: c.example.com\n"
	    "mx: a.example.com\nmax_age: 86400\n", &p, &d), 0);
	assert_int_equal(p.nmx, 3);
	assert_string_equal(p.mx[0], "b.example.com");
	assert_string_equal(p.mx[1], "a.example.com");
	assert_string_equal(p.mx[2], "c.example.com");
	assert_int_equal(d.warnings, 2);
	assert_int_equal(d.v[0].line, 5);
	assert_int_equal(d.v[1].line, 7);
	policy_free(&p);
	policy_diags_free(&d);
}

static void
test_size_limit(void **state)
{
	struct policy		p;
	struct policy_diags	d;
	char			*big;

	(void)state;
	big = malloc(POLICY_SOURCE_MAX + 1);
	assert_non_null(big);
	memset(big, '#', POLICY_SOURCE_MAX + 1);
	memset(&d, 0, sizeof(d));
	assert_int_equal(policy_parse(big, POLICY_SOURCE_MAX + 1, &p, &d), -1);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.v[0].msg, "larger than 65536"));
	policy_diags_free(&d);
	free(big);
}

static void
test_check_host(void **state)
{
	static const char *good[] = {
		"mail.example.com", "a.b", "xn--bcher-kva.example",
		"MAIL.EXAMPLE.COM", "1mail.example.com", "a-b.example.com",
	};
	static const char *bad[] = {
		"", "com", "mail.example.com.", "1.2.3.4", "[::1]",
		"mail.example.com:25", "a_b.example.com", "a..example.com",
		".example.com", "-a.example.com", "a-.example.com",
		"mail.*.example.com", "*example.com", "*.com.", "*.",
		"http://a.example.com", "a b.example.com", "*.*.example.com",
		"*a.example.com", "**.example.com",
	};
	char label[80], name[300];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_null(policy_check_host(good[i], strlen(good[i]), 0));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(policy_check_host(bad[i], strlen(bad[i]), 1));
	assert_null(policy_check_host("*.example.com", 13, 1));
	assert_non_null(policy_check_host("*.example.com", 13, 0));

	memset(label, 'a', 63);
	strcpy(label + 63, ".example.com");
	assert_null(policy_check_host(label, strlen(label), 0));
	memset(label, 'a', 64);
	strcpy(label + 64, ".example.com");
	assert_non_null(policy_check_host(label, strlen(label), 0));

	/* 253 characters: 63.63.63.61 */
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	assert_null(policy_check_host(name, 253, 0));
	name[253] = 'a';
	name[254] = '\0';
	assert_non_null(policy_check_host(name, 254, 0));
}

static void
test_mx_match(void **state)
{
	(void)state;
	assert_true(policy_mx_match("mail.example.com", "mail.example.com"));
	assert_true(policy_mx_match("mail.example.com", "MAIL.Example.COM"));
	assert_true(policy_mx_match("mail.example.com", "mail.example.com."));
	assert_false(policy_mx_match("mail.example.com", "mail.example.co"));
	assert_true(policy_mx_match("*.example.com", "a.example.com"));
	assert_false(policy_mx_match("*.example.com", "example.com"));
	assert_false(policy_mx_match("*.example.com", "a.b.example.com"));
	assert_false(policy_mx_match("*.example.com", ".example.com"));
	assert_false(policy_mx_match("*.example.com", "aexample.com"));
}

static void
test_mode_names(void **state)
{
	enum policy_mode m;

	(void)state;
	assert_int_equal(policy_mode_parse("enforce", &m), 0);
	assert_int_equal(m, POLICY_MODE_ENFORCE);
	assert_string_equal(policy_mode_name(m), "enforce");
	assert_int_equal(policy_mode_parse("none", &m), 0);
	assert_string_equal(policy_mode_name(m), "none");
	assert_int_equal(policy_mode_parse("Testing", &m), -1);
}

static void
test_diag_format(void **state)
{
	struct policy_diag	dg = { POLICY_WARNING, 7, "something" };
	char			buf[300];

	(void)state;
	assert_string_equal(policy_diag_format("f.txt", &dg, buf, sizeof(buf)),
	    "f.txt:7: warning: something");
	dg.severity = POLICY_ERROR;
	assert_string_equal(policy_diag_format("f.txt", &dg, buf, sizeof(buf)),
	    "f.txt:7: error: something");
}

/* Collects the lines policy_served_hazards() names. */
static void
hazard_line(void *arg, unsigned line, const char *msg)
{
	unsigned *lines = arg;

	assert_non_null(msg);
	assert_true(lines[0] < 15);
	lines[++lines[0]] = line;
}

static void
test_served_hazards(void **state)
{
	static const char canon[] = "version: STSv1\r\nmode: enforce\r\n"
	    "mx: a.example.com\r\nmax_age: 86400\r\n";
	static const char odd[] = "version: STSv1\nmode: enforce\r\n\r\n"
	    "# x\r\nmx: a.example.com\r\nmax_age: 86400";
	unsigned	 lines[16] = { 0 };

	(void)state;
	assert_int_equal(policy_served_hazards(canon, sizeof(canon) - 1,
	    hazard_line, lines), 0);
	/* LF only (1), blank (3), comment (4), no final CRLF (6). */
	assert_int_equal(policy_served_hazards(odd, sizeof(odd) - 1,
	    hazard_line, lines), 4);
	assert_int_equal(lines[0], 4);
	assert_int_equal(lines[1], 1);
	assert_int_equal(lines[2], 3);
	assert_int_equal(lines[3], 4);
	assert_int_equal(lines[4], 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_body),
		cmocka_unit_test(test_crlf_and_wsp),
		cmocka_unit_test(test_errors_all_reported),
		cmocka_unit_test(test_missing_mx),
		cmocka_unit_test(test_dedup_keeps_first),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_check_host),
		cmocka_unit_test(test_mx_match),
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_served_hazards),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
