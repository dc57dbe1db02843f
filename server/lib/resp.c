/*
 * resp.c: HTTP/1.x responses as a client reads them.  See resp.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/resp.h"

static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
hdr_is(const unsigned char *name, size_t len, const char *want)
{
	return len == strlen(want) &&
	    strncasecmp((const char *)name, want, len) == 0;
}

/* The value of a hexadecimal digit, or -1. */
static int
hexval(unsigned char c)
{
	static const char	 digits[] = "0123456789abcdef";
	const char		*d;

	if (c >= 'A' && c <= 'F')
		c += 'a' - 'A';
	d = c != '\0' ? strchr(digits, c) : NULL;
	return d != NULL ? (int)(d - digits) : -1;
}

/*
 * Decodes a chunked body (RFC 9112 section 7.1), n bytes at p, into
 * out->body: chunk extensions and trailers are skipped, the whole must
 * end with the last chunk and the empty line, and fit the body cap.
 */
static int
dechunk(const unsigned char *p, size_t n, struct resp *out,
    char *why, size_t whysz)
{
	const unsigned char	*eol;
	size_t			 i = 0, k, size, blen = 0;
	int			 h;

	for (;;) {
		/* chunk-size [ chunk-ext ] CRLF */
		if ((eol = memmem(p + i, n - i, "\r\n", 2)) == NULL)
			goto cut;
		size = 0;
		for (k = 0; p + i + k < eol && (h = hexval(p[i + k])) != -1;
		    k++) {
			if (k == 8) {
				snprintf(why, whysz, "chunk size too long");
				return -1;
			}
			size = size * 16 + (size_t)h;
		}
		if (k == 0 || (p + i + k < eol && p[i + k] != ';' &&
		    p[i + k] != ' ' && p[i + k] != '\t')) {
			snprintf(why, whysz, "malformed chunk size");
			return -1;
		}
		i = (size_t)(eol - p) + 2;
		if (size == 0)
			break;
		if (size > RESP_BODY_MAX - blen) {
			snprintf(why, whysz, "body longer than %d bytes",
			    RESP_BODY_MAX);
			out->toolarge = 1;
			return -1;
		}
		if (n - i < size + 2)
			goto cut;
		memcpy(out->body + blen, p + i, size);
		blen += size;
		i += size;
		if (p[i] != '\r' || p[i + 1] != '\n') {
			snprintf(why, whysz, "chunk not followed by CRLF");
			return -1;
		}
		i += 2;
	}
	/* Trailer lines, up to the empty one. */
	for (;;) {
		if ((eol = memmem(p + i, n - i, "\r\n", 2)) == NULL)
			goto cut;
		k = (size_t)(eol - p) + 2;
		if (eol == p + i) {
			i = k;
			break;
		}
		i = k;
	}
	if (i != n) {
		snprintf(why, whysz, "%zu bytes after the chunked body", n - i);
		return -1;
	}
	out->body[blen] = '\0';
	out->bodylen = blen;
	return 0;
cut:
	snprintf(why, whysz, "chunked body cut off");
	return -1;
}

/* see resp.h */
int
resp_parse(const unsigned char *r, size_t len, int clean,
    struct resp *out, char *why, size_t whysz)
{
	const unsigned char	*end, *p, *eol, *colon, *v, *ve;
	size_t			 hlen, blen, clen = 0, n;
	int			 have_clen = 0, have_ctype = 0, chunked = 0;

	out->status = 0;
	out->ctype[0] = out->location[0] = '\0';
	out->bodylen = 0;
	out->toolarge = 0;
	if (len == 0) {
		snprintf(why, whysz, "server closed the connection without "
		    "a response");
		return -1;
	}
	n = len < RESP_HEAD_MAX ? len : RESP_HEAD_MAX;
	if ((end = memmem(r, n, "\r\n\r\n", 4)) == NULL) {
		if (len >= RESP_HEAD_MAX) {
			snprintf(why, whysz, "status line and headers longer "
			    "than %d bytes", RESP_HEAD_MAX);
			out->toolarge = 1;
		} else
			snprintf(why, whysz, "response ends within the "
			    "headers");
		return -1;
	}
	hlen = (size_t)(end - r) + 4;

	/* HTTP/1.x SSS[ reason] */
	eol = memmem(r, hlen, "\r\n", 2);
	if (eol - r < 12 || memcmp(r, "HTTP/1.", 7) != 0 ||
	    (r[7] != '0' && r[7] != '1') || r[8] != ' ' ||
	    r[9] < '1' || r[9] > '5' || r[10] < '0' || r[10] > '9' ||
	    r[11] < '0' || r[11] > '9' || (eol - r > 12 && r[12] != ' ')) {
		snprintf(why, whysz, "malformed status line");
		return -1;
	}
	out->status = (unsigned)(r[9] - '0') * 100 +
	    (unsigned)(r[10] - '0') * 10 + (unsigned)(r[11] - '0');
	if (out->status < 200) {
		snprintf(why, whysz, "interim status %u not expected",
		    out->status);
		return -1;
	}

	/* Header lines up to the empty line at end + 2. */
	for (p = eol + 2; p < end + 2; p = eol + 2) {
		eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		if (*p == ' ' || *p == '\t') {
			snprintf(why, whysz, "obsolete header line folding");
			return -1;
		}
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL ||
		    colon == p) {
			snprintf(why, whysz, "header line without a name");
			return -1;
		}
		for (v = p; v < colon; v++)
			if (!tchar(*v)) {
				snprintf(why, whysz, "malformed header name");
				return -1;
			}
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			;
		for (const unsigned char *q = v; q < ve; q++)
			if ((*q < 0x20 && *q != '\t') || *q > 0x7e) {
				snprintf(why, whysz, "header %.*s: control "
				    "or non-ASCII byte 0x%02x",
				    (int)(colon - p < 64 ? colon - p : 64),
				    (const char *)p, *q);
				return -1;
			}
		n = (size_t)(ve - v);

		if (hdr_is(p, (size_t)(colon - p), "content-type")) {
			if (have_ctype++) {
				snprintf(why, whysz, "two Content-Type "
				    "headers");
				return -1;
			}
			if (n >= sizeof(out->ctype)) {
				snprintf(why, whysz, "Content-Type longer "
				    "than %zu bytes", sizeof(out->ctype) - 1);
				return -1;
			}
			memcpy(out->ctype, v, n);
			out->ctype[n] = '\0';
		} else if (hdr_is(p, (size_t)(colon - p), "location")) {
			if (n >= sizeof(out->location))
				n = sizeof(out->location) - 1;
			memcpy(out->location, v, n);
			out->location[n] = '\0';
		} else if (hdr_is(p, (size_t)(colon - p),
		    "content-length")) {
			size_t cl = 0;

			for (const unsigned char *q = v; q < ve; q++) {
				if (*q < '0' || *q > '9') {
					snprintf(why, whysz, "malformed "
					    "Content-Length");
					return -1;
				}
				/* Saturates: anything over the cap is over. */
				if (cl <= RESP_BODY_MAX)
					cl = cl * 10 + (size_t)(*q - '0');
			}
			if (n == 0 || (have_clen && cl != clen)) {
				snprintf(why, whysz, n == 0 ? "empty "
				    "Content-Length" : "conflicting "
				    "Content-Length headers");
				return -1;
			}
			if (cl > RESP_BODY_MAX) {
				snprintf(why, whysz, "Content-Length over %d "
				    "bytes", RESP_BODY_MAX);
				out->toolarge = 1;
				return -1;
			}
			have_clen = 1;
			clen = cl;
		} else if (hdr_is(p, (size_t)(colon - p),
		    "transfer-encoding")) {
			if (chunked++ || n != 7 ||
			    strncasecmp((const char *)v, "chunked", 7) != 0) {
				snprintf(why, whysz, "Transfer-Encoding other "
				    "than one chunked");
				return -1;
			}
		}
	}

	if (chunked && have_clen) {
		snprintf(why, whysz, "both Content-Length and "
		    "Transfer-Encoding");
		return -1;
	}
	if (chunked)
		return dechunk(r + hlen, len - hlen, out, why, whysz);
	blen = len - hlen;
	if (have_clen && blen < clen) {
		snprintf(why, whysz, "response cut off after %zu of %zu body "
		    "bytes", blen, clen);
		return -1;
	}
	if (have_clen && blen > clen) {
		snprintf(why, whysz, "%zu bytes after the body (Content-Length "
		    "%zu)", blen - clen, clen);
		return -1;
	}
	if (!have_clen && !clean) {
		snprintf(why, whysz, "connection closed without close_notify "
		    "and no Content-Length: the body may be cut off");
		return -1;
	}
	if (blen > RESP_BODY_MAX) {
		snprintf(why, whysz, "body longer than %d bytes",
		    RESP_BODY_MAX);
		out->toolarge = 1;
		return -1;
	}
	memcpy(out->body, r + hlen, blen);
	out->body[blen] = '\0';
	out->bodylen = blen;
	return 0;
}

