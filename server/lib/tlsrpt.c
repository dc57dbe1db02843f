/*
 * tlsrpt.c: TLS-RPT reports.  See tlsrpt.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "lib/ascii.h"
#include "lib/file.h"
#include "lib/policy.h"
#include "lib/tlsrpt.h"
#include "tls/digest.h"

#define INFLATE_STEP	(64 * 1024)	/* first output buffer, then doubled */
#define RATIO_FLOOR	(64 * 1024)	/* a tiny report may expand to this */

/* see tlsrpt.h */
const char *
tlsrpt_unpack(const void *in, size_t len, enum tlsrpt_packing packing,
    const struct tlsrpt_caps *caps, char **out, size_t *outlen, int *too_big)
{
	const unsigned char	*p = in;
	z_stream		 z;
	char			*buf = NULL, *nb;
	const char		*why = NULL;
	size_t			 cap, limit, n = 0;
	int			 gz, zrc;

	*out = NULL;
	*outlen = 0;
	*too_big = 0;
	if (len > caps->max_size) {
		*too_big = 1;
		return "report larger than the size limit";
	}
	gz = len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
	if (packing == TLSRPT_GZIP && !gz)
		return "not gzip data";
	if (packing == TLSRPT_JSON || !gz) {
		if (len > caps->max_json) {
			*too_big = 1;
			return "report larger than the JSON limit";
		}
		if ((buf = malloc(len + 1)) == NULL)
			return "out of memory";
		memcpy(buf, in, len);
		buf[len] = '\0';
		*out = buf;
		*outlen = len;
		return NULL;
	}
	/* The smaller of the JSON cap and the ratio allowed for this size. */
	limit = caps->max_json;
	if (caps->max_ratio > 0 && len <= SIZE_MAX / caps->max_ratio &&
	    len * caps->max_ratio < limit)
		limit = len * caps->max_ratio;
	if (limit < RATIO_FLOOR && caps->max_json >= RATIO_FLOOR)
		limit = RATIO_FLOOR;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)	/* gzip wrapper only */
		return "out of memory";
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	cap = 0;
	for (;;) {
		if (n == cap) {
			if (cap > limit) {
				*too_big = 1;
				why = "report decompresses beyond the limit";
				goto fail;
			}
			cap = cap == 0 ? INFLATE_STEP : cap * 2;
			if (cap > limit + 1)
				cap = limit + 1;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				why = "out of memory";
				goto fail;
			}
			buf = nb;
		}
		z.next_out = (Bytef *)buf + n;
		z.avail_out = (uInt)(cap - n);
		zrc = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
		if (n > limit) {
			*too_big = 1;
			why = "report decompresses beyond the limit";
			goto fail;
		}
		if (zrc == Z_STREAM_END)
			break;
		if (zrc == Z_BUF_ERROR && z.avail_in == 0) {
			why = "truncated gzip data";
			goto fail;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			why = "bad gzip data";
			goto fail;
		}
	}
	if (z.avail_in != 0) {
		why = "data after the gzip stream";
		goto fail;
	}
	inflateEnd(&z);
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return NULL;
fail:
	inflateEnd(&z);
	free(buf);
	return why;
}

/*
 * The reason of the first problem, kept in a buffer of the thread's own
 * (the daemon's workers check reports at the same time).
 */
static _Thread_local char	 reason[256];

static const char *
bad(const char *where, const char *what)
{
	snprintf(reason, sizeof(reason), "%.190s: %.60s", where, what);
	return reason;
}

/* A member that must be a non-empty string. */
static const char *
need_string(json_t *o, const char *key, const char *where, const char **v)
{
	json_t	*m = json_object_get(o, key);
	char	 w[192];

	snprintf(w, sizeof(w), "%s%s%s", where, *where ? "." : "", key);
	if (m == NULL)
		return bad(w, "missing");
	if (!json_is_string(m) || json_string_length(m) == 0)
		return bad(w, "not a non-empty string");
	if (v != NULL)
		*v = json_string_value(m);
	return NULL;
}

/* A member that must be a whole number of sessions, if present. */
static const char *
need_count(json_t *o, const char *key, const char *where, int required)
{
	json_t	*m = json_object_get(o, key);
	char	 w[192];

	snprintf(w, sizeof(w), "%s.%s", where, key);
	if (m == NULL)
		return required ? bad(w, "missing") : NULL;
	if (!json_is_integer(m) || json_integer_value(m) < 0)
		return bad(w, "not a whole number");
	return NULL;
}

/* An RFC 3339 date-time, as far as the day and the 'T'. */
static int
datetime_ok(const char *s)
{
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return 0;
	return s[10] == 'T' || s[10] == 't' || s[10] == ' ';
}

static const char *
check_policy(json_t *pol, size_t i, struct tlsrpt_meta *m)
{
	json_t		*p, *s, *fd, *f;
	const char	*why, *dom;
	char		 w[40], wf[128];
	size_t		 j;

	snprintf(w, sizeof(w), "policies[%zu]", i);
	if (!json_is_object(pol))
		return bad(w, "not an object");
	snprintf(wf, sizeof(wf), "%s.policy", w);
	if ((p = json_object_get(pol, "policy")) == NULL)
		return bad(wf, "missing");
	if (!json_is_object(p))
		return bad(wf, "not an object");
	if ((why = need_string(p, "policy-type", wf, NULL)) != NULL ||
	    (why = need_string(p, "policy-domain", wf, &dom)) != NULL)
		return why;
	if (i == 0) {
		if (policy_check_host(dom, strlen(dom), 0) != NULL)
			return bad(wf, "policy-domain is not a host name");
		j = strlen(dom);
		ascii_lower_copy(m->domain, dom, j < sizeof(m->domain) ?
		    j : sizeof(m->domain) - 1);
	}
	snprintf(wf, sizeof(wf), "%s.summary", w);
	if ((s = json_object_get(pol, "summary")) == NULL)
		return bad(wf, "missing");
	if (!json_is_object(s))
		return bad(wf, "not an object");
	if ((why = need_count(s, "total-successful-session-count", wf, 1)) !=
	    NULL || (why = need_count(s, "total-failure-session-count", wf,
	    1)) != NULL)
		return why;
	if (strcasecmp(dom, m->domain) == 0) {
		m->successful += (uint64_t)json_integer_value(json_object_get(s,
		    "total-successful-session-count"));
		m->failed += (uint64_t)json_integer_value(json_object_get(s,
		    "total-failure-session-count"));
	}
	snprintf(wf, sizeof(wf), "%s.failure-details", w);
	if ((fd = json_object_get(pol, "failure-details")) == NULL)
		return NULL;	/* none: no failures */
	if (!json_is_array(fd))
		return bad(wf, "not an array");
	json_array_foreach(fd, j, f) {
		snprintf(wf, sizeof(wf), "%s.failure-details[%zu]", w, j);
		if (!json_is_object(f))
			return bad(wf, "not an object");
		if ((why = need_string(f, "result-type", wf, NULL)) != NULL ||
		    (why = need_count(f, "failed-session-count", wf, 1)) !=
		    NULL)
			return why;
	}
	return NULL;
}

/* see tlsrpt.h */
const char *
tlsrpt_check(const char *json, size_t len, struct tlsrpt_meta *m)
{
	json_t		*root, *dr, *pols, *pol;
	json_error_t	 err;
	const char	*why, *id, *start, *end;
	char		 hex[65];
	size_t		 i;

	memset(m, 0, sizeof(*m));
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		snprintf(reason, sizeof(reason), "invalid JSON: line %d: %.160s",
		    err.line, err.text);
		return reason;
	}
	if (!json_is_object(root)) {
		why = "not a JSON object";
		goto out;
	}
	if ((why = need_string(root, "organization-name", "", NULL)) != NULL ||
	    (why = need_string(root, "contact-info", "", NULL)) != NULL ||
	    (why = need_string(root, "report-id", "", &id)) != NULL)
		goto out;
	if ((dr = json_object_get(root, "date-range")) == NULL) {
		why = bad("date-range", "missing");
		goto out;
	}
	if (!json_is_object(dr)) {
		why = bad("date-range", "not an object");
		goto out;
	}
	if ((why = need_string(dr, "start-datetime", "date-range", &start)) !=
	    NULL || (why = need_string(dr, "end-datetime", "date-range",
	    &end)) != NULL)
		goto out;
	if (!datetime_ok(start) || !datetime_ok(end)) {
		why = bad("date-range", "not an RFC 3339 date-time");
		goto out;
	}
	if ((pols = json_object_get(root, "policies")) == NULL) {
		why = bad("policies", "missing");
		goto out;
	}
	if (!json_is_array(pols) || json_array_size(pols) == 0) {
		why = bad("policies", "not a non-empty array");
		goto out;
	}
	json_array_foreach(pols, i, pol)
		if ((why = check_policy(pol, i, m)) != NULL)
			goto out;
	memcpy(m->day, start, 10);
	m->day[10] = '\0';
	tls_sha256_hex(id, strlen(id), hex);
	snprintf(m->name, sizeof(m->name), "%s" TLSRPT_SUFFIX, hex);
out:
	json_decref(root);
	return why;
}

/* see tlsrpt.h */
int
tlsrpt_store(int dirfd, const char *domain, const struct tlsrpt_meta *m,
    const char *json, size_t len)
{
	struct stat	 top, st;
	char		 tmp[TLSRPT_NAME_LEN + FILE_TEMP_MAX];
	int		 dfd = -1, rc = -1, made = 0, saved;

	if (fstat(dirfd, &top) == -1)
		return -1;
	if (mkdirat(dirfd, domain, 0750) == 0)
		made = 1;
	else if (errno != EEXIST)
		return -1;
	if ((dfd = openat(dirfd, domain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	/* mta-stsctl --import as root: the daemon's user keeps the store. */
	if (made && geteuid() != top.st_uid &&
	    fchown(dfd, top.st_uid, top.st_gid) == -1)
		goto out;
	if (fstatat(dfd, m->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = 0;
		goto out;
	}
	/* Two workers may store the same report at once: one wins. */
	if (file_write_temp(dfd, m->name, json, len, 0640, FILE_DIR_OWNER,
	    tmp, sizeof(tmp)) == -1)
		goto out;
	if (file_commit(dfd, tmp, m->name, FILE_NOREPLACE |
	    FILE_UNDO_UNSYNCED) == -1) {
		if (errno == EEXIST)
			rc = 0;
		goto out;
	}
	if (made)
		fsync(dirfd);
	rc = 1;
out:
	saved = errno;
	close(dfd);
	errno = saved;
	return rc;
}

/* see tlsrpt.h */
int64_t
tlsrpt_usage(int dirfd)
{
	DIR		*top, *sub;
	struct dirent	*de, *se;
	struct stat	 st;
	int64_t		 total = 0;
	int		 fd, sfd;

	if ((fd = dup(dirfd)) == -1)
		return -1;
	if ((top = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(top);
	while ((de = readdir(top)) != NULL) {
		if (de->d_name[0] == '.' || fstatat(dirfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISREG(st.st_mode))
			total += st.st_size;
		if (!S_ISDIR(st.st_mode) || (sfd = openat(dirfd, de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		if ((sub = fdopendir(sfd)) == NULL) {
			close(sfd);
			continue;
		}
		while ((se = readdir(sub)) != NULL)
			if (fstatat(sfd, se->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
				total += st.st_size;
		closedir(sub);
	}
	closedir(top);
	return total;
}

/* see tlsrpt.h */
unsigned
tlsrpt_rate_take(struct tlsrpt_rate *r, const char *client, int64_t now_ms,
    unsigned per_hour)
{
	size_t	 i, oldest = 0;
	double	 t;

	for (i = 0; i < TLSRPT_RATE_SLOTS; i++) {
		if (strcmp(r->slot[i].client, client) == 0)
			break;
		if (r->slot[i].last < r->slot[oldest].last)
			oldest = i;
	}
	if (i == TLSRPT_RATE_SLOTS) {
		i = oldest;
		snprintf(r->slot[i].client, sizeof(r->slot[i].client), "%s",
		    client);
		r->slot[i].tokens = per_hour;
		r->slot[i].last = now_ms;
	}
	t = r->slot[i].tokens + (double)(now_ms - r->slot[i].last) *
	    per_hour / 3600000.0;
	if (t > per_hour)
		t = per_hour;
	r->slot[i].last = now_ms;
	if (t < 1.0) {
		r->slot[i].tokens = t;
		return (unsigned)((1.0 - t) * 3600.0 / per_hour) + 1;
	}
	r->slot[i].tokens = t - 1.0;
	return 0;
}

/* see tlsrpt.h */
const char *
tlsrpt_hint(const char *rt)
{
	static const struct {
		const char	*type;
		const char	*hint;
	} hints[] = {
		{ "starttls-not-supported", "the MX did not offer STARTTLS: "
		  "enable TLS on the mail server" },
		{ "certificate-host-mismatch", "the MX certificate does not "
		  "name the MX host: add its name to the certificate, or fix "
		  "the policy's mx" },
		{ "certificate-expired", "the MX certificate has expired: "
		  "renew it and reload the mail server" },
		{ "certificate-not-trusted", "the MX certificate is not signed "
		  "by a trusted CA (self-signed, or the chain is incomplete): "
		  "serve the full chain from a public CA" },
		{ "validation-failure", "the MX certificate failed "
		  "validation, or its name does not match the policy's mx: "
		  "compare the MX names with the policy's mx lines" },
		{ "tlsa-invalid", "the DANE TLSA record is wrong: check it "
		  "against the MX certificate" },
		{ "dnssec-invalid", "DNSSEC validation failed for the MX or "
		  "TLSA records: check the zone's signatures" },
		{ "dane-required", "DANE was required but no usable TLSA "
		  "record was found" },
		{ "sts-policy-fetch-error", "the sender could not fetch the "
		  "policy over HTTPS: check that mta-sts.DOMAIN resolves and "
		  "that mta-stsd answers" },
		{ "sts-policy-invalid", "the policy was fetched but is not "
		  "valid: run mta-stsctl validate" },
		{ "sts-webpki-invalid", "the certificate of mta-sts.DOMAIN was "
		  "not trusted: check its chain and expiry (mta-stsctl "
		  "status)" },
	};

	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(rt, hints[i].type) == 0)
			return hints[i].hint;
	return "a result type this tool does not know: see RFC 8460 "
	    "section 4.3";
}
