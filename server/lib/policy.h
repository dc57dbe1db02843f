/*
 * policy.h: the MTA-STS policy module (RFC 8461 section 3.2).
 *
 * Pure code: no sockets, no TLS, no HTTP, no global state.  It turns a
 * policy source file, as an administrator writes it, into a parsed policy
 * and the canonical body that every known sender reads the same way, or
 * into a list of diagnostics naming the line and the rule broken.
 *
 * The source format is the RFC 8461 policy format with two additions for
 * people: lines starting with '#' and blank lines are comments (never
 * served), and LF may stand for CRLF.  Everything else is stricter than
 * the RFC, because the canonical body must parse identically in every
 * sender (see shared profile): unknown keys, duplicates other than mx,
 * non-ASCII bytes and control characters are errors.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>

#define POLICY_SOURCE_MAX	65536		/* bytes of a source file */
#define POLICY_MAX_AGE_MAX	31557600UL	/* RFC 8461: about one year */
#define POLICY_BODY_WARN	4096		/* canonical body size warning */
/*
 * The shortest max_age that is not a warning in mode enforce: one week.
 * RFC 8461 section 3.2 expects "weeks or greater"; one week is what
 * Microsoft documents for Exchange Online and uses itself.  validate,
 * mta-stsd at load, status and check all warn below it, through
 * policy_short_max_age().
 */
#define POLICY_ENFORCE_AGE_MIN	604800UL
#define POLICY_HOST_MAX		253		/* characters of a host name */
#define POLICY_LABEL_MAX	63		/* characters of one label */

enum policy_mode {
	POLICY_MODE_NONE,
	POLICY_MODE_TESTING,
	POLICY_MODE_ENFORCE
};

struct policy {
	enum policy_mode	 mode;
	char			**mx;		/* lower-cased, duplicates dropped */
	size_t			 nmx;
	unsigned long		 max_age;
	char			*body;		/* canonical body, NUL-terminated */
	size_t			 bodylen;	/* without the NUL */
};

enum policy_severity {
	POLICY_ERROR,
	POLICY_WARNING
};

struct policy_diag {
	enum policy_severity	 severity;
	unsigned		 line;		/* 1-based source line */
	char			 msg[256];	/* the rule broken, no prefix */
};

/*
 * Diagnostics of one parse: line problems in source order, then the
 * problems of the whole policy.  The caller owns the
 * structure; policy_diags_free() releases its array.
 */
struct policy_diags {
	struct policy_diag	*v;
	size_t			 n;
	size_t			 errors;
	size_t			 warnings;
	int			 oom;		/* a diagnostic was lost to ENOMEM */
};

/*
 * Parses len bytes of src (need not be NUL-terminated).  On success
 * returns 0 and fills *p, which the caller releases with policy_free();
 * warnings may have been added to *d.  Returns -1 when the source has
 * errors (all of them in *d; *p is left zeroed) or when memory ran out
 * (d->oom set).  *d must be zeroed or previously used with this function.
 */
int		 policy_parse(const char *src, size_t len, struct policy *p,
		    struct policy_diags *d);
void		 policy_free(struct policy *p);
void		 policy_diags_free(struct policy_diags *d);

/*
 * Writes "NAME:LINE: error: MSG" (or warning) into buf; returns buf.
 */
const char	*policy_diag_format(const char *name,
		    const struct policy_diag *dg, char *buf, size_t bufsz);

/*
 * The warning for a policy in mode enforce whose max_age is under
 * POLICY_ENFORCE_AGE_MIN, written into buf ("max_age 86400 is under
 * 604800 (one week), short for mode enforce"), or NULL when there is
 * none.
 */
const char	*policy_short_max_age(const struct policy *p, char *buf,
		    size_t bufsz);

/* "enforce", "testing" or "none". */
const char	*policy_mode_name(enum policy_mode mode);
/* Returns 0 and sets *mode, or -1 for anything but the three exact names. */
int		 policy_mode_parse(const char *s, enum policy_mode *mode);

/*
 * Checks that the len bytes at s are a host name in A-label form of at
 * least two labels: LDH labels of 1 to 63 characters, no hyphen at either
 * end of a label, 253 characters at most, no trailing dot, not an IP
 * address.  With allow_wildcard, a leading "*." is accepted (as an mx
 * pattern).  Returns NULL, or a static string naming the rule broken.
 */
const char	*policy_check_host(const char *s, size_t len,
		    int allow_wildcard);

/*
 * Does host (an exact host name, any case) match the mx pattern
 * (lower-case, as in struct policy)?  A "*." pattern matches exactly
 * one leading label (RFC 8461 section 4.1).  Returns 1 or 0.
 */
int		 policy_mx_match(const char *pattern, const char *host);

/*
 * Finds what in a served policy body (len bytes, valid for the policy
 * module) some sender reads differently: blank lines, comment lines,
 * lines not ending in CRLF.  Calls fn for each with the 1-based line and
 * a message; returns how many it found.  Pure.
 */
size_t		 policy_served_hazards(const char *body, size_t len,
		    void (*fn)(void *, unsigned, const char *), void *arg);

/*
 * How a served policy body (len bytes, valid for the policy module) is
 * laid out, against the canonical form: its lines, those ending in LF
 * alone, blank and comment lines, "key: value" lines spaced otherwise,
 * whether the last line has no end, and the order of its keys (each
 * named once, space-separated, "version mode mx max_age" when canonical).
 * Pure.
 */
struct policy_shape {
	size_t		 lines;
	size_t		 lf;		/* ending in LF, not CRLF */
	size_t		 blank;
	size_t		 comment;
	size_t		 spacing;	/* not "key: value" exactly */
	int		 no_final_eol;
	char		 order[64];
};

void		 policy_served_shape(const char *body, size_t len,
		    struct policy_shape *s);

#endif /* POLICY_H */
