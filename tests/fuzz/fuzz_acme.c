/*
 * fuzz_acme.c: libFuzzer target for acme_reason(), which reads an ACME
 * client's output for what the ACME server answered: the server's text
 * is in it.
 *
 * Whatever the input, why is NUL-terminated within its size, holds only
 * printable ASCII, and is never empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/acme.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 why[97];
	size_t	 n;

	memset(why, 'x', sizeof(why));
	(void)acme_reason((const char *)data, size, why, sizeof(why));
	if ((n = strnlen(why, sizeof(why))) == sizeof(why) || n == 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] > 0x7e)
			abort();
	return 0;
}
