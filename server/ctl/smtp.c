/*
 * smtp.c: see smtp.h.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "ctl/smtp.h"

#define SMTP_REPLY_MAX	(SMTP_LINE_MAX * SMTP_LINES_MAX)

/* see smtp.h */
int
smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r,
    char *why, size_t whysz)
{
	const char	*p = buf, *eol, *end = buf + len, *t, *te;
	unsigned	 code;
	int		 last;
	size_t		 n;

	memset(r, 0, sizeof(*r));
	for (;;) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			if ((size_t)(end - p) >= SMTP_LINE_MAX) {
				snprintf(why, whysz, "reply line longer than "
				    "%d bytes", SMTP_LINE_MAX);
				return -1;
			}
			return 0;
		}
		if ((size_t)(eol - p) + 1 > SMTP_LINE_MAX) {
			snprintf(why, whysz, "reply line longer than %d bytes",
			    SMTP_LINE_MAX);
			return -1;
		}
		te = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		if (te - p < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' ||
		    p[1] > '5' || p[2] < '0' || p[2] > '9' ||
		    (te - p > 3 && p[3] != ' ' && p[3] != '-')) {
			snprintf(why, whysz, "malformed reply line %u",
			    r->lines + 1);
			return -1;
		}
		code = (unsigned)(p[0] - '0') * 100 +
		    (unsigned)(p[1] - '0') * 10 + (unsigned)(p[2] - '0');
		if (r->lines > 0 && code != r->code) {
			snprintf(why, whysz, "reply code changes within one "
			    "reply (%u, then %u)", r->code, code);
			return -1;
		}
		r->code = code;
		t = te - p > 3 ? p + 4 : te;
		if (r->lines == 0) {
			n = (size_t)(te - t);
			if (n > SMTP_TEXT_MAX)
				n = SMTP_TEXT_MAX;
			for (size_t i = 0; i < n; i++)
				r->text[i] = t[i] >= 0x20 && t[i] < 0x7f ?
				    t[i] : '?';
			r->text[n] = '\0';
		}
		/* EHLO keywords: "STARTTLS", alone, case-insensitive. */
		if (te - t >= 8 && strncasecmp(t, "STARTTLS", 8) == 0 &&
		    (te - t == 8 || t[8] == ' '))
			r->starttls = 1;
		r->lines++;
		last = te - p <= 3 || p[3] == ' ';
		p = eol + 1;
		if (last)
			return (int)(p - buf);
		if (r->lines == SMTP_LINES_MAX) {
			snprintf(why, whysz, "reply longer than %d lines",
			    SMTP_LINES_MAX);
			return -1;
		}
	}
}

/* The session's socket, its deadline and what it has read. */
struct session {
	int		 fd;
	struct timespec	 deadline;	/* CLOCK_MONOTONIC */
	int		 timeout_ms;
	char		 buf[SMTP_REPLY_MAX];
	size_t		 len;
};

/* Waits until fd is ready for events; 0, or -1 with why. */
static int
wait_fd(const struct session *s, short events, char *why, size_t whysz)
{
	struct pollfd	 pfd = { .fd = s->fd, .events = events };
	int		 ms, n;

	for (;;) {
		if ((ms = clock_left_ms(&s->deadline)) == 0) {
			snprintf(why, whysz, "timed out (%d ms)",
			    s->timeout_ms);
			return -1;
		}
		if ((n = poll(&pfd, 1, ms)) > 0)
			return 0;
		if (n == -1 && errno != EINTR) {
			snprintf(why, whysz, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

/* Reads one whole reply into *r; the bytes after it stay in s->buf. */
static int
read_reply(struct session *s, struct smtp_reply *r, char *why,
    size_t whysz)
{
	ssize_t	 n;
	int	 used;

	for (;;) {
		if ((used = smtp_reply_parse(s->buf, s->len, r, why,
		    whysz)) == -1)
			return -1;
		if (used > 0) {
			memmove(s->buf, s->buf + used, s->len - (size_t)used);
			s->len -= (size_t)used;
			return 0;
		}
		if (s->len == sizeof(s->buf)) {
			snprintf(why, whysz, "reply longer than %zu bytes",
			    sizeof(s->buf));
			return -1;
		}
		if (wait_fd(s, POLLIN, why, whysz) == -1)
			return -1;
		n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
		if (n == 0) {
			snprintf(why, whysz, "server closed the connection");
			return -1;
		}
		if (n == -1 && errno != EINTR && errno != EAGAIN) {
			snprintf(why, whysz, "%s", strerror(errno));
			return -1;
		}
		if (n > 0)
			s->len += (size_t)n;
	}
}

static int
send_line(struct session *s, const char *line, char *why, size_t whysz)
{
	size_t	 off = 0, len = strlen(line);
	ssize_t	 n;

	while (off < len) {
		if (wait_fd(s, POLLOUT, why, whysz) == -1)
			return -1;
		n = send(s->fd, line + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno != EINTR && errno != EAGAIN) {
			snprintf(why, whysz, "%s", strerror(errno));
			return -1;
		}
		if (n > 0)
			off += (size_t)n;
	}
	return 0;
}

/* see smtp.h */
int
smtp_starttls(const struct sockaddr *addr, socklen_t addrlen,
    const char *helo, int timeout_ms, char *err, size_t errsz)
{
	static struct session	 s;	/* one at a time; too big for a stack */
	struct smtp_reply	 r;
	const char		*step = "connect";
	char			 why[256], line[300];
	int			 soerr = 0;
	socklen_t		 sl = sizeof(soerr);

	memset(&s, 0, sizeof(s));
	s.timeout_ms = timeout_ms;
	clock_deadline(&s.deadline, timeout_ms);
	if ((s.fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto fail;
	}
	if (connect(s.fd, addr, addrlen) == -1) {
		if (errno != EINPROGRESS) {
			snprintf(why, sizeof(why), "%s", strerror(errno));
			goto fail;
		}
		if (wait_fd(&s, POLLOUT, why, sizeof(why)) == -1)
			goto fail;
		if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
		    soerr != 0) {
			snprintf(why, sizeof(why), "%s", strerror(soerr ?
			    soerr : errno));
			goto fail;
		}
	}

	step = "greeting";
	if (read_reply(&s, &r, why, sizeof(why)) == -1)
		goto fail;
	if (r.code != 220) {
		snprintf(why, sizeof(why), "%u %s", r.code, r.text);
		goto fail;
	}
	step = "EHLO";
	snprintf(line, sizeof(line), "EHLO %s\r\n", helo);
	if (send_line(&s, line, why, sizeof(why)) == -1 ||
	    read_reply(&s, &r, why, sizeof(why)) == -1)
		goto fail;
	if (r.code != 250) {
		snprintf(why, sizeof(why), "%u %s", r.code, r.text);
		goto fail;
	}
	if (!r.starttls) {
		snprintf(why, sizeof(why), "STARTTLS not offered");
		goto fail;
	}
	step = "STARTTLS";
	if (send_line(&s, "STARTTLS\r\n", why, sizeof(why)) == -1 ||
	    read_reply(&s, &r, why, sizeof(why)) == -1)
		goto fail;
	if (r.code != 220) {
		snprintf(why, sizeof(why), "%u %s", r.code, r.text);
		goto fail;
	}
	if (s.len > 0) {
		snprintf(why, sizeof(why), "%zu bytes after the 220 reply, "
		    "before TLS", s.len);
		goto fail;
	}
	/* The TLS client blocks with its own timeouts. */
	if (fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) & ~O_NONBLOCK) == -1) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto fail;
	}
	return s.fd;
fail:
	snprintf(err, errsz, "%s: %s", step, why);
	if (s.fd != -1)
		close(s.fd);
	return -1;
}
