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
 * Decompresses (if packed so) the len bytes at in into a new
 * NUL-terminated buffer *out of *outlen bytes, caller frees.  Stops as
 * soon as the output passes caps->max_json or caps->max_ratio times len:
 * a gzip bomb costs at most that much.  Returns NULL, or a reason with
 * *out NULL; *too_big set when the reason is a cap (HTTP 413).
 */
const char	*tlsrpt_unpack(const void *in, size_t len,
		    enum tlsrpt_packing packing, const struct tlsrpt_caps *caps,
		    char **out, size_t *outlen, int *too_big);

/* What the store needs from a checked report. */
struct tlsrpt_meta {
	char		 name[TLSRPT_NAME_LEN + 1];	/* "HASH.json" */
	char		 domain[256];	/* first policy-domain, lower case */
	char		 day[11];	/* YYYY-MM-DD of start-datetime */
	/* Sessions of the policies for domain (the first policy-domain). */
	uint64_t	 successful, failed;
};

/*
 * Checks the structure of RFC 8460 section 4: organization-name,
 * date-range (start-datetime, end-datetime), contact-info, report-id,
 * policies (each with policy, summary and, if any, failure-details).
 * Returns NULL and fills *m, or a reason ("policies[0].summary: missing").
 */
const char	*tlsrpt_check(const char *json, size_t len,
		    struct tlsrpt_meta *m);

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
