/*
 * hook.c: see hook.h.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/hook.h"
#include "lib/clock.h"

#define HOOK_ARGS_MAX	8
#define KILL_GRACE_MS	2000	/* between SIGTERM and SIGKILL */
#define POLL_MS		20

extern char **environ;

/* Waits for pid until the deadline: 1 with *status, 0 if still running. */
static int
wait_until(pid_t pid, const struct timespec *deadline, int *status)
{
	struct timespec	 ts = { 0, POLL_MS * 1000000L };
	pid_t		 r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
		if (clock_left_ms(deadline) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
}

/* The child: its own process group, stdin /dev/null, stdout to stderr. */
static void
child(const char *path, char *const argv[])
{
	int	 fd;

	setpgid(0, 0);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, STDIN_FILENO);
		if (fd != STDIN_FILENO)
			close(fd);
	}
	dup2(STDERR_FILENO, STDOUT_FILENO);
	signal(SIGPIPE, SIG_DFL);
	execv(path, argv);
	fprintf(stderr, "mta-stsctl: hook %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* see hook.h */
int
hook_run(const char *path, const char *const *args,
    const struct hook_env *env, int timeout_s, char *err, size_t errsz)
{
	char		*argv[HOOK_ARGS_MAX + 2];
	char		 ed[300], ei[64], em[32];
	struct timespec	 deadline;
	pid_t		 pid;
	size_t		 n = 0;
	int		 status = 0, r;

	argv[n++] = (char *)(uintptr_t)path;
	for (; args[n - 1] != NULL && n <= HOOK_ARGS_MAX; n++)
		argv[n] = (char *)(uintptr_t)args[n - 1];
	argv[n] = NULL;
	snprintf(ed, sizeof(ed), "MTA_STS_DOMAIN=%s", env->domain);
	snprintf(ei, sizeof(ei), "MTA_STS_ID=%s", env->id);
	snprintf(em, sizeof(em), "MTA_STS_MODE=%s", env->mode);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		snprintf(err, errsz, "hook %s: fork: %s", path,
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (putenv(ed) != 0 || putenv(ei) != 0 || putenv(em) != 0)
			_exit(127);
		child(path, argv);
	}
	/* Both sides set the group, so that a signal finds it at once. */
	setpgid(pid, pid);
	clock_deadline(&deadline, timeout_s * 1000);
	if ((r = wait_until(pid, &deadline, &status)) == 0) {
		kill(-pid, SIGTERM);
		clock_deadline(&deadline, KILL_GRACE_MS);
		if ((r = wait_until(pid, &deadline, &status)) == 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		snprintf(err, errsz, "hook %s did not finish within %d s: "
		    "stopped", path, timeout_s);
		return -1;
	}
	if (r == -1) {
		snprintf(err, errsz, "hook %s: waitpid: %s", path,
		    strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(err, errsz, "hook %s exited with status %d",
		    path, WEXITSTATUS(status));
	else
		snprintf(err, errsz, "hook %s was killed by signal %d", path,
		    WTERMSIG(status));
	return -1;
}
