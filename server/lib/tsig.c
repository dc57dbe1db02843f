/*
 * tsig.c: the TSIG key file.  See tsig.h.
 *
 * ldns reads only dnssec-keygen's "Private-key-format" files, not what
 * tsig-keygen writes, hence this small reader of named.conf's key
 * statement: a tokenizer for words, quoted strings, braces and
 * semicolons, then the one statement it may hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ascii.h"
#include "lib/file.h"
#include "lib/tsig.h"

#define TOKEN_MAX	(TSIG_SECRET_MAX + 1)

struct lex {
	const char	*p, *end;
	unsigned	 line;
	char		 tok[TOKEN_MAX + 1];
	int		 quoted;		/* tok was a quoted string */
	char		*err;
	size_t		 errsz;
};

static int	fail(struct lex *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
fail(struct lex *l, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(l->err, l->errsz, "line %u: ", l->line);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < l->errsz)
		vsnprintf(l->err + n, l->errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Skips white space and comments. */
static int
skip(struct lex *l)
{
	while (l->p < l->end) {
		if (*l->p == '\n') {
			l->line++;
			l->p++;
		} else if (*l->p == ' ' || *l->p == '\t' || *l->p == '\r')
			l->p++;
		else if (*l->p == '#' || (*l->p == '/' && l->p + 1 < l->end &&
		    l->p[1] == '/')) {
			while (l->p < l->end && *l->p != '\n')
				l->p++;
		} else if (*l->p == '/' && l->p + 1 < l->end && l->p[1] == '*') {
			l->p += 2;
			while (l->p + 1 < l->end && !(l->p[0] == '*' &&
			    l->p[1] == '/')) {
				if (*l->p == '\n')
					l->line++;
				l->p++;
			}
			if (l->p + 1 >= l->end)
				return fail(l, "comment not closed");
			l->p += 2;
		} else
			break;
	}
	return 0;
}

/* The next token into l->tok: 1, or 0 at the end, or -1. */
static int
next(struct lex *l)
{
	size_t	 n = 0;

	if (skip(l) == -1)
		return -1;
	if (l->p == l->end)
		return 0;
	l->quoted = 0;
	if (*l->p == '{' || *l->p == '}' || *l->p == ';') {
		l->tok[0] = *l->p++;
		l->tok[1] = '\0';
		return 1;
	}
	if (*l->p == '"') {
		l->quoted = 1;
		for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
			if (*l->p == '\n' || *l->p == '\0' || *l->p == '\\')
				return fail(l, "newline, NUL or backslash in a "
				    "quoted string");
			if (n == TOKEN_MAX)
				return fail(l, "quoted string too long");
			l->tok[n++] = *l->p;
		}
		if (l->p == l->end)
			return fail(l, "quoted string not closed");
		l->p++;
		l->tok[n] = '\0';
		return 1;
	}
	while (l->p < l->end && strchr(" \t\r\n{};\"#", *l->p) == NULL) {
		if ((unsigned char)*l->p < 0x21 || (unsigned char)*l->p > 0x7e)
			return fail(l, "control character or non-ASCII byte");
		if (n == TOKEN_MAX)
			return fail(l, "word too long");
		l->tok[n++] = *l->p++;
	}
	l->tok[n] = '\0';
	return 1;
}

/* The next token must be tok. */
static int
expect(struct lex *l, const char *tok, const char *after)
{
	int	 rc = next(l);

	if (rc == -1)
		return -1;
	if (rc == 0 || l->quoted || strcmp(l->tok, tok) != 0)
		return fail(l, "expected '%s' after %s", tok, after);
	return 0;
}

/* The value of a setting: a token other than a brace or semicolon. */
static int
value(struct lex *l)
{
	int	 rc = next(l);

	if (rc == -1)
		return -1;
	if (rc == 0)
		return fail(l, "the file ends inside the key statement");
	if (!l->quoted && strchr("{};", l->tok[0]) != NULL)
		return fail(l, "a value is missing before '%c'", l->tok[0]);
	return 0;
}

/* Decoded length of base64 s, or -1 if it is not base64. */
static long
b64_len(const char *s)
{
	size_t	 n = strlen(s), pad = 0;

	if (n == 0 || n % 4 != 0)
		return -1;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '+' || s[i] == '/'))
			return -1;
	return (long)(n / 4 * 3 - pad);
}

static int
check_name(struct lex *l, struct tsig_key *k)
{
	size_t	 n = strlen(l->tok);

	if (n > 0 && l->tok[n - 1] == '.')
		l->tok[--n] = '\0';
	if (n == 0 || n > TSIG_NAME_MAX || strspn(l->tok, "abcdefghijklmnop"
	    "qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n ||
	    l->tok[0] == '.' || strstr(l->tok, "..") != NULL)
		return fail(l, "key name '%.64s' is not a domain name",
		    l->tok);
	memcpy(k->name, l->tok, n + 1);
	return 0;
}

static int
check_algorithm(struct lex *l, struct tsig_key *k)
{
	char	 a[sizeof(k->algorithm) + 16];
	size_t	 n = strlen(l->tok);

	if (n >= sizeof(a))
		return fail(l, "unknown algorithm");
	ascii_lower_copy(a, l->tok, n);
	/* The long name of HMAC-MD5 in RFC 8945 is also in use. */
	if (strcmp(a, "hmac-md5") == 0 || strcmp(a, "hmac-sha1") == 0 ||
	    strcmp(a, "hmac-md5.sig-alg.reg.int") == 0)
		return fail(l, "algorithm %s is too weak: make a key with "
		    "'tsig-keygen -a hmac-sha256 NAME'", a);
	if (strcmp(a, "hmac-sha224") == 0 || strcmp(a, "hmac-sha384") == 0)
		return fail(l, "algorithm %s is not supported (ldns signs "
		    "with hmac-sha256 and hmac-sha512 only)", a);
	if (strcmp(a, "hmac-sha256") != 0 && strcmp(a, "hmac-sha512") != 0)
		return fail(l, "unknown algorithm '%.32s' (hmac-sha256 or "
		    "hmac-sha512)", l->tok);
	memcpy(k->algorithm, a, n + 1);
	return 0;
}

/* see tsig.h */
int
tsig_parse(const char *src, size_t len, struct tsig_key *k, char *err,
    size_t errsz)
{
	struct lex	 l;
	long		 bytes;
	int		 rc, keys = 0;

	memset(k, 0, sizeof(*k));
	memset(&l, 0, sizeof(l));
	l.p = src;
	l.end = src + len;
	l.line = 1;
	l.err = err;
	l.errsz = errsz;
	if (memchr(src, '\0', len) != NULL)
		return fail(&l, "NUL byte in the file");
	while ((rc = next(&l)) == 1) {
		if (l.quoted || strcmp(l.tok, "key") != 0)
			goto bad;
		if (keys++ > 0) {
			fail(&l, "a second key: the file must hold one");
			goto bad_out;
		}
		if ((rc = next(&l)) != 1) {
			if (rc == 0)
				fail(&l, "the file ends after 'key'");
			goto bad_out;
		}
		if (!l.quoted && strchr("{};", l.tok[0]) != NULL) {
			fail(&l, "expected the key's name after 'key'");
			goto bad_out;
		}
		if (check_name(&l, k) == -1)
			goto bad_out;
		if (expect(&l, "{", "the key's name") == -1)
			goto bad_out;
		for (;;) {
			if ((rc = next(&l)) != 1) {
				if (rc == 0)
					fail(&l, "the file ends inside the key "
					    "statement");
				goto bad_out;
			}
			if (!l.quoted && strcmp(l.tok, "}") == 0)
				break;
			if (!l.quoted && strcmp(l.tok, "algorithm") == 0) {
				if (k->algorithm[0] != '\0') {
					fail(&l, "algorithm given twice");
					goto bad_out;
				}
				if (value(&l) == -1 ||
				    check_algorithm(&l, k) == -1)
					goto bad_out;
			} else if (!l.quoted && strcmp(l.tok, "secret") == 0) {
				if (k->secret[0] != '\0') {
					fail(&l, "secret given twice");
					goto bad_out;
				}
				if (value(&l) == -1)
					goto bad_out;
				if (!l.quoted) {
					fail(&l, "the secret must be a quoted "
					    "string");
					goto bad_out;
				}
				if ((bytes = b64_len(l.tok)) == -1 ||
				    strlen(l.tok) > TSIG_SECRET_MAX) {
					fail(&l, "the secret is not base64 (of "
					    "at most 256 bytes)");
					goto bad_out;
				}
				if (bytes < 16) {
					fail(&l, "the secret is shorter than "
					    "16 bytes: make a key with "
					    "'tsig-keygen -a hmac-sha256 "
					    "NAME'");
					goto bad_out;
				}
				memcpy(k->secret, l.tok, strlen(l.tok) + 1);
				k->bytes = (size_t)bytes;
			} else {
				fail(&l, "unknown statement '%.32s' in the key "
				    "(algorithm and secret only)", l.tok);
				goto bad_out;
			}
			if (expect(&l, ";", "a key setting") == -1)
				goto bad_out;
		}
		if (expect(&l, ";", "the key statement's '}'") == -1)
			goto bad_out;
		if (k->algorithm[0] == '\0' || k->secret[0] == '\0') {
			fail(&l, "the key has no %s", k->algorithm[0] == '\0' ?
			    "algorithm" : "secret");
			goto bad_out;
		}
	}
	if (rc == -1)
		goto bad_out;
	if (keys == 0) {
		fail(&l, "no key statement (key \"NAME\" { algorithm ...; "
		    "secret \"...\"; };)");
		goto bad_out;
	}
	explicit_bzero(l.tok, sizeof(l.tok));
	return 0;
bad:
	fail(&l, "expected 'key', not '%.32s'", l.quoted ? "a quoted string" :
	    l.tok);
bad_out:
	explicit_bzero(l.tok, sizeof(l.tok));
	tsig_clear(k);
	return -1;
}

/* see tsig.h */
int
tsig_read(const char *path, struct tsig_key *k, char *err, size_t errsz)
{
	char	*buf, why[200];
	size_t	 len;
	int	 rc, saved;

	memset(k, 0, sizeof(*k));
	if (file_read(AT_FDCWD, path, TSIG_FILE_MAX, 0, &buf, &len) == -1) {
		saved = errno;
		snprintf(err, errsz, "%s: %s", path, saved == EFBIG ?
		    "larger than a key file" : strerror(saved));
		errno = saved;
		return -1;
	}
	rc = tsig_parse(buf, len, k, why, sizeof(why));
	explicit_bzero(buf, len);
	free(buf);
	if (rc == -1) {
		/* "line N: why" becomes "PATH:N: why". */
		if (strncmp(why, "line ", 5) == 0)
			snprintf(err, errsz, "%s:%s", path, why + 5);
		else
			snprintf(err, errsz, "%s: %s", path, why);
		errno = EINVAL;
	}
	return rc;
}

/* see tsig.h */
void
tsig_clear(struct tsig_key *k)
{
	explicit_bzero(k, sizeof(*k));
}
