/*
 * addr.h: socket addresses as text, for logs and messages.
 */
#ifndef ADDR_H
#define ADDR_H

#include <sys/socket.h>

#include <stddef.h>

/* Room for "[IPv6]:PORT" and a NUL. */
#define ADDR_TEXT_MAX	64

/*
 * Writes sa's address in out: "192.0.2.1" or "2001:db8::1" (an IPv4
 * address mapped into IPv6 as IPv4), and with port set "192.0.2.1:443"
 * or "[2001:db8::1]:443".  "?" for another family.  Returns out.
 */
char	*addr_format(const struct sockaddr *sa, int port, char *out,
	    size_t outsz);

/*
 * Splits "HOST", "HOST:PORT", "[IPv6]", "[IPv6]:PORT" or a bare IPv6
 * address (two colons or more, no port) into host (hostsz bytes) and
 * *port (defport when none is given).  HOST is not checked: a name or an
 * address.  Returns 0, or -1 for a malformed spec or a port outside 1 to
 * 65535.
 */
int	 addr_split(const char *spec, char *host, size_t hostsz,
	    unsigned *port, unsigned defport);

/*
 * The same, for numeric addresses only: "192.0.2.1", "192.0.2.1:53",
 * "2001:db8::1", "[2001:db8::1]:53", as a socket address (defport when
 * none is given).  Returns 0, or -1.
 */
int	 addr_parse(const char *spec, unsigned defport,
	    struct sockaddr_storage *ss, socklen_t *sl);

#endif /* ADDR_H */
