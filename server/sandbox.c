/*
 * sandbox.c: what mta-stsd may still do once it serves.  See sandbox.h.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <netinet/in.h>

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <seccomp.h>

#include "certdirs.h"
#include "lib/config.h"
#include "lib/log.h"
#include "sandbox.h"

/*
 * AddressSanitizer's leak check runs a thread at exit, makes calls the
 * filter refuses and reads /proc: sanitizer builds skip seccomp and let
 * Landlock allow /proc.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define FS_READ		(LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_READ_DIR)

/* The access rights a kernel of Landlock ABI abi knows. */
static uint64_t
fs_rights(long abi)
{
	uint64_t r = LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;

#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	return r;
}

/* Allows rights beneath path (a directory) or on it (a file). */
static int
allow(int ruleset, const char *path, uint64_t rights, uint64_t handled)
{
	struct landlock_path_beneath_attr	 pb;
	struct stat				 st;
	int					 fd, rc;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	/* A file takes only the rights that apply to files. */
	if (!S_ISDIR(st.st_mode))
		rights &= LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_EXECUTE
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
		    | LANDLOCK_ACCESS_FS_TRUNCATE
#endif
		    ;
	pb.allowed_access = rights & handled;
	pb.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return rc;
}

/* What certdirs_each() gives: each may be read. */
struct allow_arg {
	int		 ruleset;
	uint64_t	 handled;
	int		 failed;
};

static void
allow_certdir(void *arg, const char *dir)
{
	struct allow_arg *a = arg;

	if (allow(a->ruleset, dir, FS_READ, a->handled) == -1) {
		log_error("sandbox: %s: %s", dir, strerror(errno));
		a->failed = 1;
	}
}

static int
landlock(const struct config *c, const char *config_path)
{
	struct landlock_ruleset_attr	 attr;
	struct allow_arg		 aa;
	long				 abi;
	int				 rs, rc = -1;
	char				 dir[PATH_MAX], *slash;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_warn("sandbox: no Landlock in this kernel; paths are not "
		    "confined");
		return 0;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = fs_rights(abi);
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs == -1)
		return -1;
	if (allow(rs, c->policy_dir, FS_READ, attr.handled_access_fs) == -1 ||
	    allow(rs, config_path, LANDLOCK_ACCESS_FS_READ_FILE,
	    attr.handled_access_fs) == -1)
		goto out;
	/*
	 * cert_dir, and where its links point: certbot's archive/ as a
	 * whole, so that a name issued after the start is readable too.
	 */
	aa.ruleset = rs;
	aa.handled = attr.handled_access_fs;
	aa.failed = 0;
	if (certdirs_each(c->cert_dir, allow_certdir, &aa) == -1 ||
	    aa.failed)
		goto out;
	/*
	 * glibc reads it once, when a thread's heap first shrinks, to
	 * choose how to give the memory back (refused, it assumes the
	 * overcommit is not strict).
	 */
	if (allow(rs, "/proc/sys/vm/overcommit_memory",
	    LANDLOCK_ACCESS_FS_READ_FILE, attr.handled_access_fs) == -1)
		goto out;
	/* LeakSanitizer reads /proc/self at exit. */
	if (SANITIZED && allow(rs, "/proc", FS_READ,
	    attr.handled_access_fs) == -1)
		goto out;
	if (c->acme_webroot[0] != '\0' && allow(rs, c->acme_webroot, FS_READ,
	    attr.handled_access_fs) == -1)
		goto out;
	/* The TLS-RPT store: domain directories, temporary files, renames. */
	if (c->tlsrpt_dir[0] != '\0' && allow(rs, c->tlsrpt_dir, FS_READ |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE,
	    attr.handled_access_fs) == -1)
		goto out;
	if (c->log_file[0] != '\0' && allow(rs, c->log_file,
	    LANDLOCK_ACCESS_FS_WRITE_FILE, attr.handled_access_fs) == -1)
		goto out;
	if (c->pid_file[0] != '\0' &&
	    (size_t)snprintf(dir, sizeof(dir), "%s", c->pid_file) <
	    sizeof(dir) && (slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if (allow(rs, dir[0] ? dir : "/",
		    LANDLOCK_ACCESS_FS_REMOVE_FILE, attr.handled_access_fs) ==
		    -1)
			goto out;
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) == -1)
		goto out;
	rc = 0;
out:
	close(rs);
	return rc;
}

/*
 * The system calls serving needs, and nothing else.  What could start a
 * program or reach the network kills the process; any other call not
 * listed fails with EPERM.
 */
static int
seccomp(void)
{
	static const char *const allowed[] = {
		"read", "write", "readv", "writev", "pread64", "close",
		"openat", "fstat", "newfstatat", "statx", "lseek",
		"getdents64", "readlink", "readlinkat", "faccessat",
		"faccessat2",
		"unlink", "unlinkat", "fsync", "fdatasync", "access",
		"mkdir", "mkdirat", "rename", "renameat", "renameat2",
		"mmap", "munmap", "mremap", "mprotect", "brk", "madvise",
		"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "tgkill",
		"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
		"poll", "ppoll", "accept4", "recvfrom", "sendto", "recvmsg",
		"sendmsg", "socketpair", "getsockopt",
		"getsockname", "getpeername", "shutdown", "fcntl", "ioctl",
		"inotify_init1", "inotify_add_watch", "inotify_rm_watch",
		"signalfd4", "eventfd2", "pipe2", "dup", "dup2", "dup3",
		"clock_gettime", "clock_nanosleep", "nanosleep",
		"gettimeofday", "time", "getpid", "gettid", "getuid",
		"geteuid", "getgid", "getegid", "getrandom", "futex",
		"sched_yield", "restart_syscall", "exit", "exit_group",
		"getrlimit", "prlimit64", "uname", "rseq",
		"set_robust_list", "setpriority", "sched_getaffinity",
	};
	static const char *const fatal_calls[] = {
		"execve", "execveat", "fork", "vfork", "ptrace",
		"process_vm_readv", "process_vm_writev", "bind", "listen",
		"connect", "mount", "umount2", "pivot_root", "chroot",
		"setuid", "setgid", "setreuid", "setregid", "setresuid",
		"setresgid", "setgroups", "init_module", "finit_module",
		"kexec_load", "reboot", "personality", "unshare", "setns",
	};
	struct scmp_arg_cmp	 unix_only = { 0, SCMP_CMP_EQ, AF_UNIX, 0 };
	struct scmp_arg_cmp	 tcp = { 1, SCMP_CMP_EQ, IPPROTO_TCP, 0 };
	struct scmp_arg_cmp	 not_tcp = { 1, SCMP_CMP_NE, IPPROTO_TCP, 0 };
	struct scmp_arg_cmp	 thread = { 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
				    CLONE_THREAD };
	scmp_filter_ctx		 ctx;
	int			 nr, rc = -1;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((nr = seccomp_syscall_resolve_name(allowed[i])) !=
		    __NR_SCMP_ERROR &&
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			goto out;
	for (size_t i = 0; i < sizeof(fatal_calls) / sizeof(fatal_calls[0]);
	    i++)
		if ((nr = seccomp_syscall_resolve_name(fatal_calls[i])) !=
		    __NR_SCMP_ERROR &&
		    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0) < 0)
			goto out;
	/*
	 * TCP options are set on the listeners before this point.  After
	 * it, libmicrohttpd tries TCP_NODELAY and TCP_CORK on each answer;
	 * on our socketpairs that fails with EOPNOTSUPP, which it takes for
	 * a passing error and retries every time (two calls a request).
	 * ENOPROTOOPT tells it the socket has no TCP options at all.
	 */
	if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt),
	    1, &not_tcp) < 0 ||
	    seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(ENOPROTOOPT),
	    SCMP_SYS(setsockopt), 1, &tcp) < 0)
		goto out;
	/*
	 * Threads (the workers), and no other kind of clone: clone3 says
	 * ENOSYS, so that glibc falls back to clone, whose flags can be
	 * checked.
	 */
	if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    &thread) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
	    0) < 0)
		goto out;
	/* Sockets: only Unix ones (systemd's notification). */
	if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    &unix_only) < 0)
		goto out;
	if (seccomp_load(ctx) < 0)
		goto out;
	rc = 0;
out:
	seccomp_release(ctx);
	return rc;
}

/* see sandbox.h */
int
sandbox_enter(const struct config *c, const char *config_path)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_error("sandbox: no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (landlock(c, config_path) == -1) {
		log_error("sandbox: Landlock: %s", strerror(errno));
		return -1;
	}
	if (!SANITIZED && seccomp() == -1) {
		log_error("sandbox: seccomp: cannot load the filter");
		return -1;
	}
	log_info("sandbox: confined to reading %s and %s%s%s%s", c->policy_dir,
	    c->cert_dir, c->tlsrpt_dir[0] != '\0' ? ", writing " : "",
	    c->tlsrpt_dir, SANITIZED ? " (no seccomp: sanitizer build)" : "");
	return 0;
}
