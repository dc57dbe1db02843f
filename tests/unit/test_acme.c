/*
 * test_acme.c: unit tests of acme_reason(), what the ACME server answered
 * read from lego's and certbot's output (cmocka).  The outputs are those
 * the clients print (tests/cert runs them against pebble for real);
 * pebble has no rate limits, so those are Let's Encrypt's as the clients
 * print them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "ctl/acme.h"

static int
reason(const char *out, char *why, size_t whysz)
{
	return acme_reason(out, strlen(out), why, whysz);
}

static void
test_lego(void **state)
{
	char	 why[1024];

	(void)state;
	assert_int_equal(reason(
	    "2026/12/04 16:56:03 [INFO] [mta-sts.d.test] acme: Trying to solve HTTP-01\n"
	    "2026/12/04 16:56:08 [INFO] Deactivating auth: https://127.0.0.1:14000/authZ/Jy\n"
	    "2026/12/04 16:56:08 Could not obtain certificates:\n"
	    "\terror: one or more domains had a problem:\n"
	    "[mta-sts.d.test] acme: error: 403 :: urn:ietf:params:acme:error:unauthorized :: "
	    "Non-200 status code from HTTP: http://mta-sts.d.test:80/.well-known/acme-challenge/px returned 404\n",
	    why, sizeof(why)), 1);
	assert_string_equal(why, "unauthorized: Non-200 status code from "
	    "HTTP: http://mta-sts.d.test:80/.well-known/acme-challenge/px "
	    "returned 404");
	/* A rate limit: the type and all of the detail. */
	assert_int_equal(reason(
	    "2026/12/04 16:56:03 Could not obtain certificates:\n"
	    "\tacme: error: 429 :: POST :: https://acme-v02.api.letsencrypt.org/acme/new-order :: "
	    "urn:ietf:params:acme:error:rateLimited :: Error creating new order :: too many "
	    "certificates (5) already issued for this exact set of domains in the last 168 "
	    "hours: mta-sts.example.com\r\n",
	    why, sizeof(why)), 1);
	assert_string_equal(why, "rateLimited: Error creating new order :: "
	    "too many certificates (5) already issued for this exact set of "
	    "domains in the last 168 hours: mta-sts.example.com");
	/* Two domains, two problems. */
	assert_int_equal(reason(
	    "x :: urn:ietf:params:acme:error:connection :: dial tcp 127.0.0.3:80: connect: connection refused\n"
	    "y :: urn:ietf:params:acme:error:dns :: no such host\n", why,
	    sizeof(why)), 1);
	assert_string_equal(why, "connection: dial tcp 127.0.0.3:80: connect: "
	    "connection refused; dns: no such host");
	/* The URN last on the line: its type, no detail. */
	assert_int_equal(reason("err urn:ietf:params:acme:error:malformed",
	    why, sizeof(why)), 1);
	assert_string_equal(why, "malformed:");
}

static void
test_certbot(void **state)
{
	char	 why[1024];

	(void)state;
	assert_int_equal(reason(
	    "Saving debug log to /var/lib/mta-stsd/acme-client/certbot/logs/letsencrypt.log\n"
	    "Requesting a certificate for mta-sts.c.test\n\n"
	    "Certbot failed to authenticate some domains (authenticator: webroot). The "
	    "Certificate Authority reported these problems:\n"
	    "  Domain: mta-sts.c.test\n"
	    "  Type:   connection\n"
	    "  Detail: Get \"http://mta-sts.c.test:80/.well-known/acme-challenge/C6\": "
	    "dial tcp 127.0.0.3:80: connect: connection refused\n\n"
	    "Hint: The Certificate Authority failed to download the temporary challenge "
	    "files created by Certbot.\n\n"
	    "Some challenges have failed.\n", why, sizeof(why)), 1);
	assert_string_equal(why, "connection: Get \"http://mta-sts.c.test:80/"
	    ".well-known/acme-challenge/C6\": dial tcp 127.0.0.3:80: connect: "
	    "connection refused");
	/* A rate limit: certbot's unexpected error, the line after it. */
	assert_int_equal(reason(
	    "Requesting a certificate for mta-sts.example.com\n"
	    "An unexpected error occurred:\n"
	    "Error creating new order :: too many certificates (5) already issued for "
	    "this exact set of domains in the last 168 hours: mta-sts.example.com, retry "
	    "after 2026-12-05T10:00:00Z: see https://letsencrypt.org/docs/rate-limits/\n"
	    "Ask for help or search for solutions at https://community.letsencrypt.org.\n",
	    why, sizeof(why)), 1);
	assert_string_equal(why, "Error creating new order :: too many "
	    "certificates (5) already issued for this exact set of domains in "
	    "the last 168 hours: mta-sts.example.com, retry after "
	    "2026-12-05T10:00:00Z: see https://letsencrypt.org/docs/rate-limits/");
}

static void
test_not_the_server(void **state)
{
	char	 why[64];

	(void)state;
	/* No answer of the server: the client's last lines, 0. */
	assert_int_equal(reason("one\ntwo\n\nthree\nfour\n", why, sizeof(why)),
	    0);
	assert_string_equal(why, "two; three; four");
	assert_int_equal(reason("", why, sizeof(why)), 0);
	assert_string_equal(why, "no output");
	assert_int_equal(reason("\n\n\r\n", why, sizeof(why)), 0);
	assert_string_equal(why, "no output");
	/* Hostile bytes: only printable ASCII, never past why. */
	assert_int_equal(acme_reason("a\x01\x7f\xff b\0c", 8, why, sizeof(why)),
	    0);
	assert_string_equal(why, "a??? b?c");
	memset(why, 'x', sizeof(why));
	assert_int_equal(reason(
	    "urn:ietf:params:acme:error:rateLimited :: aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    why, sizeof(why)), 1);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_memory_equal(why, "rateLimited: aaa", 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lego),
		cmocka_unit_test(test_certbot),
		cmocka_unit_test(test_not_the_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
