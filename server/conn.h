/*
 * conn.h: mta-stsd's client connections, in the event loop of the thread
 * that accepted them (see loop.h).
 *
 * A connection goes from CONN_HANDSHAKE to CONN_IDLE (the TLS handshake
 * done) and between CONN_IDLE and CONN_REQUEST (request bytes in, no
 * answer yet) until CONN_CLOSED; each state has its deadline, which
 * conn_sweep() enforces.  Its epoll events carry a struct evref whose ptr
 * is the struct conn.
 */
#ifndef CONN_H
#define CONN_H

#include <stdint.h>

struct conn;
struct http_site;
struct listener;

/* Accepts what the listener holds (a burst at most). */
void	conn_accept(struct listener *l);
/* An epoll event on the connection's client socket, or (app) its pair. */
void	conn_event(struct conn *c, int app, uint32_t events);
/*
 * Closes the connections past a deadline, gives idle ones' memory back,
 * resumes paused listeners.  Four times a second.
 */
void	conn_sweep(void);
/* Frees connections both owners are done with: at the end of each turn. */
void	conn_free_dead(void);
/*
 * Closes every connection of this loop, at the end: freed by
 * conn_free_dead() once libmicrohttpd let go of them (http_stop()).
 */
void	conn_close_all(void);

/* For libmicrohttpd (http_start()): the site of its socket fd. */
struct http_site *conn_site_of(void *arg, int fd);
/* For libmicrohttpd: a request of site was answered (the metrics). */
void	conn_site_done(void *arg, const struct http_site *site);
/* For libmicrohttpd: it closed its side of the connection of site. */
void	conn_site_closed(void *arg, struct http_site *site, int fd);

#endif /* CONN_H */
