/*
 * tsig.h: the TSIG key file of [dns] tsig_key, in the format BIND's
 * tsig-keygen writes (and named.conf includes):
 *
 *	key "mta-sts-key" {
 *		algorithm hmac-sha256;
 *		secret "wOGN1574FE7g4zVymV3JfL+6Le4p2vlCVLhQ3Fl5MZ8=";
 *	};
 *
 * Comments (#, //, and C style) are skipped.  The file holds exactly one
 * key.  Algorithms: hmac-sha256 and hmac-sha512 (what ldns signs with
 * correctly); hmac-md5 and hmac-sha1 are refused as weak, hmac-sha224 and
 * hmac-sha384 as unsupported.  The secret is base64 of at least 16 bytes.
 *
 * Pure code (tsig_read() aside): the daemon's -n and mta-stsctl share it.
 * The secret is wiped from memory by tsig_clear().
 */
#ifndef TSIG_H
#define TSIG_H

#include <stddef.h>

#define TSIG_NAME_MAX		255	/* a key name is a domain name */
#define TSIG_SECRET_MAX		344	/* base64 of 256 bytes, padded */
#define TSIG_FILE_MAX		16384	/* bytes of a key file */

struct tsig_key {
	char	 name[TSIG_NAME_MAX + 1];	/* as written, no trailing dot */
	char	 algorithm[16];			/* "hmac-sha256", lower case */
	char	 secret[TSIG_SECRET_MAX + 1];	/* base64, as written */
	size_t	 bytes;				/* of the decoded secret */
};

/*
 * Parses len bytes of src into *k.  Returns 0, or -1 with "line N: why"
 * in err (the secret is never quoted in a message).
 */
int	tsig_parse(const char *src, size_t len, struct tsig_key *k, char *err,
	    size_t errsz);

/*
 * Reads and parses the key file at path.  Returns 0, or -1 with
 * "PATH:LINE: why" or "PATH: why" in err; errno is EACCES when the file
 * could not be opened for want of permission (it may be root's only).
 */
int	tsig_read(const char *path, struct tsig_key *k, char *err,
	    size_t errsz);

/* Wipes *k (the secret above all). */
void	tsig_clear(struct tsig_key *k);

#endif /* TSIG_H */
