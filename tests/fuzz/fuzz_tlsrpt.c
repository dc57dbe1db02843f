/*
 * fuzz_tlsrpt.c: libFuzzer target for TLS-RPT reports as the receiver
 * takes them: unpacked (gzip or not, under small caps) and checked.
 *
 * The output never passes the caps; a report that checks has a file
 * name of 64 hex digits and ".json", a day of YYYY-MM-DD and a domain
 * that is a host name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/policy.h"
#include "lib/tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsrpt_caps	 caps = { 64 * 1024, 256 * 1024, 100 };
	struct tlsrpt_meta	 m;
	char			*json;
	size_t			 len;
	int			 big;

	if (tlsrpt_unpack(data, size, TLSRPT_ANY, &caps, &json, &len,
	    &big) != NULL) {
		if (json != NULL)
			abort();
		return 0;
	}
	if (len > caps.max_json || json[len] != '\0')
		abort();
	if (tlsrpt_check(json, len, &m) == NULL) {
		if (strlen(m.name) != 69 || strspn(m.name,
		    "0123456789abcdef") != 64 || strcmp(m.name + 64,
		    ".json") != 0 || strlen(m.day) != 10 ||
		    policy_check_host(m.domain, strlen(m.domain), 0) != NULL)
			abort();
		if (tlsrpt_hint("certificate-expired") == NULL)
			abort();
	}
	free(json);
	return 0;
}
