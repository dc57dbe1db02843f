/*
 * addr.c: socket addresses as text.  See addr.h.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* see addr.h */
int
addr_split(const char *spec, char *host, size_t hostsz, unsigned *port,
    unsigned defport)
{
	const char	*h = spec, *colon = NULL, *end;
	size_t		 hl;
	unsigned long	 p = defport;

	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL)
			return -1;
		h = spec + 1;
		hl = (size_t)(end - h);
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1] != '\0')
			return -1;
	} else if ((colon = strchr(spec, ':')) != NULL &&
	    strchr(colon + 1, ':') != NULL) {
		colon = NULL;		/* a bare IPv6 address */
		hl = strlen(spec);
	} else
		hl = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	if (hl == 0 || hl >= hostsz)
		return -1;
	if (colon != NULL) {
		char *e;

		if (colon[1] < '0' || colon[1] > '9' || strlen(colon + 1) > 5)
			return -1;
		p = strtoul(colon + 1, &e, 10);
		if (*e != '\0' || p == 0 || p > 65535)
			return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned)p;
	return 0;
}

/* see addr.h */
int
addr_parse(const char *spec, unsigned defport, struct sockaddr_storage *ss,
    socklen_t *sl)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN];
	unsigned		 port;

	memset(ss, 0, sizeof(*ss));
	if (addr_split(spec, host, sizeof(host), &port, defport) == -1)
		return -1;
	if (spec[0] != '[' && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		*sl = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		*sl = sizeof(*s6);
		return 0;
	}
	return -1;
}
