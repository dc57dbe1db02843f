/*
 * server.h: the event loop of mta-stsd.
 *
 * One thread, one epoll set: listening sockets, every client socket, the
 * plaintext side of every connection, libmicrohttpd's epoll fd and a
 * signalfd.  Each connection is one struct with its state and deadlines;
 * a sweep once a second closes those past a deadline.
 */
#ifndef SERVER_H
#define SERVER_H

struct config;
struct store;

/*
 * Binds every listen address of c.  Called as root, before privileges
 * are dropped.  Returns 0, or -1 after logging why.
 */
int	server_listen(const struct config *c);

/*
 * Runs until SIGTERM or SIGINT, serving snap (whose reference it takes)
 * and reloading on SIGHUP from config_path.  *c is the running
 * configuration; a reload replaces it.  With foreground, logs stay on
 * standard error.  Returns the exit status.
 */
int	server_run(const char *config_path, struct config *c,
	    struct store *snap, int foreground);

#endif /* SERVER_H */
