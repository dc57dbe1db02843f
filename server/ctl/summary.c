/*
 * summary.c: the TLS-RPT store summed, and what it means.  See summary.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl/cli.h"
#include "ctl/local.h"
#include "ctl/summary.h"
#include "lib/config.h"
#include "lib/file.h"
#include "lib/ids.h"
#include "lib/policy.h"
#include "lib/tlsrpt.h"
#include "tls/digest.h"

#define READY_DAYS	14	/* of clean reports before enforcing */
#define QUIET_DAYS	3	/* without a report: worth a hint */

/* ---- the sums ----------------------------------------------------------- */

/* The member key of o, made an empty object if missing. */
static json_t *
child(json_t *o, const char *key)
{
	json_t	*c = json_object_get(o, key);

	if (c == NULL) {
		c = json_object();
		json_object_set_new(o, key, c);
	}
	return c;
}

/* Adds n to the whole number at o.key (0 if missing), saturating. */
static void
add(json_t *o, const char *key, json_int_t n)
{
	json_int_t	 v = summary_count(o, key);

	json_object_set_new(o, key, json_integer(v > LLONG_MAX - n ?
	    LLONG_MAX : v + n));
}

/* see summary.h */
json_int_t
summary_count(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* see summary.h */
const char *
summary_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/*
 * The policy a report's policy-string gives: its mode, and the SHA-256
 * of its canonical body when it parses (the body mta-stsd serves, as the
 * id record hashes it).  Its key in "seen" is the hash, else the mode.
 */
static void
seen_policy(json_t *org, json_t *pol, json_int_t sessions)
{
	struct policy		 p;
	struct policy_diags	 d;
	json_t			*ps = json_object_get(pol, "policy-string");
	json_t			*line, *s;
	const char		*v, *type = summary_str(pol, "policy-type");
	char			 sha[65] = "", mode[16] = "", key[80];
	char			*src = NULL;
	size_t			 i, n = 0, cap = 0, k;

	json_array_foreach(ps, i, line) {
		v = json_string_value(line);
		k = strlen(v);
		if (strncmp(v, "mode:", 5) == 0) {
			v += 5 + strspn(v + 5, " \t");
			snprintf(mode, sizeof(mode), "%.*s", (int)strcspn(v,
			    " \t\r"), v);
			v = json_string_value(line);
		}
		if (n + k + 2 > cap) {
			char *ns;

			cap = (n + k + 2) * 2;
			if (cap > POLICY_SOURCE_MAX ||
			    (ns = realloc(src, cap)) == NULL)
				break;
			src = ns;
		}
		memcpy(src + n, v, k);
		n += k;
		src[n++] = '\n';
	}
	memset(&p, 0, sizeof(p));
	memset(&d, 0, sizeof(d));
	if (src != NULL && i == json_array_size(ps) &&
	    policy_parse(src, n, &p, &d) == 0) {
		tls_sha256_hex(p.body, p.bodylen, sha);
		snprintf(mode, sizeof(mode), "%s", policy_mode_name(p.mode));
		policy_free(&p);
	}
	policy_diags_free(&d);
	free(src);
	if (mode[0] == '\0' && type != NULL && strcmp(type, "no-policy-found")
	    == 0)
		snprintf(mode, sizeof(mode), "(no policy)");
	snprintf(key, sizeof(key), "%s", sha[0] != '\0' ? sha : mode[0] !=
	    '\0' ? mode : "(unknown)");
	s = child(child(org, "seen"), key);
	json_object_set_new(s, "mode", mode[0] != '\0' ? json_string(mode) :
	    json_null());
	json_object_set_new(s, "sha256", json_string(sha));
	add(s, "sessions", sessions);
}

static void
sum_report(json_t *sums, const char *domain, const struct tlsrpt_meta *m,
    json_t *r)
{
	json_t		*org, *pol, *f, *t;
	const char	*s;
	json_int_t	 n;
	size_t		 i, j;

	org = child(child(child(child(sums, domain), "days"), m->day),
	    summary_str(r, "organization-name"));
	add(org, "reports", 1);
	json_array_foreach(json_object_get(r, "policies"), i, pol) {
		add(org, "successful", summary_count(pol, "successful"));
		add(org, "failed", summary_count(pol, "failed"));
		seen_policy(org, pol, summary_count(pol, "successful") +
		    summary_count(pol, "failed"));
		json_array_foreach(json_object_get(pol, "failure-details"), j,
		    f) {
			t = child(child(org, "failures"), summary_str(f,
			    "result-type"));
			n = summary_count(f, "sessions");
			add(t, "sessions", n);
			s = summary_str(f, "receiving-mx-hostname");
			if (s != NULL || (s = summary_str(f, "receiving-ip")) !=
			    NULL)
				add(child(t, "mx"), s, n);
			if ((s = summary_str(f, "sending-mta-ip")) != NULL)
				add(child(t, "ips"), s, n);
		}
	}
	for (unsigned b = 0; b < TLSRPT_NOTES; b++)
		if (m->notes & (1U << b))
			add(child(org, "notes"), tlsrpt_note(1U << b), 1);
}

/*
 * Reads one stored report; a file that is not one is named on stderr
 * and skipped.  Returns 0, or -1 for such a file.
 */
static int
read_report(int dfd, const char *dir, const char *name, size_t max,
    const char *domain, const char *since, json_t *sums)
{
	struct tlsrpt_meta	 m;
	const char		*why;
	char			*buf;
	size_t			 len;
	json_t			*r;

	if (file_read(dfd, name, max, FILE_NOFOLLOW, &buf, &len) == -1) {
		fprintf(stderr, "mta-stsctl reports: %s/%s: %s\n", dir, name,
		    strerror(errno));
		return -1;
	}
	if ((why = tlsrpt_read(buf, len, TLSRPT_TOLERANT, &m, &r)) != NULL) {
		fprintf(stderr, "mta-stsctl reports: %s/%s: %s\n", dir, name,
		    why);
		free(buf);
		return -1;
	}
	if (since == NULL || strcmp(m.day, since) >= 0)
		sum_report(sums, domain, &m, r);
	json_decref(r);
	free(buf);
	return 0;
}

/* Sums the reports of one domain directory. */
static int
read_domain(int top, const char *topname, const char *domain, size_t max,
    const char *since, json_t *sums)
{
	DIR		*d;
	struct dirent	*de;
	char		 dir[4096];
	size_t		 n;
	int		 dfd, rc = 0;

	snprintf(dir, sizeof(dir), "%s/%s", topname, domain);
	if ((dfd = openat(top, domain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;	/* no report yet */
		fprintf(stderr, "mta-stsctl reports: %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n <= strlen(TLSRPT_SUFFIX) ||
		    strcmp(de->d_name + n - strlen(TLSRPT_SUFFIX),
		    TLSRPT_SUFFIX) != 0)
			continue;
		if (read_report(dfd, dir, de->d_name, max, domain, since,
		    sums) == -1)
			rc = -1;
	}
	closedir(d);
	return rc;
}

/* see summary.h */
json_t *
summary_read(int top, const char *topname, const char *domain, size_t max,
    const char *since, int *bad)
{
	json_t		*sums = json_object();
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	*bad = 0;
	if (domain != NULL) {
		if (read_domain(top, topname, domain, max, since, sums) == -1)
			*bad = 1;
		return sums;
	}
	if ((fd = dup(top)) == -1 || (d = fdopendir(fd)) == NULL) {
		fprintf(stderr, "mta-stsctl reports: %s: %s\n", topname,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		*bad = 1;
		return sums;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && (de->d_type == DT_DIR ||
		    de->d_type == DT_UNKNOWN) && read_domain(top, topname,
		    de->d_name, max, since, sums) == -1)
			*bad = 1;
	closedir(d);
	return sums;
}

/* see summary.h */
const char **
summary_keys(json_t *o)
{
	const char	**v, *k;
	json_t		 *x;
	size_t		  n = 0;

	if ((v = calloc(json_object_size(o) + 1, sizeof(*v))) == NULL)
		return NULL;
	json_object_foreach(o, k, x)
		v[n++] = k;
	qsort(v, n, sizeof(*v), ctl_strcmp);
	return v;
}

/* ---- days and dates ----------------------------------------------------- */

/* YYYY-MM-DD, or an id's yyyymmddhhmmssZ, as seconds (UTC); -1 if not. */
static long long
day_time(const char *s)
{
	char		 buf[21];
	long long	 t;

	if (s == NULL)
		return -1;
	if (strlen(s) == 15 && s[14] == 'Z' && strspn(s, "0123456789") ==
	    14) {
		snprintf(buf, sizeof(buf), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s,
		    s + 4, s + 6, s + 8, s + 10, s + 12);
		s = buf;
	}
	return tlsrpt_time(s, &t) == -1 ? -1 : t;
}

/* The day n days after (n < 0: before) day, into out. */
static void
day_add(const char *day, long n, char out[11])
{
	time_t		 t = (time_t)day_time(day) + (time_t)n * 86400;
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Whole days from a to b (b later: positive). */
static long
days_between(const char *a, const char *b)
{
	return (long)((day_time(b) - day_time(a)) / 86400);
}

/* failed of sessions, as a percentage rounded to two decimals. */
static json_t *
rate(json_int_t ok, json_int_t failed)
{
	double	 all = (double)ok + (double)failed;

	if (all <= 0)
		return json_null();
	return json_real((double)(long long)(failed * 10000.0 / all + 0.5) /
	    100.0);
}

/* ---- one domain --------------------------------------------------------- */

/* What this machine knows of a domain: its policy and id record. */
struct dom {
	struct local	 loc;
	int		 has_policy;
	const char	*name;
	const char	*mode;		/* of the local policy, or NULL */
};

/* Adds s to the set o (an object used as one). */
static void
set_add(json_t *o, const char *s)
{
	if (s != NULL)
		json_object_set_new(o, s, json_true());
}

/* see summary.h */
json_t *
summary_key_array(json_t *o)
{
	const char	**k = summary_keys(o);
	json_t		 *a = json_array();

	for (size_t i = 0; k != NULL && k[i] != NULL; i++)
		json_array_append_new(a, json_string(k[i]));
	free(k);
	return a;
}

/*
 * The id (and its body's mode) in force at the end of day: the latest one
 * issued by then, its time taken from the record's "issued" for the
 * current one, from the id itself (yyyymmddhhmmssZ) for the others.
 */
static json_t *
in_force(const struct dom *dm, const char *day)
{
	const struct idrec	*r = &dm->loc.rec;
	long long		 end = day_time(day) + 86399, t;

	if (!dm->loc.has_rec)
		return json_null();
	t = r->issued[0] != '\0' ? day_time(r->issued) : day_time(r->id);
	if (t != -1 && t <= end)
		return json_pack("{s:s?, s:s}", "mode", r->mode[0] != '\0' ?
		    r->mode : NULL, "id", r->id);
	for (size_t i = r->nhistory; i-- > 0;)
		if ((t = day_time(r->history[i])) != -1 && t <= end)
			return json_pack("{s:s?, s:s}", "mode",
			    r->hbody[i].mode[0] != '\0' ? r->hbody[i].mode :
			    NULL, "id", r->history[i]);
	return json_null();
}

/* The policies senders saw on one day, against the id record. */
static json_t *
day_policies(const struct dom *dm, json_t *seen)
{
	const char	**keys = summary_keys(seen), *id, *sha;
	json_t		 *a = json_array(), *s, *e;
	char		  local_sha[65] = "";
	int		  ago;

	if (dm->has_policy)
		tls_sha256_hex(dm->loc.pol.body, dm->loc.pol.bodylen,
		    local_sha);
	for (size_t i = 0; keys != NULL && keys[i] != NULL; i++) {
		s = json_object_get(seen, keys[i]);
		sha = summary_str(s, "sha256");
		ago = -1;
		id = NULL;
		if (dm->loc.has_rec && sha != NULL && sha[0] != '\0')
			ago = ids_find_body(&dm->loc.rec, sha, &id);
		/* Current: known only against a policy or record here. */
		e = json_pack("{s:O, s:s?, s:o, s:o, s:o, s:I}", "mode",
		    json_object_get(s, "mode"), "id", id, "current",
		    sha == NULL || sha[0] == '\0' || (!dm->has_policy &&
		    !dm->loc.has_rec) ? json_null() : json_boolean(ago == 0 ||
		    (!dm->loc.has_rec && strcmp(sha, local_sha) == 0)),
		    "changes-ago", ago >= 0 ?
		    json_integer(ago) : json_null(), "organizations",
		    summary_key_array(json_object_get(s, "orgs")), "sessions",
		    summary_count(s, "sessions"));
		json_object_set_new(e, "sha256", json_string(sha != NULL ?
		    sha : ""));
		json_array_append_new(a, e);
	}
	free(keys);
	return a;
}

/* Failure types of a day, the largest first. */
static int
by_sessions(const void *a, const void *b)
{
	json_t		*x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t	 m = summary_count(x, "sessions");
	json_int_t	 n = summary_count(y, "sessions");

	if (m != n)
		return m > n ? -1 : 1;
	return strcmp(summary_str(x, "result-type"), summary_str(y,
	    "result-type"));
}

/* One day of a domain, summed over the organisations. */
static json_t *
one_day(const struct dom *dm, const char *day, json_t *orgs, json_t *notes)
{
	json_t		*d, *org, *ft, *t, *v, *seen, *s, *types, *mx, *ips;
	json_t		*orgset, **vec;
	const char	*on, *k, *hk;
	json_int_t	 ok = 0, failed = 0, reports = 0;
	size_t		 n = 0;

	types = json_object();
	mx = json_object();
	ips = json_object();
	seen = json_object();
	orgset = json_object();
	json_object_foreach(orgs, on, org) {
		set_add(orgset, on);
		reports += summary_count(org, "reports");
		ok += summary_count(org, "successful");
		failed += summary_count(org, "failed");
		json_object_foreach(json_object_get(org, "failures"), k, ft) {
			add(types, k, summary_count(ft, "sessions"));
			json_object_foreach(json_object_get(ft, "mx"), hk, v)
				set_add(mx, hk);
			json_object_foreach(json_object_get(ft, "ips"), hk, v)
				set_add(ips, hk);
		}
		json_object_foreach(json_object_get(org, "seen"), k, v) {
			s = child(seen, k);
			json_object_set(s, "mode", json_object_get(v, "mode"));
			json_object_set(s, "sha256", json_object_get(v,
			    "sha256"));
			add(s, "sessions", summary_count(v, "sessions"));
			set_add(child(s, "orgs"), on);
		}
		json_object_foreach(json_object_get(org, "notes"), k, v)
			add(notes, k, json_integer_value(v));
	}
	/* Failure types by count. */
	vec = calloc(json_object_size(types) + 1, sizeof(*vec));
	json_object_foreach(types, k, v)
		if (vec != NULL)
			vec[n++] = json_pack("{s:s, s:I}", "result-type", k,
			    "sessions", json_integer_value(v));
	if (vec != NULL)
		qsort(vec, n, sizeof(*vec), by_sessions);
	t = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(t, vec[i]);
	free(vec);
	d = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o}", "date", day, "reports", reports, "successful", ok,
	    "failed", failed, "failure-rate", rate(ok, failed),
	    "organizations", summary_key_array(orgset), "failures", t,
	    "mx-hosts", summary_key_array(mx), "sending-ips",
	    summary_key_array(ips), "policies",
	    day_policies(dm, seen), "in-force", in_force(dm, day));
	json_decref(types);
	json_decref(mx);
	json_decref(ips);
	json_decref(seen);
	json_decref(orgset);
	return d;
}

/* Is this result type about the MX hosts (not the policy host)? */
static int
mx_type(const char *type)
{
	return strncmp(type, "sts-", 4) != 0;
}

static void
hint(json_t *hints, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
hint(json_t *hints, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(hints, json_string(buf));
}

/*
 * Failures still reported on the last day, each with the day its run of
 * reported days began: "certificate-expired on mx.example.com since
 * 2026-05-02", and what to do given the mode in force here.
 */
static void
hint_failures(const struct dom *dm, json_t *days, json_t *hints)
{
	json_t		*last, *org, *ft, *v, *pairs = json_object();
	const char	*on, *type, *host, *what, *since, **keys = NULL;
	char		 key[600], first[11], todo[300];
	size_t		 nd = json_array_size(days), i;

	if (nd == 0)
		goto out;
	/* (type, MX) failing on the last day reported. */
	last = json_object_get(json_array_get(days, nd - 1), "orgs");
	json_object_foreach(last, on, org)
		json_object_foreach(json_object_get(org, "failures"), type,
		    ft) {
			if (!mx_type(type) || json_object_size(
			    json_object_get(ft, "mx")) == 0) {
				snprintf(key, sizeof(key), "%s\n", type);
				set_add(pairs, key);
			}
			json_object_foreach(json_object_get(ft, "mx"), host,
			    v) {
				snprintf(key, sizeof(key), "%s\n%s", type,
				    mx_type(type) ? host : "");
				set_add(pairs, key);
			}
		}
	/* In name order: the store's files come in no order. */
	keys = summary_keys(pairs);
	for (size_t p = 0; keys != NULL && keys[p] != NULL; p++) {
		const char	*nl = strchr(keys[p], '\n');
		char		 t[256];
		int		 still;

		what = keys[p];
		snprintf(t, sizeof(t), "%.*s", (int)(nl - what), what);
		host = nl + 1;
		/* Back over the reported days while the failure is there. */
		since = summary_str(json_array_get(days, nd - 1), "date");
		for (i = nd; i-- > 0;) {
			still = 0;
			json_object_foreach(json_object_get(json_array_get(
			    days, i), "orgs"), on, org) {
				ft = json_object_get(json_object_get(org,
				    "failures"), t);
				if (ft != NULL && (*host == '\0' ||
				    json_object_get(json_object_get(ft, "mx"),
				    host) != NULL))
					still = 1;
			}
			if (!still)
				break;
			since = summary_str(json_array_get(days, i), "date");
		}
		snprintf(first, sizeof(first), "%s", since);
		if (dm->mode != NULL && strcmp(dm->mode, "testing") == 0)
			snprintf(todo, sizeof(todo), "fix before enforcing");
		else if (dm->mode != NULL && strcmp(dm->mode, "enforce") == 0)
			snprintf(todo, sizeof(todo), "senders that enforce "
			    "cannot deliver: fix it now, or go back with "
			    "'mta-stsctl mode %s testing'", dm->name);
		else
			snprintf(todo, sizeof(todo), "fix it");
		hint(hints, "%s%s%s since %s: %s (%s)", t, *host != '\0' ?
		    " on " : "", host, first, todo, tlsrpt_hint(t));
	}
	free(keys);
out:
	json_decref(pairs);
}

/*
 * Senders still applying an earlier policy a day or more after the
 * current id was issued have not seen the new id: the TXT record.
 */
static void
hint_old_policy(const struct dom *dm, json_t *days, json_t *hints)
{
	json_t		*day = json_array_get(days, json_array_size(days) - 1);
	json_t		*p, *o;
	const char	*date = summary_str(day, "date"), *r = NULL;
	long long	 issued;
	size_t		 i, j;
	int		 all_known = 1;
	char		 orgs[512];

	if (day == NULL || !dm->loc.has_rec)
		return;
	for (i = 0; i < dm->loc.rec.nhistory; i++)
		if (dm->loc.rec.hbody[i].sha256[0] == '\0')
			all_known = 0;
	issued = dm->loc.rec.issued[0] != '\0' ? day_time(dm->loc.rec.issued) :
	    day_time(dm->loc.rec.id);
	json_array_foreach(json_object_get(day, "policies"), i, p) {
		orgs[0] = '\0';
		json_array_foreach(json_object_get(p, "organizations"), j, o)
			snprintf(orgs + strlen(orgs), sizeof(orgs) -
			    strlen(orgs), "%s%s", j > 0 ? ", " : "",
			    json_string_value(o));
		if (json_is_true(json_object_get(p, "current")) ||
		    json_is_null(json_object_get(p, "current")))
			continue;
		if (json_is_integer(json_object_get(p, "changes-ago"))) {
			json_int_t ago = summary_count(p, "changes-ago");

			if (issued == -1 || day_time(date) < issued + 86400)
				continue;	/* a day to see the new id */
			hint(hints, "senders still report policy id %s (%lld "
			    "change%s ago) on %s (%s): check that the "
			    "published _mta-sts TXT record has id %s "
			    "(mta-stsctl check %s)", summary_str(p, "id"),
			    (long long)ago, ago == 1 ? "" : "s", date, orgs,
			    dm->loc.rec.id, dm->name);
		} else if (all_known) {
			r = summary_str(p, "mode");
			hint(hints, "senders report a policy not issued here "
			    "(mode %s) on %s (%s): check that mta-sts.%s is "
			    "this server (mta-stsctl check %s)", r != NULL ?
			    r : "unknown", date, orgs, dm->name, dm->name);
		}
	}
}

/* The hints of the life cycle: ready to enforce, quiet senders. */
static void
hint_cycle(const struct dom *dm, json_t *days, json_t *hints,
    const struct summary_opts *o, const char *first, const char *last)
{
	json_t		*day, *orgset = json_object();
	json_int_t	 ok = 0, failed = 0;
	char		 from[11];
	size_t		 i;
	long		 gap;

	day_add(o->today, -(READY_DAYS - 1), from);
	json_array_foreach(days, i, day) {
		if (strcmp(summary_str(day, "date"), from) < 0 ||
		    strcmp(summary_str(day, "date"), o->today) > 0)
			continue;
		ok += summary_count(day, "successful");
		failed += summary_count(day, "failed");
		json_object_update(orgset, json_object_get(day, "orgs"));
	}
	/* Ready only on recent evidence: a quiet domain gets that hint. */
	if (dm->mode != NULL && strcmp(dm->mode, "testing") == 0 && ok > 0 &&
	    last != NULL && days_between(last, o->today) < QUIET_DAYS) {
		if (failed > 0)
			hint(hints, "mode testing, %lld failed session%s in "
			    "the last %d days: not ready for mode enforce; "
			    "fix what the hints above say", (long long)failed,
			    failed == 1 ? "" : "s", READY_DAYS);
		else if (first != NULL && strcmp(first, from) <= 0)
			hint(hints, "mode testing, no failures in the last %d "
			    "days from %zu organisation%s: ready for "
			    "'mta-stsctl mode %s enforce'", READY_DAYS,
			    json_object_size(orgset), json_object_size(orgset)
			    == 1 ? "" : "s", dm->name);
		else
			hint(hints, "mode testing, no failures since %s from "
			    "%zu organisation%s: wait for %d days of reports "
			    "before 'mta-stsctl mode %s enforce'", first,
			    json_object_size(orgset), json_object_size(orgset)
			    == 1 ? "" : "s", READY_DAYS, dm->name);
	}
	if (dm->mode != NULL && strcmp(dm->mode, "none") != 0) {
		if (last == NULL)
			hint(hints, "no report received yet: check the "
			    "_smtp._tls TXT record (mta-stsctl check %s)",
			    dm->name);
		else if ((gap = days_between(last, o->today)) >= QUIET_DAYS)
			hint(hints, "no report since %s (%ld days): check the "
			    "_smtp._tls TXT record (mta-stsctl check %s)", last,
			    gap, dm->name);
	}
	json_decref(orgset);
}

/* The alerts a timer asked for. */
static void
alerts(const struct dom *dm, json_t *days, json_t *out,
    const struct summary_opts *o, const char *last)
{
	json_t		*day;
	json_int_t	 ok = 0, failed = 0;
	double		 r;
	size_t		 i;
	long long	 issued = -1;

	if (o->fail_rate >= 0) {
		json_array_foreach(days, i, day)
			if (strcmp(summary_str(day, "date"), o->rate_since) >=
			    0 && strcmp(summary_str(day, "date"), o->today) <=
			    0) {
				ok += summary_count(day, "successful");
				failed += summary_count(day, "failed");
			}
		r = ok + failed > 0 ? failed * 100.0 / (double)(ok + failed) :
		    0;
		if (ok + failed > 0 && r > o->fail_rate)
			hint(out, "failure rate %.2f%% (%lld of %lld sessions) "
			    "since %s, above %g%%", r, (long long)failed,
			    (long long)(ok + failed), o->rate_since,
			    o->fail_rate);
	}
	/* Only a domain that asks for reports: in testing or enforce. */
	if (o->stale < 0 || (dm->mode != NULL && strcmp(dm->mode, "none") ==
	    0) || (dm->mode == NULL && last == NULL))
		return;
	if (dm->loc.has_rec)
		issued = dm->loc.rec.issued[0] != '\0' ?
		    day_time(dm->loc.rec.issued) : day_time(dm->loc.rec.id);
	if (last != NULL && days_between(last, o->today) >= o->stale)
		hint(out, "no report for %ld days (the last one is about %s)",
		    days_between(last, o->today), last);
	else if (last == NULL && (issued == -1 || day_time(o->today) - issued
	    >= o->stale * 86400LL))
		hint(out, "no report received%s%s%s", issued != -1 ?
		    " since its first id was issued (" : "", issued != -1 ?
		    dm->loc.rec.issued : "", issued != -1 ? ")" : "");
}

/* Notes over every day, as { note, reports } by note. */
static json_t *
note_list(json_t *notes)
{
	const char	**k = summary_keys(notes);
	json_t		 *a = json_array();

	for (size_t i = 0; k != NULL && k[i] != NULL; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "note", k[i],
		    "reports", summary_count(notes, k[i])));
	free(k);
	return a;
}

/* Adds the sessions of each host (or address) of from to into. */
static void
failing(json_t *into, json_t *from, const char *type)
{
	const char	*h;
	json_t		*v;

	json_object_foreach(from, h, v) {
		add(child(into, h), "sessions", json_integer_value(v));
		set_add(child(child(into, h), "types"), type);
	}
}

/*
 * Over every day shown: each organisation's reports and sessions, and the
 * failing MX hosts and sending addresses with their sessions and types.
 */
static void
totals(json_t *daysobj, json_t *d)
{
	json_t		*orgs = json_object(), *mx = json_object();
	json_t		*ips = json_object(), *day, *org, *ft, *o, *a;
	const char	*dk, *on, *type;
	const char	**k;

	json_object_foreach(daysobj, dk, day)
		json_object_foreach(day, on, org) {
			o = child(orgs, on);
			add(o, "reports", summary_count(org, "reports"));
			add(o, "successful", summary_count(org, "successful"));
			add(o, "failed", summary_count(org, "failed"));
			json_object_foreach(json_object_get(org, "failures"),
			    type, ft) {
				failing(mx, json_object_get(ft, "mx"), type);
				failing(ips, json_object_get(ft, "ips"), type);
			}
		}
	a = json_array();
	k = summary_keys(orgs);
	for (size_t i = 0; k != NULL && k[i] != NULL; i++) {
		o = json_object_get(orgs, k[i]);
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I}",
		    "organization", k[i], "reports", summary_count(o,
		    "reports"), "successful", summary_count(o, "successful"),
		    "failed", summary_count(o, "failed")));
	}
	free(k);
	json_object_set_new(d, "by-organization", a);
	for (int w = 0; w < 2; w++) {
		json_t *from = w == 0 ? mx : ips;

		a = json_array();
		k = summary_keys(from);
		for (size_t i = 0; k != NULL && k[i] != NULL; i++) {
			o = json_object_get(from, k[i]);
			json_array_append_new(a, json_pack("{s:s, s:I, s:o}",
			    w == 0 ? "mx-host" : "sending-ip", k[i],
			    "sessions", summary_count(o, "sessions"), "types",
			    summary_key_array(json_object_get(o, "types"))));
		}
		free(k);
		json_object_set_new(d, w == 0 ? "failing-mx-hosts" :
		    "failing-sending-ips", a);
	}
	json_decref(orgs);
	json_decref(mx);
	json_decref(ips);
}

/* Reads what this machine knows of a domain (nothing is an answer). */
static void
dom_open(struct dom *dm, const struct config *c, int dirfd, int idsfd,
    const char *name)
{
	memset(dm, 0, sizeof(*dm));
	dm->name = name;
	dm->loc.cfg = *c;
	dm->loc.dirfd = dirfd;
	dm->loc.idsfd = idsfd;
	dm->loc.borrowed = 1;
	if (dirfd == -1 || local_set_domain(&dm->loc, name) == -1)
		return;
	if (local_read_policy(&dm->loc, 0) == 0 && dm->loc.src != NULL) {
		dm->has_policy = 1;
		dm->mode = policy_mode_name(dm->loc.pol.mode);
	}
	if (local_read_record(&dm->loc) == -1)
		dm->loc.has_rec = 0;
}

/*
 * One domain: its days from since on are shown and totalled; the hints
 * and alerts look at every day (a failure's first day, two weeks without
 * failures, may lie before since).
 */
static json_t *
one_domain(json_t *sums, const struct config *c, int dirfd, int idsfd,
    const char *name, const struct summary_opts *o)
{
	struct dom	 dm;
	json_t		*sd = json_object_get(sums, name), *daysobj, *days;
	json_t		*all;
	json_t		*notes, *hints, *al, *d, *orgset, *day, *pol, *shown;
	json_t		*unshown;
	const char	**keys, *first, *last;
	json_int_t	 ok = 0, failed = 0, reports = 0;
	size_t		 i;
	int		 show;

	dom_open(&dm, c, dirfd, idsfd, name);
	daysobj = json_object_get(sd, "days");
	first = last = NULL;
	days = json_array();
	all = json_array();
	notes = json_object();
	unshown = json_object();
	orgset = json_object();
	shown = json_object();
	keys = summary_keys(daysobj);
	/* Judged as of today: a later day is not there yet. */
	for (i = 0; keys != NULL && keys[i] != NULL &&
	    strcmp(keys[i], o->today) <= 0; i++) {
		if (first == NULL)
			first = keys[i];
		last = keys[i];
		show = o->since == NULL || strcmp(keys[i], o->since) >= 0;
		day = one_day(&dm, keys[i], json_object_get(daysobj, keys[i]),
		    show ? notes : unshown);
		/* Kept for the hints, dropped before output. */
		json_object_set(day, "orgs", json_object_get(daysobj,
		    keys[i]));
		json_array_append(all, day);
		if (show) {
			ok += summary_count(day, "successful");
			failed += summary_count(day, "failed");
			reports += summary_count(day, "reports");
			json_object_update(orgset, json_object_get(daysobj,
			    keys[i]));
			json_object_set(shown, keys[i], json_object_get(daysobj,
			    keys[i]));
			json_array_append(days, day);
		}
		json_decref(day);
	}
	free(keys);
	hints = json_array();
	al = json_array();
	hint_failures(&dm, all, hints);
	hint_old_policy(&dm, all, hints);
	hint_cycle(&dm, all, hints, o, first, last);
	alerts(&dm, all, al, o, last);
	json_array_foreach(all, i, day)
		json_object_del(day, "orgs");
	pol = dm.has_policy ? json_pack("{s:s, s:s?, s:s?}", "mode", dm.mode,
	    "id", dm.loc.has_rec ? dm.loc.rec.id : NULL, "issued",
	    dm.loc.has_rec && dm.loc.rec.issued[0] != '\0' ?
	    dm.loc.rec.issued : NULL) : json_null();
	d = json_pack("{s:s, s:o, s:s?, s:s?, s:I, s:o, s:I, s:I, s:o, s:o, "
	    "s:o, s:o, s:o}", "domain", name, "policy", pol, "first", first,
	    "last", last, "reports", reports, "organizations",
	    summary_key_array(orgset), "successful", ok, "failed", failed,
	    "failure-rate", rate(ok, failed), "days", days, "notes",
	    note_list(notes), "hints", hints, "alerts", al);
	totals(shown, d);
	json_decref(all);
	json_decref(shown);
	json_decref(notes);
	json_decref(unshown);
	json_decref(orgset);
	local_close(&dm.loc);
	return d;
}

/* see summary.h */
json_t *
summary_decide(json_t *sums, const struct config *c, const char *domain,
    const struct summary_opts *o)
{
	json_t		*names = json_object(), *out, *list, *d, *v;
	const char	**keys, *k;
	DIR		*dir;
	struct dirent	*de;
	size_t		 n, nalerts = 0;
	int		 dirfd, idsfd = -1, fd;
	char		 name[POLICY_HOST_MAX + 1];

	/* No policy directory: reports only, nothing to compare with. */
	dirfd = open(c->policy_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd != -1)
		idsfd = openat(dirfd, IDS_DIR, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
	if (domain != NULL)
		set_add(names, domain);
	else {
		json_object_foreach(sums, k, v)
			set_add(names, k);
		if (dirfd != -1 && (fd = dup(dirfd)) != -1) {
			if ((dir = fdopendir(fd)) == NULL)
				close(fd);
			while (dir != NULL && (de = readdir(dir)) != NULL) {
				n = strlen(de->d_name);
				if (de->d_name[0] == '.' || n <= 4 || n - 4 >=
				    sizeof(name) || strcmp(de->d_name + n - 4,
				    ".txt") != 0)
					continue;
				snprintf(name, sizeof(name), "%.*s",
				    (int)(n - 4), de->d_name);
				if (policy_check_host(name, n - 4, 0) == NULL)
					set_add(names, name);
			}
			if (dir != NULL)
				closedir(dir);
		}
	}
	list = json_array();
	keys = summary_keys(names);
	for (size_t i = 0; keys != NULL && keys[i] != NULL; i++) {
		d = one_domain(sums, c, dirfd, idsfd, keys[i], o);
		nalerts += json_array_size(json_object_get(d, "alerts"));
		json_array_append_new(list, d);
	}
	free(keys);
	json_decref(names);
	if (idsfd != -1)
		close(idsfd);
	if (dirfd != -1)
		close(dirfd);
	out = json_pack("{s:s, s:s?, s:o, s:I}", "today", o->today, "since",
	    o->since, "domains", list, "alerts", (json_int_t)nalerts);
	return out;
}

/* ---- text --------------------------------------------------------------- */

/*
 * A string from a report on a terminal: control characters (an escape
 * sequence in an organisation's name) are printed as '?'.
 */
static void
put(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* "label a, b, c" for an array of strings; nothing when empty. */
static void
print_list(const char *indent, const char *label, json_t *a)
{
	json_t	*v;
	size_t	 i;

	if (json_array_size(a) == 0)
		return;
	printf("%s%s", indent, label);
	json_array_foreach(a, i, v) {
		printf("%s ", i > 0 ? "," : "");
		put(json_string_value(v));
	}
	printf("\n");
}

/* "N sessions, F failed (R%)" */
static void
print_counts(json_t *o)
{
	json_int_t	 ok = summary_count(o, "successful");
	json_int_t	 failed = summary_count(o, "failed");
	json_t		*r = json_object_get(o, "failure-rate");

	printf("%lld session%s, %lld failed", (long long)(ok + failed),
	    ok + failed == 1 ? "" : "s", (long long)failed);
	if (json_is_real(r))
		printf(" (%.2f%%)", json_real_value(r));
}

static void
print_policy_seen(json_t *p)
{
	json_t		*cur = json_object_get(p, "current");
	json_t		*ago = json_object_get(p, "changes-ago");
	const char	*mode = summary_str(p, "mode");
	const char	*id = summary_str(p, "id");

	if (mode == NULL && json_is_null(cur))
		printf("no policy-string");
	else if (mode != NULL && mode[0] == '(')
		printf("%s", mode);
	else
		printf("mode %s", mode != NULL ? mode : "unknown");
	if (id != NULL)
		printf(", id %s", id);
	if (json_is_true(cur))
		printf(" (current)");
	else if (json_is_integer(ago))
		printf(" (%lld change%s ago)", (long long)json_integer_value(
		    ago), json_integer_value(ago) == 1 ? "" : "s");
	else if (json_is_false(cur))
		printf(" (not a policy issued here)");
}

static void
print_domain(json_t *d)
{
	json_t		*pol = json_object_get(d, "policy"), *day, *f, *p, *v;
	json_t		*forced, *days;
	size_t		 i, j, norgs;

	printf("%s: ", summary_str(d, "domain"));
	if (json_is_object(pol)) {
		printf("mode %s", summary_str(pol, "mode"));
		if (summary_str(pol, "id") != NULL)
			printf(", id %s", summary_str(pol, "id"));
		printf("\n");
	} else
		printf("no policy here\n");
	json_array_foreach(json_object_get(d, "days"), i, day) {
		printf("  %s: ", summary_str(day, "date"));
		print_counts(day);
		print_list("", ", from", json_object_get(day,
		    "organizations"));
		if (json_array_size(json_object_get(day, "failures")) > 0) {
			printf("    failures:");
			json_array_foreach(json_object_get(day, "failures"), j,
			    f) {
				printf("%s ", j > 0 ? "," : "");
				put(summary_str(f, "result-type"));
				printf(" %lld", (long long)summary_count(f,
				    "sessions"));
			}
			printf("\n");
		}
		print_list("    ", "MX hosts:", json_object_get(day,
		    "mx-hosts"));
		print_list("    ", "sending IPs:", json_object_get(day,
		    "sending-ips"));
		json_array_foreach(json_object_get(day, "policies"), j, p) {
			printf("    policy seen: ");
			print_policy_seen(p);
			print_list("", ", by", json_object_get(p,
			    "organizations"));
		}
		forced = json_object_get(day, "in-force");
		if (json_is_object(forced))
			printf("    in force here: mode %s, id %s\n",
			    summary_str(forced, "mode") != NULL ?
			    summary_str(forced, "mode") : "unknown",
			    summary_str(forced, "id"));
	}
	days = json_object_get(d, "days");
	norgs = json_array_size(json_object_get(d, "organizations"));
	if (summary_count(d, "reports") > 0) {
		printf("  all: %lld report%s from %zu organisation%s, %s to "
		    "%s: ", (long long)summary_count(d, "reports"),
		    summary_count(d, "reports") == 1 ? "" : "s", norgs,
		    norgs == 1 ? "" : "s", summary_str(json_array_get(days, 0),
		    "date"), summary_str(json_array_get(days,
		    json_array_size(days) - 1), "date"));
		print_counts(d);
		printf("\n");
	} else
		printf("  no reports%s\n", summary_str(d, "last") != NULL ?
		    " in these days" : "");
	json_array_foreach(json_object_get(d, "notes"), i, v)
		printf("  note: %lld report%s: %s\n",
		    (long long)summary_count(v, "reports"),
		    summary_count(v, "reports") == 1 ? "" : "s",
		    summary_str(v, "note"));
	json_array_foreach(json_object_get(d, "hints"), i, v) {
		printf("  hint: ");
		put(json_string_value(v));
		printf("\n");
	}
	json_array_foreach(json_object_get(d, "alerts"), i, v)
		printf("  ALERT: %s\n", json_string_value(v));
}

/* see summary.h */
void
summary_print(json_t *s, int as_json)
{
	json_t	*d;
	size_t	 i;

	if (as_json) {
		json_dumpf(s, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		    JSON_REAL_PRECISION(6));
		printf("\n");
		return;
	}
	json_array_foreach(json_object_get(s, "domains"), i, d)
		print_domain(d);
	if (json_array_size(json_object_get(s, "domains")) == 0)
		printf("no reports\n");
}
