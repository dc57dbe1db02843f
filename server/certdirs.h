/*
 * certdirs.h: the directories the certificates of cert_dir may live in,
 * for the sandbox (what it may read) and the watch (what it watches).
 *
 * They are, each given once and none below another:
 *   - cert_dir itself (a Kubernetes Secret volume is all beneath it: its
 *     files are links through ..data into ..TIMESTAMP/ directories);
 *   - certbot's archive/, when cert_dir is certbot's live/ (its last
 *     component is "live" and a directory "archive" is beside it): the
 *     links of live/NAME/ point into archive/NAME/, and certbot makes
 *     both for every name it issues, after mta-stsd started too;
 *   - the directory of each other link below cert_dir that points
 *     outside those, as the links are at the time of the call.
 */
#ifndef CERTDIRS_H
#define CERTDIRS_H

/*
 * Calls fn with each directory (an absolute path without links), first
 * cert_dir.  Returns 0, or -1 when cert_dir cannot be resolved.
 */
int	certdirs_each(const char *cert_dir,
	    void (*fn)(void *arg, const char *dir), void *arg);

#endif /* CERTDIRS_H */
