/*
 * test_sandbox.c: after sandbox_enter(), what serving needs still works,
 * and a forbidden path or system call is refused (cmocka).  Each case runs
 * in a child process, since a sandbox cannot be left.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>


#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/config.h"
#include "sandbox.h"

static char	 top[] = "/tmp/mta-stsd-sandbox.XXXXXX";
static char	 policies[256], certs[256], conf[256], outside[256];
static char	 reports[256];

/* Runs fn in a sandboxed child; returns its wait status. */
static int
sandboxed(int (*fn)(void))
{
	struct config	 c;
	pid_t		 pid;
	int		 st;

	if ((pid = fork()) == 0) {
		memset(&c, 0, sizeof(c));
		c.policy_dir = policies;
		c.cert_dir = certs;
		c.acme_webroot = (char *)"";
		c.log_file = (char *)"";
		c.pid_file = (char *)"";
		c.tlsrpt_dir = reports;
		if (sandbox_enter(&c, conf) == -1)
			_exit(100);
		_exit(fn());
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* 0 when the policy directory can still be read. */
static int
read_policy(void)
{
	char	 path[300], buf[16];
	int	 fd;

	snprintf(path, sizeof(path), "%s/a.test.txt", policies);
	if ((fd = open(path, O_RDONLY)) == -1 || read(fd, buf, 4) != 4)
		return 1;
	close(fd);
	snprintf(path, sizeof(path), "%s/x.pem", certs);
	if ((fd = open(path, O_RDONLY)) == -1)
		return 2;
	close(fd);
	if ((fd = open(conf, O_RDONLY)) == -1)
		return 3;
	close(fd);
	return 0;
}

/* 0 when a file outside is refused. */
static int
read_outside(void)
{
	return open(outside, O_RDONLY) == -1 && errno == EACCES ? 0 : 1;
}

/* 0 when writing into the policy directory is refused. */
static int
write_policy(void)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/new.txt", policies);
	return open(path, O_WRONLY | O_CREAT, 0644) == -1 && errno == EACCES ?
	    0 : 1;
}

/*
 * 0 when a report can be stored as the receiver does: a directory made,
 * a temporary file written and synced, renamed without replacing.
 */
static int
write_report(void)
{
	int	 dfd, fd;

	if ((dfd = open(reports, O_RDONLY | O_DIRECTORY)) == -1)
		return 1;
	if (mkdirat(dfd, "a.test", 0750) == -1 ||
	    (fd = openat(dfd, "a.test/.tmp-1", O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW, 0640)) == -1)
		return 2;
	if (write(fd, "{}", 2) != 2 || fsync(fd) == -1 || close(fd) == -1)
		return 3;
	if (renameat2(dfd, "a.test/.tmp-1", dfd, "a.test/r.json",
	    RENAME_NOREPLACE) == -1 || fsync(dfd) == -1)
		return 4;
	if (unlinkat(dfd, "a.test/r.json", 0) == -1)
		return 5;
	return 0;
}

/* 0 when a network socket is refused (a Unix one is not). */
static int
inet_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (fd == -1)
		return 2;
	close(fd);
	return socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == EPERM ? 0 : 1;
}

/* Never returns: the filter kills the process. */
static int
run_program(void)
{
	char *argv[] = { (char *)"/bin/true", NULL };

	execv(argv[0], argv);
	return 1;
}

static int
bind_socket(void)
{
	struct sockaddr_un	 sun;
	int			 fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	bind(fd, (struct sockaddr *)&sun, sizeof(sa_family_t));
	return 1;
}

static void *
thread_main(void *arg)
{
	return arg;
}

/* 0 when a worker thread starts and a TCP option is refused cleanly. */
static int
start_thread(void)
{
	pthread_t	 t;
	void		*ret = NULL;
	int		 fds[2], on = 1;

	if (pthread_create(&t, NULL, thread_main, &on) != 0 ||
	    pthread_join(t, &ret) != 0 || ret != &on)
		return 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1)
		return 2;
	/* libmicrohttpd must read "no TCP options here" (see sandbox.c). */
	if (setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &on,
	    sizeof(on)) != -1 || errno != ENOPROTOOPT)
		return 3;
	return 0;
}

/* 0 when fork() is refused (glibc's fork is a clone without threads). */
static int
fork_child(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(1);
	return pid == -1 ? 0 : 1;
}

static void
test_serving_works(void **state)
{
	int st = sandboxed(read_policy);

	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_path_outside_refused(void **state)
{
	int st = sandboxed(read_outside);

	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = sandboxed(write_policy);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_reports_writable(void **state)
{
	int st = sandboxed(write_report);

	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_network_refused(void **state)
{
	int st = sandboxed(inet_socket);

	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = sandboxed(bind_socket);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void
test_threads_only(void **state)
{
	int st = sandboxed(start_thread);

	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = sandboxed(fork_child);
	assert_true((WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
	    (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS));
}

static void
test_exec_kills(void **state)
{
	int st = sandboxed(run_program);

	(void)state;
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void
put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int
setup(void **state)
{
	char path[300];

	(void)state;
	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(policies, sizeof(policies), "%s/policies", top);
	snprintf(certs, sizeof(certs), "%s/certs", top);
	snprintf(conf, sizeof(conf), "%s/mta-stsd.conf", top);
	snprintf(outside, sizeof(outside), "%s/secret.txt", top);
	snprintf(reports, sizeof(reports), "%s/reports", top);
	if (mkdir(policies, 0755) == -1 || mkdir(certs, 0755) == -1 ||
	    mkdir(reports, 0755) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/a.test.txt", policies);
	put(path, "version: STSv1\n");
	snprintf(path, sizeof(path), "%s/x.pem", certs);
	put(path, "-----BEGIN CERTIFICATE-----\n");
	put(conf, "[server]\n");
	put(outside, "secret-outside-policy\n");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serving_works),
		cmocka_unit_test(test_path_outside_refused),
		cmocka_unit_test(test_reports_writable),
		cmocka_unit_test(test_network_refused),
		cmocka_unit_test(test_exec_kills),
		cmocka_unit_test(test_threads_only),
	};

	return cmocka_run_group_tests_name("sandbox", tests, setup, teardown);
}
