/*
 * fuzz_txt.c: libFuzzer target for the TXT record parser.
 *
 * A record that parses has an id that txt_check_id() accepts, and the
 * record the tool would publish for that id parses back to the same id.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/txt.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct txt_record	 r, s;
	char			 err[TXT_ERR_MAX], rec[128];
	int			 n;

	if (txt_parse((const char *)data, size, &r, err, sizeof(err)) == -1) {
		if (strncmp(err, "column ", 7) != 0)
			abort();
		return 0;
	}
	if (txt_check_id(r.id) != NULL)
		abort();
	n = snprintf(rec, sizeof(rec), "v=STSv1; id=%s;", r.id);
	if (txt_parse(rec, (size_t)n, &s, err, sizeof(err)) == -1 ||
	    strcmp(s.id, r.id) != 0)
		abort();
	return 0;
}
