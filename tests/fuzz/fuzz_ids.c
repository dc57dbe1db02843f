/*
 * fuzz_ids.c: libFuzzer target for the id record (ids.c).
 *
 * Beyond "no crash":
 *   - a failure says "line N: why", N from 1 to the number of lines;
 *   - a record that parses, formatted with ids_format() and parsed
 *     again, is the same record, and formatting that gives the same text;
 *   - ids_next() never returns an id ids_used() calls used, and what it
 *     returns is a valid id of the form yyyymmddhhmmssZ; it is asked at
 *     a fixed time and at the time of each id of the record that reads
 *     as one (where ids collide);
 *   - after ids_issue() of that id, the record still formats and parses,
 *     the new id is current, and the id it replaces is still used.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/ids.h"
#include "lib/txt.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define DOMAIN	"example.com"
#define SHA	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define NOW	1700000000	/* 2023-11-14T22:13:20Z */
#define TIMES	8		/* ids_next() times tried per record */

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_ids: invariant broken: %s\n", what);
		abort();
	}
}

static int
same(const struct idrec *a, const struct idrec *b)
{
	if (strcmp(a->id, b->id) != 0 || strcmp(a->sha256, b->sha256) != 0 ||
	    a->max_age != b->max_age || strcmp(a->issued, b->issued) != 0 ||
	    strcmp(a->pending, b->pending) != 0 || a->nhistory != b->nhistory ||
	    strcmp(a->mode, b->mode) != 0)
		return 0;
	for (size_t i = 0; i < a->nhistory; i++)
		if (strcmp(a->history[i], b->history[i]) != 0 ||
		    strcmp(a->hbody[i].sha256, b->hbody[i].sha256) != 0 ||
		    strcmp(a->hbody[i].mode, b->hbody[i].mode) != 0)
			return 0;
	return 1;
}

/* Formats r, parses it back, and checks that nothing changed. */
static void
roundtrip(const struct idrec *r, const char *what)
{
	static struct idrec	 s;
	char			*text, *again, err[160];

	if ((text = ids_format(r, DOMAIN)) == NULL)
		abort();
	if (ids_parse(text, strlen(text), &s, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_ids: %s: %s\n---\n%s---\n", what, err,
		    text);
		check(0, "a formatted record does not parse");
	}
	check(same(r, &s), "format and parse changed the record");
	if ((again = ids_format(&s, DOMAIN)) == NULL)
		abort();
	check(strcmp(text, again) == 0, "formatting is not stable");
	free(text);
	free(again);
}

/* "yyyymmddhhmmssZ" as a time, or -1. */
static time_t
id_time(const char *id)
{
	struct tm	 tm;
	int		 v[6], w[6] = { 4, 2, 2, 2, 2, 2 };
	const char	*p = id;

	if (strlen(id) != 15 || id[14] != 'Z')
		return -1;
	for (int i = 0; i < 6; i++) {
		v[i] = 0;
		for (int j = 0; j < w[i]; j++, p++) {
			if (*p < '0' || *p > '9')
				return -1;
			v[i] = v[i] * 10 + (*p - '0');
		}
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	return timegm(&tm);
}

static void
next_at(const struct idrec *r, time_t now)
{
	static struct idrec	 u;
	char			 out[16], prev[TXT_ID_MAX + 1];
	const char		*found;

	memset(out, 'x', sizeof(out));
	if (ids_next(r, now, out) == -1)
		return;
	check(strnlen(out, sizeof(out)) == 15 && out[14] == 'Z',
	    "ids_next: not yyyymmddhhmmssZ");
	check(strspn(out, "0123456789") == 14, "ids_next: not digits");
	check(txt_check_id(out) == NULL, "ids_next: an invalid id");
	check(!ids_used(r, out), "ids_next: an id already used");
	check(id_time(out) >= now - 3600, "ids_next: an id before the hour");

	/*
	 * ids_issue() takes the clock: before 1970 (an id's time can be)
	 * it would write a year of fewer than four digits, which no clock
	 * of a running system gives.
	 */
	if (now < 0)
		return;
	u = *r;
	snprintf(prev, sizeof(prev), "%s", u.id);
	ids_issue(&u, out, SHA, 86400, "testing", now);
	check(strcmp(u.id, out) == 0, "ids_issue: not the current id");
	check(ids_find_body(&u, SHA, &found) == 0 && strcmp(found, out) == 0,
	    "ids_find_body: the current body not found");
	if (prev[0] != '\0' && r->mode[0] != '\0' && strcmp(r->sha256,
	    SHA) != 0)
		check(ids_find_body(&u, r->sha256, &found) >= 1 &&
		    strcmp(found, prev) == 0,
		    "ids_find_body: the replaced body not found");
	check(ids_used(&u, out), "ids_issue: the new id not used");
	if (prev[0] != '\0')
		check(ids_used(&u, prev), "ids_issue: the old id forgotten");
	roundtrip(&u, "after ids_issue");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct idrec	 r;
	char			 err[160], *end;
	unsigned long		 line, lines = 1;
	time_t			 t;
	int			 ntimes = 0;

	if (ids_parse((const char *)data, size, &r, err, sizeof(err)) == -1) {
		for (size_t i = 0; i < size; i++)
			if (data[i] == '\n')
				lines++;
		check(strncmp(err, "line ", 5) == 0, "error not 'line N: '");
		line = strtoul(err + 5, &end, 10);
		check(end[0] == ':' && end[1] == ' ' && end[2] != '\0',
		    "error not 'line N: why'");
		check(line <= lines, "error names a line beyond the input");
		return 0;
	}
	check(txt_check_id(r.id) == NULL, "parsed id invalid");
	check(r.nhistory <= IDS_HISTORY_MAX, "history too long");
	roundtrip(&r, "parsed record");

	next_at(&r, NOW);
	if ((t = id_time(r.id)) != -1) {
		next_at(&r, t);
		ntimes++;
	}
	for (size_t i = 0; i < r.nhistory && ntimes < TIMES; i++) {
		if ((t = id_time(r.history[i])) != -1) {
			next_at(&r, t);
			ntimes++;
		}
	}
	return 0;
}
