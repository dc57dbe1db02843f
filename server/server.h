/*
 * server.h: the event loop of mta-stsd.
 *
 * Worker threads (config: workers), each with one epoll set: its own
 * listening sockets (SO_REUSEPORT), every client socket it accepted, the
 * plaintext side of each of those connections and its own libmicrohttpd's
 * epoll fd.  The main thread is worker 0 and also has the signalfd, the
 * ACME listeners and the certificate watch; it reloads and publishes the
 * new snapshot to the others.  Each connection is one struct with its
 * state and deadlines; a sweep four times a second closes those past a
 * deadline.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

struct config;
struct store;

/* The CPUs this process may run on. */
size_t	server_cpus(void);

/*
 * Binds every listen address of c, once for each worker.  Called as
 * root, before privileges are dropped.  Returns 0, or -1 after logging why.
 */
int	server_listen(const struct config *c);

/*
 * Runs until SIGTERM or SIGINT, serving snap (whose reference it takes;
 * served and failed domains as it was loaded) and reloading on SIGHUP
 * or a change the watch sees, from config_path.  *c is the running
 * configuration; a reload replaces it.  With foreground, logs stay on
 * standard error.  Returns the exit status.
 */
int	server_run(const char *config_path, struct config *c,
	    struct store *snap, size_t served, size_t failed, int foreground);

#endif /* SERVER_H */
