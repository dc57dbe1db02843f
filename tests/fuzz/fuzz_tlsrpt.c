/*
 * fuzz_tlsrpt.c: libFuzzer target for TLS-RPT reports as the receiver
 * and the mail intake take them: unpacked (gzip or not, under small caps)
 * at once and as a stream, then checked strictly and read tolerantly.
 *
 * The output never passes the caps; what the stream takes, taking it at
 * once gives the same (the stream judges the ratio on less, never more);
 * a report that checks has a file name of 64 hex digits and ".json", a
 * day of YYYY-MM-DD and a domain that is a host name, and reads the same
 * tolerantly; a report read tolerantly has a normalised form with the
 * members tlsrpt.h promises.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/policy.h"
#include "lib/tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_meta(const struct tlsrpt_meta *m)
{
	if (strlen(m->name) != 69 || strspn(m->name, "0123456789abcdef") !=
	    64 || strcmp(m->name + 64, ".json") != 0 || strlen(m->day) != 10 ||
	    policy_check_host(m->domain, strlen(m->domain), 0) != NULL ||
	    m->end < m->start)
		abort();
}

static void
check_norm(json_t *n)
{
	json_t	*p, *f;
	size_t	 i, j;

	if (!json_is_string(json_object_get(n, "organization-name")) ||
	    !json_is_string(json_object_get(n, "start")) ||
	    json_array_size(json_object_get(n, "policies")) == 0)
		abort();
	json_array_foreach(json_object_get(n, "policies"), i, p) {
		if (!json_is_string(json_object_get(p, "policy-domain")) ||
		    !json_is_array(json_object_get(p, "policy-string")) ||
		    !json_is_array(json_object_get(p, "mx-host")) ||
		    json_integer_value(json_object_get(p, "successful")) < 0 ||
		    json_integer_value(json_object_get(p, "failed")) < 0)
			abort();
		json_array_foreach(json_object_get(p, "failure-details"), j,
		    f)
			if (!json_is_string(json_object_get(f,
			    "result-type")) || json_integer_value(
			    json_object_get(f, "sessions")) < 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsrpt_caps	 caps = { 64 * 1024, 256 * 1024, 100 };
	struct tlsrpt_unpack	 u;
	struct tlsrpt_meta	 m, t;
	char			*json, *sj;
	size_t			 len, slen, off, step;
	int			 big, sbig;
	json_t			*norm;

	if (tlsrpt_unpack(data, size, TLSRPT_ANY, &caps, &json, &len,
	    &big) != NULL) {
		if (json != NULL)
			abort();
		json = NULL;
	} else if (len > caps.max_json || json[len] != '\0')
		abort();
	/* The same bytes as a stream, in chunks the first byte sizes. */
	step = size > 0 ? (size_t)data[0] % 61 + 1 : 1;
	tlsrpt_unpack_begin(&u, TLSRPT_ANY, &caps);
	for (off = 0; off < size; off += step)
		if (tlsrpt_unpack_feed(&u, data + off, size - off < step ?
		    size - off : step) == -1)
			break;
	if (tlsrpt_unpack_end(&u, &sj, &slen, &sbig) == NULL) {
		if (json == NULL || slen != len || memcmp(sj, json, len) != 0)
			abort();
		free(sj);
	}
	if (json == NULL)
		return 0;
	if (tlsrpt_check(json, len, &m) == NULL) {
		check_meta(&m);
		if (tlsrpt_read(json, len, TLSRPT_TOLERANT, &t, NULL) != NULL ||
		    strcmp(t.name, m.name) != 0 || strcmp(t.domain, m.domain) !=
		    0 || strcmp(t.day, m.day) != 0)
			abort();
	}
	if (tlsrpt_read(json, len, TLSRPT_TOLERANT, &t, &norm) == NULL) {
		check_meta(&t);
		check_norm(norm);
		json_decref(norm);
	} else if (norm != NULL)
		abort();
	free(json);
	return 0;
}
