/*
 * smtp.h: the plaintext start of an SMTP session up to STARTTLS
 * (RFC 5321, RFC 3207), as mta-stsctl check opens it to an MX host.
 *
 * The server's replies are hostile bytes: smtp_reply_parse() is pure and
 * bounds lines, lines per reply and bytes per reply; smtp_starttls()
 * bounds every read by one deadline.
 */
#ifndef SMTP_H
#define SMTP_H

#include <sys/socket.h>

#include <stddef.h>

#define SMTP_LINE_MAX	1000	/* bytes of one reply line with CRLF */
#define SMTP_LINES_MAX	64	/* lines of one reply */
#define SMTP_TEXT_MAX	120	/* reply text kept for messages */

struct smtp_reply {
	unsigned	 code;			/* 200 to 599 */
	unsigned	 lines;
	int		 starttls;		/* a line's text is STARTTLS */
	char		 text[SMTP_TEXT_MAX + 1];	/* first line, printable */
};

/*
 * Parses the one reply at the start of buf (len bytes).  Returns the
 * bytes it took (> 0) with *r filled in, 0 when more bytes are needed, or
 * -1 with why (the server's bytes are not echoed) for a malformed or
 * over-long reply.
 */
int	smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r,
	    char *why, size_t whysz);

/*
 * Connects to addr, reads the greeting, says EHLO helo, asks STARTTLS and
 * reads its 220, all within timeout_ms.  Returns the connected socket,
 * ready for the TLS handshake, or -1 with the step and the reason in err.
 * A server that sends bytes after its 220 (before TLS) is refused: they
 * would be injected into the TLS session.
 */
int	smtp_starttls(const struct sockaddr *addr, socklen_t addrlen,
	    const char *helo, int timeout_ms, char *err, size_t errsz);

#endif /* SMTP_H */
