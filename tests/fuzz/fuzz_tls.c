/*
 * fuzz_tls.c: libFuzzer target for the TLS side of a connection (tls.c
 * over BearSSL), driven as server.c drives it.
 *
 * Once per process: the credentials of tests/fuzz/corpus/pem/ (TEST keys
 * made for the corpus, so every file there must load), found beside this
 * binary.  Per run: a fresh session cache (tls_cache_init()), a
 * tls_conn started with a resolve callback that serves the names those
 * certificates carry ("" as mta-sts.example.com), a socketpair whose
 * other end gets the input, its writing side then shut, and at most
 * PUMPS calls of tls_conn_pump() while what the server sends is read and
 * dropped and what reaches the plaintext side is read.
 *
 * The engine's random generator is seeded again, with a constant, after
 * tls_conn_start(): a run then depends on its input alone, and a client
 * flight recorded against the same seed (see RECORDER below) completes
 * the handshake when replayed, so that the seeds reach the encrypted
 * records, the plaintext side and the NUL answer.  This needs the engine
 * at the start of struct tls_conn, which tls/conn.c says and
 * which is checked here.
 *
 * Beyond "no crash":
 *   - the plaintext side never sees a NUL byte: the filter, as the
 *     daemon's (http_screen()), refuses one with an answer;
 *   - open_app is called at most once, and only once established;
 *   - an established connection had its server name accepted by the
 *     resolve callback, and tls_conn_server_name() is that name;
 *   - resolve is given a name shorter than 256 bytes, and, when
 *     tls_hello_name() reads one in the first 4096 bytes as peek_hello()
 *     does, the same name but for case (session resumption compares the
 *     two).
 *
 * RECORDER: built with -DFUZZ_TLS_RECORDER (and without
 * -fsanitize=fuzzer), this file is a one-connection TLS server on
 * 127.0.0.1:PORT with the same credentials and seed, which writes what
 * the client sent to FILE, and answers one request with a fixed 200:
 *   clang -std=c17 -D_GNU_SOURCE -DFUZZ_TLS_RECORDER -Iserver \
 *       -o tests/fuzz/work/tls-recorder tests/fuzz/fuzz_tls.c \
 *       server/tls/{init,cred,scan,names,error,sha2ni,conn,cache,hello}.c \
 *       server/lib/der.c server/lib/file.c \
 *       server/lib/log.c server/lib/map.c server/lib/pem.c -lbearssl
 *   tests/fuzz/work/tls-recorder 18556 tests/fuzz/corpus/tls/NAME &
 *   curl -k --resolve mta-sts.example.com:18556:127.0.0.1 \
 *       https://mta-sts.example.com:18556/.well-known/mta-sts.txt
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bearssl.h>

#include "lib/log.h"
#include "tls/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NOW		1796000000	/* 2026-12-01: the test certificates are valid */
#define DEFAULT_HOST	"mta-sts.example.com"
#define PUMPS		64
#define CACHE		16		/* sessions */
#define SEED		"mta-stsd fuzz_tls: not random"

static const char nul_answer[] = "HTTP/1.1 400 Bad Request\r\n"
    "Content-Length: 12\r\nConnection: close\r\n\r\nbad request\n";

static struct tls_certs	*certs;

struct run {
	int		 app[2];	/* app[0] the server's, app[1] ours */
	int		 opened;
	int		 established;	/* when open_app was called */
	int		 resolved, accepted;
	char		 name[256];	/* the last name resolve was given */
	struct tls_conn	*tc;
};

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_tls: invariant broken: %s\n", what);
		abort();
	}
}

static int
resolve(void *arg, const char *name, struct tls_cred **ec,
    struct tls_cred **rsa)
{
	struct run	*r = arg;

	check(strlen(name) < sizeof(r->name), "server name of 256 bytes");
	r->resolved++;
	snprintf(r->name, sizeof(r->name), "%s", name);
	tls_certs_find(certs, name[0] != '\0' ? name : DEFAULT_HOST, NOW, ec,
	    rsa, NULL, 0);
	if (*ec == NULL && *rsa == NULL)
		return 0;
	r->accepted++;
	return 1;
}

static int
open_app(void *arg)
{
	struct run	*r = arg;

	check(r->opened == 0, "open_app called twice");
	r->opened = 1;
	r->established = tls_conn_established(r->tc);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    r->app) == -1)
		return -1;
	return r->app[0];
}

/* Loads the test credentials from corpus/pem beside this binary. */
static void
setup(void)
{
	char		 exe[PATH_MAX], dir[PATH_MAX + 16], *slash;
	ssize_t		 n;
	struct tls_cred	*ec, *rsa;

	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LVL_ERROR);
	tls_init();
	if (tls_cache_init(CACHE) == -1)
		abort();
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
		abort();
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	/* tests/fuzz/fuzz_tls, or the recorder in tests/fuzz/work/. */
	snprintf(dir, sizeof(dir), "%s/corpus/pem", exe);
	if (access(dir, F_OK) == -1)
		snprintf(dir, sizeof(dir), "%s/../corpus/pem", exe);
	if ((certs = tls_certs_scan(dir)) == NULL) {
		fprintf(stderr, "fuzz_tls: %s: cannot scan\n", dir);
		abort();
	}
	tls_certs_find(certs, DEFAULT_HOST, NOW, &ec, &rsa, NULL, 0);
	if (ec == NULL || rsa == NULL) {
		fprintf(stderr, "fuzz_tls: %s: no ECDSA and RSA credential "
		    "for %s\n", dir, DEFAULT_HOST);
		abort();
	}
}

/* The daemon's filter refuses a NUL byte, as this one. */
static const char *
filter(void *arg, const unsigned char *p, size_t len, size_t *replylen)
{
	(void)arg;
	if (memchr(p, '\0', len) == NULL)
		return NULL;
	*replylen = sizeof(nul_answer) - 1;
	return nul_answer;
}

/*
 * Seeds the engine's generator with a constant.  The engine follows the
 * record buffer at the start of struct tls_conn (tls.c); its policy
 * pointer, set by tls_conn_start(), points just past it, which is
 * checked.
 */
static void
reseed(struct tls_conn *tc)
{
	size_t			 al = _Alignof(br_ssl_server_context);
	size_t			 off = (BR_SSL_BUFSIZE_MONO + al - 1) &
				    ~(al - 1);
	br_ssl_server_context	*sc = (br_ssl_server_context *)(void *)
				    ((unsigned char *)tc + off);
	const unsigned char	*past = (const unsigned char *)sc +
				    sizeof(*sc);
	const unsigned char	*pol;

	pol = (const unsigned char *)(const void *)sc->policy_vtable;
	if (pol < past || pol > past + 16) {
		fprintf(stderr, "fuzz_tls: struct tls_conn no longer starts "
		    "with the engine\n");
		abort();
	}
	br_hmac_drbg_init(&sc->eng.rng, &br_sha256_vtable, SEED,
	    sizeof(SEED) - 1);
}

#ifndef FUZZ_TLS_RECORDER
/* Reads what is there; returns the byte count, and sets *nul for a NUL. */
static size_t
drain(int fd, int *nul)
{
	char	 buf[16384];
	size_t	 total = 0;
	ssize_t	 r;

	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if (nul != NULL && memchr(buf, '\0', (size_t)r) != NULL)
			*nul = 1;
		total += (size_t)r;
	}
	return total;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run		 r;
	struct tls_events	 ev;
	struct tls_conn		*tc;
	char			 hello[256];
	const char		*sn;
	size_t			 sent = 0;
	int			 net[2], appfd = -1, nul = 0, rc = 0, hello_ok;
	ssize_t			 w;

	if (certs == NULL)
		setup();
	memset(&r, 0, sizeof(r));
	r.app[0] = r.app[1] = -1;
	if (tls_cache_init(CACHE) == -1 || (tc = tls_conn_new()) == NULL)
		abort();
	r.tc = tc;
	check(tls_conn_start(tc, resolve, open_app, filter, &r) == 0,
	    "tls_conn_start failed");
	reseed(tc);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    net) == -1)
		abort();

	for (int i = 0; i < PUMPS && rc == 0; i++) {
		if (sent < size) {
			w = send(net[0], data + sent, size - sent,
			    MSG_NOSIGNAL);
			if (w > 0)
				sent += (size_t)w;
			else if (w == -1 && errno != EAGAIN && errno != EINTR)
				sent = size;
		}
		if (sent == size) {
			shutdown(net[0], SHUT_WR);
			sent = size + 1;
		}
		memset(&ev, 0, sizeof(ev));
		/* Polled, not driven by events: every side may be ready. */
		ev.net = ev.app = TLS_RD | TLS_WR;
		rc = tls_conn_pump(tc, net[1], &appfd, &ev);
		(void)drain(net[0], NULL);
		if (r.app[1] != -1)
			(void)drain(r.app[1], &nul);
	}

	check(!nul, "a NUL byte reached the plaintext side");
	check(!r.opened || r.established, "plaintext before the handshake");
	check(appfd == -1 || appfd == r.app[0], "appfd not open_app's");
	sn = tls_conn_server_name(tc);
	check(strlen(sn) < 256, "server name of 256 bytes");
	if (tls_conn_established(tc)) {
		check(r.accepted > 0, "established without an accepted name");
		check(strcmp(sn, r.name) == 0,
		    "established under another name than resolved");
	}
	(void)tls_conn_error(tc);
	(void)tls_conn_pending(tc);

	/* tls.c's reading ahead of the name, as peek_hello() does it. */
	hello_ok = tls_hello_name(data, size < 4096 ? size : 4096, hello,
	    sizeof(hello));
	if (hello_ok && r.resolved > 0)
		check(strcasecmp(hello, r.name) == 0,
		    "tls_hello_name and BearSSL read different names");

	tls_conn_free(tc);
	close(net[0]);
	close(net[1]);
	if (r.app[0] != -1)
		close(r.app[0]);
	if (r.app[1] != -1)
		close(r.app[1]);
	return 0;
}
#else /* FUZZ_TLS_RECORDER */

#include <sys/poll.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
    "Content-Length: 15\r\nConnection: close\r\n\r\nversion: STSv1\n";

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	struct tls_events	 ev;
	struct tls_conn		*tc;
	struct run		 r;
	char			 buf[16384], req[16384];
	unsigned char		*rec = NULL;
	size_t			 nrec = 0, nreq = 0;
	ssize_t			 n;
	int			 lfd, cfd, net[2], appfd = -1, one = 1, eof = 0;
	int			 answered = 0;
	FILE			*f;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PORT FILE\n", argv[0]);
		return 2;
	}
	setup();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 1) == -1 || (cfd = accept(lfd, NULL, NULL)) == -1) {
		perror("recorder");
		return 1;
	}
	fcntl(cfd, F_SETFL, O_NONBLOCK);
	memset(&r, 0, sizeof(r));
	r.app[0] = r.app[1] = -1;
	if ((tc = tls_conn_new()) == NULL ||
	    tls_conn_start(tc, resolve, open_app, filter, &r) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, net) == -1)
		return 1;
	r.tc = tc;
	reseed(tc);
	for (;;) {
		/* Client to server, recorded. */
		while (!eof && (n = recv(cfd, buf, sizeof(buf), 0)) != -1) {
			if (n == 0) {
				eof = 1;
				shutdown(net[0], SHUT_WR);
				break;
			}
			if ((rec = realloc(rec, nrec + (size_t)n)) == NULL)
				return 1;
			memcpy(rec + nrec, buf, (size_t)n);
			nrec += (size_t)n;
			(void)!send(net[0], buf, (size_t)n, MSG_NOSIGNAL);
		}
		memset(&ev, 0, sizeof(ev));
		ev.net = ev.app = TLS_RD | TLS_WR;
		if (tls_conn_pump(tc, net[1], &appfd, &ev) == -1)
			break;
		/* Server to client. */
		while ((n = recv(net[0], buf, sizeof(buf), 0)) > 0)
			(void)!send(cfd, buf, (size_t)n, MSG_NOSIGNAL);
		/* One request, one answer, then the close. */
		if (r.app[1] != -1 && !answered) {
			while ((n = recv(r.app[1], req + nreq,
			    sizeof(req) - nreq - 1, 0)) > 0)
				nreq += (size_t)n;
			req[nreq] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL ||
			    memchr(req, '\0', nreq) != NULL || nreq > 8192) {
				(void)!send(r.app[1], answer,
				    sizeof(answer) - 1, MSG_NOSIGNAL);
				shutdown(r.app[1], SHUT_WR);
				answered = 1;
			}
		}
		poll(NULL, 0, 2);
	}
	while ((n = recv(net[0], buf, sizeof(buf), 0)) > 0)
		(void)!send(cfd, buf, (size_t)n, MSG_NOSIGNAL);
	fprintf(stderr, "recorder: %zu bytes from the client, %s, %s\n", nrec,
	    tls_conn_established(tc) ? "established" : "not established",
	    tls_conn_error(tc) ? tls_conn_error(tc) : "no error");
	if ((f = fopen(argv[2], "wb")) == NULL ||
	    fwrite(rec, 1, nrec, f) != nrec || fclose(f) != 0) {
		perror(argv[2]);
		return 1;
	}
	tls_conn_free(tc);
	close(cfd);
	return 0;
}
#endif /* FUZZ_TLS_RECORDER */
