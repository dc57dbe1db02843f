/*
 * fuzz_hello.c: libFuzzer target for tls_hello_name(), the server name
 * read ahead of BearSSL from a connection's first bytes.
 *
 * Each output buffer is allocated at exactly its size, so a write past
 * it is an AddressSanitizer report.  Beyond "no crash": a name returned
 * is shorter than the buffer, lower case, printable ASCII without
 * spaces; a smaller buffer gives the same name when it fits and 0 when
 * it does not; bytes after the record change nothing.
 *
 * Seeds: ClientHellos of openssl s_client, curl and Python, recorded
 * with a socket that kept the first bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define BIG	256	/* as struct tls_conn's hello_name */
#define SMALL	12

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_hello: invariant broken: %s\n", what);
		abort();
	}
}

static void
check_name(const char *out, size_t outsz)
{
	size_t	 len = strnlen(out, outsz);

	check(len < outsz, "name not terminated within the buffer");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];

		check(c > 0x20 && c < 0x7f, "name not printable ASCII");
		check(c < 'A' || c > 'Z', "name not lower case");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*p, *q;
	char		*big, *small, *again;
	int		 r, rs, ra;

	p = malloc(size ? size : 1);
	q = malloc(size + 16);
	big = malloc(BIG);
	small = malloc(SMALL);
	again = malloc(BIG);
	if (p == NULL || q == NULL || big == NULL || small == NULL ||
	    again == NULL)
		abort();
	memcpy(p, data, size);
	memcpy(q, data, size);
	memset(q + size, 0x16, 16);

	r = tls_hello_name(p, size, big, BIG);
	check(r == 0 || r == 1, "return value");
	if (r == 1)
		check_name(big, BIG);

	rs = tls_hello_name(p, size, small, SMALL);
	check(rs == 0 || rs == 1, "return value (small buffer)");
	if (rs == 1) {
		check_name(small, SMALL);
		check(r == 1 && strcmp(small, big) == 0,
		    "a small buffer gives a name the large one does not");
	} else if (r == 1)
		check(strlen(big) >= SMALL,
		    "a name that fits the small buffer is not returned");

	ra = tls_hello_name(q, size + 16, again, BIG);
	if (r == 1)
		check(ra == 1 && strcmp(again, big) == 0,
		    "bytes after the record change the name");

	free(p);
	free(q);
	free(big);
	free(small);
	free(again);
	return 0;
}
