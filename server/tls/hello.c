/*
 * hello.c: the server name and session in a connection's first bytes,
 * read ahead of BearSSL (a ClientHello in one record).  See tls.h and
 * internal.h.
 */
#include <stddef.h>
#include <string.h>

#include "lib/ascii.h"
#include "tls/internal.h"
#include "tls/tls.h"

/* hello_parse() but for emptying out when it returns 0. */
static int
hello_walk(const unsigned char *p, size_t n, char *out, size_t outsz,
    struct hello_view *hv)
{
	size_t	 off, end, el, ll, nl;
	int	 found = 0;

	out[0] = '\0';
	memset(hv, 0, sizeof(*hv));
	if (n < 5 || p[0] != 22 || be16(p + 3) > n - 5)
		return 0;
	n = be16(p + 3);
	p += 5;
	if (n < 4 || p[0] != 1 || ((size_t)p[1] << 16 | be16(p + 2)) > n - 4)
		return 0;
	n = (size_t)p[1] << 16 | be16(p + 2);
	p += 4;
	off = 2 + 32;				/* version, random */
	if (off >= n)
		return 0;
	hv->sid = p + off + 1;
	hv->sidlen = p[off];
	off += 1 + p[off];			/* session id */
	if (off + 2 > n)
		return 0;
	hv->suites = p + off + 2;
	hv->suiteslen = be16(p + off);
	off += 2 + be16(p + off);		/* cipher suites */
	if (off + 1 > n)
		return 0;
	off += 1 + p[off];			/* compression */
	if (off == n)
		return 1;			/* no extensions */
	if (off + 2 > n || (end = off + 2 + be16(p + off)) > n)
		return 0;
	/*
	 * Every extension is walked: of two server_name extensions (RFC
	 * 5246 forbids two of a type) BearSSL keeps the second, and of two
	 * names in one the last, so the name is known here only when there
	 * is one extension with one name in it.
	 */
	for (off += 2; off + 4 <= end; off += el) {
		el = be16(p + off + 2);
		off += 4;
		if (el > end - off)
			return 0;
		if (be16(p + off - 4) != 0)	/* server_name */
			continue;
		if (found++)
			return 0;
		if (el < 5 || (ll = be16(p + off)) > el - 2 || ll < 3 ||
		    p[off + 2] != 0 || (nl = be16(p + off + 3)) != ll - 3 ||
		    nl == 0 || nl >= outsz)
			return 0;
		for (size_t i = 0; i < nl; i++) {
			unsigned char c = p[off + 5 + i];

			if (c <= 0x20 || c >= 0x7f)
				return 0;
			out[i] = ascii_lower((char)c);
		}
		out[nl] = '\0';
	}
	return off == end;
}

/* see internal.h */
int
hello_parse(const unsigned char *p, size_t n, char *out, size_t outsz,
    struct hello_view *hv)
{
	int r = hello_walk(p, n, out, outsz, hv);

	if (r == 0)
		out[0] = '\0';
	return r;
}

/* see tls.h */
int
tls_hello_name(const unsigned char *p, size_t n, char *out, size_t outsz)
{
	struct hello_view hv;

	return hello_parse(p, n, out, outsz, &hv);
}
