/*
 * resp.h: HTTP/1.x responses as a client reads them (mta-stsctl's fetch
 * of a policy, the server's and the check's).  Pure: the bytes come from
 * the TLS client, and nothing here knows sockets or TLS.
 */
#ifndef RESP_H
#define RESP_H

#include <stddef.h>

#define RESP_BODY_MAX	65536	/* bytes of body taken */
#define RESP_HEAD_MAX	16384	/* bytes of status line and headers */

/* One response, as resp_parse() read it. */
struct resp {
	unsigned	 status;		/* HTTP status code */
	char		 ctype[128];		/* Content-Type value, "" if none */
	char		 location[256];		/* Location value, "" if none */
	char		 body[RESP_BODY_MAX + 1];	/* NUL-terminated */
	size_t		 bodylen;
	int		 toolarge;		/* failed: over a size cap */
};

/*
 * Parses a whole HTTP/1.x response, len bytes at r, read until the server
 * closed (clean: with a TLS close_notify; without one, only a
 * Content-Length or a chunked body shows nothing was cut off), into *out.
 * Headers must fit RESP_HEAD_MAX, the body RESP_BODY_MAX; a chunked body
 * is decoded (RFC 9112 section 7.1), any other transfer coding refused.
 * Returns 0, or -1 with why (the server's bytes are never echoed into
 * it).
 */
int	resp_parse(const unsigned char *r, size_t len, int clean,
	    struct resp *out, char *why, size_t whysz);

#endif /* RESP_H */
