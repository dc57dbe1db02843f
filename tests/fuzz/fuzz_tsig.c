/*
 * fuzz_tsig.c: libFuzzer target for tsig_parse(), the reader of the
 * [dns] tsig_key file.
 *
 * Beyond "no crash": a key that parses has a domain-name key name, one of
 * the two algorithms the manual allows and a base64 secret of 16 bytes or
 * more; a refusal says "line N: why" with N one of the input's lines, and
 * never quotes the secret.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_tsig: invariant broken: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsig_key	 k;
	char		 err[200], *end;
	size_t		 lines = 1;
	unsigned long	 n;

	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	if (tsig_parse((const char *)data, size, &k, err, sizeof(err)) == 0) {
		check(k.name[0] != '\0' && strlen(k.name) <= TSIG_NAME_MAX &&
		    strspn(k.name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
		    "QRSTUVWXYZ0123456789-_.") == strlen(k.name), "key name");
		check(strcmp(k.algorithm, "hmac-sha256") == 0 ||
		    strcmp(k.algorithm, "hmac-sha512") == 0, "algorithm");
		check(k.bytes >= 16 && strlen(k.secret) % 4 == 0 &&
		    strlen(k.secret) <= TSIG_SECRET_MAX, "secret");
		tsig_clear(&k);
		check(k.secret[0] == '\0', "tsig_clear");
		return 0;
	}
	check(strncmp(err, "line ", 5) == 0, "error without 'line N: '");
	n = strtoul(err + 5, &end, 10);
	check(n >= 1 && n <= lines && end[0] == ':' && end[1] == ' ' &&
	    end[2] != '\0', "error line number");
	check(k.secret[0] == '\0' && k.name[0] == '\0', "key left after an "
	    "error");
	return 0;
}
