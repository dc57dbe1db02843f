/*
 * fuzz_policy.c: libFuzzer target for the policy parser.
 *
 * Beyond "no crash": a policy that parses must render a canonical body
 * that parses again to the very same body, with no warning the first
 * parse did not give, and holds only printable ASCII and CRLF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy		 p, q;
	struct policy_diags	 d, e;
	char			 buf[512];

	memset(&d, 0, sizeof(d));
	if (policy_parse((const char *)data, size, &p, &d) == -1) {
		if (d.errors == 0 && !d.oom)
			abort();
		for (size_t i = 0; i < d.n; i++)
			policy_diag_format("f", &d.v[i], buf, sizeof(buf));
		policy_diags_free(&d);
		return 0;
	}
	if (d.errors != 0 || p.body == NULL || strlen(p.body) != p.bodylen)
		abort();
	for (size_t i = 0; i < p.bodylen; i++) {
		unsigned char c = (unsigned char)p.body[i];

		if (c == '\n' ? i == 0 || p.body[i - 1] != '\r' :
		    c == '\r' ? p.body[i + 1] != '\n' : c < 0x20 || c > 0x7e)
			abort();
	}
	memset(&e, 0, sizeof(e));
	if (policy_parse(p.body, p.bodylen, &q, &e) == -1)
		abort();
	if (q.bodylen != p.bodylen || memcmp(q.body, p.body, p.bodylen) != 0 ||
	    q.mode != p.mode || q.max_age != p.max_age || q.nmx != p.nmx)
		abort();
	policy_free(&q);
	policy_diags_free(&e);
	policy_free(&p);
	policy_diags_free(&d);
	return 0;
}
