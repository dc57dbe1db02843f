/*
 * tlsrpt.h: TLS-RPT reports (RFC 8460): unpacked, checked and stored.
 *
 * Shared by the receiver in mta-stsd and by mta-stsctl reports --import.
 * Nothing here knows HTTP or TLS: the caller hands over the bytes of one
 * report and gets back NULL or a reason in words.
 *
 * A report is stored as the JSON it arrived as (decompressed), one file
 * per report: DIR/DOMAIN/HASH.json, HASH the SHA-256 of its report-id in
 * hex, so that a hostile id never becomes a path and a report sent twice
 * is stored once.  Files are written to a temporary name in the same
 * directory, synced and renamed without replacing (RENAME_NOREPLACE).
 */
#ifndef TLSRPT_H
#define TLSRPT_H

#include <stddef.h>
#include <stdint.h>

#define TLSRPT_NAME_LEN		(64 + 5)	/* "HASH.json" */
#define TLSRPT_SUFFIX		".json"

/* Hard caps on one report. */
struct tlsrpt_caps {
	size_t		 max_size;	/* bytes as sent (compressed or not) */
	size_t		 max_json;	/* bytes of JSON once decompressed */
	unsigned	 max_ratio;	/* decompressed / compressed */
};

/* How the bytes are packed: the media type says, or the file's magic. */
enum tlsrpt_packing {
	TLSRPT_JSON,		/* application/tlsrpt+json */
	TLSRPT_GZIP,		/* application/tlsrpt+gzip */
	TLSRPT_ANY		/* gzip if it starts with the gzip magic */
};

/*
 * Unpacking a report as its bytes arrive (a mail part being decoded):
 * every cap is checked at each chunk, so that a gzip bomb or an endless
 * part costs at most the caps, never its own size.  The ratio is judged
 * against the bytes fed so far.  The state is the caller's; nothing in
 * it is valid after tlsrpt_unpack_end().
 */
struct tlsrpt_unpack {
	struct tlsrpt_caps	 caps;
	enum tlsrpt_packing	 packing;
	int			 state;		/* see tlsrpt.c */
	void			*z;		/* the zlib stream, when gzip */
	unsigned char		 head[2];	/* held to see the magic */
	size_t			 nhead;
	char			*buf;		/* the JSON so far */
	size_t			 n, cap;
	size_t			 in;		/* bytes fed */
	int			 too_big;
	const char		*why;		/* the first failure */
};

/*
 * Seeds jansson's hash tables from getrandom(2).  mta-stsd calls it
 * before the first JSON value, in the main thread: reports are hostile
 * JSON, and jansson, left to seed itself, falls back to the time and the
 * process id where /dev/urandom cannot be opened (inside the sandbox).
 * mta-stsctl has no sandbox: jansson seeds itself there.
 */
void		 tlsrpt_seed(void);

void		 tlsrpt_unpack_begin(struct tlsrpt_unpack *u,
		    enum tlsrpt_packing packing,
		    const struct tlsrpt_caps *caps);
/* Takes len more bytes.  Returns 0, or -1 once refused (for good). */
int		 tlsrpt_unpack_feed(struct tlsrpt_unpack *u, const void *p,
		    size_t len);
/*
 * Ends the stream and frees the state: returns NULL with the JSON in a
 * new NUL-terminated *out of *outlen bytes (caller frees), or the reason
 * with *out NULL; *too_big set when the reason is a cap.
 */
const char	*tlsrpt_unpack_end(struct tlsrpt_unpack *u, char **out,
		    size_t *outlen, int *too_big);

/*
 * The same for len bytes at once (an HTTP body, a file): decompresses (if
 * packed so) into a new NUL-terminated buffer *out of *outlen bytes,
 * caller frees.  Stops as soon as the output passes caps->max_json or
 * caps->max_ratio times len: a gzip bomb costs at most that much.
 * Returns NULL, or a reason with *out NULL; *too_big set when the reason
 * is a cap (HTTP 413).
 */
const char	*tlsrpt_unpack(const void *in, size_t len,
		    enum tlsrpt_packing packing, const struct tlsrpt_caps *caps,
		    char **out, size_t *outlen, int *too_big);

/*
 * What was unusual in a report read tolerantly (tlsrpt_read), one bit
 * each; tlsrpt_note() says it in words.
 */
#define TLSRPT_NOTE_NO_ORG		0x0001	/* organization-name */
#define TLSRPT_NOTE_NO_CONTACT		0x0002	/* contact-info null/missing */
#define TLSRPT_NOTE_NO_ID		0x0004	/* report-id missing */
#define TLSRPT_NOTE_NO_ZONE		0x0008	/* date-time without zone */
#define TLSRPT_NOTE_NO_END		0x0010	/* end-datetime unreadable */
#define TLSRPT_NOTE_NO_SENDING_IP	0x0020	/* sending-mta-ip missing */
#define TLSRPT_NOTE_NO_RECEIVING_IP	0x0040	/* receiving-ip missing */
#define TLSRPT_NOTE_NO_DETAILS		0x0080	/* failures, no details */
#define TLSRPT_NOTE_NO_POLICY_STRING	0x0100	/* policy-string missing */
#define TLSRPT_NOTE_NO_SUMMARY		0x0200	/* a count missing: 0 */
#define TLSRPT_NOTE_WRONG_TYPE		0x0400	/* a member ignored */
#define TLSRPT_NOTE_BIG_COUNT		0x0800	/* a count above 2^53 */
#define TLSRPT_NOTE_UNATTRIBUTED	0x1000	/* a policy without domain */
#define TLSRPT_NOTES			13

/* The words for one note bit ("failure details without sending-mta-ip"). */
const char	*tlsrpt_note(unsigned bit);

/* What the store and the reader need from a checked report. */
struct tlsrpt_meta {
	char		 name[TLSRPT_NAME_LEN + 1];	/* "HASH.json" */
	char		 domain[256];	/* first policy-domain, lower case */
	char		 day[11];	/* YYYY-MM-DD (UTC) it is about */
	long long	 start, end;	/* the date range, seconds (UTC) */
	unsigned	 notes;		/* TLSRPT_NOTE_* (tolerant reading) */
	/* Sessions of the policies for domain (the first policy-domain). */
	uint64_t	 successful, failed;
};

/*
 * Checks the structure of RFC 8460 section 4: organization-name,
 * date-range (start-datetime, end-datetime), contact-info, report-id,
 * policies (each with policy, summary and, if any, failure-details).
 * Returns NULL and fills *m, or a reason ("policies[0].summary: missing").
 * The day is the UTC day of the middle of the date range (a range from
 * midnight to midnight, or given with a time zone offset, is about the
 * day it starts in).
 */
const char	*tlsrpt_check(const char *json, size_t len,
		    struct tlsrpt_meta *m);

/*
 * Reads a report as large senders really send it (TLSRPT_TOLERANT):
 * refused only when it cannot be attributed: not JSON (or not UTF-8), no
 * date range, no policy with a policy-domain that is a host name.  What
 * else is missing or of the wrong type is counted as nothing and noted in
 * m->notes; unknown members are ignored.  A report without a report-id
 * is named after its organisation, date range and domain.  Without
 * TLSRPT_TOLERANT, the rules of tlsrpt_check().
 *
 * With norm, *norm is the report normalised (caller json_decref()s):
 *   { "organization-name": S, "report-id": S, "start": T, "end": T,
 *     "policies": [ { "policy-type": S, "policy-domain": S (lower case),
 *       "policy-string": [S...], "mx-host": [S...], "successful": N,
 *       "failed": N, "failure-details": [ { "result-type": S,
 *       "sessions": N, and those present of "sending-mta-ip",
 *       "receiving-mx-hostname", "receiving-ip", "receiving-mx-helo",
 *       "failure-reason-code": S } ] } ] }
 * with T as YYYY-MM-DDTHH:MM:SSZ, N whole numbers >= 0, only the
 * policies that can be attributed.
 */
#define TLSRPT_STRICT		0x0
#define TLSRPT_TOLERANT		0x1

struct json_t;
const char	*tlsrpt_read(const char *json, size_t len, int flags,
		    struct tlsrpt_meta *m, struct json_t **norm);

/*
 * An RFC 3339 date-time (also without seconds or time zone, read as UTC,
 * with a fraction, with a lower-case t or z, or a space for the t), or a
 * date alone, into seconds since 1970 (UTC).  Returns 0, 1 when there was
 * no time zone, -1 when s is none of these.
 */
int		 tlsrpt_time(const char *s, long long *t);

/*
 * Stores json as dirfd/domain/m->name (domain made if missing, owned like
 * dirfd when made by root).  Returns 1 stored, 0 already there (nothing
 * written), -1 with errno set and nothing left behind.
 */
int		 tlsrpt_store(int dirfd, const char *domain,
		    const struct tlsrpt_meta *m, const char *json, size_t len);

/*
 * The bytes of the regular files in dirfd and its directories one level
 * down (the store's layout).  Returns -1 with errno on failure.
 */
int64_t		 tlsrpt_usage(int dirfd);

/*
 * A per-client token bucket: rate reports an hour, the same as burst.
 * Clients are kept in a fixed table; the one least recently seen gives
 * its place to a new one.
 */
#define TLSRPT_RATE_SLOTS	512

struct tlsrpt_rate {
	struct {
		char	 client[48];
		double	 tokens;
		int64_t	 last;		/* monotonic milliseconds */
	}		 slot[TLSRPT_RATE_SLOTS];
};

/*
 * Takes one token for client at now_ms.  Returns 0, or the seconds to
 * wait before the next report is taken (for Retry-After).
 */
unsigned	 tlsrpt_rate_take(struct tlsrpt_rate *r, const char *client,
		    int64_t now_ms, unsigned per_hour);

/* A plain-language hint for an RFC 8460 result-type; never NULL. */
const char	*tlsrpt_hint(const char *result_type);

#endif /* TLSRPT_H */
