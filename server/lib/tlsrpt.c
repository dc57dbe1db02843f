/*
 * tlsrpt.c: TLS-RPT reports.  See tlsrpt.h.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#define SAFE_COUNT	(1LL << 53)	/* JSON's largest exact whole number */

/* tlsrpt_unpack states. */
enum {
	U_START,		/* nothing decided yet (packing TLSRPT_ANY) */
	U_PLAIN,
	U_GZIP,
	U_DONE,			/* the gzip stream ended */
	U_FAIL
};

/* see tlsrpt.h */
void
tlsrpt_seed(void)
{
	uint32_t seed = 0;

	/* 0 (getrandom failed) lets jansson read /dev/urandom itself. */
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = 0;
	json_object_seed(seed);
}

/* see tlsrpt.h */
void
tlsrpt_unpack_begin(struct tlsrpt_unpack *u, enum tlsrpt_packing packing,
    const struct tlsrpt_caps *caps)
{
	memset(u, 0, sizeof(*u));
	u->caps = *caps;
	u->packing = packing;
	u->state = packing == TLSRPT_JSON ? U_PLAIN : U_START;
}

static int
unpack_fail(struct tlsrpt_unpack *u, const char *why, int too_big)
{
	u->state = U_FAIL;
	u->why = why;
	u->too_big = too_big;
	return -1;
}

/*
 * The most JSON the bytes fed so far may give: the JSON cap, or the
 * ratio times what came in when that is smaller (but any report may
 * reach RATIO_FLOOR).
 */
static size_t
unpack_limit(const struct tlsrpt_unpack *u)
{
	size_t	 limit = u->caps.max_json;

	if (u->caps.max_ratio > 0 && u->in <= SIZE_MAX / u->caps.max_ratio &&
	    u->in * u->caps.max_ratio < limit)
		limit = u->in * u->caps.max_ratio;
	if (limit < RATIO_FLOOR && u->caps.max_json >= RATIO_FLOOR)
		limit = RATIO_FLOOR;
	return limit;
}

/* Makes room for one more byte than n, up to limit + 1 (+ the NUL). */
static int
unpack_grow(struct tlsrpt_unpack *u, size_t limit)
{
	char	*nb;
	size_t	 cap;

	if (u->n < u->cap)
		return 0;
	if (u->cap > limit)
		return unpack_fail(u, u->state == U_PLAIN ? "report larger "
		    "than the JSON limit" : "report decompresses beyond the "
		    "limit", 1);
	cap = u->cap == 0 ? INFLATE_STEP : u->cap * 2;
	if (cap > limit + 1)
		cap = limit + 1;
	if ((nb = realloc(u->buf, cap + 1)) == NULL)
		return unpack_fail(u, "out of memory", 0);
	u->buf = nb;
	u->cap = cap;
	return 0;
}

static int
unpack_plain(struct tlsrpt_unpack *u, const unsigned char *p, size_t len)
{
	size_t	 k;

	if (u->n + len > u->caps.max_json)
		return unpack_fail(u, "report larger than the JSON limit", 1);
	while (len > 0) {
		if (unpack_grow(u, u->caps.max_json) == -1)
			return -1;
		k = u->cap - u->n < len ? u->cap - u->n : len;
		memcpy(u->buf + u->n, p, k);
		u->n += k;
		p += k;
		len -= k;
	}
	return 0;
}

static int
unpack_gzip(struct tlsrpt_unpack *u, const unsigned char *p, size_t len)
{
	z_stream	*z = u->z;
	size_t		 limit;
	int		 zrc;

	if (u->state == U_DONE)
		return len == 0 ? 0 : unpack_fail(u, "data after the gzip "
		    "stream", 0);
	z->next_in = (Bytef *)(uintptr_t)p;
	z->avail_in = (uInt)len;
	limit = unpack_limit(u);
	do {
		if (unpack_grow(u, limit) == -1)
			return -1;
		z->next_out = (Bytef *)u->buf + u->n;
		z->avail_out = (uInt)(u->cap - u->n);
		zrc = inflate(z, Z_NO_FLUSH);
		u->n = u->cap - z->avail_out;
		if (u->n > limit)
			return unpack_fail(u, "report decompresses beyond the "
			    "limit", 1);
		if (zrc == Z_STREAM_END) {
			u->state = U_DONE;
			if (z->avail_in != 0)
				return unpack_fail(u, "data after the gzip "
				    "stream", 0);
			return 0;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR)
			return unpack_fail(u, "bad gzip data", 0);
		/* Z_BUF_ERROR with input left: the output was full. */
	} while (z->avail_in > 0 || z->avail_out == 0);
	return 0;
}

/* Decides plain or gzip once two bytes are known (or at the end). */
static int
unpack_decide(struct tlsrpt_unpack *u)
{
	int	 gz = u->nhead == 2 && u->head[0] == 0x1f && u->head[1] == 0x8b;

	if (u->packing == TLSRPT_GZIP && !gz)
		return unpack_fail(u, "not gzip data", 0);
	if (!gz) {
		u->state = U_PLAIN;
		return unpack_plain(u, u->head, u->nhead);
	}
	if ((u->z = calloc(1, sizeof(z_stream))) == NULL)
		return unpack_fail(u, "out of memory", 0);
	if (inflateInit2((z_stream *)u->z, 15 + 16) != Z_OK) {	/* gzip only */
		free(u->z);
		u->z = NULL;
		return unpack_fail(u, "out of memory", 0);
	}
	u->state = U_GZIP;
	return unpack_gzip(u, u->head, u->nhead);
}

/* see tlsrpt.h */
int
tlsrpt_unpack_feed(struct tlsrpt_unpack *u, const void *data, size_t len)
{
	const unsigned char	*p = data;

	if (u->state == U_FAIL)
		return -1;
	if (len > u->caps.max_size || u->in > u->caps.max_size - len)
		return unpack_fail(u, "report larger than the size limit", 1);
	u->in += len;
	while (u->state == U_START && len > 0) {
		u->head[u->nhead++] = *p++;
		len--;
		if (u->nhead == 2 && unpack_decide(u) == -1)
			return -1;
	}
	if (len == 0)
		return 0;
	return u->state == U_PLAIN ? unpack_plain(u, p, len) :
	    unpack_gzip(u, p, len);
}

/* see tlsrpt.h */
const char *
tlsrpt_unpack_end(struct tlsrpt_unpack *u, char **out, size_t *outlen,
    int *too_big)
{
	const char	*why = NULL;

	*out = NULL;
	*outlen = 0;
	if (u->state == U_START)
		(void)unpack_decide(u);
	if (u->state == U_GZIP)
		unpack_fail(u, "truncated gzip data", 0);
	if (u->state != U_FAIL && u->buf == NULL &&
	    (u->buf = malloc(1)) == NULL)
		unpack_fail(u, "out of memory", 0);
	*too_big = u->too_big;
	if (u->state == U_FAIL) {
		why = u->why;
		free(u->buf);
	} else {
		u->buf[u->n] = '\0';
		*out = u->buf;
		*outlen = u->n;
	}
	if (u->z != NULL) {
		inflateEnd((z_stream *)u->z);
		free(u->z);
	}
	memset(u, 0, sizeof(*u));
	return why;
}

/* see tlsrpt.h */
const char *
tlsrpt_unpack(const void *in, size_t len, enum tlsrpt_packing packing,
    const struct tlsrpt_caps *caps, char **out, size_t *outlen, int *too_big)
{
	struct tlsrpt_unpack	 u;

	tlsrpt_unpack_begin(&u, packing, caps);
	(void)tlsrpt_unpack_feed(&u, in, len);
	return tlsrpt_unpack_end(&u, out, outlen, too_big);
}

/* see tlsrpt.h */
const char *
tlsrpt_note(unsigned bit)
{
	static const char *const words[TLSRPT_NOTES] = {
		"no organization-name",
		"contact-info null or missing",
		("no report-id (named after organisation, date range and "
		    "domain)"),
		"date-time without a time zone (read as UTC)",
		"end-datetime missing or unreadable (a day assumed)",
		"failure details without sending-mta-ip",
		"failure details without receiving-ip",
		"failures counted without failure-details",
		"policy-string missing",
		"summary or a count missing (counted as 0)",
		"a member of the wrong type (ignored)",
		("a count above 2^53 (may have been rounded by the "
		    "sender)"),
		"a policy without a usable policy-domain (skipped)",
	};

	for (unsigned i = 0; i < TLSRPT_NOTES; i++)
		if (bit == 1U << i)
			return words[i];
	return "?";
}

/* see tlsrpt.h */
int
tlsrpt_time(const char *s, long long *t)
{
	struct tm	 tm;
	const char	*p = s;
	int		 v[6] = { 0, 0, 0, 0, 0, 0 }, off = 0, zoneless = 1;
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	static const char sep[6] = { 0, '-', '-', 'T', ':', ':' };

	for (int i = 0; i < 6; i++) {
		if (i == 3 && *p == '\0')
			break;			/* a date alone */
		if (i == 5 && *p != ':')
			break;			/* no seconds */
		if (i > 0 && !(*p == sep[i] || (i == 3 && (*p == 't' ||
		    *p == ' '))))
			return -1;
		if (i > 0)
			p++;
		for (int k = 0; k < width[i]; k++, p++) {
			if (*p < '0' || *p > '9')
				return -1;
			v[i] = v[i] * 10 + (*p - '0');
		}
	}
	if (*p == '.' || *p == ',') {		/* a fraction: dropped */
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
		zoneless = 0;
	} else if (*p == '+' || *p == '-') {
		int	 sign = *p++ == '-' ? -1 : 1, h, m;

		if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
			return -1;
		h = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (*p == ':')
			p++;
		if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
			return -1;
		m = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (h > 23 || m > 59)
			return -1;
		off = sign * (h * 3600 + m * 60);
		zoneless = 0;
	}
	if (*p != '\0' || v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*t = (long long)timegm(&tm) - off;
	return zoneless;
}

/* One reading of a report, strict or tolerant. */
struct rd {
	int		 tolerant;
	unsigned	 notes;
};

/* The reason of a refusal: one per thread (the daemon's workers). */
static _Thread_local char	 reason[256];

static const char *
bad(struct rd *r, const char *where, const char *what)
{
	(void)r;
	snprintf(reason, sizeof(reason), "%.190s: %.60s", where, what);
	return reason;
}

/* Sets o.key to v (taking it) when there is an output. */
static void
put(json_t *o, const char *key, json_t *v)
{
	if (o != NULL)
		json_object_set_new(o, key, v);
	else
		json_decref(v);
}

/*
 * A member that must be a non-empty string.  Strict: its absence or type
 * is the refusal.  Tolerant: returns NULL with *v NULL and the note.
 */
static const char *
want_string(struct rd *r, json_t *o, const char *key, const char *where,
    unsigned note, const char **v)
{
	json_t	*m = json_object_get(o, key);
	char	 w[192];

	*v = NULL;
	if (json_is_string(m) && json_string_length(m) > 0) {
		*v = json_string_value(m);
		return NULL;
	}
	if (r->tolerant) {
		r->notes |= m == NULL || json_is_null(m) ? note :
		    TLSRPT_NOTE_WRONG_TYPE;
		return NULL;
	}
	snprintf(w, sizeof(w), "%s%s%s", where, *where ? "." : "", key);
	return bad(r, w, m == NULL ? "missing" : "not a non-empty string");
}

/*
 * A whole number of sessions: an integer, or a number without fraction
 * (a sender writing doubles), up to what JSON holds exactly and beyond
 * with a note.  Strict: missing or wrong is the refusal.
 */
static const char *
want_count(struct rd *r, json_t *o, const char *key, const char *where,
    long long *n)
{
	json_t	*m = json_object_get(o, key);
	double	 d;
	char	 w[192];

	*n = 0;
	if (json_is_integer(m) && json_integer_value(m) >= 0) {
		*n = json_integer_value(m);
	} else if (r->tolerant && json_is_real(m) &&
	    (d = json_real_value(m)) >= 0 && d < 9.2e18 &&
	    d == (double)(long long)d) {
		*n = (long long)d;
	} else if (r->tolerant) {
		r->notes |= m == NULL ? TLSRPT_NOTE_NO_SUMMARY :
		    TLSRPT_NOTE_WRONG_TYPE;
		return NULL;
	} else {
		snprintf(w, sizeof(w), "%s.%s", where, key);
		return bad(r, w, m == NULL ? "missing" : "not a whole number");
	}
	if (*n > SAFE_COUNT)
		r->notes |= TLSRPT_NOTE_BIG_COUNT;
	return NULL;
}

/* Copies the string members named to out; notes those of another type. */
static void
copy_strings(struct rd *r, json_t *from, json_t *out, const char *const *keys)
{
	json_t	*m;

	for (; *keys != NULL; keys++) {
		if ((m = json_object_get(from, *keys)) == NULL ||
		    json_is_null(m))
			continue;
		if (json_is_string(m))
			put(out, *keys, json_incref(m));
		else
			r->notes |= TLSRPT_NOTE_WRONG_TYPE;
	}
}

/*
 * A list of strings (policy-string, mx-host): an array, or one string
 * (mx-host as RFC 8460 first wrote it; a policy in one string, split at
 * its line ends).
 */
static json_t *
string_list(struct rd *r, json_t *m, int split)
{
	json_t		*a = json_array(), *v;
	const char	*s, *e;
	size_t		 i;

	if (json_is_array(m)) {
		json_array_foreach(m, i, v) {
			if (json_is_string(v))
				json_array_append(a, v);
			else
				r->notes |= TLSRPT_NOTE_WRONG_TYPE;
		}
	} else if (json_is_string(m) && !split) {
		json_array_append(a, m);
	} else if (json_is_string(m)) {
		for (s = json_string_value(m); *s != '\0'; s = e) {
			e = s + strcspn(s, "\r\n");
			if (e > s)
				json_array_append_new(a,
				    json_stringn(s, (size_t)(e - s)));
			e += strspn(e, "\r\n");
		}
	} else if (m != NULL && !json_is_null(m))
		r->notes |= TLSRPT_NOTE_WRONG_TYPE;
	return a;
}

static const char *
read_details(struct rd *r, json_t *fd, const char *w, long long failed,
    json_t *out)
{
	static const char *const keys[] = { "sending-mta-ip",
	    "receiving-mx-hostname", "receiving-ip", "receiving-mx-helo",
	    "failure-reason-code", NULL };
	json_t		*f, *o, *details = json_array();
	const char	*why, *type;
	char		 wf[192];
	long long	 n;
	size_t		 j;

	if (fd == NULL || (r->tolerant && json_is_null(fd))) {
		if (failed > 0)
			r->notes |= TLSRPT_NOTE_NO_DETAILS;
		put(out, "failure-details", details);
		return NULL;
	}
	if (!json_is_array(fd)) {
		json_decref(details);
		if (!r->tolerant)
			return bad(r, w, "not an array");
		r->notes |= TLSRPT_NOTE_WRONG_TYPE;
		put(out, "failure-details", json_array());
		return NULL;
	}
	if (json_array_size(fd) == 0 && failed > 0)
		r->notes |= TLSRPT_NOTE_NO_DETAILS;
	json_array_foreach(fd, j, f) {
		snprintf(wf, sizeof(wf), "%s[%zu]", w, j);
		if (!json_is_object(f)) {
			if (!r->tolerant) {
				json_decref(details);
				return bad(r, wf, "not an object");
			}
			r->notes |= TLSRPT_NOTE_WRONG_TYPE;
			continue;
		}
		if ((why = want_string(r, f, "result-type", wf,
		    TLSRPT_NOTE_WRONG_TYPE, &type)) != NULL ||
		    (why = want_count(r, f, "failed-session-count", wf, &n)) !=
		    NULL) {
			json_decref(details);
			return why;
		}
		if (json_object_get(f, "sending-mta-ip") == NULL)
			r->notes |= TLSRPT_NOTE_NO_SENDING_IP;
		if (json_object_get(f, "receiving-ip") == NULL)
			r->notes |= TLSRPT_NOTE_NO_RECEIVING_IP;
		if (out == NULL)
			continue;
		o = json_pack("{s:s, s:I}", "result-type", type != NULL ?
		    type : "unknown", "sessions", (json_int_t)n);
		copy_strings(r, f, o, keys);
		json_array_append_new(details, o);
	}
	put(out, "failure-details", details);
	return NULL;
}

/*
 * One policies[] entry.  Returns a refusal, or NULL; *skip set when the
 * entry cannot be attributed (tolerant: left out, with the reason kept
 * in *skipwhy for a report of which no entry is left).
 */
static const char *
read_policy(struct rd *r, json_t *pol, size_t i, json_t *list,
    struct tlsrpt_meta *m, char *skipwhy, size_t skipsz)
{
	json_t		*p, *s, *o = NULL, *ps;
	const char	*why, *dom = NULL, *type = NULL;
	char		 w[40], wf[128], host[POLICY_HOST_MAX + 2];
	long long	 ok = 0, failed = 0;
	size_t		 len;

	snprintf(w, sizeof(w), "policies[%zu]", i);
	snprintf(wf, sizeof(wf), "%s.policy", w);
	p = json_object_get(pol, "policy");
	why = !json_is_object(pol) ? bad(r, w, "not an object") :
	    p == NULL ? bad(r, wf, "missing") :
	    !json_is_object(p) ? bad(r, wf, "not an object") : NULL;
	if (why == NULL && !r->tolerant && ((why = want_string(r, p,
	    "policy-type", wf, 0, &type)) != NULL || (why = want_string(r, p,
	    "policy-domain", wf, 0, &dom)) != NULL))
		return why;
	if (why == NULL && r->tolerant) {
		(void)want_string(r, p, "policy-type", wf,
		    TLSRPT_NOTE_WRONG_TYPE, &type);
		(void)want_string(r, p, "policy-domain", wf,
		    TLSRPT_NOTE_UNATTRIBUTED, &dom);
		if (dom == NULL)
			why = bad(r, wf, "no policy-domain");
	}
	if (why == NULL) {
		/* A trailing dot names the same domain. */
		len = strlen(dom);
		if (r->tolerant && len > 1 && dom[len - 1] == '.')
			len--;
		if (len > POLICY_HOST_MAX || policy_check_host(dom, len, 0) !=
		    NULL)
			why = bad(r, wf, "policy-domain is not a host name");
		else
			ascii_lower_copy(host, dom, len);
	}
	if (why != NULL) {
		if (!r->tolerant)
			return why;
		r->notes |= TLSRPT_NOTE_UNATTRIBUTED;
		if (skipwhy[0] == '\0')
			snprintf(skipwhy, skipsz, "%s", why);
		return NULL;
	}
	if (m->domain[0] == '\0')
		snprintf(m->domain, sizeof(m->domain), "%s", host);
	if (list != NULL) {
		o = json_pack("{s:s, s:s}", "policy-type", type != NULL ? type :
		    "unknown", "policy-domain", host);
		json_array_append_new(list, o);
	}
	ps = json_object_get(p, "policy-string");
	if ((ps == NULL || json_is_null(ps)) && (type == NULL ||
	    strcmp(type, "no-policy-found") != 0))
		r->notes |= TLSRPT_NOTE_NO_POLICY_STRING;
	if (o != NULL || r->tolerant) {
		json_t *a = string_list(r, ps, 1), *b = string_list(r,
		    json_object_get(p, "mx-host"), 0);

		put(o, "policy-string", a);
		put(o, "mx-host", b);
	}
	snprintf(wf, sizeof(wf), "%s.summary", w);
	s = json_object_get(pol, "summary");
	if (!json_is_object(s)) {
		if (!r->tolerant)
			return bad(r, wf, s == NULL ? "missing" :
			    "not an object");
		r->notes |= s == NULL ? TLSRPT_NOTE_NO_SUMMARY :
		    TLSRPT_NOTE_WRONG_TYPE;
	} else if ((why = want_count(r, s, "total-successful-session-count",
	    wf, &ok)) != NULL || (why = want_count(r, s,
	    "total-failure-session-count", wf, &failed)) != NULL)
		return why;
	put(o, "successful", json_integer(ok));
	put(o, "failed", json_integer(failed));
	if (strcmp(host, m->domain) == 0) {
		m->successful += (uint64_t)ok;
		m->failed += (uint64_t)failed;
	}
	snprintf(wf, sizeof(wf), "%s.failure-details", w);
	return read_details(r, json_object_get(pol, "failure-details"), wf,
	    failed, o);
}

/*
 * A date-time of the range.  YYYY-MM-DD and a T were always enough to
 * take a report (its day): what follows, if unreadable, is midnight.
 */
static int
range_time(struct rd *r, const char *s, long long *t)
{
	char	 day[11];
	int	 z;

	if ((z = tlsrpt_time(s, t)) == 1)
		r->notes |= TLSRPT_NOTE_NO_ZONE;
	if (z != -1)
		return 0;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return -1;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return -1;
	memcpy(day, s, 10);
	day[10] = '\0';
	return tlsrpt_time(day, t) == -1 ? -1 : 0;
}

static void
format_time(long long t, char out[21])
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *
read_range(struct rd *r, json_t *root, struct tlsrpt_meta *m)
{
	json_t		*dr = json_object_get(root, "date-range");
	const char	*why, *start, *end;
	long long	 mid;
	time_t		 tt;
	struct tm	 tm;

	if (dr == NULL)
		return bad(r, "date-range", "missing");
	if (!json_is_object(dr))
		return bad(r, "date-range", "not an object");
	if (!r->tolerant && ((why = want_string(r, dr, "start-datetime",
	    "date-range", 0, &start)) != NULL || (why = want_string(r, dr,
	    "end-datetime", "date-range", 0, &end)) != NULL))
		return why;
	start = json_string_value(json_object_get(dr, "start-datetime"));
	end = json_string_value(json_object_get(dr, "end-datetime"));
	if (start == NULL || range_time(r, start, &m->start) == -1)
		return bad(r, "date-range", start == NULL ?
		    "no start-datetime" : "not an RFC 3339 date-time");
	if (end == NULL || range_time(r, end, &m->end) == -1 ||
	    m->end < m->start) {
		if (!r->tolerant)
			return bad(r, "date-range", "not an RFC 3339 "
			    "date-time");
		r->notes |= TLSRPT_NOTE_NO_END;
		m->end = m->start + 86399;
	}
	/* The middle of a range of a week at most says its day. */
	mid = m->end - m->start <= 7 * 86400 ? m->start + (m->end -
	    m->start) / 2 : m->start;
	tt = (time_t)mid;
	if (gmtime_r(&tt, &tm) == NULL)
		return bad(r, "date-range", "out of range");
	strftime(m->day, sizeof(m->day), "%Y-%m-%d", &tm);
	return NULL;
}

/* see tlsrpt.h */
const char *
tlsrpt_read(const char *json, size_t len, int flags, struct tlsrpt_meta *m,
    json_t **norm)
{
	struct rd	 r;
	json_t		*root, *pols, *pol, *list = NULL;
	json_error_t	 err;
	const char	*why = NULL, *org, *contact, *id;
	char		 hex[65], t0[21], t1[21], skipwhy[256] = "", *key;
	size_t		 i;

	memset(m, 0, sizeof(*m));
	memset(&r, 0, sizeof(r));
	r.tolerant = (flags & TLSRPT_TOLERANT) != 0;
	if (norm != NULL)
		*norm = NULL;
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
	if ((why = want_string(&r, root, "organization-name", "",
	    TLSRPT_NOTE_NO_ORG, &org)) != NULL ||
	    (why = want_string(&r, root, "contact-info", "",
	    TLSRPT_NOTE_NO_CONTACT, &contact)) != NULL ||
	    (why = want_string(&r, root, "report-id", "", TLSRPT_NOTE_NO_ID,
	    &id)) != NULL || (why = read_range(&r, root, m)) != NULL)
		goto out;
	if ((pols = json_object_get(root, "policies")) == NULL) {
		why = bad(&r, "policies", "missing");
		goto out;
	}
	if (!json_is_array(pols) || json_array_size(pols) == 0) {
		why = bad(&r, "policies", "not a non-empty array");
		goto out;
	}
	if (norm != NULL)
		list = json_array();
	json_array_foreach(pols, i, pol)
		if ((why = read_policy(&r, pol, i, list, m, skipwhy,
		    sizeof(skipwhy))) != NULL)
			goto out;
	if (m->domain[0] == '\0') {
		if (skipwhy[0] != '\0') {
			snprintf(reason, sizeof(reason), "%s", skipwhy);
			why = reason;
		} else
			why = bad(&r, "policies", "no policy-domain");
		goto out;
	}
	format_time(m->start, t0);
	format_time(m->end, t1);
	if (id != NULL)
		tls_sha256_hex(id, strlen(id), hex);
	else {
		/* The same report sent again gets the same name. */
		if (asprintf(&key, "%s\n%s\n%s\n%s", org != NULL ? org : "", t0,
		    t1, m->domain) == -1) {
			why = "out of memory";
			goto out;
		}
		tls_sha256_hex(key, strlen(key), hex);
		free(key);
	}
	snprintf(m->name, sizeof(m->name), "%s" TLSRPT_SUFFIX, hex);
	m->notes = r.notes;
	if (norm != NULL) {
		*norm = json_pack("{s:s, s:s, s:s, s:s, s:O}",
		    "organization-name", org != NULL ? org : "(unknown)",
		    "report-id", id != NULL ? id : "", "start", t0, "end", t1,
		    "policies", list);
		if (*norm == NULL)
			why = "out of memory";
	}
out:
	json_decref(list);
	json_decref(root);
	return why;
}

/* see tlsrpt.h */
const char *
tlsrpt_check(const char *json, size_t len, struct tlsrpt_meta *m)
{
	return tlsrpt_read(json, len, TLSRPT_STRICT, m, NULL);
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
