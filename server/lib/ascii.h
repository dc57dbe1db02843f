/*
 * ascii.h: ASCII case and hex, for host names and digests.
 *
 * Host names, keys and media types compare without case in ASCII only:
 * never the locale's tolower(), which may map other bytes too.
 */
#ifndef ASCII_H
#define ASCII_H

#include <stddef.h>

static inline char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Lower-cases the NUL-terminated s in place; returns s. */
static inline char *
ascii_lower_str(char *s)
{
	for (char *p = s; *p != '\0'; p++)
		*p = ascii_lower(*p);
	return s;
}

/* Copies n bytes of src to dst lower-cased, and a NUL after them. */
static inline void
ascii_lower_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = ascii_lower(src[i]);
	dst[n] = '\0';
}

/* The n bytes at p as 2n lower-case hex digits and a NUL, in out. */
static inline void
ascii_hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

#endif /* ASCII_H */
