/*
 * policy.c: the MTA-STS policy module.  See policy.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ascii.h"
#include "lib/policy.h"

#define AGE_DAY		86400UL
#define SHOW_MAX	64	/* characters of a value quoted in a message */

enum field {
	F_VERSION,
	F_MODE,
	F_MAX_AGE,
	F_MX,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {
	"version", "mode", "max_age", "mx"
};

struct parser {
	struct policy		*p;
	struct policy_diags	*d;
	unsigned		 line;
	unsigned		 seen[F_COUNT];	/* line of first occurrence */
	unsigned		*mxline;	/* line of each mx, for messages */
	size_t			 mxcap;
	int			 oom;
};

static void	diag(struct parser *, enum policy_severity, unsigned,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
diag(struct parser *ps, enum policy_severity sev, unsigned line,
    const char *fmt, ...)
{
	struct policy_diags	*d = ps->d;
	struct policy_diag	*nv, *dg;
	va_list			 ap;

	if (sev == POLICY_ERROR)
		d->errors++;
	else
		d->warnings++;
	nv = realloc(d->v, (d->n + 1) * sizeof(*d->v));
	if (nv == NULL) {
		d->oom = 1;
		return;
	}
	d->v = nv;
	dg = &d->v[d->n++];
	dg->severity = sev;
	dg->line = line;
	va_start(ap, fmt);
	vsnprintf(dg->msg, sizeof(dg->msg), fmt, ap);
	va_end(ap);
}

/*
 * A value quoted in a message: at most SHOW_MAX characters, then "...".
 * Only called on bytes already checked to be printable ASCII.
 */
static const char *
show(const char *s, size_t len, char *buf, size_t bufsz)
{
	if (len > SHOW_MAX)
		snprintf(buf, bufsz, "%.*s...", SHOW_MAX, s);
	else
		snprintf(buf, bufsz, "%.*s", (int)len, s);
	return buf;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* see policy.h */
const char *
policy_check_host(const char *s, size_t len, int allow_wildcard)
{
	size_t		 i, start, labels = 0;
	int		 numeric_last = 1;

	if (len == 0)
		return "empty name";
	if (len > POLICY_HOST_MAX)
		return "name longer than 253 characters";
	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		if (!allow_wildcard)
			return "a wildcard is not allowed here";
		s += 2;
		len -= 2;
		if (len == 0)
			return "nothing after '*.'";
	}
	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == '@')
			return "a host name, not a URL or address, is required";
	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '*':
			return allow_wildcard ?
			    "a wildcard is allowed only as a whole leading "
			    "label ('*.example.com')" :
			    "a wildcard is not allowed here";
		case ':':
			return "a port or IPv6 address is not allowed";
		case '[':
		case ']':
			return "an IP address literal is not allowed";
		case '_':
			return "an underscore is not allowed in a host name";
		case ' ':
		case '\t':
			return "white space inside a host name";
		default:
			break;
		}
	}
	if (s[len - 1] == '.')
		return "a trailing dot is not allowed";
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && s[i] != '.'; i++)
			if (!is_ldh(s[i]))
				return "only letters, digits and hyphens are "
				    "allowed in a label (A-label form: use "
				    "punycode 'xn--' for non-ASCII names)";
		if (i == start)
			return "empty label";
		if (i - start > POLICY_LABEL_MAX)
			return "label longer than 63 characters";
		if (s[start] == '-' || s[i - 1] == '-')
			return "a label may not start or end with a hyphen";
		labels++;
		numeric_last = 1;
		for (size_t j = start; j < i; j++)
			if (s[j] < '0' || s[j] > '9')
				numeric_last = 0;
	}
	if (labels < 2)
		return "at least two labels are required ('mail.example.com')";
	if (numeric_last)
		return "an IP address is not allowed; a host name is required";
	return NULL;
}

/* see policy.h */
int
policy_mx_match(const char *pattern, const char *host)
{
	size_t		 hl = strlen(host), pl;
	const char	*dot;

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (pattern[0] == '*' && pattern[1] == '.') {
		dot = memchr(host, '.', hl);
		if (dot == NULL || dot == host)
			return 0;
		hl -= (size_t)(dot + 1 - host);
		host = dot + 1;
		pattern += 2;
	}
	pl = strlen(pattern);
	if (pl != hl)
		return 0;
	for (size_t i = 0; i < hl; i++)
		if (ascii_lower(host[i]) != pattern[i])
			return 0;
	return 1;
}

/* see policy.h */
const char *
policy_short_max_age(const struct policy *p, char *buf, size_t bufsz)
{
	if (p->mode != POLICY_MODE_ENFORCE ||
	    p->max_age >= POLICY_ENFORCE_AGE_MIN)
		return NULL;
	snprintf(buf, bufsz, "max_age %lu is under %lu (one week), short for "
	    "mode enforce", p->max_age, POLICY_ENFORCE_AGE_MIN);
	return buf;
}

/* see policy.h */
const char *
policy_mode_name(enum policy_mode mode)
{
	switch (mode) {
	case POLICY_MODE_ENFORCE:
		return "enforce";
	case POLICY_MODE_TESTING:
		return "testing";
	default:
		return "none";
	}
}

/* see policy.h */
int
policy_mode_parse(const char *s, enum policy_mode *mode)
{
	if (strcmp(s, "enforce") == 0)
		*mode = POLICY_MODE_ENFORCE;
	else if (strcmp(s, "testing") == 0)
		*mode = POLICY_MODE_TESTING;
	else if (strcmp(s, "none") == 0)
		*mode = POLICY_MODE_NONE;
	else
		return -1;
	return 0;
}

/* see policy.h */
const char *
policy_diag_format(const char *name, const struct policy_diag *dg, char *buf,
    size_t bufsz)
{
	snprintf(buf, bufsz, "%s:%u: %s: %s", name, dg->line,
	    dg->severity == POLICY_ERROR ? "error" : "warning", dg->msg);
	return buf;
}

static void
add_mx(struct parser *ps, const char *v, size_t len)
{
	struct policy	*p = ps->p;
	char		**nmx, *s;
	unsigned	*nl;

	if (p->nmx == ps->mxcap) {
		size_t cap = ps->mxcap ? ps->mxcap * 2 : 8;

		if ((nmx = realloc(p->mx, cap * sizeof(*p->mx))) == NULL) {
			ps->oom = 1;
			return;
		}
		p->mx = nmx;
		if ((nl = realloc(ps->mxline, cap * sizeof(*nl))) == NULL) {
			ps->oom = 1;
			return;
		}
		ps->mxline = nl;
		ps->mxcap = cap;
	}
	if ((s = malloc(len + 1)) == NULL) {
		ps->oom = 1;
		return;
	}
	ascii_lower_copy(s, v, len);
	ps->mxline[p->nmx] = ps->line;
	p->mx[p->nmx++] = s;
}

static void
field(struct parser *ps, enum field f, const char *v, size_t len)
{
	char		 q[SHOW_MAX + 4], num[11];
	const char	*why;
	unsigned long	 age;
	size_t		 i;

	if (f != F_MX && ps->seen[f] != 0) {
		diag(ps, POLICY_ERROR, ps->line,
		    "duplicate field '%s' (first on line %u); only mx may "
		    "repeat", field_names[f], ps->seen[f]);
		return;
	}
	if (ps->seen[f] == 0)
		ps->seen[f] = ps->line;
	show(v, len, q, sizeof(q));

	switch (f) {
	case F_VERSION:
		if (len != 5 || memcmp(v, "STSv1", 5) != 0)
			diag(ps, POLICY_ERROR, ps->line, "version must be "
			    "'STSv1' (case-sensitive), not '%s'", q);
		break;
	case F_MODE:
		if ((len == 7 && memcmp(v, "enforce", 7) == 0))
			ps->p->mode = POLICY_MODE_ENFORCE;
		else if (len == 7 && memcmp(v, "testing", 7) == 0)
			ps->p->mode = POLICY_MODE_TESTING;
		else if (len == 4 && memcmp(v, "none", 4) == 0)
			ps->p->mode = POLICY_MODE_NONE;
		else
			diag(ps, POLICY_ERROR, ps->line, "mode must be "
			    "'enforce', 'testing' or 'none' (case-sensitive), "
			    "not '%s'", q);
		break;
	case F_MAX_AGE:
		for (i = 0; i < len && v[i] >= '0' && v[i] <= '9'; i++)
			;
		if (len > 10 || i < len) {
			diag(ps, POLICY_ERROR, ps->line, "max_age must be 1 to "
			    "10 digits (seconds), not '%s'", q);
			break;
		}
		memcpy(num, v, len);
		num[len] = '\0';
		age = strtoul(num, NULL, 10);
		if (age > POLICY_MAX_AGE_MAX)
			diag(ps, POLICY_ERROR, ps->line, "max_age %lu is above "
			    "31557600, the RFC 8461 maximum", age);
		else
			ps->p->max_age = age;
		break;
	case F_MX:
		if ((why = policy_check_host(v, len, 1)) != NULL)
			diag(ps, POLICY_ERROR, ps->line, "mx '%s': %s", q, why);
		else
			add_mx(ps, v, len);
		break;
	default:
		break;
	}
}

static void
key_unknown(struct parser *ps, const char *k, size_t klen)
{
	char	 q[SHOW_MAX + 4];
	int	 f;

	show(k, klen, q, sizeof(q));
	for (f = 0; f < F_COUNT; f++)
		if (strlen(field_names[f]) == klen &&
		    strncasecmp(field_names[f], k, klen) == 0) {
			diag(ps, POLICY_ERROR, ps->line, "unknown key '%s' "
			    "(keys are case-sensitive: write '%s')", q,
			    field_names[f]);
			return;
		}
	diag(ps, POLICY_ERROR, ps->line, "unknown key '%s' (expected version, "
	    "mode, mx or max_age)", q);
}

/*
 * One source line, without its terminator.  Returns after at most one
 * error: a line broken in one place is likely broken in others, and the
 * first reason is the useful one.
 */
static void
line(struct parser *ps, const char *s, size_t len)
{
	size_t		 i, colon, ke, vs, ve;
	unsigned char	 c;
	int		 f;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x80) {
			diag(ps, POLICY_ERROR, ps->line, "non-ASCII byte 0x%02X "
			    "at column %zu (policies are ASCII; use A-labels)",
			    c, i + 1);
			return;
		}
		if (c == 0) {
			diag(ps, POLICY_ERROR, ps->line, "NUL byte at column "
			    "%zu", i + 1);
			return;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			diag(ps, POLICY_ERROR, ps->line, "control character "
			    "0x%02X at column %zu%s", c, i + 1, c == '\r' ?
			    " (a CR not followed by LF)" : "");
			return;
		}
	}
	if (len > 0 && s[0] == '#')
		return;
	for (i = 0; i < len && is_wsp(s[i]); i++)
		;
	if (i == len)
		return;
	if (i > 0) {
		diag(ps, POLICY_ERROR, ps->line, "line starts with white "
		    "space (expected 'key: value')");
		return;
	}
	for (colon = 0; colon < len && s[colon] != ':'; colon++)
		;
	if (colon == len) {
		diag(ps, POLICY_ERROR, ps->line, "no ':' on the line "
		    "(expected 'key: value')");
		return;
	}
	if (colon == 0) {
		diag(ps, POLICY_ERROR, ps->line, "empty key before ':'");
		return;
	}
	for (ke = colon; ke > 0 && is_wsp(s[ke - 1]); ke--)
		;
	for (f = 0; f < F_COUNT; f++)
		if (strlen(field_names[f]) == ke &&
		    memcmp(field_names[f], s, ke) == 0)
			break;
	if (f == F_COUNT) {
		key_unknown(ps, s, ke);
		return;
	}
	/*
	 * From here the key is known: a rejected line still counts as its
	 * field's occurrence, so that it is not also reported missing.
	 */
	if (ke < colon) {
		if (ps->seen[f] == 0)
			ps->seen[f] = ps->line;
		diag(ps, POLICY_ERROR, ps->line, "white space before ':' "
		    "(write '%s: value')", field_names[f]);
		return;
	}
	for (vs = colon + 1; vs < len && is_wsp(s[vs]); vs++)
		;
	for (ve = len; ve > vs && is_wsp(s[ve - 1]); ve--)
		;
	if (vs == ve) {
		if (ps->seen[f] == 0)
			ps->seen[f] = ps->line;
		diag(ps, POLICY_ERROR, ps->line, "empty value for '%s'",
		    field_names[f]);
		return;
	}
	field(ps, (enum field)f, s + vs, ve - vs);
}

struct mxref {
	const char	*s;
	size_t		 i;	/* position in the file */
};

static int
mxcmp(const void *a, const void *b)
{
	const struct mxref *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	if (c != 0)
		return c;
	return (x->i > y->i) - (x->i < y->i);
}

/*
 * Drops repeated mx patterns, keeping the first in file order.  Sorting
 * (value, position) pairs keeps this O(n log n) for a 64 KiB source of
 * short mx lines, where the quadratic loop would be slow.
 */
static void
dedup_mx(struct parser *ps)
{
	struct policy	*p = ps->p;
	struct mxref	*r;
	unsigned char	*dup;
	size_t		 i, j, n = p->nmx;

	if (n < 2)
		return;
	r = malloc(n * sizeof(*r));
	dup = calloc(n, 1);
	if (r == NULL || dup == NULL) {
		ps->oom = 1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		r[i].s = p->mx[i];
		r[i].i = i;
	}
	qsort(r, n, sizeof(*r), mxcmp);
	for (i = 1; i < n; i++)
		if (strcmp(r[i].s, r[i - 1].s) == 0)
			dup[r[i].i] = 1;
	for (i = j = 0; i < n; i++) {
		if (dup[i]) {
			diag(ps, POLICY_WARNING, ps->mxline[i], "duplicate mx "
			    "'%s' dropped", p->mx[i]);
			free(p->mx[i]);
			continue;
		}
		ps->mxline[j] = ps->mxline[i];
		p->mx[j++] = p->mx[i];
	}
	p->nmx = j;
out:
	free(r);
	free(dup);
}

static int
render(struct policy *p)
{
	size_t	 len, i, off;
	char	 age[24];
	const char *mode = policy_mode_name(p->mode);

	snprintf(age, sizeof(age), "%lu", p->max_age);
	len = strlen("version: STSv1\r\n") + strlen("mode: \r\n") +
	    strlen(mode) + strlen("max_age: \r\n") + strlen(age);
	for (i = 0; i < p->nmx; i++)
		len += strlen("mx: \r\n") + strlen(p->mx[i]);
	if ((p->body = malloc(len + 1)) == NULL)
		return -1;
	off = (size_t)sprintf(p->body, "version: STSv1\r\nmode: %s\r\n", mode);
	for (i = 0; i < p->nmx; i++)
		off += (size_t)sprintf(p->body + off, "mx: %s\r\n", p->mx[i]);
	off += (size_t)sprintf(p->body + off, "max_age: %s\r\n", age);
	p->bodylen = off;
	return 0;
}

/* see policy.h */
int
policy_parse(const char *src, size_t len, struct policy *p,
    struct policy_diags *d)
{
	struct parser	 ps;
	size_t		 start, end, next;
	unsigned	 last;
	char		 why[128];
	int		 f;

	memset(p, 0, sizeof(*p));
	memset(&ps, 0, sizeof(ps));
	ps.p = p;
	ps.d = d;

	if (len > POLICY_SOURCE_MAX) {
		unsigned l = 1;

		for (size_t i = 0; i < POLICY_SOURCE_MAX; i++)
			if (src[i] == '\n')
				l++;
		diag(&ps, POLICY_ERROR, l, "source larger than %d bytes",
		    POLICY_SOURCE_MAX);
		goto fail;
	}

	for (start = 0, ps.line = 1; start < len && !ps.oom; ps.line++) {
		const char *nl = memchr(src + start, '\n', len - start);

		if (nl != NULL) {
			end = (size_t)(nl - src);
			next = end + 1;
			if (end > start && src[end - 1] == '\r')
				end--;
		} else
			end = next = len;
		line(&ps, src + start, end - start);
		start = next;
	}
	last = ps.line > 1 ? ps.line - 1 : 1;

	for (f = 0; f < F_COUNT; f++)
		if (f != F_MX && ps.seen[f] == 0)
			diag(&ps, POLICY_ERROR, last, "missing field '%s'",
			    field_names[f]);
	if (ps.seen[F_MODE] && p->mode != POLICY_MODE_NONE && p->nmx == 0 &&
	    ps.seen[F_MX] == 0)
		diag(&ps, POLICY_ERROR, ps.seen[F_MODE], "mode '%s' requires "
		    "at least one mx line", policy_mode_name(p->mode));
	if (d->errors > 0 || ps.oom)
		goto fail;

	dedup_mx(&ps);
	if (p->max_age < AGE_DAY)
		diag(&ps, POLICY_WARNING, ps.seen[F_MAX_AGE], "max_age %lu is "
		    "under 86400 (one day): senders re-fetch often and some "
		    "replace it with 86400", p->max_age);
	else if (policy_short_max_age(p, why, sizeof(why)) != NULL)
		diag(&ps, POLICY_WARNING, ps.seen[F_MAX_AGE], "%s", why);
	if (p->mode == POLICY_MODE_NONE && p->nmx == 0)
		diag(&ps, POLICY_WARNING, ps.seen[F_MODE], "mode 'none' without "
		    "mx: one known sender rejects such a policy; keep the "
		    "previous mx lines");
	if (ps.oom || render(p) == -1)
		goto fail;
	if (p->bodylen > POLICY_BODY_WARN)
		diag(&ps, POLICY_WARNING, last, "canonical body is %zu bytes, "
		    "over %d: some senders may not read it all", p->bodylen,
		    POLICY_BODY_WARN);
	if (ps.oom)
		goto fail;
	free(ps.mxline);
	return 0;
fail:
	if (ps.oom)
		d->oom = 1;
	free(ps.mxline);
	policy_free(p);
	return -1;
}

/* see policy.h */
void
policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	free(p->body);
	memset(p, 0, sizeof(*p));
}

/* see policy.h */
void
policy_diags_free(struct policy_diags *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* see policy.h */
size_t
policy_served_hazards(const char *body, size_t len,
    void (*fn)(void *, unsigned, const char *), void *arg)
{
	const char	*p = body, *end = body + len, *eol;
	unsigned	 line = 0;
	size_t		 n = 0;

	while (p < end) {
		line++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL) {
			fn(arg, line, "the last line has no CRLF: senders that "
			    "split on CRLF may drop it");
			n++;
			eol = end;
		} else if (eol == p || (eol == p + 1 && *p == '\r')) {
			fn(arg, line, "blank line: mox and go-mtasts reject "
			    "the policy, Stalwart misreads the next line");
			n++;
		} else if (eol[-1] != '\r') {
			fn(arg, line, "ends with LF, not CRLF (RFC 8461 "
			    "section 3.2)");
			n++;
		}
		if (eol > p && *p == '#') {
			fn(arg, line, "comment line: go-mtasts and mox reject "
			    "a line without ':'");
			n++;
		}
		p = eol + 1;
	}
	return n;
}

/* see policy.h */
void
policy_served_shape(const char *body, size_t len, struct policy_shape *s)
{
	const char	*q = body, *end = body + len, *eol, *v;
	size_t		 n, k, ol;

	memset(s, 0, sizeof(*s));
	while (q < end) {
		s->lines++;
		if ((eol = memchr(q, '\n', (size_t)(end - q))) == NULL) {
			s->no_final_eol = 1;
			eol = end;
		}
		n = (size_t)(eol - q);
		if (eol < end && (n == 0 || q[n - 1] != '\r'))
			s->lf++;
		else if (n > 0 && q[n - 1] == '\r')
			n--;
		if (n == 0)
			s->blank++;
		else if (q[0] == '#')
			s->comment++;
		else if ((v = memchr(q, ':', n)) != NULL) {
			k = (size_t)(v - q);
			/* Spaced as "key: value": one space, nothing trailing. */
			if (k + 2 > n || v[1] != ' ' || (k + 2 < n &&
			    (v[2] == ' ' || v[2] == '\t')) || q[n - 1] == ' ' ||
			    q[n - 1] == '\t')
				s->spacing++;
			/* The keys in their order, each named once. */
			ol = strlen(s->order);
			if (k > 0 && k < 16 && ol + k + 2 < sizeof(s->order) &&
			    !(k == 2 && memcmp(q, "mx", 2) == 0 &&
			    strstr(s->order, "mx") != NULL))
				snprintf(s->order + ol, sizeof(s->order) - ol,
				    "%s%.*s", ol > 0 ? " " : "", (int)k, q);
		}
		if (eol == end)
			break;
		q = eol + 1;
	}
}
