/*
 * pem.c: PEM objects.  See pem.h.
 */
#include <string.h>

#include "lib/pem.h"

/* The 6-bit value of each base64 character, 64 for '=', 0xff for others. */
static const uint8_t b64[256] = {
	['A'] = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
	18, 19, 20, 21, 22, 23, 24, 25,
	['a'] = 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
	['0'] = 52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
	['+'] = 62, ['/'] = 63, ['='] = 64
};

static int
is_b64(unsigned char c)
{
	return c == 'A' || b64[c] != 0;
}

/* The line at p (before end): its length without the newline. */
static size_t
line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return (size_t)((nl != NULL ? nl : end) - p);
}

/* Length of the line without trailing spaces, tabs and a CR. */
static size_t
trim(const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
	    p[n - 1] == '\r'))
		n--;
	return n;
}

/*
 * If the line (n bytes, trimmed) is "-----<word> LABEL-----", the label's
 * start and length; else -1.
 */
static int
boundary(const char *p, size_t n, const char *word, const char **label,
    size_t *llen)
{
	size_t wl = strlen(word);

	if (n < 5 + wl + 5 || memcmp(p, "-----", 5) != 0 ||
	    memcmp(p + 5, word, wl) != 0 || memcmp(p + n - 5, "-----", 5) != 0)
		return -1;
	*label = p + 5 + wl;
	*llen = n - 10 - wl;
	return 0;
}

/* see pem.h */
void
pem_init(struct pem_reader *r, const char *buf, size_t len)
{
	r->p = buf;
	r->end = buf + len;
	r->err = 0;
}

/* see pem.h */
int
pem_next(struct pem_reader *r, char label[PEM_LABEL_MAX + 1], uint8_t *out,
    size_t outsz, size_t *outlen)
{
	const char	*p = r->p, *end = r->end, *l, *el;
	size_t		 n, ll, ell, o = 0;
	uint32_t	 acc = 0;
	unsigned	 nacc = 0, pad = 0;

	if (r->err != 0)
		return r->err;
	/* Junk up to a BEGIN line. */
	for (;;) {
		if (p >= end)
			goto done;
		n = line_len(p, end);
		if (boundary(p, trim(p, n), "BEGIN ", &l, &ll) == 0)
			break;
		p += n + (p + n < end);
	}
	if (ll == 0 || ll > PEM_LABEL_MAX)
		goto malformed;
	for (size_t i = 0; i < ll; i++)
		if (l[i] < 0x20 || l[i] > 0x7e)
			goto malformed;
	memcpy(label, l, ll);
	label[ll] = '\0';
	p += n + (p + n < end);

	for (;;) {
		if (p >= end)
			return r->err = PEM_INCOMPLETE;
		n = line_len(p, end);
		ll = trim(p, n);
		if (ll >= 5 && memcmp(p, "-----", 5) == 0)
			break;
		for (size_t i = 0; i < ll; i++) {
			unsigned char c = (unsigned char)p[i];
			unsigned v = b64[c];

			if (!is_b64(c))
				goto malformed;
			if (v == 64) {
				pad++;
				v = 0;
			} else if (pad > 0)
				goto malformed;	/* data after '=' */
			acc = acc << 6 | v;
			if (++nacc < 4)
				continue;
			if (pad > 2 || o + 3 - pad > outsz)
				goto malformed;
			out[o++] = (uint8_t)(acc >> 16);
			if (pad < 2)
				out[o++] = (uint8_t)(acc >> 8);
			if (pad < 1)
				out[o++] = (uint8_t)acc;
			acc = 0;
			nacc = 0;
			if (pad > 0)
				pad = 3;	/* nothing may follow */
		}
		p += n + (p + n < end);
	}
	if (nacc != 0 || boundary(p, ll, "END ", &el, &ell) == -1 ||
	    ell != strlen(label) || memcmp(el, label, ell) != 0)
		goto malformed;
	r->p = p + n + (p + n < end);
	*outlen = o;
	return PEM_OBJECT;
done:
	r->p = end;
	return PEM_DONE;
malformed:
	return r->err = PEM_MALFORMED;
}
