/*
 * html.h: mta-stsctl reports --html: the decisions of summary.h as one
 * self-contained page.
 *
 * Inline SVG and CSS only: no JavaScript, nothing fetched from anywhere,
 * so that the page can be mailed, archived or opened from a file; it
 * reflows on a phone and prints.  For each domain (a <section
 * id="d-DOMAIN">): the hints and alerts; a chart of daily sessions,
 * successful and failed stacked, with the failure rate and a band for the
 * mode in force (<svg id="chart-DOMAIN">); failure types over time
 * (<svg id="types-DOMAIN">); a table of the days with the policy senders
 * saw and the one in force (<table id="table-DOMAIN">); the reporting
 * organisations, failing MX hosts and sending addresses.  Every string
 * from a report is escaped.
 */
#ifndef HTML_H
#define HTML_H

#include <jansson.h>

/*
 * Writes the page for dec (summary_decide()) to path, atomically (a
 * temporary file in the same directory, then renamed).  Returns 0, or -1
 * with errno set and nothing written.
 */
int	html_write(const char *path, json_t *dec);

#endif /* HTML_H */
