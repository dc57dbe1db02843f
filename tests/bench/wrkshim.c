/*
 * wrkshim.c: an LD_PRELOAD library for wrk (an OpenSSL client) used by
 * tests/bench/bench.sh.
 *
 * wrk names the server by the host of its URL, an IP address here, and
 * keeps the session of each connection across reconnects, so that with
 * "Connection: close" every handshake after the first is resumed.  One
 * interposed function, SSL_connect(), changes both at the start of each
 * handshake (SSL_in_before(): nothing sent yet):
 *
 *   WRKSHIM_SNI=name	the server name sent instead of wrk's
 *   WRKSHIM_NORESUME=1	forget the session: every handshake is full
 *   WRKSHIM_STATS=file	at exit, write "handshakes N reused M" there, so
 *			the bench can check what kind of handshakes it
 *			measured
 *
 * Build: cc -shared -fPIC -o wrkshim.so wrkshim.c -ldl -lssl
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/ssl.h>

int	SSL_connect(SSL *);

static atomic_ulong	handshakes;	/* completed by SSL_connect() */
static atomic_ulong	reused;		/* of those, resumed */

int
SSL_connect(SSL *s)
{
	static int (*real)(SSL *);
	const char *sni;
	int r;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "SSL_connect"); /* POSIX */
	if (SSL_in_before(s)) {
		if ((sni = getenv("WRKSHIM_SNI")) != NULL)
			SSL_set_tlsext_host_name(s, sni);
		if (getenv("WRKSHIM_NORESUME") != NULL)
			SSL_set_session(s, NULL);
	}
	if ((r = real(s)) == 1) {
		atomic_fetch_add(&handshakes, 1);
		if (SSL_session_reused(s))
			atomic_fetch_add(&reused, 1);
	}
	return r;
}

static void __attribute__((destructor))
shim_stats(void)
{
	const char *path;
	FILE *f;

	if ((path = getenv("WRKSHIM_STATS")) == NULL ||
	    (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "handshakes %lu reused %lu\n",
	    (unsigned long)atomic_load(&handshakes),
	    (unsigned long)atomic_load(&reused));
	fclose(f);
}
