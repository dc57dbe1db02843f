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
 * One write(2) per line, so that lines from a reload and from requests
 * never interleave, and control characters from the network are escaped.
 */
static void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	char		 msg[1024], line[1200];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n, i;
	int		 saved = errno;

	if ((int)level > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: ",
	    level_names[level]);
	for (i = 0; msg[i] != '\0' && n < sizeof(line) - 5; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    "\\x%02x", c);
		else
			line[n++] = (char)c;
	}
	line[n++] = '\n';
	(void)!write(log_fd, line, n);
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
