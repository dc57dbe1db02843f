/*
 * mail.h: TLS reports as they arrive by mail (RFC 8460 section 5.3), for
 * mta-stsctl reports --import-mail.
 *
 * The only file that includes GMime, the MIME library: a message is
 * parsed from a file (or a temporary copy of standard input) without its
 * parts being read into memory; each part that holds a report is decoded
 * (base64, quoted-printable) and unpacked (gzip) as it is read, under the
 * caps of the HTTPS receiver (tlsrpt.h), then read tolerantly and stored
 * by lib/tlsrpt.c exactly as the receiver stores it: DIR/DOMAIN/HASH.json,
 * once per report-id.
 *
 * Before GMime sees a message, it is scanned: larger than max_mail, with
 * more than MAIL_MAX_BOUNDARIES lines that could start a part, or with a
 * header block larger than MAIL_MAX_HEADER, it is ignored (GMime keeps
 * headers and parts in memory, at many times their size, whatever their
 * content).  Parts are walked at most MAIL_MAX_DEPTH deep.
 *
 * What happens to each message is one line: on standard output for a
 * report stored, on standard error for what was refused or ignored (and
 * to syslog, facility mail, when use_syslog is set: an MTA keeps no
 * output of a pipe that succeeds).
 */
#ifndef MAIL_H
#define MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/tlsrpt.h"

/* The exit statuses an MTA pipe understands (sysexits.h). */
#define MAIL_EX_NOINPUT		66	/* a PATH that cannot be read */
#define MAIL_EX_TEMPFAIL	75	/* try again later; nothing lost */

#define MAIL_MAX_BOUNDARIES	1000	/* lines starting with "--" */
#define MAIL_MAX_HEADER		262144	/* bytes of one header block */
#define MAIL_MAX_DEPTH		32	/* nested multiparts and messages */

struct mail_intake {
	int			 dirfd;		/* tlsrpt_dir */
	const char		*dir;		/* its name, for messages */
	struct tlsrpt_caps	 caps;		/* of one report */
	size_t			 max_mail;	/* bytes of one message */
	int64_t			 dir_max;	/* bytes in dirfd; 0: no cap */
	int64_t			 used;		/* bytes counted in dirfd */
	int			 use_syslog;
	int			 quiet;		/* no output (the fuzzer) */
	/* What was done, over every call. */
	unsigned		 messages;
	unsigned		 stored;
	unsigned		 duplicates;
	unsigned		 refused;	/* parts or messages */
	unsigned		 tempfail;	/* messages to try again */
	unsigned		 noinput;	/* PATHs not read */
};

/*
 * Sets up GMime (once per process) and mi (dirfd and the caps filled in
 * by the caller after): counts what dirfd holds when dir_max is set.
 * Returns 0, or -1 with errno set.
 */
int	mail_begin(struct mail_intake *mi);
void	mail_end(struct mail_intake *mi);

/*
 * Imports what path holds: one message, every message of an mbox file
 * (one that starts with "From "), or every message in a Maildir's new/
 * and cur/ not yet marked seen (each is then moved to cur/ with the S
 * flag, so that a second run reads nothing twice); "-" reads one message
 * from standard input (never as an mbox: an MTA does not quote "From "
 * lines in what it pipes).  Returns 0 when every message was dealt with
 * (stored, already stored, or refused for its content: each logged), -1
 * when something must be tried again (mi->tempfail: a full disk, a
 * missing directory; nothing of that message is stored partially) or
 * path could not be read (mi->noinput).
 */
int	mail_import(struct mail_intake *mi, const char *path);

/* One message from memory, for the fuzzer: as mail_import(). */
int	mail_import_buffer(struct mail_intake *mi, const char *label,
	    const void *data, size_t len);

#endif /* MAIL_H */
