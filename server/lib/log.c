/*
 * log.c: the daemon's log.  See log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

/* Read by every worker thread; set by the main one. */
static atomic_int	 log_fd = STDERR_FILENO;
static atomic_int	 log_max = LOG_LVL_INFO;
static atomic_int	 log_fmt = LOG_FORMAT_TEXT;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* see log.h */
int
log_open(const char *path)
{
	int fd, old = log_fd;

	if (path == NULL || *path == '\0') {
		log_fd = STDERR_FILENO;
		if (old != STDERR_FILENO)
			close(old);
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd == -1)
		return -1;
	/*
	 * Reopened in place: a worker thread writing a line meanwhile goes
	 * to the old file or the new one, never to a closed descriptor.
	 */
	if (old != STDERR_FILENO && dup3(fd, old, O_CLOEXEC) != -1) {
		close(fd);
		return 0;
	}
	log_fd = fd;
	if (old != STDERR_FILENO)
		close(old);
	return 0;
}

/* see log.h */
void
log_set_level(enum log_level level)
{
	log_max = level;
}

/* see log.h */
void
log_set_format(enum log_format format)
{
	log_fmt = format;
}

/* see log.h */
int
log_level_parse(const char *s, enum log_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	    i++)
		if (strcmp(s, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	return -1;
}

/* see log.h */
int
log_enabled(enum log_level level)
{
	return (int)level <= log_max;
}

/*
 * Room for a line: a message of 1,023 bytes escaped (4 bytes a byte in
 * text, 6 in JSON), and in JSON an access line's fields, escaped too.
 */
#define LINE_MAX_LEN	8192
#define EXTRA_MAX_LEN	2048

/*
 * Appends s to the line at *n, escaped: \xNN for control and non-ASCII
 * bytes in text; in JSON, \" and \\ too, and \u00NN (a byte from the
 * network may not be UTF-8).  Stops short of the end, leaving room for
 * what closes the line.
 */
static void
put_escaped(char *line, size_t *n, size_t max, const char *s, int json)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = *n;

	for (; *s != '\0' && i + 6 < max; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f) {
			memcpy(line + i, json ? "\\u00" : "\\x", json ? 4 : 2);
			i += json ? 4 : 2;
			line[i++] = hex[c >> 4];
			line[i++] = hex[c & 15];
		} else if (json && (c == '"' || c == '\\')) {
			line[i++] = '\\';
			line[i++] = (char)c;
		} else
			line[i++] = (char)c;
	}
	*n = i;
}

/* Appends text as it is (no escaping), if it fits before max. */
static void
put(char *line, size_t *n, size_t max, const char *text)
{
	size_t l = strlen(text);

	if (*n + l < max) {
		memcpy(line + *n, text, l);
		*n += l;
	}
}

/*
 * One write(2) per line, so that lines from a reload and from requests
 * never interleave, and control characters from the network are escaped.
 * extra, in JSON, is more members (",\"k\":v..."), already escaped.
 */
static void
emit(enum log_level level, const char *msg, const char *extra)
{
	char		 line[LINE_MAX_LEN], ts[32];
	struct timespec	 t;
	struct tm	 tm;
	size_t		 n = 0;

	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	if (log_fmt == LOG_FORMAT_JSON) {
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s.%03ldZ\","
		    "\"level\":\"%s\",\"message\":\"", ts, t.tv_nsec / 1000000,
		    level_names[level]);
		put_escaped(line, &n, sizeof(line) - EXTRA_MAX_LEN, msg, 1);
		put(line, &n, sizeof(line), "\"");
		if (extra != NULL)
			put(line, &n, sizeof(line), extra);
		put(line, &n, sizeof(line), "}");
	} else {
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		n = (size_t)snprintf(line, sizeof(line), "%s %s: ", ts,
		    level_names[level]);
		put_escaped(line, &n, sizeof(line) - 1, msg, 0);
	}
	line[n++] = '\n';
	(void)!write(log_fd, line, n);
}

static void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 saved = errno;

	if ((int)level > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(level, msg, NULL);
	errno = saved;
}

/* see log.h */
void
log_access(const struct log_access *a)
{
	char	 msg[1024], extra[EXTRA_MAX_LEN], req[400];
	size_t	 n = 0, m;
	/*
	 * The escaped strings stop at room, the punctuation between them
	 * at tail, and what follows them has the rest: always valid JSON.
	 */
	size_t	 room = sizeof(extra) - 200, tail = sizeof(extra) - 100;
	int	 saved = errno;

	if (LOG_LVL_INFO > log_max)
		return;
	snprintf(msg, sizeof(msg), "access: %s %s \"%s %s\" %u %zu %ldus%s",
	    a->client, a->host != NULL ? a->host : "-", a->method, a->path,
	    a->status, a->bytes, a->us, a->incomplete ? " (not completed)" :
	    "");
	if (log_fmt == LOG_FORMAT_JSON) {
		snprintf(req, sizeof(req), "%s %s", a->method, a->path);
		put(extra, &n, tail, ",\"client\":\"");
		put_escaped(extra, &n, room, a->client, 1);
		put(extra, &n, tail, "\",\"server_name\":");
		if (a->host != NULL) {
			put(extra, &n, tail, "\"");
			put_escaped(extra, &n, room, a->host, 1);
			put(extra, &n, tail, "\"");
		} else
			put(extra, &n, tail, "null");
		put(extra, &n, tail, ",\"request\":\"");
		put_escaped(extra, &n, room, req, 1);
		m = (size_t)snprintf(extra + n, sizeof(extra) - n, "\","
		    "\"status\":%u,\"bytes\":%zu,\"duration_us\":%ld,"
		    "\"completed\":%s", a->status, a->bytes, a->us,
		    a->incomplete ? "false" : "true");
		extra[n + (m < sizeof(extra) - n ? m : 0)] = '\0';
	}
	emit(LOG_LVL_INFO, msg, log_fmt == LOG_FORMAT_JSON ? extra : NULL);
	errno = saved;
}

#define LOG_FN(name, level)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	vlog(level, fmt, ap);				\
	va_end(ap);					\
}

LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

/* see log.h */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
