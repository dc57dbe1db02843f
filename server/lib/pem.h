/*
 * pem.h: the objects of a PEM buffer (RFC 7468), strictly: a BEGIN line
 * and an END line with the same label around base64 in lines.  Pure code
 * over hostile bytes, no allocation: the caller gives the buffer the DER
 * bytes go to.
 *
 * Lines outside objects are junk and skipped (comments, "Bag Attributes"
 * that openssl pkcs12 writes).  Inside an object, each line is base64,
 * possibly followed by spaces, tabs and a CR; blank lines are allowed;
 * "=" padding only at the end; a header line ("Proc-Type: ...", of an
 * encrypted key) is malformed.  The END line may end the buffer without
 * a newline.
 */
#ifndef PEM_H
#define PEM_H

#include <stddef.h>
#include <stdint.h>

#define PEM_LABEL_MAX	64

#define PEM_DONE	0	/* no more objects */
#define PEM_OBJECT	1	/* one object decoded */
#define PEM_MALFORMED	(-1)	/* bad base64, label or END line */
#define PEM_INCOMPLETE	(-2)	/* the buffer ends inside an object */

struct pem_reader {
	const char	*p;	/* next unread byte */
	const char	*end;
	int		 err;	/* PEM_MALFORMED or _INCOMPLETE, sticky */
};

/* Starts reading the len bytes at buf, which must outlive r. */
void	pem_init(struct pem_reader *r, const char *buf, size_t len);

/*
 * Reads the next object: returns PEM_OBJECT with its label (NUL-
 * terminated) in label and its DER bytes in out (outsz bytes; as many as
 * the buffer's length always suffice), their number in *outlen; or
 * PEM_DONE, PEM_MALFORMED or PEM_INCOMPLETE, which later calls return
 * again.
 */
int	pem_next(struct pem_reader *r, char label[PEM_LABEL_MAX + 1],
	    uint8_t *out, size_t outsz, size_t *outlen);

#endif /* PEM_H */
