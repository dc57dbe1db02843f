#!/bin/sh
# tests/html/html.sh: mta-stsctl reports --html, the page of the golden
# corpus (tests/golden/corpus), opened in a real browser: Debian's
# chromium, headless, renders it to PNG (kept as a test artefact in
# tests/html/out/, with the page), prints it to PDF, and prints its DOM,
# in which each domain's chart and table must be, with a bar and a row
# for each day of the summary; the page is self-contained (no script,
# nothing fetched) and a report's hostile strings are text, never markup.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_start html

case $ctl in */san/*) sanitized=1 ;; *) sanitized= ;; esac
out=tests/html/out
mkdir -p "$out"
cg=tests/golden/corpus
s=$tmp/store
mkdir "$s"
conf=$tmp/html.conf
printf '[server]\ntlsrpt_dir = %s\npolicy_dir = %s\n' "$s" \
    "$top/$cg/policies" >"$conf"
"$ctl" reports -f "$conf" --import-mail "$cg"/mail/*.eml >/dev/null 2>&1
check "the corpus imported" test "$(find "$s" -name '*.json' | wc -l)" -gt 20

# A report whose strings are markup: they must stay text.
python3 - "$tmp/evil.eml" <<'EOF'
import gzip, json, sys
from email.message import EmailMessage
r = {"organization-name": "<script>alert(1)</script><img src=x>",
     "date-range": {"start-datetime": "2024-05-03T00:00:00Z",
                    "end-datetime": "2024-05-03T23:59:59Z"},
     "contact-info": "x@evil.example", "report-id": "evil-1",
     "policies": [{"policy": {"policy-type": "sts",
                              "policy-domain": "evil.example"},
                   "summary": {"total-successful-session-count": 1,
                               "total-failure-session-count": 1},
                   "failure-details": [{
                       "result-type": "<b onmouseover=x>bold</b>",
                       "receiving-mx-hostname": "mx.evil.example\"><svg>",
                       "failed-session-count": 1}]}]}
m = EmailMessage()
m["From"] = "x@evil.example"
m["Subject"] = "report"
m.set_content("x\n")
m.add_attachment(gzip.compress(json.dumps(r).encode()),
                 maintype="application", subtype="tlsrpt+gzip",
                 filename="r.json.gz")
open(sys.argv[1], "wb").write(m.as_bytes())
EOF
"$ctl" reports -f "$conf" --import-mail "$tmp/evil.eml" >/dev/null 2>&1
check "a report with markup in its strings imported" test -d "$s/evil.example"

page=$top/$out/reports.html
"$ctl" reports -f "$conf" --html "$page" --today 2024-05-03 \
    --fail-rate 1 >"$tmp/html.out" 2>"$tmp/html.err"
rc=$?
check "--html with an alert: exit 1, nothing printed" sh -c "[ $rc = 1 ] && [ ! -s '$tmp/html.out' ] && [ ! -s '$tmp/html.err' ]"
"$ctl" reports -f "$conf" --summary --json --today 2024-05-03 >"$tmp/s.json"
check "the page is one file, written whole" sh -c "[ -s '$page' ] && tail -1 '$page' | grep -q '</html>' && [ -z \"\$(ls -a '$out' | grep '\\.tmp\$')\" ]"
if grep -qi '<script\|<link\|<iframe\|<object\|<embed\|@import\|url(\|src="http\|href="http\|href="//' "$page"; then
	not_ok "self-contained: $(grep -oi '<script[^>]*>\|<link[^>]*>\|@import\|url([^)]*)\|src="http[^"]*"\|href="[h/][^"]*"' "$page" | head -3)"
else
	ok "self-contained: no script, style sheet, frame or remote URL"
fi
check "hostile strings escaped in the page" sh -c "grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' '$page' && ! grep -q '<img src=x' '$page'"

# chromium, headless, with a home and profile of its own; its helpers
# are waited for (they outlive it by a moment).
chrome() {
	HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config timeout 90 chromium \
	    --headless --no-sandbox --disable-gpu --disable-quic \
	    --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --disable-crash-reporter --disable-dev-shm-usage \
	    --host-resolver-rules="MAP * ~NOTFOUND" \
	    --user-data-dir="$tmp/profile" "$@"
	_crc=$?
	_i=0
	while grep -lzxF "HOME=$tmp/home" /proc/[0-9]*/environ >/dev/null 2>&1 &&
	    [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	return $_crc
}
if ! command -v chromium >/dev/null 2>&1; then
	missing "chromium is not installed"
	summary
	exit
fi
chrome --dump-dom "file://$page" >"$tmp/dom.html" 2>"$tmp/chrome.err"
check "chromium --dump-dom: exit 0, a DOM printed" sh -c "[ $? = 0 ] && grep -q '</html>' '$tmp/dom.html'"
if python3 - "$tmp/dom.html" "$tmp/s.json" <<'EOF'
import json, sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.ids, self.bars = [], {}, {}
        self.rows, self.tags = {}, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids[a["id"]] = tag
        if tag in ("svg", "table"):
            self.stack.append(a.get("id"))
        owner = self.stack[-1] if self.stack else None
        if tag == "rect" and owner:
            self.bars[owner] = self.bars.get(owner, 0) + 1
        if tag == "tr" and owner and self.in_tbody:
            self.rows[owner] = self.rows.get(owner, 0) + 1
        if tag == "tbody":
            self.in_tbody = True
    in_tbody = False
    def handle_endtag(self, tag):
        if tag in ("svg", "table") and self.stack:
            self.stack.pop()
        if tag == "tbody":
            self.in_tbody = False

p = P()
p.feed(open(sys.argv[1]).read())
summary = json.load(open(sys.argv[2]))
bad = []
for d in summary["domains"]:
    name, days = d["domain"], len(d["days"])
    if days == 0:
        continue
    chart, table = "chart-" + name, "table-" + name
    if p.ids.get(chart) != "svg":
        bad.append("no svg#" + chart)
    # Each day: two bars (successful, failed) and the mode band.
    elif p.bars.get(chart, 0) != 3 * days:
        bad.append("%s: %d rects for %d days" % (chart, p.bars.get(chart, 0),
                                                 days))
    if p.ids.get(table) != "table":
        bad.append("no table#" + table)
    elif p.rows.get(table, 0) != days:
        bad.append("%s: %d rows for %d days" % (table, p.rows.get(table, 0),
                                                days))
    if d["failed"] and p.ids.get("types-" + name) != "svg":
        bad.append("no svg#types-" + name)
    if p.ids.get("d-" + name) != "section":
        bad.append("no section#d-" + name)
for t in ("script", "iframe", "object", "embed", "link", "img"):
    if t in p.tags:
        bad.append("a <%s> element in the DOM" % t)
if bad:
    print("; ".join(bad))
    sys.exit(1)
print("%d domains" % len(summary["domains"]))
EOF
then
	ok "the DOM chromium built: each domain's section, chart (a bar and band a day), failure types and table (a row a day); no script or image element"
else
	not_ok "the DOM chromium built is not the page expected"
fi
if [ -z "$sanitized" ]; then
	rm -f "$out/reports.png" "$out/reports-phone.png"
	chrome --screenshot="$top/$out/reports.png" --window-size=1100,2400 \
	    "file://$page" >/dev/null 2>&1
	check "rendered to PNG ($out/reports.png, $(wc -c <"$out/reports.png" 2>/dev/null) bytes)" sh -c "head -c 8 '$out/reports.png' | od -An -c | grep -q 'P   N   G' && [ \$(wc -c <'$out/reports.png') -gt 20000 ]"
	chrome --screenshot="$top/$out/reports-phone.png" --window-size=390,844 \
	    "file://$page" >/dev/null 2>&1
	check "rendered at a phone's width ($out/reports-phone.png)" test -s "$out/reports-phone.png"
	chrome --print-to-pdf="$top/$out/reports.pdf" --no-pdf-header-footer \
	    "file://$page" >/dev/null 2>&1
	check "printed to PDF ($out/reports.pdf)" sh -c "head -c 5 '$out/reports.pdf' | grep -q '%PDF-'"
fi
summary
