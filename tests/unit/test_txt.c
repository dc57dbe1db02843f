/*
 * test_txt.c: unit tests of the TXT record and id module (cmocka).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "lib/txt.h"

static int
parse(const char *s, struct txt_record *r, char *err)
{
	return txt_parse(s, strlen(s), r, err, TXT_ERR_MAX);
}

static void
test_valid(void **state)
{
	struct txt_record	r;
	char			err[TXT_ERR_MAX];

	(void)state;
	assert_int_equal(parse("v=STSv1; id=20220101080000Z;", &r, err), 0);
	assert_string_equal(r.id, "20220101080000Z");
	assert_int_equal(parse("v=STSv1;id=abc", &r, err), 0);
	assert_string_equal(r.id, "abc");
	assert_int_equal(parse("v=STSv1 ;\tid=x1 ; ext.a-b_c=v:1/2 ;", &r,
	    err), 0);
	assert_string_equal(r.id, "x1");
	assert_int_equal(r.extensions, 1);
}

static void
test_invalid(void **state)
{
	static const char *bad[] = {
		"", "v=STSv1", "v=STSv1;", "v=stsv1; id=1", " v=STSv1; id=1",
		"v=STSv1; id=", "v=STSv1; id=a-b", "v=STSv1; id=1; id=2",
		"v=STSv1; ID=1", "v=STSv1;; id=1", "v=STSv1; id=1 ",
		"v=STSv1 id=1", "v=STSv1; id=1; e=a=b", "v=STSv1; id=1; e=",
		"v=STSv1; id=1; _e=1",
		"v=STSv1; id=123456789012345678901234567890123",
		"v=STSv1; id=1\x01", "v=STSv1; id=\xc3\xa9",
	};
	struct txt_record	r;
	char			err[TXT_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i], &r, err), -1);
		assert_non_null(strstr(err, "column "));
	}
	assert_int_equal(parse("v=STSv1; id=12345678901234567890123456789012",
	    &r, err), 0);
}

static void
test_check_id(void **state)
{
	(void)state;
	assert_null(txt_check_id("20220101080000Z"));
	assert_null(txt_check_id("12345678901234567890123456789012"));
	assert_non_null(txt_check_id("123456789012345678901234567890123"));
	assert_non_null(txt_check_id(""));
	assert_non_null(txt_check_id("a-b"));
	assert_non_null(txt_check_id("a b"));
}

static void
test_id_for_time(void **state)
{
	char	 id[16];
	time_t	 t;

	(void)state;
	assert_int_equal(txt_parse_time("2022-01-01T08:30:00Z", &t), 0);
	assert_int_equal(txt_id_for_time(t, id), 0);
	assert_string_equal(id, "20220101080000Z");
	assert_int_equal(txt_parse_time("2024-02-29T23:59:59Z", &t), 0);
	assert_int_equal(txt_id_for_time(t, id), 0);
	assert_string_equal(id, "20240229230000Z");
	assert_int_equal(txt_id_for_time(0, id), 0);
	assert_string_equal(id, "19700101000000Z");
}

static void
test_parse_time_invalid(void **state)
{
	static const char *bad[] = {
		"2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
		"2022-13-01T00:00:00Z", "2022-00-01T00:00:00Z",
		"2022-01-32T00:00:00Z", "2022-01-01T24:00:00Z",
		"2022-01-01T00:60:00Z", "2022-01-01T00:00:60Z",
		"2022-01-01 08:30:00Z", "2022-01-01T08:30:00",
		"2022-1-01T08:30:00Z", "2022-01-01T08:30:00Z ", "",
		"2022-01-01T08:30:0aZ",
	};
	time_t	 t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(txt_parse_time(bad[i], &t), -1);
	assert_int_equal(txt_parse_time("2000-02-29T00:00:00Z", &t), 0);
}

static void
test_format(void **state)
{
	char	 buf[128];

	(void)state;
	txt_format(buf, sizeof(buf), "example.com", 3600, "20220101080000Z");
	assert_string_equal(buf, "_mta-sts.example.com. 3600 IN TXT "
	    "\"v=STSv1; id=20220101080000Z;\"");
}

static void
test_tlsrpt(void **state)
{
	static const char *good[] = {
		"v=TLSRPTv1; rua=mailto:tlsrpt@example.com",
		"v=TLSRPTv1;rua=mailto:a@example.com;",
		("v=TLSRPTv1 ; rua=mailto:a@example.com , "
		    "https://r.example.net/v1 ; ext_1=x"),
		"v=TLSRPTv1; rua=https://r.example.net/a%2Cb%21",
	};
	static const char *bad[] = {
		"",
		"v=TLSRPTv1",
		"v=TLSRPTv2; rua=mailto:a@example.com",
		"v=TLSRPTv1x; rua=mailto:a@example.com",
		" v=TLSRPTv1; rua=mailto:a@example.com",
		"rua=mailto:a@example.com; v=TLSRPTv1",
		"v=TLSRPTv1; rua=ftp://example.com",
		"v=TLSRPTv1; rua=mailto:",
		"v=TLSRPTv1; rua=mailto:a@",
		"v=TLSRPTv1; rua=",
		"v=TLSRPTv1; rua=mailto:a@example.com,",
		"v=TLSRPTv1; rua=mailto:a!b@example.com",
		"v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com",
		"v=TLSRPTv1; x=1",
		"v=TLSRPTv1; rua=mailto:a@example.com; -x=1",
		"v=TLSRPTv1; rua=mailto:a@example.com; x=",
		"v=TLSRPTv1; rua=mailto:a@example.com; x=a=b",
		"v=TLSRPTv1; rua=mailto:a@example.com;; x=1",
		"v=TLSRPTv1 rua=mailto:a@example.com",
	};
	char	 err[TXT_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(txt_parse_tlsrpt(good[i], strlen(good[i]),
		    err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(txt_parse_tlsrpt(bad[i], strlen(bad[i]), err,
		    sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_check_id),
		cmocka_unit_test(test_id_for_time),
		cmocka_unit_test(test_parse_time_invalid),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_tlsrpt),
	};

	return cmocka_run_group_tests_name("txt", tests, NULL, NULL);
}
