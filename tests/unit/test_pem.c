/*
 * test_pem.c: unit tests of the PEM reader (cmocka).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/pem.h"

struct run {
	struct pem_reader	 r;
	char			 label[PEM_LABEL_MAX + 1];
	uint8_t			 out[256];
	size_t			 len;
};

static void
start(struct run *t, const char *src)
{
	memset(t, 0, sizeof(*t));
	pem_init(&t->r, src, strlen(src));
}

static int
next(struct run *t)
{
	return pem_next(&t->r, t->label, t->out, sizeof(t->out), &t->len);
}

static void
test_objects_and_junk(void **state)
{
	struct run t;

	(void)state;
	start(&t, "Bag Attributes\n    localKeyID: 01\n"
	    "-----BEGIN CERTIFICATE-----\nTWFu\nTWE=\n-----END CERTIFICATE-----\n"
	    "junk -----BEGIN X-----\n"
	    "-----BEGIN EC PRIVATE KEY-----\r\nTQ==  \r\n\r\n"
	    "-----END EC PRIVATE KEY-----");
	assert_int_equal(next(&t), PEM_OBJECT);
	assert_string_equal(t.label, "CERTIFICATE");
	assert_int_equal(t.len, 5);
	assert_memory_equal(t.out, "ManMa", 5);
	assert_int_equal(next(&t), PEM_OBJECT);
	assert_string_equal(t.label, "EC PRIVATE KEY");
	assert_int_equal(t.len, 1);
	assert_int_equal(t.out[0], 'M');
	assert_int_equal(next(&t), PEM_DONE);
	assert_int_equal(next(&t), PEM_DONE);
}

static void
test_empty_and_no_object(void **state)
{
	struct run t;

	(void)state;
	start(&t, "");
	assert_int_equal(next(&t), PEM_DONE);
	start(&t, "hello\nworld");
	assert_int_equal(next(&t), PEM_DONE);
	start(&t, "-----BEGIN X-----\n-----END X-----\n");
	assert_int_equal(next(&t), PEM_OBJECT);
	assert_int_equal(t.len, 0);
}

static void
test_incomplete(void **state)
{
	struct run t;

	(void)state;
	start(&t, "-----BEGIN CERTIFICATE-----\nMIIB\n");
	assert_int_equal(next(&t), PEM_INCOMPLETE);
	start(&t, "-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERTIFICATE-----\n"
	    "-----BEGIN CERTIFICATE-----");
	assert_int_equal(next(&t), PEM_OBJECT);
	assert_int_equal(next(&t), PEM_INCOMPLETE);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		/* END label differs */
		"-----BEGIN CERTIFICATE-----\nTWFu\n-----END PRIVATE KEY-----\n",
		/* not base64 */
		"-----BEGIN A-----\nTW*u\n-----END A-----\n",
		/* a header line (encrypted key) */
		"-----BEGIN A-----\nProc-Type: 4,ENCRYPTED\n-----END A-----\n",
		/* data after padding */
		"-----BEGIN A-----\nTQ==TWFu\n-----END A-----\n",
		/* '=' inside a group */
		"-----BEGIN A-----\nT=Fu\n-----END A-----\n",
		/* too much padding */
		"-----BEGIN A-----\nT===\n-----END A-----\n",
		/* not a multiple of four */
		"-----BEGIN A-----\nTWF\n-----END A-----\n",
		/* BEGIN inside an object */
		"-----BEGIN A-----\n-----BEGIN A-----\nTWFu\n-----END A-----\n",
		/* empty label */
		"-----BEGIN -----\n-----END -----\n",
		/* label too long */
		("-----BEGIN AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAA-----\n"),
		/* END line with trailing junk */
		"-----BEGIN A-----\nTWFu\n-----END A----- x\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run t;

		start(&t, bad[i]);
		if (next(&t) != PEM_MALFORMED)
			fail_msg("case %zu accepted: %s", i, bad[i]);
	}
}

static void
test_output_bound(void **state)
{
	struct pem_reader	r;
	const char		*src = "-----BEGIN A-----\nTWFuTWFu\n"
	    "-----END A-----\n";
	char			label[PEM_LABEL_MAX + 1];
	uint8_t			out[5];
	size_t			len;

	(void)state;
	pem_init(&r, src, strlen(src));
	/* Six bytes do not fit in five. */
	assert_int_equal(pem_next(&r, label, out, sizeof(out), &len),
	    PEM_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects_and_junk),
		cmocka_unit_test(test_empty_and_no_object),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_output_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
