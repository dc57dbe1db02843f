/*
 * notify.h: systemd's notification protocol (Type=notify).
 */
#ifndef NOTIFY_H
#define NOTIFY_H

/*
 * Sends state ("READY=1", "RELOADING=1", "STOPPING=1") to
 * $NOTIFY_SOCKET; nothing without it.
 */
void	notify_systemd(const char *state);

#endif /* NOTIFY_H */
