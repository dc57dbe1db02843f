/*
 * fuzz_http.c: libFuzzer target for the HTTP side (http.c over
 * libmicrohttpd), driven as conn.c drives it.
 *
 * One libmicrohttpd daemon for the process (http_start(), as at start);
 * per run, one socketpair: one end handed over with http_add(), the
 * input written to the other and its writing side shut, then http_run()
 * turns (bounded) while the answers are read, until libmicrohttpd has
 * closed the connection and called back.  The input stops at its first
 * NUL byte: http_screen(), the TLS layer's filter, answers a NUL itself
 * and never lets it through.
 *
 * Beyond "no crash", every answer:
 *   - starts with "HTTP/1.1 ", a 3-digit status and a space, has a whole
 *     head and a Content-Length (1xx excepted), and its whole body;
 *   - is the last one when it says "Connection: close";
 *   - is a 200 only for a request line that is GET or HEAD of
 *     /.well-known/mta-sts.txt (after what libmicrohttpd and http.c do to
 *     a target: "?query" cut, %HH decoded, "https://HOST" taken away):
 *     there are no more 200s than such lines in the input;
 *   - as a 200 with a body, carries the policy, text/plain.
 * And the connection is closed, and the site released, within the run.
 *
 * libmicrohttpd 0.9.75 with MHD_OPTION_STRICT_FOR_CLIENT (http_start())
 * sends the head of its own 400 for an HTTP/1.1 request without Host
 * twice, then the body: "GET / HTTP/1.1\r\n\r\n" is enough.  That
 * repeated head is let through unless FUZZ_STRICT=1 is in the
 * environment (see the report that came with this file).
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define HOST	"mta-sts.example.com"
#define POLICY	"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n" \
		"max_age: 604800\r\n"
#define TURNS	64	/* http_run() calls without progress */
#define OUT_MAX	(1024 * 1024)

static struct http	*h;
static struct http_body	*body;
static struct http_site	 site;
static int		 site_fd = -1;
static int		 opened, closed;
static int		 strict;

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_http: invariant broken: %s\n", what);
		abort();
	}
}

static struct http_site *
site_of(void *arg, int fd)
{
	(void)arg;
	check(fd == site_fd, "site asked for another descriptor");
	opened++;
	return &site;
}

static void
site_closed(void *arg, struct http_site *s, int fd)
{
	(void)arg;
	(void)fd;
	check(s == &site, "closed callback for another site");
	closed++;
}

static void
setup(void)
{
	struct http_limits lim = { 10000, 8192, 15 };	/* the defaults */

	const char *s = getenv("FUZZ_STRICT");

	strict = s != NULL && strcmp(s, "1") == 0;
	signal(SIGPIPE, SIG_IGN);
	/* Every log line built, access lines included, none shown. */
	if (log_open("/dev/null") == -1)
		abort();
	log_set_level(LOG_LVL_DEBUG);
	if ((h = http_start(&lim, site_of, site_closed, NULL, NULL)) == NULL ||
	    (body = http_body_new(POLICY, strlen(POLICY))) == NULL) {
		fprintf(stderr, "fuzz_http: cannot start\n");
		abort();
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %HH as MHD_http_unescape() does; the result may hold NULs. */
static void
unescape(const char *s, size_t n, char *out)
{
	size_t	 o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) != -1 &&
		    hexval(s[i + 2]) != -1) {
			out[o++] = (char)(hexval(s[i + 1]) << 4 |
			    hexval(s[i + 2]));
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
}

/* Would a request for this target get the policy? */
static int
policy_target(const char *t, size_t n)
{
	char		*d;
	const char	*p, *q = memchr(t, '?', n);
	int		 yes;

	if (q != NULL)
		n = (size_t)(q - t);
	if ((d = malloc(n + 1)) == NULL)
		abort();
	unescape(t, n, d);
	p = d;
	if (strncasecmp(p, "https://", 8) == 0 ||
	    strncasecmp(p, "http://", 7) == 0) {
		p = strchr(p, '/') + 2;
		p += strcspn(p, "/");
		if (*p == '\0')
			p = "/";
	}
	yes = strcmp(p, HTTP_POLICY_PATH) == 0;
	free(d);
	return yes;
}

/*
 * Lines of the input that could be a GET or HEAD of the policy, however
 * libmicrohttpd splits a request line: the target up to the last space
 * or to the end of the line.
 */
static size_t
policy_requests(const char *in, size_t n)
{
	size_t	 count = 0, i = 0;

	while (i < n) {
		size_t		 e = i, m, l;
		const char	*line = in + i, *t, *last;

		while (e < n && in[e] != '\r' && in[e] != '\n')
			e++;
		l = e - i;
		if (l >= 4 && memcmp(line, "GET ", 4) == 0)
			m = 4;
		else if (l >= 5 && memcmp(line, "HEAD ", 5) == 0)
			m = 5;
		else
			m = 0;
		if (m > 0) {
			t = line + m;
			while (t < line + l && *t == ' ')
				t++;
			last = t;
			for (const char *c = t; c < line + l; c++)
				if (*c == ' ')
					last = c;
			if (policy_target(t, (size_t)(line + l - t)) ||
			    (last > t && policy_target(t, (size_t)(last - t))))
				count++;
		}
		i = e + 1;
	}
	return count;
}

/* The value of header name in the head [p, end), or NULL; *n its count. */
static const char *
header(const char *p, const char *end, const char *name, int *n)
{
	size_t		 nl = strlen(name);
	const char	*v = NULL;

	*n = 0;
	for (p = memchr(p, '\n', (size_t)(end - p)); p != NULL && p + 1 < end;
	    p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
		if ((size_t)(end - p - 1) > nl + 1 &&
		    strncasecmp(p + 1, name, nl) == 0 && p[1 + nl] == ':') {
			(*n)++;
			v = p + 1 + nl + 1;
			while (*v == ' ')
				v++;
		}
	}
	return v;
}

static void
check_answers(const char *out, size_t n, const char *in, size_t inlen)
{
	const char	*prev = NULL;
	size_t		 pos = 0, ok200 = 0, prevlen = 0;
	int		 last = 0;

	while (pos < n) {
		const char	*a = out + pos, *end, *v;
		size_t		 rest = n - pos, head, cl = 0;
		unsigned	 status;
		int		 ncl, nte, nct, nconn;

		/* libmicrohttpd's own error head twice: see the top. */
		if (last && !strict && prev != NULL && rest >= prevlen &&
		    memcmp(a, prev, prevlen) == 0)
			last = 0;
		check(!last, "an answer after one that closes");
		check(rest >= 13 && memcmp(a, "HTTP/1.1 ", 9) == 0 &&
		    a[9] >= '1' && a[9] <= '5' && a[10] >= '0' &&
		    a[10] <= '9' && a[11] >= '0' && a[11] <= '9' &&
		    a[12] == ' ', "answer not 'HTTP/1.1 DDD '");
		status = (unsigned)((a[9] - '0') * 100 + (a[10] - '0') * 10 +
		    (a[11] - '0'));
		end = memmem(a, rest, "\r\n\r\n", 4);
		check(end != NULL, "answer head not whole");
		head = (size_t)(end - a) + 4;
		prev = a;
		prevlen = head;
		v = header(a, end + 2, "Content-Length", &ncl);
		(void)header(a, end + 2, "Transfer-Encoding", &nte);
		check(nte == 0, "answer with Transfer-Encoding");
		if (v != NULL)
			cl = strtoul(v, NULL, 10);
		v = header(a, end + 2, "Connection", &nconn);
		if (v != NULL && strncasecmp(v, "close", 5) == 0)
			last = 1;
		pos += head;
		if (status < 200)
			continue;
		check(ncl == 1, "answer without one Content-Length");
		/* A HEAD answer has none of the body it announces. */
		if (pos == n || (cl > 0 && n - pos >= 9 &&
		    memcmp(out + pos, "HTTP/1.1 ", 9) == 0)) {
			if (status == 200)
				ok200++;
			continue;
		}
		check(n - pos >= cl, "answer body not whole");
		if (status == 200) {
			v = header(a, end + 2, "Content-Type", &nct);
			check(cl == strlen(POLICY) &&
			    memcmp(out + pos, POLICY, cl) == 0,
			    "a 200 without the policy");
			check(nct == 1 && strncmp(v, "text/plain", 10) == 0,
			    "a 200 not text/plain");
			ok200++;
		}
		pos += cl;
	}
	if (ok200 > 0)
		check(ok200 <= policy_requests(in, inlen),
		    "a 200 for no GET or HEAD of the policy path");
}

/* Reads what has come; returns 1 at end of stream. */
static int
drain(int fd, char **out, size_t *n, size_t *cap, int *progress)
{
	ssize_t	 r;

	for (;;) {
		if (*cap - *n < 4096) {
			char *nv;

			check(*cap < OUT_MAX, "answers beyond 1 MB");
			if ((nv = realloc(*out, *cap * 2)) == NULL)
				abort();
			*out = nv;
			*cap *= 2;
		}
		r = recv(fd, *out + *n, *cap - *n, 0);
		if (r > 0) {
			*n += (size_t)r;
			*progress = 1;
		} else if (r == 0)
			return 1;
		else if (errno == EINTR)
			continue;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		else
			return 1;	/* ECONNRESET: over too */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data;
	const char	*nul = memchr(data, '\0', size);
	size_t		 inlen = nul ? (size_t)(nul - in) : size, sent = 0;
	size_t		 n = 0, cap = 8192;
	char		*out;
	int		 sv[2], eof = 0, idle = 0, progress;
	ssize_t		 w;

	if (h == NULL)
		setup();
	memset(&site, 0, sizeof(site));
	site.host = HOST;
	site.policy = body;
	site.client = "fuzz";
	opened = closed = 0;
	if ((out = malloc(cap)) == NULL)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		perror("fuzz_http: socketpair");
		abort();
	}
	site_fd = sv[1];
	check(http_add(h, sv[1]) == 0, "http_add refused a connection");

	while (!eof && idle < TURNS) {
		progress = 0;
		if (sent < inlen) {
			w = send(sv[0], in + sent, inlen - sent, MSG_NOSIGNAL);
			if (w > 0) {
				sent += (size_t)w;
				progress = 1;
			} else if (w == -1 && errno != EAGAIN &&
			    errno != EWOULDBLOCK && errno != EINTR)
				sent = inlen;	/* the other side is gone */
			if (sent == inlen)
				shutdown(sv[0], SHUT_WR);
		} else if (inlen == 0 && sent == 0) {
			shutdown(sv[0], SHUT_WR);
			sent = 1;
		}
		http_run(h);
		eof = drain(sv[0], &out, &n, &cap, &progress);
		idle = progress ? 0 : idle + 1;
	}
	close(sv[0]);
	/* Let libmicrohttpd see the close and call back. */
	for (int i = 0; i < TURNS && closed < opened; i++)
		http_run(h);
	check(opened == 1 && closed == 1,
	    "connection not closed within the run");

	check_answers(out, n, in, inlen);
	free(out);
	return 0;
}
