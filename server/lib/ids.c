/*
 * ids.c: the record of policy ids issued for one domain.  See ids.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/ids.h"

static int	fail(char *, size_t, unsigned, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errsz, unsigned line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(err, errsz, "line %u: ", line);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < errsz)
		vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int
mode_ok(const char *s)
{
	return strcmp(s, "testing") == 0 || strcmp(s, "enforce") == 0 ||
	    strcmp(s, "none") == 0;
}

/* "ID SHA256 MODE" for an id already among the previous ones. */
static int
parse_body(struct idrec *r, char *v)
{
	char	*sha, *mode;
	size_t	 i;

	if ((sha = strchr(v, ' ')) == NULL)
		return -1;
	*sha++ = '\0';
	if ((mode = strchr(sha, ' ')) == NULL)
		return -1;
	*mode++ = '\0';
	if (!is_hex64(sha) || !mode_ok(mode))
		return -1;
	for (i = 0; i < r->nhistory; i++)
		if (strcmp(r->history[i], v) == 0)
			break;
	if (i == r->nhistory)
		return -1;
	memcpy(r->hbody[i].sha256, sha, 65);
	snprintf(r->hbody[i].mode, sizeof(r->hbody[i].mode), "%s", mode);
	return 0;
}

/* see ids.h */
int
ids_parse(const char *src, size_t len, struct idrec *r, char *err,
    size_t errsz)
{
	char		 buf[256], *v;
	size_t		 start = 0, end, n;
	unsigned	 line = 0;
	time_t		 t;
	int		 seen_id = 0, seen_sha = 0, seen_age = 0;

	memset(r, 0, sizeof(*r));
	while (start < len) {
		const char *nl = memchr(src + start, '\n', len - start);

		end = nl ? (size_t)(nl - src) : len;
		line++;
		n = end - start;
		if (n >= sizeof(buf))
			return fail(err, errsz, line, "line too long");
		memcpy(buf, src + start, n);
		buf[n] = '\0';
		start = end + 1;
		if (memchr(buf, '\0', n) != NULL)
			return fail(err, errsz, line, "NUL byte");
		if (n == 0 || buf[0] == '#')
			continue;
		if ((v = strstr(buf, ": ")) == NULL)
			return fail(err, errsz, line, "expected 'key: value'");
		*v = '\0';
		v += 2;
		if (strcmp(buf, "id") == 0) {
			if (seen_id++ || txt_check_id(v) != NULL)
				return fail(err, errsz, line, "bad id '%s'", v);
			snprintf(r->id, sizeof(r->id), "%s", v);
		} else if (strcmp(buf, "sha256") == 0) {
			if (seen_sha++ || !is_hex64(v))
				return fail(err, errsz, line, "bad sha256");
			memcpy(r->sha256, v, 65);
		} else if (strcmp(buf, "pending") == 0) {
			if (!is_hex64(v))
				return fail(err, errsz, line, "bad pending");
			memcpy(r->pending, v, 65);
		} else if (strcmp(buf, "max_age") == 0) {
			if (seen_age++ || strlen(v) == 0 || strlen(v) > 10 ||
			    strspn(v, "0123456789") != strlen(v))
				return fail(err, errsz, line, "bad max_age");
			r->max_age = strtoul(v, NULL, 10);
		} else if (strcmp(buf, "issued") == 0) {
			if (txt_parse_time(v, &t) == -1)
				return fail(err, errsz, line, "bad time '%s'",
				    v);
			snprintf(r->issued, sizeof(r->issued), "%s", v);
		} else if (strcmp(buf, "mode") == 0) {
			if (!mode_ok(v))
				return fail(err, errsz, line, "bad mode");
			snprintf(r->mode, sizeof(r->mode), "%s", v);
		} else if (strcmp(buf, "previous-body") == 0) {
			if (parse_body(r, v) == -1)
				return fail(err, errsz, line, "bad "
				    "previous-body (an earlier id, its sha256 "
				    "and mode)");
		} else if (strcmp(buf, "published") == 0) {
			if (txt_check_id(v) != NULL)
				return fail(err, errsz, line, "bad id '%s'", v);
			snprintf(r->published, sizeof(r->published), "%s", v);
		} else if (strcmp(buf, "published_at") == 0 ||
		    strcmp(buf, "cached_until") == 0 ||
		    strcmp(buf, "unpublished") == 0) {
			if (txt_parse_time(v, &t) == -1)
				return fail(err, errsz, line, "bad time '%s'",
				    v);
			snprintf(buf[0] == 'p' ? r->published_at : buf[0] ==
			    'c' ? r->cached_until : r->unpublished,
			    sizeof(r->issued), "%s", v);
		} else if (strcmp(buf, "previous") == 0) {
			if (txt_check_id(v) != NULL)
				return fail(err, errsz, line, "bad id '%s'", v);
			if (r->nhistory == IDS_HISTORY_MAX)
				return fail(err, errsz, line, "more than %d "
				    "previous ids", IDS_HISTORY_MAX);
			snprintf(r->history[r->nhistory++], TXT_ID_MAX + 1,
			    "%s", v);
		} else
			return fail(err, errsz, line, "unknown key '%s'", buf);
	}
	if (!seen_id || !seen_sha || !seen_age)
		return fail(err, errsz, line, "incomplete record (id, sha256 "
		    "and max_age are required)");
	return 0;
}

/* see ids.h */
char *
ids_format(const struct idrec *r, const char *domain)
{
	size_t	 cap = 512 + r->nhistory * (2 * TXT_ID_MAX + 110), n;
	char	*s;

	if ((s = malloc(cap)) == NULL)
		return NULL;
	n = (size_t)snprintf(s, cap, "# Policy ids issued by mta-stsctl for "
	    "%s.  Do not edit: an id\n# must never repeat for another "
	    "policy.\nid: %s\nsha256: %s\nmax_age: %lu\n", domain, r->id,
	    r->sha256, r->max_age);
	if (r->mode[0] != '\0')
		n += (size_t)snprintf(s + n, cap - n, "mode: %s\n", r->mode);
	if (r->issued[0] != '\0')
		n += (size_t)snprintf(s + n, cap - n, "issued: %s\n",
		    r->issued);
	if (r->pending[0] != '\0')
		n += (size_t)snprintf(s + n, cap - n, "pending: %s\n",
		    r->pending);
	if (r->published[0] != '\0')
		n += (size_t)snprintf(s + n, cap - n, "published: %s\n",
		    r->published);
	/* A record written by hand may say what, not when. */
	if (r->published_at[0] != '\0')
		n += (size_t)snprintf(s + n, cap - n, "published_at: %s\n",
		    r->published_at);
	if (r->cached_until[0] != '\0')
		n += (size_t)snprintf(s + n, cap - n, "cached_until: %s\n",
		    r->cached_until);
	if (r->unpublished[0] != '\0')
		n += (size_t)snprintf(s + n, cap - n, "unpublished: %s\n",
		    r->unpublished);
	for (size_t i = 0; i < r->nhistory; i++)
		n += (size_t)snprintf(s + n, cap - n, "previous: %s\n",
		    r->history[i]);
	for (size_t i = 0; i < r->nhistory; i++)
		if (r->hbody[i].sha256[0] != '\0')
			n += (size_t)snprintf(s + n, cap - n, "previous-body: "
			    "%s %s %s\n", r->history[i], r->hbody[i].sha256,
			    r->hbody[i].mode[0] != '\0' ? r->hbody[i].mode :
			    "none");
	return s;
}

/* Is id among the ids issued before the current one? */
static int
in_history(const struct idrec *r, const char *id)
{
	for (size_t i = 0; i < r->nhistory; i++)
		if (strcmp(r->history[i], id) == 0)
			return 1;
	return 0;
}

/* see ids.h */
int
ids_used(const struct idrec *r, const char *id)
{
	return strcmp(r->id, id) == 0 || in_history(r, id);
}

static int
format_id(time_t t, int precision, char out[16])
{
	struct tm	 tm;
	char		 buf[64];

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return -1;
	snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    precision >= 1 ? tm.tm_min : 0, precision >= 2 ? tm.tm_sec : 0);
	memcpy(out, buf, 15);
	out[15] = '\0';
	return 0;
}

/* see ids.h */
int
ids_next(const struct idrec *r, time_t now, char out[16])
{
	for (int p = 0; p < 3; p++) {
		if (format_id(now, p, out) == -1)
			return -1;
		if (!ids_used(r, out))
			return 0;
	}
	/* Used up to the second (ids issued ahead): the next free second. */
	for (time_t t = now + 1;; t++) {
		if (format_id(t, 2, out) == -1)
			return -1;
		if (!ids_used(r, out))
			return 0;
	}
}

/* t as YYYY-MM-DDTHH:MM:SSZ. */
static void
stamp(time_t t, char out[21])
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* see ids.h */
time_t
ids_time(const char *s)
{
	time_t	 t;

	if (s[0] == '\0' || txt_parse_time(s, &t) == -1)
		return -1;
	return t;
}

/* see ids.h */
void
ids_issue(struct idrec *r, const char *id, const char *sha256,
    unsigned long max_age, const char *mode, time_t now)
{
	time_t		 until;

	/* The body id stood for is replaced now: see ids.h. */
	if (r->id[0] != '\0') {
		until = now + (time_t)r->max_age;
		if (until > ids_time(r->cached_until))
			stamp(until, r->cached_until);
	}
	/*
	 * The current id joins the history, once: a new id never was used
	 * (ids_next), but an adopted one may have been.
	 */
	if (r->id[0] != '\0' && strcmp(r->id, id) != 0 &&
	    !in_history(r, r->id)) {
		if (r->nhistory == IDS_HISTORY_MAX) {
			memmove(r->history[0], r->history[1],
			    (IDS_HISTORY_MAX - 1) * sizeof(r->history[0]));
			memmove(&r->hbody[0], &r->hbody[1],
			    (IDS_HISTORY_MAX - 1) * sizeof(r->hbody[0]));
			r->nhistory--;
		}
		memcpy(r->history[r->nhistory], r->id, sizeof(r->id));
		/* Without a mode the body is not known well enough. */
		memset(&r->hbody[r->nhistory], 0, sizeof(r->hbody[0]));
		if (r->mode[0] != '\0') {
			memcpy(r->hbody[r->nhistory].sha256, r->sha256, 65);
			memcpy(r->hbody[r->nhistory].mode, r->mode,
			    sizeof(r->mode));
		}
		r->nhistory++;
	}
	snprintf(r->id, sizeof(r->id), "%s", id);
	memcpy(r->sha256, sha256, 65);
	snprintf(r->mode, sizeof(r->mode), "%s", mode != NULL && mode_ok(mode) ?
	    mode : "");
	r->pending[0] = '\0';
	r->max_age = max_age;
	r->unpublished[0] = '\0';
	stamp(now, r->issued);
}

/* see ids.h */
void
ids_published(struct idrec *r, const char *id, time_t now)
{
	snprintf(r->published, sizeof(r->published), "%s", id);
	stamp(now, r->published_at);
	r->unpublished[0] = '\0';
}

/* see ids.h */
void
ids_unpublished(struct idrec *r, time_t now)
{
	r->published[0] = '\0';
	r->published_at[0] = '\0';
	stamp(now, r->unpublished);
}

/* see ids.h */
int
ids_find_body(const struct idrec *r, const char *sha256, const char **id)
{
	*id = NULL;
	if (r->id[0] != '\0' && strcmp(r->sha256, sha256) == 0) {
		*id = r->id;
		return 0;
	}
	/* The latest first: a body served twice has its latest id. */
	for (size_t i = r->nhistory; i-- > 0;)
		if (strcmp(r->hbody[i].sha256, sha256) == 0) {
			*id = r->history[i];
			return (int)(r->nhistory - i);
		}
	return -1;
}
