/*
 * txt.c: the _mta-sts TXT record and policy ids.  See txt.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/txt.h"

#define EXT_NAME_MAX	32	/* first character and up to 31 more */

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 8461: %x21-3A / %x3C / %x3E-7E, i.e. VCHAR without ';' and '='. */
static int
is_ext_value(char c)
{
	return c >= 0x21 && c <= 0x7e && c != ';' && c != '=';
}

static int	fail(char *, size_t, size_t, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errsz, size_t col, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(err, errsz, "column %zu: ", col + 1);
	if (n < 0 || (size_t)n >= errsz)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* see txt.h */
int
txt_parse(const char *s, size_t len, struct txt_record *r, char *err,
    size_t errsz)
{
	size_t	 i, name, nlen, val;
	int	 have_id = 0;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80)
			return fail(err, errsz, i, "non-ASCII byte 0x%02X", c);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(err, errsz, i, "control character 0x%02X",
			    c);
	}
	if (len < 7 || memcmp(s, "v=STSv1", 7) != 0)
		return fail(err, errsz, 0, "the record must start with "
		    "'v=STSv1' (case-sensitive, no leading space)");
	i = 7;
	for (;;) {
		/* A separator: *WSP ";" *WSP, or the end. */
		if (i == len)
			break;
		while (i < len && is_wsp(s[i]))
			i++;
		if (i == len)
			return fail(err, errsz, i - 1, "white space at the end "
			    "without ';'");
		if (s[i] != ';')
			return fail(err, errsz, i, "expected ';' between "
			    "fields, found '%c'", s[i]);
		i++;
		while (i < len && is_wsp(s[i]))
			i++;
		if (i == len)
			break;

		/* A field: name "=" value. */
		name = i;
		if (!is_alnum(s[i]))
			return fail(err, errsz, i, s[i] == ';' ? "empty field "
			    "between two ';'" : "a field name must start with "
			    "a letter or digit, found '%c'", s[i]);
		while (i < len && (is_alnum(s[i]) || s[i] == '_' ||
		    s[i] == '-' || s[i] == '.'))
			i++;
		nlen = i - name;
		if (nlen > EXT_NAME_MAX)
			return fail(err, errsz, name, "field name longer than "
			    "32 characters");
		if (i == len || s[i] != '=')
			return fail(err, errsz, i, "expected '=' after field "
			    "name '%.*s'", (int)nlen, s + name);
		val = ++i;
		if (nlen == 2 && memcmp(s + name, "id", 2) == 0) {
			if (have_id)
				return fail(err, errsz, name, "more than one "
				    "id field");
			while (i < len && is_alnum(s[i]))
				i++;
			if (i == val)
				return fail(err, errsz, val, "empty id");
			if (i - val > TXT_ID_MAX)
				return fail(err, errsz, val, "id longer than "
				    "32 characters");
			if (i < len && !is_wsp(s[i]) && s[i] != ';')
				return fail(err, errsz, i, "id may contain "
				    "only letters and digits, found '%c'", s[i]);
			memcpy(r->id, s + val, i - val);
			r->id[i - val] = '\0';
			have_id = 1;
		} else {
			while (i < len && is_ext_value(s[i]))
				i++;
			if (i == val)
				return fail(err, errsz, val, "empty value for "
				    "field '%.*s'", (int)nlen, s + name);
			if (i < len && s[i] == '=')
				return fail(err, errsz, i, "'=' inside the "
				    "value of field '%.*s'", (int)nlen,
				    s + name);
			r->extensions++;
		}
	}
	if (!have_id)
		return fail(err, errsz, len > 0 ? len - 1 : 0, "no 'id=' field "
		    "(case-sensitive)");
	return 0;
}

/* see txt.h */
const char *
txt_check_id(const char *id)
{
	size_t	 i;

	for (i = 0; id[i] != '\0'; i++)
		if (!is_alnum(id[i]))
			return "an id may contain only ASCII letters and digits";
	if (i == 0)
		return "an id may not be empty";
	if (i > TXT_ID_MAX)
		return "an id may be at most 32 characters long";
	return NULL;
}

/* see txt.h */
int
txt_id_for_time(time_t t, char out[16])
{
	struct tm	 tm;
	char		 buf[64];

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return -1;
	/* In range, the id is always 15 characters. */
	snprintf(buf, sizeof(buf), "%04d%02d%02d%02d0000Z", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
	memcpy(out, buf, 15);
	out[15] = '\0';
	return 0;
}

static int
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* see txt.h */
int
txt_parse_time(const char *s, time_t *t)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	struct tm	 tm;
	int		 y, mo, d, h, mi, se, leap, dim;

	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	dim = mdays[mo - 1] + (mo == 2 && leap);
	if (d < 1 || d > dim)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*t = timegm(&tm);
	return 0;
}

/* see txt.h */
int
txt_format(char *buf, size_t bufsz, const char *domain, unsigned long ttl,
    const char *id)
{
	return snprintf(buf, bufsz, "_mta-sts.%s. %lu IN TXT "
	    "\"v=STSv1; id=%s;\"", domain, ttl, id);
}

/* see txt.h */
int
txt_tlsrpt_format(char *buf, size_t bufsz, const char *const *rua, size_t n)
{
	size_t	 len;

	len = (size_t)snprintf(buf, bufsz, "v=TLSRPTv1; rua=");
	for (size_t i = 0; i < n && len < bufsz; i++) {
		if (i > 0 && len + 1 < bufsz)
			buf[len++] = ',';
		for (const char *p = rua[i]; *p != '\0' && len < bufsz; p++) {
			if (*p == ',' || *p == ';' || *p == '!')
				len += (size_t)snprintf(buf + len, bufsz - len,
				    "%%%02X", (unsigned char)*p);
			else
				buf[len++] = *p;
		}
	}
	if (len + 2 > bufsz)
		return -1;
	buf[len++] = ';';
	buf[len] = '\0';
	return (int)len;
}

/* A TLS-RPT URI: mailto: or https:, no space, ',' ';' '!' encoded. */
static const char *
tlsrpt_uri(const char *s, size_t len)
{
	const char *at;

	for (size_t i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '!' ||
		    s[i] == ';' || s[i] == ',')
			return "space, control, non-ASCII or unencoded '!' in a "
			    "rua URI";
	if (len > 7 && strncasecmp(s, "mailto:", 7) == 0) {
		at = memchr(s + 7, '@', len - 7);
		if (at == NULL || at == s + 7 || at == s + len - 1)
			return "a mailto: rua needs an address, "
			    "mailto:user@domain";
		return NULL;
	}
	if (len > 8 && strncasecmp(s, "https://", 8) == 0)
		return NULL;
	return "a rua URI must be mailto: or https://";
}

/* see txt.h */
int
txt_parse_tlsrpt(const char *s, size_t len, char *err, size_t errsz)
{
	const char	*p = s, *end = s + len, *f, *fe, *eq, *u, *ue;
	const char	*why;
	size_t		 nrua = 0, n;

	if (len < 10 || memcmp(s, "v=TLSRPTv1", 10) != 0) {
		snprintf(err, errsz, "must start with v=TLSRPTv1");
		return -1;
	}
	p = s + 10;
	while (p < end) {
		/* field-delim = *WSP ";" *WSP */
		while (p < end && is_wsp(*p))
			p++;
		if (p == end || *p != ';')
			return fail(err, errsz, (size_t)(p - s), "';' "
			    "expected");
		p++;
		while (p < end && is_wsp(*p))
			p++;
		if (p == end)
			break;		/* a final ';' */
		f = p;
		while (p < end && *p != ';')
			p++;
		fe = p;
		while (fe > f && is_wsp(fe[-1]))
			fe--;
		if ((eq = memchr(f, '=', (size_t)(fe - f))) == NULL ||
		    eq == f)
			return fail(err, errsz, (size_t)(f - s), "name=value "
			    "expected");
		if (eq - f == 3 && memcmp(f, "rua", 3) == 0) {
			nrua++;
			for (u = eq + 1; u <= fe; u = ue + 1) {
				for (ue = u; ue < fe && *ue != ','; ue++)
					;
				n = (size_t)(ue - u);
				while (n > 0 && is_wsp(u[n - 1]))
					n--;
				while (n > 0 && is_wsp(*u)) {
					u++;
					n--;
				}
				if ((why = tlsrpt_uri(u, n)) != NULL)
					return fail(err, errsz,
					    (size_t)(u - s), "%s", why);
			}
			continue;
		}
		/* extension: the same grammar as RFC 8461's */
		n = (size_t)(eq - f);
		if (n > EXT_NAME_MAX || !is_alnum(*f))
			return fail(err, errsz, (size_t)(f - s), "bad field "
			    "name");
		for (const char *q = f; q < eq; q++)
			if (!is_alnum(*q) && *q != '_' && *q != '-' &&
			    *q != '.')
				return fail(err, errsz, (size_t)(q - s), "bad "
				    "field name");
		if (eq + 1 == fe)
			return fail(err, errsz, (size_t)(eq - s) + 1, "empty "
			    "value");
		for (const char *q = eq + 1; q < fe; q++)
			if (!is_ext_value(*q))
				return fail(err, errsz, (size_t)(q - s), "bad "
				    "byte in value");
	}
	if (nrua != 1) {
		snprintf(err, errsz, nrua == 0 ? "no rua= field" :
		    "more than one rua= field");
		return -1;
	}
	return 0;
}
