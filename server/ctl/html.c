/*
 * html.c: the reports page.  See html.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl/html.h"
#include "ctl/summary.h"
#include "lib/file.h"

/* The daily chart: pixels of the SVG's own coordinates. */
#define STEP		24	/* a day, at least */
#define MINPLOT		480	/* width of the plot, at least */
#define MAXBAR		40
#define LEFT		64	/* the sessions axis */
#define RIGHT		52	/* the failure rate axis */
#define TOP		16
#define PLOT		150	/* height of the bars' area */
#define BASE		(TOP + PLOT)

#define OK_COLOUR	"#4a9a5b"
#define FAIL_COLOUR	"#c8453b"
#define RATE_COLOUR	"#222222"

static const char *const palette[] = {
	"#c8453b", "#e08a2c", "#8a5bb5", "#2c8fb8", "#b8a02c", "#5b6d8a",
	"#b84c8a", "#6b8a2c"
};
#define NPALETTE	(sizeof(palette) / sizeof(palette[0]))

static const char style[] =
	"body{font-family:\"DejaVu Sans\",\"Liberation Sans\",sans-serif;"
	"color:#222;background:#fff;margin:0 auto;max-width:72em;"
	"padding:0 1em 2em;line-height:1.4;overflow-wrap:anywhere}\n"
	"h1{font-size:1.5em;margin:.8em 0 .2em}\n"
	"h2{font-size:1.25em;border-bottom:2px solid #ccc;margin:2em 0 .5em}\n"
	"h3{font-size:1em;margin:1.2em 0 .3em}\n"
	"nav a{margin-right:1em;display:inline-block}\n"
	".policy{color:#555;margin:.2em 0}\n"
	"ul.alerts li{color:#a00;font-weight:bold}\n"
	"ul.hints li{margin:.2em 0}\n"
	"figure{margin:.5em 0}\n"
	".scroll{overflow-x:auto}\n"
	"svg{width:100%;height:auto;display:block}\n"
	"svg text{font-size:10px;fill:#444}\n"
	"figcaption,.key{font-size:.85em;color:#555}\n"
	".key i{display:inline-block;width:.8em;height:.8em;"
	"margin:0 .3em 0 .9em;vertical-align:-.05em}\n"
	"table{border-collapse:collapse;width:100%;font-size:.88em}\n"
	"th,td{border-bottom:1px solid #ddd;padding:.25em .45em;"
	"text-align:left;vertical-align:top}\n"
	"th{background:#f3f3f3}\n"
	"td.n,td.day{text-align:right;font-variant-numeric:tabular-nums;"
	"white-space:nowrap}\n"
	".bad{color:#a00}\n"
	"@media (max-width:40em){body{padding:0 .4em}table{font-size:.78em}"
	"th,td{padding:.2em}svg text{font-size:18px}}\n"
	"@media print{nav{display:none}section{break-before:page}"
	".scroll{overflow:visible}a{color:inherit;text-decoration:none}}\n";

/* Writes s with every character that means something in HTML escaped. */
static void
esc(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
}

/* A string member, escaped. */
static void
esc_member(FILE *f, json_t *o, const char *key)
{
	esc(f, summary_str(o, key));
}

/* The strings of an array, escaped, separated by sep. */
static void
esc_list(FILE *f, json_t *a, const char *sep)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(a, i, v) {
		if (i > 0)
			fputs(sep, f);
		esc(f, json_string_value(v));
	}
}

/* 1, 2 or 5 times a power of ten, at least n (and 1). */
static long long
nice_max(long long n)
{
	long long	 p = 1;

	while (p <= n / 10)
		p *= 10;
	for (int m = 1; m <= 10; m = m == 1 ? 2 : m == 2 ? 5 : 10)
		if (p * m >= n)
			return p * m;
	return p * 10;
}

static const char *
mode_colour(const char *mode)
{
	if (mode == NULL)
		return "#dddddd";
	if (strcmp(mode, "enforce") == 0)
		return "#3b6fc8";
	if (strcmp(mode, "testing") == 0)
		return "#e0a526";
	return "#999999";
}

/*
 * The horizontal lay-out of a chart of n days: a few days get wide bars
 * rather than a chart scaled up to the page.
 */
struct geo {
	double		 step, bar;	/* a day's width, its bar's */
	double		 width;		/* of the whole SVG */
	double		 min;		/* drawn no narrower (then scrolled) */
};

static void
geo(struct geo *g, size_t n)
{
	g->step = n * STEP >= MINPLOT ? STEP : (double)MINPLOT / (double)n;
	g->bar = g->step * 0.75 > MAXBAR ? MAXBAR : g->step * 0.75;
	g->width = LEFT + g->step * (double)n + RIGHT;
	/* A phone shows a few weeks; a year scrolls, its bars 5 px wide. */
	g->min = (LEFT + RIGHT) / 2 + 6.0 * (double)n;
}

/* The x of a day's bar (its left), and of its middle. */
static double
bar_x(const struct geo *g, size_t i)
{
	return LEFT + g->step * (double)i + (g->step - g->bar) / 2;
}

static double
mid_x(const struct geo *g, size_t i)
{
	return LEFT + g->step * (double)i + g->step / 2;
}

/* The opening of a chart's SVG: never drawn larger than twice its size. */
static void
svg_open(FILE *f, const struct geo *g, const char *id, const char *name,
    int height, const char *label)
{
	fprintf(f, "<figure><div class=\"scroll\"><svg id=\"%s-%s\" "
	    "class=\"chart\" viewBox=\"0 0 %.0f %d\" style=\"min-width:"
	    "%.0fpx;max-width:%.0fpx\" role=\"img\" aria-label=\"%s for %s\" "
	    "xmlns=\"http://www.w3.org/2000/svg\">\n", id, name, g->width,
	    height, g->min, g->width * 2, label, name);
}

/* The days' labels: every k-th date as MM-DD, and the first and last. */
static void
date_labels(FILE *f, const struct geo *g, json_t *days, int y)
{
	json_t		*day;
	size_t		 i, n = json_array_size(days), k = (n + 9) / 10;
	const char	*date;

	json_array_foreach(days, i, day)
		if (i % k == 0 || i == n - 1) {
			date = summary_str(day, "date");
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor="
			    "\"middle\">%.5s</text>\n", mid_x(g, i), y,
			    date + 5);
		}
}

/* Horizontal grid lines with the left axis's numbers (and the right's). */
static void
grid(FILE *f, const struct geo *g, long long ymax, double rmax)
{
	for (int k = 0; k <= 2; k++) {
		int	 y = BASE - k * PLOT / 2;

		fprintf(f, "<line x1=\"%d\" x2=\"%.0f\" y1=\"%d\" y2=\"%d\" "
		    "stroke=\"#ddd\"/>\n<text x=\"%d\" y=\"%d\" text-anchor="
		    "\"end\">%g</text>\n", LEFT, g->width - RIGHT, y, y,
		    LEFT - 4, y + 3, (double)ymax * k / 2);
		if (rmax > 0)
			fprintf(f, "<text x=\"%.0f\" y=\"%d\">%g%%</text>\n",
			    g->width - RIGHT + 4, y + 3, rmax * k / 2);
	}
}

/* Sessions per day, successful and failed stacked, the rate on top. */
static void
chart(FILE *f, json_t *d)
{
	struct geo	 g;
	json_t		*days = json_object_get(d, "days"), *day, *r, *fo;
	const char	*name = summary_str(d, "domain"), *mode;
	size_t		 i;
	long long	 ymax = 1, ok, failed;
	double		 rmax = 1, rv, hs, hf, x;

	json_array_foreach(days, i, day) {
		ok = summary_count(day, "successful");
		failed = summary_count(day, "failed");
		if (ok + failed > ymax)
			ymax = ok + failed;
		r = json_object_get(day, "failure-rate");
		if (json_is_number(r) && json_number_value(r) > rmax)
			rmax = json_number_value(r);
	}
	ymax = nice_max(ymax);
	rmax = (double)nice_max((long long)(rmax + 0.999));
	geo(&g, json_array_size(days));
	svg_open(f, &g, "chart", name, 220, "daily sessions and failures");
	grid(f, &g, ymax, rmax);
	json_array_foreach(days, i, day) {
		ok = summary_count(day, "successful");
		failed = summary_count(day, "failed");
		hs = (double)ok * PLOT / (double)ymax;
		hf = (double)failed * PLOT / (double)ymax;
		x = bar_x(&g, i);
		fprintf(f, "<g><title>%s: %lld sessions, %lld failed</title>"
		    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\" fill=\"" OK_COLOUR "\"/><rect x=\"%.1f\" "
		    "y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\" fill=\"" FAIL_COLOUR "\"/>"
		    "</g>\n", summary_str(day, "date"), ok + failed, failed, x,
		    BASE - hs, g.bar, hs, x, BASE - hs - hf, g.bar, hf);
		/* The mode in force that day, as a band under the bars. */
		fo = json_object_get(day, "in-force");
		mode = summary_str(fo, "mode");
		fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height="
		    "\"6\" fill=\"%s\"><title>%s in force here: ",
		    mid_x(&g, i) - g.step / 2, BASE + 6, g.step,
		    mode_colour(mode),
		    summary_str(day, "date"));
		if (json_is_object(fo)) {
			fprintf(f, "mode ");
			esc(f, mode != NULL ? mode : "unknown");
			fprintf(f, ", id ");
			esc_member(f, fo, "id");
		} else
			fprintf(f, "unknown");
		fprintf(f, "</title></rect>\n");
	}
	/* The failure rate, on its own axis. */
	fprintf(f, "<polyline fill=\"none\" stroke=\"" RATE_COLOUR "\" "
	    "stroke-width=\"1.5\" points=\"");
	json_array_foreach(days, i, day) {
		r = json_object_get(day, "failure-rate");
		rv = json_is_number(r) ? json_number_value(r) : 0;
		fprintf(f, "%s%.1f,%.1f", i > 0 ? " " : "", mid_x(&g, i),
		    BASE - rv * PLOT / rmax);
	}
	fprintf(f, "\"/>\n");
	json_array_foreach(days, i, day) {
		r = json_object_get(day, "failure-rate");
		if (!json_is_number(r))
			continue;
		rv = json_number_value(r);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\""
		    RATE_COLOUR "\"><title>%s: %.2f%% failed</title>"
		    "</circle>\n",
		    mid_x(&g, i), BASE - rv * PLOT / rmax,
		    summary_str(day, "date"), rv);
	}
	date_labels(f, &g, days, BASE + 26);
	fprintf(f, "</svg></div>\n<figcaption class=\"key\">Sessions a day:"
	    "<i style=\"background:" OK_COLOUR "\"></i>successful"
	    "<i style=\"background:" FAIL_COLOUR "\"></i>failed"
	    "<i style=\"background:" RATE_COLOUR ";height:2px\"></i>failure "
	    "rate (right axis). Mode in force here:"
	    "<i style=\"background:%s\"></i>testing"
	    "<i style=\"background:%s\"></i>enforce"
	    "<i style=\"background:%s\"></i>none"
	    "<i style=\"background:%s\"></i>unknown</figcaption></figure>\n",
	    mode_colour("testing"), mode_colour("enforce"),
	    mode_colour("none"), mode_colour(NULL));
}

/* Failure types over time: per day, each type's sessions stacked. */
static void
types_chart(FILE *f, json_t *d)
{
	struct geo	 g;
	json_t		*days = json_object_get(d, "days"), *day, *t, *types;
	const char	*name = summary_str(d, "domain");
	const char	**keys;
	size_t		 i, j;
	long long	 ymax = 1, sum;
	double		 y, h;

	types = json_object();
	json_array_foreach(days, i, day) {
		sum = 0;
		json_array_foreach(json_object_get(day, "failures"), j, t) {
			json_object_set_new(types, summary_str(t,
			    "result-type"), json_true());
			sum += summary_count(t, "sessions");
		}
		if (sum > ymax)
			ymax = sum;
	}
	if (json_object_size(types) == 0) {
		fprintf(f, "<p>No failures reported.</p>\n");
		json_decref(types);
		return;
	}
	ymax = nice_max(ymax);
	keys = summary_keys(types);
	geo(&g, json_array_size(days));
	svg_open(f, &g, "types", name, 200, "failure types a day");
	grid(f, &g, ymax, 0);
	json_array_foreach(days, i, day) {
		y = BASE;
		/* In the order of the key, so that colours stay put. */
		for (size_t k = 0; keys != NULL && keys[k] != NULL; k++)
			json_array_foreach(json_object_get(day, "failures"), j,
			    t) {
				if (strcmp(summary_str(t, "result-type"),
				    keys[k]) != 0)
					continue;
				h = (double)summary_count(t, "sessions") *
				    PLOT / (double)ymax;
				y -= h;
				fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width="
				    "\"%.1f\" height=\"%.1f\" fill=\"%s\">"
				    "<title>%s: ", bar_x(&g, i), y, g.bar, h,
				    palette[k % NPALETTE],
				    summary_str(day, "date"));
				esc(f, keys[k]);
				fprintf(f, " %lld</title></rect>\n",
				    (long long)summary_count(t, "sessions"));
			}
	}
	date_labels(f, &g, days, BASE + 20);
	fprintf(f, "</svg></div>\n<figcaption class=\"key\">Failed sessions a "
	    "day by type:");
	for (size_t k = 0; keys != NULL && keys[k] != NULL; k++) {
		fprintf(f, "<i style=\"background:%s\"></i>",
		    palette[k % NPALETTE]);
		esc(f, keys[k]);
	}
	fprintf(f, "</figcaption></figure>\n");
	free(keys);
	json_decref(types);
}

static void
rate_cell(FILE *f, json_t *o)
{
	json_t	*r = json_object_get(o, "failure-rate");

	if (json_is_number(r))
		fprintf(f, "<td class=\"n%s\">%.2f%%</td>", json_number_value(r)
		    > 0 ? " bad" : "", json_number_value(r));
	else
		fprintf(f, "<td class=\"n\">-</td>");
}

/* The days: numbers, failures, the policy senders saw, the one here. */
static void
days_table(FILE *f, json_t *d)
{
	json_t	*day, *t, *p, *fo, *ago;
	size_t	 i, j;

	fprintf(f, "<div class=\"scroll\"><table id=\"table-%s\" "
	    "class=\"days\">\n<thead><tr><th>Day</th><th>Sessions</th>"
	    "<th>Failed</th><th>Rate</th><th>Organisations</th>"
	    "<th>Failures</th><th>Policy senders saw</th><th>In force here"
	    "</th></tr></thead>\n<tbody>\n", summary_str(d, "domain"));
	json_array_foreach(json_object_get(d, "days"), i, day) {
		fprintf(f, "<tr><td class=\"day\">%s</td><td class=\"n\">%lld"
		    "</td><td class=\"n\">%lld</td>", summary_str(day, "date"),
		    (long long)(summary_count(day, "successful") +
		    summary_count(day, "failed")),
		    (long long)summary_count(day, "failed"));
		rate_cell(f, day);
		fprintf(f, "<td>");
		esc_list(f, json_object_get(day, "organizations"), ", ");
		fprintf(f, "</td><td>");
		json_array_foreach(json_object_get(day, "failures"), j, t) {
			fprintf(f, "%s", j > 0 ? "<br>" : "");
			esc_member(f, t, "result-type");
			fprintf(f, " %lld", (long long)summary_count(t,
			    "sessions"));
		}
		fprintf(f, "</td><td>");
		json_array_foreach(json_object_get(day, "policies"), j, p) {
			fprintf(f, "%s", j > 0 ? "<br>" : "");
			if (summary_str(p, "mode") != NULL) {
				fprintf(f, "mode ");
				esc_member(f, p, "mode");
			} else
				fprintf(f, "no policy-string");
			if (summary_str(p, "id") != NULL) {
				fprintf(f, ", ");
				esc_member(f, p, "id");
			}
			ago = json_object_get(p, "changes-ago");
			if (json_is_true(json_object_get(p, "current")))
				fprintf(f, " (current)");
			else if (json_is_integer(ago))
				fprintf(f, " <span class=\"bad\">(%lld "
				    "change%s ago)</span>", (long long)
				    json_integer_value(ago),
				    json_integer_value(ago) == 1 ? "" : "s");
			else if (json_is_false(json_object_get(p, "current")))
				fprintf(f, " <span class=\"bad\">(not issued "
				    "here)</span>");
			fprintf(f, ": ");
			esc_list(f, json_object_get(p, "organizations"), ", ");
		}
		fo = json_object_get(day, "in-force");
		fprintf(f, "</td><td>");
		if (json_is_object(fo)) {
			esc(f, summary_str(fo, "mode") != NULL ?
			    summary_str(fo, "mode") : "?");
			fprintf(f, ", ");
			esc_member(f, fo, "id");
		}
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</tbody></table></div>\n");
}

/* Organisations, failing MX hosts and sending addresses. */
static void
totals_tables(FILE *f, json_t *d)
{
	static const struct {
		const char	*member, *key, *title, *head;
	} t[] = {
		{ "failing-mx-hosts", "mx-host", "Failing MX hosts",
		  "MX host" },
		{ "failing-sending-ips", "sending-ip", "Failing sending "
		  "addresses", "Sending address" },
	};
	json_t	*o;
	size_t	 i;

	fprintf(f, "<h3>Reporting organisations</h3>\n<div class=\"scroll\">"
	    "<table class=\"orgs\"><thead><tr><th>Organisation</th>"
	    "<th>Reports</th><th>Sessions</th><th>Failed</th></tr></thead>"
	    "<tbody>\n");
	json_array_foreach(json_object_get(d, "by-organization"), i, o) {
		fprintf(f, "<tr><td>");
		esc_member(f, o, "organization");
		fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld"
		    "</td><td class=\"n\">%lld</td></tr>\n",
		    (long long)summary_count(o, "reports"),
		    (long long)(summary_count(o, "successful") +
		    summary_count(o, "failed")),
		    (long long)summary_count(o, "failed"));
	}
	fprintf(f, "</tbody></table></div>\n");
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		if (json_array_size(json_object_get(d, t[k].member)) == 0)
			continue;
		fprintf(f, "<h3>%s</h3>\n<div class=\"scroll\"><table>"
		    "<thead><tr><th>%s</th><th>Failed sessions</th>"
		    "<th>Failure types</th></tr></thead><tbody>\n", t[k].title,
		    t[k].head);
		json_array_foreach(json_object_get(d, t[k].member), i, o) {
			fprintf(f, "<tr><td>");
			esc_member(f, o, t[k].key);
			fprintf(f, "</td><td class=\"n\">%lld</td><td>",
			    (long long)summary_count(o, "sessions"));
			esc_list(f, json_object_get(o, "types"), ", ");
			fprintf(f, "</td></tr>\n");
		}
		fprintf(f, "</tbody></table></div>\n");
	}
}

static void
domain_section(FILE *f, json_t *d)
{
	json_t		*pol = json_object_get(d, "policy"), *v;
	const char	*name = summary_str(d, "domain");
	size_t		 i;

	fprintf(f, "<section id=\"d-%s\">\n<h2>%s</h2>\n<p class=\"policy\">",
	    name, name);
	if (json_is_object(pol)) {
		fprintf(f, "Policy here: mode ");
		esc_member(f, pol, "mode");
		if (summary_str(pol, "id") != NULL) {
			fprintf(f, ", id ");
			esc_member(f, pol, "id");
		}
	} else
		fprintf(f, "No policy for this domain here.");
	if (summary_count(d, "reports") > 0) {
		fprintf(f, " &middot; %lld report%s, %lld sessions, %lld "
		    "failed",
		    (long long)summary_count(d, "reports"),
		    summary_count(d, "reports") == 1 ? "" : "s",
		    (long long)(summary_count(d, "successful") +
		    summary_count(d, "failed")),
		    (long long)summary_count(d, "failed"));
		if (json_is_number(json_object_get(d, "failure-rate")))
			fprintf(f, " (%.2f%%)", json_number_value(
			    json_object_get(d, "failure-rate")));
	}
	fprintf(f, "</p>\n");
	if (json_array_size(json_object_get(d, "alerts")) > 0) {
		fprintf(f, "<ul class=\"alerts\">\n");
		json_array_foreach(json_object_get(d, "alerts"), i, v) {
			fprintf(f, "<li>");
			esc(f, json_string_value(v));
			fprintf(f, "</li>\n");
		}
		fprintf(f, "</ul>\n");
	}
	if (json_array_size(json_object_get(d, "hints")) > 0) {
		fprintf(f, "<ul class=\"hints\">\n");
		json_array_foreach(json_object_get(d, "hints"), i, v) {
			fprintf(f, "<li>");
			esc(f, json_string_value(v));
			fprintf(f, "</li>\n");
		}
		fprintf(f, "</ul>\n");
	}
	if (json_array_size(json_object_get(d, "days")) == 0) {
		fprintf(f, "<p>No reports in these days.</p>\n</section>\n");
		return;
	}
	chart(f, d);
	fprintf(f, "<h3>Failure types</h3>\n");
	types_chart(f, d);
	fprintf(f, "<h3>Days</h3>\n");
	days_table(f, d);
	totals_tables(f, d);
	if (json_array_size(json_object_get(d, "notes")) > 0) {
		fprintf(f, "<h3>Unusual in these reports</h3>\n<ul>\n");
		json_array_foreach(json_object_get(d, "notes"), i, v) {
			fprintf(f, "<li>%lld report%s: ", (long long)
			    summary_count(v, "reports"), summary_count(v,
			    "reports") == 1 ? "" : "s");
			esc_member(f, v, "note");
			fprintf(f, "</li>\n");
		}
		fprintf(f, "</ul>\n");
	}
	fprintf(f, "</section>\n");
}

static void
page(FILE *f, json_t *dec)
{
	json_t	*d;
	size_t	 i;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" content="
	    "\"width=device-width, initial-scale=1\">\n<title>TLS reports, "
	    "%s</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n"
	    "<h1>TLS reports</h1>\n<p>As of %s", summary_str(dec, "today"),
	    style, summary_str(dec, "today"));
	if (summary_str(dec, "since") != NULL)
		fprintf(f, ", from %s on", summary_str(dec, "since"));
	fprintf(f, ": %zu domain%s, %lld alert%s.</p>\n<nav>",
	    json_array_size(json_object_get(dec, "domains")),
	    json_array_size(json_object_get(dec, "domains")) == 1 ? "" : "s",
	    (long long)summary_count(dec, "alerts"),
	    summary_count(dec, "alerts") == 1 ? "" : "s");
	json_array_foreach(json_object_get(dec, "domains"), i, d)
		fprintf(f, "<a href=\"#d-%s\">%s</a>", summary_str(d, "domain"),
		    summary_str(d, "domain"));
	fprintf(f, "</nav>\n</header>\n<main>\n");
	json_array_foreach(json_object_get(dec, "domains"), i, d)
		domain_section(f, d);
	fprintf(f, "</main>\n<footer><p>Written by mta-stsctl reports --html "
	    "from the TLS reports (RFC 8460) in tlsrpt_dir.</p></footer>\n"
	    "</body>\n</html>\n");
}

/* see html.h */
int
html_write(const char *path, json_t *dec)
{
	FILE		*f;
	char		*buf = NULL, *dir, *slash;
	size_t		 len = 0;
	int		 dfd, rc, saved;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return -1;
	page(f, dec);
	if (fclose(f) != 0) {
		free(buf);
		return -1;
	}
	if ((dir = strdup(path)) == NULL) {
		free(buf);
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	dfd = open(slash != NULL ? dir : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	rc = dfd == -1 ? -1 : file_write_atomic(dfd, slash != NULL ?
	    strrchr(path, '/') + 1 : path, buf, len, 0644, 0);
	saved = errno;
	if (dfd != -1)
		close(dfd);
	free(dir);
	free(buf);
	errno = saved;
	return rc;
}
