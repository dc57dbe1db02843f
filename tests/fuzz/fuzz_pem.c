/*
 * fuzz_pem.c: libFuzzer target for the certificate and key loader.
 *
 * tls.c reads PEM files only through tls_certs_scan(DIR): its PEM
 * (pem.c), DER (der_cert_parse), key (br_skey_decoder) and certificate
 * key (br_x509_decoder) paths have no entry point for bytes.  So the bytes
 * are written, each run, as the one file of a directory made once per
 * process under tests/fuzz/work/ (removed at exit, or by the next run
 * when this one dies on a finding), and the directory is scanned: the
 * real code path, pairing included.  About 5,000 runs a second, against
 * some 100,000 for a parser given bytes (file system calls each run).
 *
 * Beyond "no crash", with the file decoded again here with pem.c's
 * reader as scan_file() does (objects within the file's size, the reader
 * within the buffer and staying where it stopped):
 *   - one file gives at most one credential;
 *   - a credential comes from a file with a certificate and a private
 *     key and no PEM error;
 *   - each dNSName of its leaf (1 to 253 bytes, no NUL) finds it with
 *     tls_certs_find() at its notBefore, of a kind tls.c serves (ECDSA
 *     P-256/384/521 or RSA 2048 to 4096 bits), with this file's path.
 * With FUZZ_STRICT=1, also: the scan returns a result (tls.h: NULL only
 * when the directory cannot be read or memory runs out).  That fails
 * today for a certificate whose subjectAltName is malformed (see the
 * report that came with this file), so it is off by default.
 *
 * Seeds: tests/fuzz/corpus/pem/, TEST keys and certificates made with
 * certs/mkcert.sh for this corpus only.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/der.h"
#include "lib/log.h"
#include "lib/pem.h"
#include "tls/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 dir[PATH_MAX], file[PATH_MAX + 16];
static int	 strict;

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_pem: invariant broken: %s\n", what);
		abort();
	}
}

static void
cleanup(void)
{
	unlink(file);
	rmdir(dir);
}

/* Removes the directories of runs that died (a finding aborts). */
static void
sweep(const char *work)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[PATH_MAX + 300];
	long		 pid;
	char		*end;

	if ((d = opendir(work)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "pem-scan.", 9) != 0)
			continue;
		pid = strtol(de->d_name + 9, &end, 10);
		if (*end != '\0' || pid <= 0 || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;	/* not ours, or still running */
		snprintf(path, sizeof(path), "%s/%s/f.pem", work, de->d_name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", work, de->d_name);
		rmdir(path);
	}
	closedir(d);
}

/* A directory of its own under tests/fuzz/work/, beside this binary. */
static void
setup(void)
{
	char	 exe[PATH_MAX], *slash;
	ssize_t	 n;
	const char *s = getenv("FUZZ_STRICT");

	strict = s != NULL && strcmp(s, "1") == 0;
	log_set_level(LOG_LVL_ERROR);	/* one warning per bad file */
	tls_init();			/* the scan uses its EC code */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1) {
		perror("fuzz_pem: /proc/self/exe");
		abort();
	}
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/work", exe);
	mkdir(dir, 0755);
	sweep(dir);
	snprintf(dir, sizeof(dir), "%s/work/pem-scan.%ld", exe,
	    (long)getpid());
	if (mkdir(dir, 0700) == -1) {
		perror(dir);
		abort();
	}
	snprintf(file, sizeof(file), "%s/f.pem", dir);
	atexit(cleanup);
}

/* What scan_file() sees in the file, decoded again here. */
struct seen {
	size_t		 certs, keys;
	int		 error, inobj;
	uint8_t		*leaf;		/* the first certificate */
	size_t		 leaflen;
};

/* Reads the file's objects as scan_file() does, checking the reader. */
static void
read_all(struct seen *s, const uint8_t *data, size_t size)
{
	struct pem_reader	 r;
	char			 label[PEM_LABEL_MAX + 1];
	size_t			 len;
	int			 ev;

	if ((s->leaf = malloc(size + 1)) == NULL)
		abort();
	pem_init(&r, (const char *)data, size);
	while ((ev = pem_next(&r, label, s->leaf + s->leaflen,
	    size + 1 - s->leaflen, &len)) == PEM_OBJECT) {
		check(len <= size, "an object longer than its file");
		check(strlen(label) > 0 && strlen(label) <= PEM_LABEL_MAX,
		    "label length");
		check(r.p >= (const char *)data &&
		    r.p <= (const char *)data + size, "reader out of bounds");
		if (strcmp(label, "CERTIFICATE") == 0) {
			if (s->certs++ == 0)
				s->leaflen = len;	/* kept */
		} else if (strcmp(label, "PRIVATE KEY") == 0 ||
		    strcmp(label, "EC PRIVATE KEY") == 0 ||
		    strcmp(label, "RSA PRIVATE KEY") == 0)
			s->keys++;
	}
	s->error = ev == PEM_MALFORMED;
	s->inobj = ev == PEM_INCOMPLETE;
	check(pem_next(&r, label, s->leaf + s->leaflen, size + 1 - s->leaflen,
	    &len) == ev, "the reader does not stay where it stopped");
}

struct found {
	const struct tls_certs	*cs;
	time_t			 now;
	size_t			 names;
};

static int
name_found(void *arg, const char *name, size_t len)
{
	struct found	*f = arg;
	struct tls_cred	*ec, *rsa, *c;
	char		 host[254], why[256];
	const char	*kind;

	if (len == 0 || len > 253 || memchr(name, '\0', len) != NULL)
		return 0;
	memcpy(host, name, len);
	host[len] = '\0';
	tls_certs_find(f->cs, host, f->now, &ec, &rsa, why, sizeof(why));
	check(ec != NULL || rsa != NULL,
	    "a loaded credential is not found by one of its names");
	check(ec == NULL || rsa == NULL, "one file gave two credentials");
	c = ec != NULL ? ec : rsa;
	check(strcmp(tls_cred_path(c), file) == 0, "credential path");
	kind = tls_cred_kind(c);
	if (ec != NULL)
		check(strcmp(kind, "ECDSA P-256") == 0 ||
		    strcmp(kind, "ECDSA P-384") == 0 ||
		    strcmp(kind, "ECDSA P-521") == 0, "ECDSA kind");
	else
		check(strncmp(kind, "RSA ", 4) == 0 && atoi(kind + 4) >= 2048 &&
		    atoi(kind + 4) <= 4096, "RSA kind");
	check(tls_cred_subject(c) != NULL, "subject");
	f->names++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 fd = -1;
	struct tls_certs	*cs;
	struct seen		 s;
	struct der_cert		 dc;
	struct found		 f;
	size_t			 n;

	if (fd == -1) {
		setup();
		if ((fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600)) == -1) {
			perror(file);
			abort();
		}
	}
	/*
	 * Write, then cut to size: ext4 flushes a file truncated to 0 when
	 * it is next closed (auto_da_alloc), which would cost a disk write
	 * per run.
	 */
	if ((size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size) ||
	    ftruncate(fd, (off_t)size) == -1) {
		perror("fuzz_pem: write");
		abort();
	}
	cs = tls_certs_scan(dir);
	if (cs == NULL) {
		check(!strict, "tls_certs_scan returned NULL for a readable "
		    "directory");
		return 0;
	}
	n = tls_certs_count(cs);
	check(n <= 1, "one file gave more than one credential");
	memset(&s, 0, sizeof(s));
	read_all(&s, data, size);
	if (n == 1) {
		check(!s.error && !s.inobj && s.certs > 0 && s.keys > 0,
		    "a credential from a file without certificate and key");
		if (der_cert_parse(s.leaf, s.leaflen, &dc) == 0 &&
		    dc.not_before <= dc.not_after) {
			f.cs = cs;
			f.now = dc.not_before;
			f.names = 0;
			(void)der_cert_dns_names(&dc, name_found, &f);
		}
	}
	free(s.leaf);
	tls_certs_free(cs);
	return 0;
}
