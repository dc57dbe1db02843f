/*
 * watch.h: cert_dir watched with inotify (watch_certs = yes) from the
 * main thread's loop: after changes, a reload once the directory has
 * been quiet for a moment, as an ACME client writes several files one
 * after the other.
 */
#ifndef WATCH_H
#define WATCH_H

/*
 * Watches cert_dir and the directories below it, made anew at each
 * reload (there may be new directories); the inotify descriptor goes
 * into S.watchfd and S's epoll set.  Nothing when watch_certs is off.
 */
void	watch_start(void);
/* The watch said something changed: sets S.certs_due. */
void	watch_event(void);

#endif /* WATCH_H */
