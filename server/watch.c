/*
 * watch.c: the certificate directory watched with inotify, so that a
 * renewed certificate is taken without a signal.  See watch.h.
 */
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/log.h"
#include "loop.h"
#include "watch.h"

#define CERTS_QUIET_MS	2000	/* after the last change in cert_dir */

/* Adds inotify watches on dir and the directories below it. */
static void
watch_dir(const char *dir, int depth)
{
	DIR		*d;
	struct dirent	*de;
	char		 sub[4096];
	struct stat	 st;

	/* cert_dir itself may be a link; the directories below are not. */
	if (inotify_add_watch(S.watchfd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_ONLYDIR |
	    (depth > 0 ? IN_DONT_FOLLOW : 0)) == -1) {
		log_warn("watch: %s: %s", dir, strerror(errno));
		return;
	}
	if (depth >= 8 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			watch_dir(sub, depth + 1);
	}
	closedir(d);
}

/* see watch.h */
void
watch_start(void)
{
	struct epoll_event ev;

	if (S.watchfd != -1)
		close(S.watchfd);
	S.watchfd = -1;
	if (!S.cfg->watch_certs)
		return;
	if ((S.watchfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("watch: inotify: %s", strerror(errno));
		return;
	}
	watch_dir(S.cfg->cert_dir, 0);
	ev.events = EPOLLIN;
	ev.data.ptr = &S.ev_watch;
	epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.watchfd, &ev);
}

/* see watch.h */
void
watch_event(void)
{
	char	 buf[4096];

	while (read(S.watchfd, buf, sizeof(buf)) > 0)
		;
	S.certs_due = S.ms + CERTS_QUIET_MS;
}

