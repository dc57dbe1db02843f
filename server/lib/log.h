/*
 * log.h: the daemon's log.
 *
 * Lines go to stderr (the default, and the systemd way) or to a file
 * opened before privileges are dropped and reopened on SIGHUP.  Each line
 * is "TIME LEVEL: message"; messages name the object and the reason, as
 * "tls: mta-sts.example.com: handshake timeout".  With LOG_FORMAT_JSON,
 * each line is one JSON object instead, {"time", "level", "message"},
 * for log shippers; an access line adds its fields (log_access()).
 * Bytes from the network are escaped either way: \xNN in text, \u00NN
 * in JSON, so that a line is always one line and JSON always valid.
 */
#ifndef LOG_H
#define LOG_H

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG
};

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON
};

/* What one access line says: the request as answered. */
struct log_access {
	const char	*client;	/* address */
	const char	*host;		/* TLS server name, or NULL */
	const char	*method;
	const char	*path;
	unsigned	 status;
	size_t		 bytes;		/* of the body */
	long		 us;		/* from the first byte to the answer */
	int		 incomplete;	/* not sent whole */
};

/* Opens path for appending (NULL: stderr).  Returns 0 or -1 (errno). */
int	log_open(const char *path);
void	log_set_level(enum log_level level);
void	log_set_format(enum log_format format);
/* Returns 0 and sets *level for "error", "warn", "info" or "debug". */
int	log_level_parse(const char *s, enum log_level *level);
int	log_enabled(enum log_level level);

void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * One access line at info level: "access: CLIENT HOST \"METHOD PATH\"
 * STATUS BYTES USus", and in JSON its fields too: client, server_name,
 * request, status, bytes, duration_us.
 */
void	log_access(const struct log_access *a);
/* Logs at error level and exits 1: only while starting up. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
