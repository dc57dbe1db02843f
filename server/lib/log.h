/*
 * log.h: the daemon's log.
 *
 * Lines go to stderr (the default, and the systemd way) or to a file
 * opened before privileges are dropped and reopened on SIGHUP.  Each line
 * is "TIME LEVEL: message"; messages name the object and the reason, as
 * "tls: mta-sts.example.com: handshake timeout".
 */
#ifndef LOG_H
#define LOG_H

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG
};

/* Opens path for appending (NULL: stderr).  Returns 0 or -1 (errno). */
int	log_open(const char *path);
void	log_set_level(enum log_level level);
/* Returns 0 and sets *level for "error", "warn", "info" or "debug". */
int	log_level_parse(const char *s, enum log_level *level);
int	log_enabled(enum log_level level);

void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Logs at error level and exits 1: only while starting up. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
