/*
 * mail.c: TLS reports as they arrive by mail.  See mail.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "ctl/mail.h"
#include "lib/tlsrpt.h"

#define CHUNK		(64 * 1024)	/* bytes read at a time */
#define SPINS		1000		/* empty reads before giving up */

/* One message being read. */
struct msg {
	struct mail_intake	*mi;
	const char		*label;
	unsigned		 reports;	/* parts that looked like one */
	int			 temp;		/* to be tried again */
};

static int	 gmime_up;

/*
 * One line of what happened: on standard output (done) or standard
 * error (refused, ignored, failed), and to syslog.  Bytes from the
 * message (names, reasons) may be anything: they are printed as '?'.
 */
static void	say(struct mail_intake *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
say(struct mail_intake *mi, int problem, const char *fmt, ...)
{
	char	 line[1024];
	va_list	 ap;

	if (mi->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	if (problem)
		fprintf(stderr, "mta-stsctl reports: %s\n", line);
	else
		printf("%s\n", line);
	if (mi->use_syslog)
		syslog(LOG_MAIL | (problem ? LOG_WARNING : LOG_INFO), "%s",
		    line);
}

/* GLib speaks only when GMime is misused: say so, never abort. */
static void
glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
    gpointer arg)
{
	(void)level;
	(void)arg;
	fprintf(stderr, "mta-stsctl reports: %s: %s\n", domain != NULL ?
	    domain : "glib", msg);
}

/* see mail.h */
int
mail_begin(struct mail_intake *mi)
{
	if (!gmime_up) {
		g_log_set_default_handler(glib_log, NULL);
		g_mime_init();
		gmime_up = 1;
	}
	if (mi->use_syslog)
		openlog("mta-stsctl", LOG_PID, LOG_MAIL);
	mi->used = 0;
	if (mi->dir_max > 0 && (mi->used = tlsrpt_usage(mi->dirfd)) == -1)
		return -1;
	return 0;
}

/* see mail.h */
void
mail_end(struct mail_intake *mi)
{
	if (mi->use_syslog)
		closelog();
	if (gmime_up)
		g_mime_shutdown();
	gmime_up = 0;
}

/* Stores one report read from a part; a failure is for another try. */
static void
store(struct msg *m, const struct tlsrpt_meta *meta, const char *json,
    size_t len)
{
	struct mail_intake	*mi = m->mi;

	if (mi->dir_max > 0 && mi->used + (int64_t)len > mi->dir_max) {
		say(mi, 1, "%s: %s is full (tlsrpt_dir_max): will be tried "
		    "again", m->label, mi->dir);
		m->temp = 1;
		return;
	}
	switch (tlsrpt_store(mi->dirfd, meta->domain, meta, json, len)) {
	case 1:
		mi->stored++;
		mi->used += (int64_t)len;
		say(mi, 0, "%s: stored as %s/%s/%s", m->label, mi->dir,
		    meta->domain, meta->name);
		break;
	case 0:
		mi->duplicates++;
		say(mi, 0, "%s: already stored (%s/%s/%s)", m->label, mi->dir,
		    meta->domain, meta->name);
		break;
	default:
		say(mi, 1, "%s: cannot store in %s/%s: %s: will be tried "
		    "again", m->label, mi->dir, meta->domain, strerror(errno));
		m->temp = 1;
		break;
	}
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t	 a = strlen(s), b = strlen(suffix);

	return a >= b && g_ascii_strcasecmp(s + a - b, suffix) == 0;
}

/*
 * Is this leaf a report?  RFC 8460's media types, and the generic ones
 * some senders use for a file named *.json.gz or *.json.
 */
static int
is_report(GMimeObject *o, const char *name)
{
	GMimeContentType	*ct = g_mime_object_get_content_type(o);
	const char		*t, *s;
	int			 named;

	if (ct == NULL)
		return 0;
	t = g_mime_content_type_get_media_type(ct);
	s = g_mime_content_type_get_media_subtype(ct);
	if (t == NULL || s == NULL || g_ascii_strcasecmp(t, "application") != 0)
		return 0;
	if (g_ascii_strcasecmp(s, "tlsrpt+gzip") == 0 ||
	    g_ascii_strcasecmp(s, "tlsrpt+json") == 0 ||
	    g_ascii_strcasecmp(s, "json") == 0)
		return 1;
	named = name != NULL && (ends_with(name, ".json.gz") ||
	    ends_with(name, ".json"));
	return named && (g_ascii_strcasecmp(s, "gzip") == 0 ||
	    g_ascii_strcasecmp(s, "x-gzip") == 0 ||
	    g_ascii_strcasecmp(s, "octet-stream") == 0);
}

/*
 * Decodes one part as it is read (its transfer encoding undone by a
 * GMime filter, in CHUNK steps) into the unpacker, which refuses as soon
 * as a cap is passed; then reads and stores the report.
 */
static void
take_part(struct msg *m, GMimePart *part, const char *where)
{
	struct mail_intake	*mi = m->mi;
	struct tlsrpt_unpack	 u;
	struct tlsrpt_meta	 meta;
	GMimeDataWrapper	*dw = g_mime_part_get_content(part);
	GMimeContentEncoding	 enc;
	GMimeStream		*fs;
	GMimeFilter		*f;
	const char		*why, *name = g_mime_part_get_filename(part);
	char			*buf, *json, *type;
	size_t			 len;
	ssize_t			 n;
	int			 big, spins = 0, ioerr = 0;

	m->reports++;
	type = g_mime_content_type_get_mime_type(
	    g_mime_object_get_content_type((GMimeObject *)part));
	if (dw == NULL || (buf = malloc(CHUNK)) == NULL) {
		why = dw == NULL ? "no content" : "out of memory";
		goto refused;
	}
	enc = g_mime_data_wrapper_get_encoding(dw);
	fs = g_mime_stream_filter_new(g_mime_data_wrapper_get_stream(dw));
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		f = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add((GMimeStreamFilter *)fs, f);
		g_object_unref(f);
	}
	g_mime_stream_reset(fs);
	tlsrpt_unpack_begin(&u, TLSRPT_ANY, &mi->caps);
	/* A filter may swallow a whole block and say 0 before the end. */
	while (!g_mime_stream_eos(fs) && spins < SPINS) {
		if ((n = g_mime_stream_read(fs, buf, CHUNK)) < 0) {
			ioerr = 1;
			break;
		}
		spins = n == 0 ? spins + 1 : 0;
		if (n > 0 && tlsrpt_unpack_feed(&u, buf, (size_t)n) == -1)
			break;
	}
	g_object_unref(fs);
	free(buf);
	why = tlsrpt_unpack_end(&u, &json, &len, &big);
	if (ioerr) {
		free(json);
		say(mi, 1, "%s: part %s: read error: will be tried again",
		    m->label, where);
		m->temp = 1;
		goto out;
	}
	if (why == NULL && (why = tlsrpt_read(json, len, TLSRPT_TOLERANT,
	    &meta, NULL)) == NULL)
		store(m, &meta, json, len);
	free(json);
	if (why == NULL)
		goto out;
refused:
	mi->refused++;
	say(mi, 1, "%s: part %s (%s%s%.120s): refused: %s", m->label, where,
	    type != NULL ? type : "?", name != NULL ? ", " : "",
	    name != NULL ? name : "", why);
out:
	g_free(type);
}

/* Every part, depth first, as far as MAIL_MAX_DEPTH. */
static void
walk(struct msg *m, GMimeObject *o, int depth, const char *where)
{
	GMimeMessage	*inner;
	char		 sub[128];
	int		 i, n;

	if (o == NULL)
		return;
	if (depth > MAIL_MAX_DEPTH) {
		say(m->mi, 1, "%s: part %s: nested deeper than %d: not read",
		    m->label, where, MAIL_MAX_DEPTH);
		return;
	}
	if (GMIME_IS_MULTIPART(o)) {
		n = g_mime_multipart_get_count((GMimeMultipart *)o);
		for (i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s%s%d", where,
			    *where != '\0' ? "." : "", i + 1);
			walk(m, g_mime_multipart_get_part((GMimeMultipart *)o,
			    i), depth + 1, sub);
		}
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		/* A report forwarded as message/rfc822. */
		inner = g_mime_message_part_get_message((GMimeMessagePart *)o);
		if (inner != NULL)
			walk(m, g_mime_message_get_mime_part(inner), depth + 1,
			    where);
	} else if (GMIME_IS_PART(o)) {
		if (is_report(o, g_mime_part_get_filename((GMimePart *)o)))
			take_part(m, (GMimePart *)o, *where != '\0' ? where :
			    "1");
	}
}

/*
 * What a message costs GMime whatever it holds, counted before it is
 * parsed: the lines that could open a MIME part ("--" first: each costs
 * an object, so that a message of tiny parts would take hundreds of
 * megabytes), and the largest header block (at the top, or after such a
 * line; GMime keeps headers in memory at about 30 times their size).
 * Returns 0, or -1 on a read error.  The stream is left at its start.
 */
struct scan {
	long		 boundaries;
	size_t		 header;	/* bytes of the largest header block */
};

static int
scan(GMimeStream *s, struct scan *sc)
{
	char	*buf;
	ssize_t	 n;
	size_t	 block = 0;
	int	 col = 0, dash = 0, spins = 0, in_header = 1, blank = 1, rc = 0;

	memset(sc, 0, sizeof(*sc));
	if ((buf = malloc(CHUNK)) == NULL)
		return -1;
	g_mime_stream_reset(s);
	while (sc->boundaries <= MAIL_MAX_BOUNDARIES &&
	    sc->header <= MAIL_MAX_HEADER && !g_mime_stream_eos(s) &&
	    spins < SPINS) {
		if ((n = g_mime_stream_read(s, buf, CHUNK)) < 0) {
			rc = -1;
			break;
		}
		spins = n == 0 ? spins + 1 : 0;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				if (in_header && blank)
					in_header = 0;	/* the body begins */
				else if (dash == 2) {
					in_header = 1;	/* a part's headers */
					block = 0;
				}
				col = dash = 0;
				blank = 1;
				continue;
			}
			if (buf[i] != '\r')
				blank = 0;
			if (col < 2 && buf[i] == '-' && ++dash == 2)
				sc->boundaries++;
			col++;
			if (in_header && ++block > sc->header)
				sc->header = block;
		}
	}
	free(buf);
	g_mime_stream_reset(s);
	return rc;
}

/* GMime's own findings: the message is judged by its parts. */
static void
parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
    gpointer arg)
{
	(void)offset;
	(void)code;
	(void)item;
	(void)arg;
}

/* One message in s (taken).  Returns 0, or -1 to be tried again. */
static int
one_message(struct mail_intake *mi, GMimeStream *s, const char *label)
{
	struct msg		 m;
	GMimeParser		*p;
	GMimeParserOptions	*po;
	GMimeMessage		*msg;
	struct scan		 sc;
	gint64			 len = g_mime_stream_length(s);

	memset(&m, 0, sizeof(m));
	m.mi = mi;
	m.label = label;
	mi->messages++;
	if (len < 0 || (uint64_t)len > mi->max_mail) {
		mi->refused++;
		say(mi, 1, "%s: a message of %lld bytes, over tlsrpt_max_mail "
		    "(%zu): ignored", label, (long long)len, mi->max_mail);
		g_object_unref(s);
		return 0;
	}
	if (scan(s, &sc) == -1) {
		say(mi, 1, "%s: read error: will be tried again", label);
		mi->tempfail++;
		g_object_unref(s);
		return -1;
	}
	if (sc.boundaries > MAIL_MAX_BOUNDARIES ||
	    sc.header > MAIL_MAX_HEADER) {
		mi->refused++;
		if (sc.header > MAIL_MAX_HEADER)
			say(mi, 1, "%s: a header block of more than %d bytes: "
			    "not a report: ignored", label, MAIL_MAX_HEADER);
		else
			say(mi, 1, "%s: more than %d lines starting a MIME "
			    "part: not a report: ignored", label,
			    MAIL_MAX_BOUNDARIES);
		g_object_unref(s);
		return 0;
	}
	p = g_mime_parser_new_with_stream(s);
	g_object_unref(s);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(p, TRUE);
	po = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(po, parser_warning, NULL);
	if ((msg = g_mime_parser_construct_message(p, po)) != NULL) {
		walk(&m, g_mime_message_get_mime_part(msg), 0, "");
		g_object_unref(msg);
	}
	g_mime_parser_options_free(po);
	g_object_unref(p);
	if (m.reports == 0) {
		mi->refused++;
		say(mi, 1, "%s: %s: ignored", label, msg == NULL ? "not a mail "
		    "message" : "no TLS report in this message");
	}
	if (m.temp) {
		mi->tempfail++;
		return -1;
	}
	return 0;
}

/*
 * Does the line after the "From " line at off look like a header field
 * ("Name:")?  A message starts so; a line of text that happens to start
 * with "From " after an empty line (mail saved as an MTA pipes it, which
 * quotes nothing) is not followed by one.
 */
static int
header_follows(int fd, off_t off)
{
	char	 buf[1024], *nl, *p;
	ssize_t	 n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, off)) <= 0)
		return 0;
	buf[n] = '\0';
	if ((nl = memchr(buf, '\n', (size_t)n)) == NULL)
		return 0;
	for (p = nl + 1; *p > ' ' && *p < 0x7f && *p != ':'; p++)
		;
	return p > nl + 1 && *p == ':';
}

/*
 * The messages of an mbox file: each starts with a line "From " at the
 * top of the file or after an empty line, followed by a header field (a
 * writer of mboxes quotes the others as ">From ").
 */
static int
import_mbox(struct mail_intake *mi, int fd, const char *path, off_t size)
{
	GMimeStream	*whole;
	char		*buf, label[4200];
	off_t		*starts = NULL, *ns, off = 0, lstart = 0;
	size_t		 nstarts = 0, cap = 0;
	ssize_t		 n;
	int		 match = 0, prev_empty = 1, len = 0, rc = 0, dfd;

	if ((buf = malloc(CHUNK)) == NULL || (dfd = dup(fd)) == -1) {
		free(buf);
		return -1;
	}
	/* match: how much of "From " the line starts with; -1: not it. */
	while (off < size && (n = pread(fd, buf, CHUNK, off)) > 0) {
		for (ssize_t i = 0; i < n; i++, off++) {
			if (buf[i] == '\n') {
				prev_empty = len == 0;
				lstart = off + 1;
				len = match = 0;
				continue;
			}
			if (buf[i] != '\r')
				len++;
			if (match < 0 || match == 5)
				continue;
			match = buf[i] == "From "[match] ? match + 1 : -1;
			if (match != 5 || !prev_empty || (lstart > 0 &&
			    !header_follows(fd, lstart)))
				continue;
			if (nstarts == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				if ((ns = reallocarray(starts, cap,
				    sizeof(*ns))) == NULL) {
					rc = -1;
					goto out;
				}
				starts = ns;
			}
			starts[nstarts++] = lstart;
		}
	}
	whole = g_mime_stream_fs_new(dfd);
	dfd = -1;
	for (size_t i = 0; i < nstarts; i++) {
		off_t	 end = i + 1 < nstarts ? starts[i + 1] : size;

		snprintf(label, sizeof(label), "%s#%zu", path, i + 1);
		if (one_message(mi, g_mime_stream_substream(whole, starts[i],
		    end), label) == -1)
			rc = -1;
	}
	g_object_unref(whole);
out:
	if (dfd != -1)
		close(dfd);
	free(starts);
	free(buf);
	return rc;
}

/* A message or an mbox in the regular file fd (kept open). */
static int
import_fd(struct mail_intake *mi, int fd, const char *label, int may_mbox)
{
	struct stat	 st;
	char		 head[5];
	int		 dfd;

	if (fstat(fd, &st) == -1)
		return -1;
	if (may_mbox && pread(fd, head, 5, 0) == 5 &&
	    memcmp(head, "From ", 5) == 0)
		return import_mbox(mi, fd, label, st.st_size);
	if ((dfd = dup(fd)) == -1)
		return -1;
	return one_message(mi, g_mime_stream_fs_new_with_bounds(dfd, 0,
	    st.st_size), label);
}

/*
 * Standard input into an unlinked temporary file (TMPDIR, else /tmp), so
 * that GMime reads parts from the disk, never from memory: at most
 * max_mail bytes are kept, the rest is read and dropped (an MTA wants
 * all of it read).  Returns the file, -2 when the message is too large,
 * -1 on a failure to be tried again.
 */
static int
spool_stdin(struct mail_intake *mi, size_t *total)
{
	const char	*dir = getenv("TMPDIR");
	char		*buf, path[4096];
	ssize_t		 n, w;
	int		 fd;

	*total = 0;
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(path, sizeof(path), "%s/.mta-stsctl.XXXXXX", dir);
		if ((fd = mkostemp(path, O_CLOEXEC)) != -1)
			unlink(path);
	}
	if (fd == -1 || (buf = malloc(CHUNK)) == NULL) {
		say(mi, 1, "stdin: cannot keep the message in %s: %s: will be "
		    "tried again", dir, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((n = read(STDIN_FILENO, buf, CHUNK)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		*total += (size_t)n;
		if (*total > mi->max_mail)
			continue;		/* read to the end, dropped */
		for (ssize_t off = 0; off < n; off += w)
			if ((w = write(fd, buf + off, (size_t)(n - off))) ==
			    -1) {
				if (errno != EINTR)
					goto fail;
				w = 0;
			}
	}
	free(buf);
	if (*total > mi->max_mail) {
		close(fd);
		return -2;
	}
	return fd;
fail:
	say(mi, 1, "stdin: cannot keep the message in %s: %s: will be tried "
	    "again", dir, strerror(errno));
	free(buf);
	close(fd);
	return -1;
}

static int
import_stdin(struct mail_intake *mi)
{
	struct stat	 st;
	size_t		 total;
	int		 fd, rc;

	/* A file given with "<" is read where it is. */
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    lseek(STDIN_FILENO, 0, SEEK_CUR) == 0)
		return import_fd(mi, STDIN_FILENO, "stdin", 0);
	if ((fd = spool_stdin(mi, &total)) == -2) {
		mi->messages++;
		mi->refused++;
		say(mi, 1, "stdin: a message of %zu bytes, over "
		    "tlsrpt_max_mail (%zu): ignored", total, mi->max_mail);
		return 0;
	}
	if (fd == -1) {
		mi->tempfail++;
		return -1;
	}
	rc = import_fd(mi, fd, "stdin", 0);
	close(fd);
	return rc;
}

static int
char_cmp(const void *a, const void *b)
{
	return *(const unsigned char *)a - *(const unsigned char *)b;
}

/* Has a Maildir name (in cur/) the S flag after ":2,"? */
static int
seen(const char *name)
{
	const char	*info = strstr(name, ":2,");

	return info != NULL && strchr(info + 3, 'S') != NULL;
}

/*
 * Marks a message read: new/NAME, or cur/NAME:2,FLAGS, becomes
 * cur/NAME:2,FLAGS with S among the flags (kept in ASCII order).
 */
static void
mark_seen(struct mail_intake *mi, int from, int cur, const char *name,
    const char *label)
{
	char		 to[1024], flags[64] = "S";
	const char	*info = strstr(name, ":2,");
	size_t		 base = info != NULL ? (size_t)(info - name) :
			    strlen(name), k = 1;

	if (info != NULL)
		for (const char *f = info + 3; *f != '\0' && k < 62; f++)
			if (*f != 'S' && strchr(flags, *f) == NULL)
				flags[k++] = *f;
	flags[k] = '\0';
	qsort(flags, k, 1, char_cmp);
	snprintf(to, sizeof(to), "%.*s:2,%s", (int)base, name, flags);
	if (renameat(from, name, cur, to) == -1)
		say(mi, 1, "%s: cannot mark it read (%s): it will be read "
		    "again, and its reports found already stored", label,
		    strerror(errno));
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A Maildir: the messages of new/, then those of cur/ not marked seen, in
 * name order (their delivery order); each one dealt with is marked seen.
 */
static int
import_maildir(struct mail_intake *mi, int top, const char *path)
{
	static const char *const subs[] = { "new", "cur" };
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, **nn, label[4200];
	size_t		 n, cap;
	int		 fds[2] = { -1, -1 }, fd, rc = 0;

	for (int i = 0; i < 2; i++)
		if ((fds[i] = openat(top, subs[i], O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			say(mi, 1, "%s/%s: %s", path, subs[i], strerror(errno));
			rc = -1;
			mi->noinput++;
			goto out;
		}
	for (int i = 0; i < 2; i++) {
		if ((fd = dup(fds[i])) == -1 || (d = fdopendir(fd)) == NULL) {
			if (fd != -1)
				close(fd);
			rc = -1;
			mi->noinput++;
			goto out;
		}
		n = cap = 0;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' || (i == 1 &&
			    seen(de->d_name)))
				continue;
			if (n == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				if ((nn = reallocarray(names, cap,
				    sizeof(*nn))) == NULL)
					break;
				names = nn;
			}
			if ((names[n] = strdup(de->d_name)) != NULL)
				n++;
		}
		closedir(d);
		if (n > 0)
			qsort(names, n, sizeof(*names), name_cmp);
		for (size_t j = 0; j < n; j++) {
			snprintf(label, sizeof(label), "%s/%s/%s", path,
			    subs[i], names[j]);
			fd = openat(fds[i], names[j], O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC | O_NONBLOCK);
			if (fd == -1) {
				/* Taken by another reader meanwhile. */
				if (errno != ENOENT) {
					say(mi, 1, "%s: %s", label,
					    strerror(errno));
					rc = -1;
					mi->noinput++;
				}
			} else if (import_fd(mi, fd, label, 0) == -1)
				rc = -1;
			else
				mark_seen(mi, fds[i], fds[1], names[j], label);
			if (fd != -1)
				close(fd);
			free(names[j]);
		}
	}
out:
	free(names);
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	return rc;
}

/* see mail.h */
int
mail_import(struct mail_intake *mi, const char *path)
{
	struct stat	 st;
	int		 fd, rc;

	if (strcmp(path, "-") == 0)
		return import_stdin(mi);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		say(mi, 1, "%s: %s", path, strerror(errno));
		mi->noinput++;
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		rc = import_maildir(mi, fd, path);
	else if (S_ISREG(st.st_mode))
		rc = import_fd(mi, fd, path, 1);
	else {
		say(mi, 1, "%s: neither a file nor a Maildir", path);
		mi->noinput++;
		rc = -1;
	}
	close(fd);
	return rc;
}

/* see mail.h */
int
mail_import_buffer(struct mail_intake *mi, const char *label,
    const void *data, size_t len)
{
	return one_message(mi, g_mime_stream_mem_new_with_buffer(data, len),
	    label);
}
