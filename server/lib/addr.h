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

#endif /* ADDR_H */
