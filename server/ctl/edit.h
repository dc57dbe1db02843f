/*
 * edit.h: changes to a policy source that keep what the administrator
 * wrote around them (comments, order, line endings).
 *
 * Each function takes a source that policy_parse() accepted and returns a
 * new source (caller frees), or NULL on ENOMEM.  The result still has to
 * be parsed: these functions edit text, the policy module judges it.
 */
#ifndef EDIT_H
#define EDIT_H

#include <stddef.h>

#include "lib/policy.h"

/* The mode line's value replaced. */
char	*edit_mode(const char *src, size_t len, enum policy_mode mode);
/* The max_age line's value replaced. */
char	*edit_max_age(const char *src, size_t len, unsigned long max_age);
/*
 * Every mx line removed and the n patterns of mx put where the first mx
 * line was (after the mode line if there was none).
 */
char	*edit_mx(const char *src, size_t len, char *const *mx, size_t n);

#endif /* EDIT_H */
