/*
 * addr.c: socket addresses as text.  See addr.h.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>

#include "lib/addr.h"

/* see addr.h */
char *
addr_format(const struct sockaddr *sa, int port, char *out, size_t outsz)
{
	const struct sockaddr_in	*s4 = (const void *)sa;
	const struct sockaddr_in6	*s6 = (const void *)sa;
	char				 a[INET6_ADDRSTRLEN];
	int				 v6 = 0;
	unsigned			 p = 0;

	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], a, sizeof(a));
		p = ntohs(s6->sin6_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		p = ntohs(s6->sin6_port);
		v6 = 1;
	} else if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		p = ntohs(s4->sin_port);
	} else {
		snprintf(out, outsz, "?");
		return out;
	}
	if (!port)
		snprintf(out, outsz, "%s", a);
	else
		snprintf(out, outsz, v6 ? "[%s]:%u" : "%s:%u", a, p);
	return out;
}
