/*
 * fuzz_mail.c: libFuzzer target for the mail path of mta-stsctl reports
 * --import-mail: message bytes in, a stored report or a refusal out
 * (ctl/mail.c: the scan before GMime, GMime's parser, the walk, the
 * decoding and unpacking under the caps, the tolerant reading, the
 * store).
 *
 * Reports go to a directory of the fuzzer's own, emptied after each
 * input.  Every file stored must be whole (no temporary file left), no
 * larger than the JSON cap, and read tolerantly again; nothing is ever
 * to be tried again for a message in memory with room on the disk.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/mail.h"
#include "lib/file.h"
#include "lib/tlsrpt.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct mail_intake	 mi;
static char			 dir[] = "/tmp/fuzz-mail.XXXXXX";

static int	sweep(void);

/* The directory goes at exit (libFuzzer ends with exit()). */
static void
cleanup(void)
{
	sweep();
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL ||
	    (mi.dirfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		abort();
	mi.dir = dir;
	mi.caps.max_size = 64 * 1024;
	mi.caps.max_json = 256 * 1024;
	mi.caps.max_ratio = 100;
	mi.max_mail = 1024 * 1024;
	mi.quiet = 1;
	if (mail_begin(&mi) == -1)
		abort();
	atexit(cleanup);
	return 0;
}

/* Checks and removes what one input stored; returns how many. */
static int
sweep(void)
{
	struct tlsrpt_meta	 m;
	DIR			*top, *sub;
	struct dirent		*de, *fe;
	char			*buf;
	size_t			 len;
	int			 fd, n = 0;

	if ((top = fdopendir(dup(mi.dirfd))) == NULL)
		abort();
	rewinddir(top);
	while ((de = readdir(top)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((fd = openat(mi.dirfd, de->d_name, O_RDONLY |
		    O_DIRECTORY)) == -1 || (sub = fdopendir(fd)) == NULL)
			abort();	/* only domain directories */
		while ((fe = readdir(sub)) != NULL) {
			if (strcmp(fe->d_name, ".") == 0 ||
			    strcmp(fe->d_name, "..") == 0)
				continue;
			if (fe->d_name[0] == '.')
				abort();	/* a temporary file left */
			if (file_read(fd, fe->d_name, mi.caps.max_json, 0,
			    &buf, &len) == -1)
				abort();	/* larger than the cap */
			if (tlsrpt_read(buf, len, TLSRPT_TOLERANT, &m, NULL) !=
			    NULL || strcmp(m.name, fe->d_name) != 0 ||
			    strcmp(m.domain, de->d_name) != 0)
				abort();	/* not what was checked */
			free(buf);
			unlinkat(fd, fe->d_name, 0);
			n++;
		}
		closedir(sub);
		unlinkat(mi.dirfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(top);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned	 before = mi.stored;

	if (mail_import_buffer(&mi, "fuzz", data, size) == -1)
		abort();
	if (sweep() != (int)(mi.stored - before))
		abort();
	return 0;
}
