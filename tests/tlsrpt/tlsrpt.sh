#!/bin/sh
# tests/tlsrpt/tlsrpt.sh: the TLS-RPT receiver of the real mta-stsd on loopback,
# sent reports with curl over TLS (plain, gzipped, hostile), and
# mta-stsctl reports over what it stored (summary, --since, --json,
# --import).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_start tlsrpt

case $d in */san/*) sanitized=1 ;; *) sanitized= ;; esac
port=$(free_port)
c=$tmp/certs
suite_ca
cert "$c" ab ec256 90 mta-sts.a.test mta-sts.b.test
p=$tmp/policies
mkdir -p "$p" "$tmp/reports"
for dom in a b; do
	printf 'version: STSv1\nmode: testing\nmx: mx.%s.test\nmax_age: 86400\n' "$dom" >"$p/$dom.test.txt"
done
chmod -R a+rX "$tmp"
chown nobody "$tmp/reports"
r=$tmp/reports

conf=$tmp/mta-stsd.conf
listen="127.0.0.1:$port [::1]:$port"
log=$tmp/log
# write_conf [EXTRA LINE...]: the configuration, with the receiver on.
write_conf() {
	server_conf "$conf" "log_level = info" "workers = 2" \
	    "tlsrpt_dir = $r" "tlsrpt_rate = 1000" "$@"
}

# Every report the suite sends, made by one python3 run: the RFC 8460
# example with another report-id and day (OUT ID DAY), gzipped when OUT
# ends in .gz, without a member when DROP is given ("policies",
# "policies.0.summary"); and the largest report taken, about 1 MiB of
# JSON (tlsrpt_max_json), gzipped.
python3 - "$tmp" <<'EOF'
import gzip, json, os, sys
tmp = sys.argv[1]
base = json.load(open("tests/tlsrpt/rfc8460.json"))
def mk(out, rid, day, drop=None):
    r = json.loads(json.dumps(base))
    r["report-id"] = rid
    r["date-range"] = {"start-datetime": day + "T00:00:00Z",
                       "end-datetime": day + "T23:59:59Z"}
    if drop:
        o, path = r, drop.split(".")
        for k in path[:-1]:
            o = o[int(k)] if k.isdigit() else o[k]
        del o[path[-1]]
    data = json.dumps(r, indent=1).encode()
    open(os.path.join(tmp, out), "wb").write(
        gzip.compress(data) if out.endswith(".gz") else data)
mk("g1.json.gz", "gz-one", "2016-04-02")
mk("g2.json.gz", "gz-two", "2016-04-03")
mk("b.json", "b-one", "2016-04-02")
mk("nopol.json", "no-policies", "2016-04-02", "policies")
mk("nosum.json", "no-summary", "2016-04-02", "policies.0.summary")
mk("noid.json", "x", "2016-04-02", "report-id")
mk("noorg.json", "no-org", "2016-04-02", "organization-name")
mk("disk.json", "disk-fail", "2016-04-05")
for i in range(1, 9):
    mk("c%d.json.gz" % i, "concurrent-%d" % i, "2016-04-1%d" % i)
r = json.loads(json.dumps(base))
r["report-id"] = "largest"
one = len(json.dumps({"result-type": "validation-failure",
                      "sending-mta-ip": "198.51.100.100",
                      "receiving-mx-hostname": "mx10.mail.company-y.example",
                      "failed-session-count": 1})) + 2
n = (1040000 - len(json.dumps(r))) // one
r["policies"][0]["failure-details"].extend(
    {"result-type": "validation-failure",
     "sending-mta-ip": "198.51.%d.%d" % (i // 250 % 250, i % 250),
     "receiving-mx-hostname": "mx%d.mail.company-y.example" % (i % 97),
     "failed-session-count": 1} for i in range(n))
data = json.dumps(r).encode()
assert len(data) <= 1048576, len(data)
open(os.path.join(tmp, "big.json.gz"), "wb").write(gzip.compress(data))
EOF

# post HOST TYPE FILE [CURL ARGS...]: POSTs FILE to HOST's receiver (the
# path in $path, default /tlsrpt; from $addr, default 127.0.0.1); prints the status, leaves the answer in
# $tmp/body and its headers in $tmp/hdr.
post() {
	_h=$1 _t=$2 _f=$3
	shift 3
	curl -s -o "$tmp/body" -D "$tmp/hdr" -w '%{http_code}' --max-time 20 \
	    --cacert "$tmp/ca.pem" \
	    --resolve "mta-sts.$_h:$port:${addr:-127.0.0.1}" \
	    -H "Content-Type: $_t" \
	    --data-binary @"$_f" "$@" "https://mta-sts.$_h:$port${path:-/tlsrpt}"
}
J=application/tlsrpt+json
G=application/tlsrpt+gzip

# The stored name of a report: SHA-256 of its report-id.
name_of() {
	printf '%s' "$1" | sha256sum | cut -c1-64
}
nfiles() {
	find "$r" -type f -name '*.json' | wc -l
}
notmp() {
	[ -z "$(find "$r" -name '.*.tmp')" ]
}

# out_has GREP ARGS...: does $out have a matching line?
out_has() {
	printf '%s\n' "$out" | grep -q "$@"
}

# expect WHAT CODE ACTUAL [BODY PATTERN]
expect() {
	if [ "$3" = "$2" ] && { [ -z "${4:-}" ] || grep -q "$4" "$tmp/body"; }; then
		ok "$1"
	else
		not_ok "$1: got $3 [$(head -c 200 "$tmp/body")], expected $2 ${4:-}"
	fi
}

write_conf
server_up "$conf"

if grep -q "sandbox: confined to reading .*, writing $r" "$tmp/log"; then
	ok "sandbox on, tlsrpt_dir writable"
else
	not_ok "sandbox line: $(grep sandbox "$tmp/log")"
fi
if [ -z "$sanitized" ]; then
	check "seccomp filter on while receiving" grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status"
fi

# --- well-formed reports
rfc=tests/tlsrpt/rfc8460.json
id=5065427c-23d3-47ca-b6e0-946ea0e8c4be
code=$(post a.test "$J" "$rfc")
expect "RFC 8460 example, plain JSON: 201" 201 "$code" '^stored'
check "stored as a.test/SHA256(report-id).json, as sent" cmp -s "$rfc" "$r/a.test/$(name_of "$id").json"
code=$(post a.test "$J" "$rfc")
expect "the same report again: 200, stored once" 200 "$code" 'already stored'
check "one file for the report sent twice" test "$(nfiles)" = 1
gzip -c "$rfc" >"$tmp/rfc.json.gz"
code=$(post a.test "$G" "$tmp/rfc.json.gz" -H 'Expect: 100-continue')
expect "the same report gzipped: 200" 200 "$code" 'already stored'
code=$(post a.test "$G" "$tmp/g1.json.gz" -H 'Expect: 100-continue')
expect "gzipped report with Expect: 100-continue: 201" 201 "$code"
code=$(post a.test "$G" "$tmp/g2.json.gz" -H 'Expect:')
expect "gzipped report without Expect: 201" 201 "$code"
gunzip -c "$tmp/g2.json.gz" >"$tmp/g2.json"
check "a gzipped report is stored decompressed" cmp -s "$tmp/g2.json" "$r/a.test/$(name_of gz-two).json"
code=$(post a.test "application/tlsrpt+json; charset=utf-8" "$rfc")
expect "media type parameters are ignored" 200 "$code"
code=$(post b.test "$J" "$tmp/b.json")
expect "a report to mta-sts.b.test: 201" 201 "$code"
check "stored under b.test/" test -f "$r/b.test/$(name_of b-one).json"
check "stored reports are not world-readable" test "$(stat -c %a "$r/b.test/$(name_of b-one).json")" = 640

# --- hostile bodies
n0=$(nfiles)
code=$(post a.test text/plain "$rfc")
expect "wrong media type: 415" 415 "$code"
code=$(post a.test application/json "$rfc")
expect "application/json: 415" 415 "$code"
printf '\037\213\010\000garbage-not-deflate' >"$tmp/bad.gz"
code=$(post a.test "$G" "$tmp/bad.gz")
expect "bad gzip: 400" 400 "$code" 'gzip'
head -c 300 "$tmp/g1.json.gz" >"$tmp/trunc.gz"
code=$(post a.test "$G" "$tmp/trunc.gz")
expect "truncated gzip: 400" 400 "$code" 'truncated gzip'
code=$(post a.test "$G" "$rfc")
expect "plain JSON sent as gzip: 400" 400 "$code" 'not gzip'
head -c 20000000 /dev/zero | gzip -9 >"$tmp/bomb.gz"
code=$(post a.test "$G" "$tmp/bomb.gz")
expect "gzip bomb ($(wc -c <"$tmp/bomb.gz") bytes to 20 MB): 413" 413 "$code" 'decompresses beyond'
bomb_us=$(sed -n 's/.*refused (413, \([0-9]*\)us): report decompresses.*/\1/p' "$tmp/log" | tail -1)
printf '{"organization-name": "x",' >"$tmp/invalid.json"
code=$(post a.test "$J" "$tmp/invalid.json")
expect "invalid JSON: 400" 400 "$code" 'invalid JSON'
printf '[1, 2]' >"$tmp/array.json"
code=$(post a.test "$J" "$tmp/array.json")
expect "JSON that is no object: 400" 400 "$code" 'not a JSON object'
code=$(post a.test "$J" "$tmp/nopol.json")
expect "missing policies: 400 naming it" 400 "$code" 'policies: missing'
code=$(post a.test "$J" "$tmp/nosum.json")
expect "missing summary: 400 naming it" 400 "$code" 'policies\[0\].summary: missing'
code=$(post a.test "$J" "$tmp/noid.json")
expect "missing report-id: 400" 400 "$code" 'report-id: missing'
code=$(post a.test "$J" "$tmp/noorg.json")
expect "missing organization-name: 400" 400 "$code" 'organization-name: missing'
: >"$tmp/empty"
code=$(post a.test "$J" "$tmp/empty")
expect "empty body: 400" 400 "$code"
head -c 10485760 /dev/zero >"$tmp/10mb"
code=$(post a.test "$J" "$tmp/10mb")
expect "10 MB body (Content-Length over the cap): 413" 413 "$code" 'too large'
head -c 2000000 /dev/urandom >"$tmp/2mb"
code=$(post a.test "$J" "$tmp/2mb" -H 'Transfer-Encoding: chunked')
expect "2 MB chunked body: 413" 413 "$code" 'too large'
code=$(curl -s -o "$tmp/body" -w '%{http_code}' --cacert "$tmp/ca.pem" --resolve "mta-sts.a.test:$port:127.0.0.1" "https://mta-sts.a.test:$port/tlsrpt")
expect "GET instead of POST: 404" 404 "$code"
code=$(path=/other post a.test "$J" "$rfc")
expect "POST to another path: 405" 405 "$code"
code=$(path=/.well-known/mta-sts.txt post a.test "$J" "$rfc")
expect "POST to the policy path: 405" 405 "$code"
code=$(post a.test "$J" "$rfc" -H 'Host: mta-sts.x.test')
expect "POST for a host not served: 421" 421 "$code"
code=$(post a.test "$J" "$rfc" -H 'Content-Length: 5' -H 'Transfer-Encoding: chunked')
expect "Content-Length with chunked (smuggling shape): 400" 400 "$code"
check "nothing stored by the hostile requests" test "$(nfiles)" = "$n0"
check "no temporary file left" notmp

# --- concurrent submissions over two workers: 8 reports and 4 copies of one
posts=
for i in 1 2 3 4 5 6 7 8; do
	post a.test "$G" "$tmp/c$i.json.gz" >"$tmp/c$i.code" &
	posts="$posts $!"
done
for i in 1 2 3 4; do
	post a.test "$G" "$tmp/g1.json.gz" >"$tmp/d$i.code" &
	posts="$posts $!"
done
for w in $posts; do
	wait "$w"
done
codes=$(for f in "$tmp"/c?.code "$tmp"/d?.code; do cat "$f"; echo; done |
    sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "concurrent: 8 new (201), 4 duplicates (200) [$codes]" test "$codes" = " 4 200; 8 201;"
check "concurrent: each stored once" test "$(nfiles)" = "$((n0 + 8))"
check "concurrent: no temporary file left" notmp

# --- the largest accepted report: about 1 MiB of JSON (tlsrpt_max_json)
code=$(post a.test "$G" "$tmp/big.json.gz")
expect "largest report ($(wc -c <"$tmp/big.json.gz") bytes gzipped, 1 MB of JSON): 201" 201 "$code"
big_us=$(sed -n 's/.*stored .* (\([0-9]*\) bytes of JSON, \([0-9]*\)us).*/\1 \2/p' "$tmp/log" | tail -1)
echo "# tlsrpt: largest report: ${big_us% *} bytes of JSON taken in ${big_us#* }us; gzip bomb refused in ${bomb_us}us"
rm -f "$r/a.test/$(name_of largest).json"

# --- disk failures: nothing half-written
chmod 0555 "$r/a.test"
code=$(post a.test "$J" "$tmp/disk.json")
expect "read-only domain directory: 500" 500 "$code" 'cannot store'
chmod 0750 "$r/a.test"
check "read-only: no temporary file, nothing stored" sh -c "[ -z \"\$(find '$r' -name '.*.tmp')\" ] && [ ! -e '$r/a.test/$(name_of disk-fail).json' ]"
mv "$r/b.test" "$tmp/b.test.keep"
: >"$r/b.test"
code=$(post b.test "$J" "$tmp/disk.json")
expect "a file in the way of the domain directory: 500" 500 "$code"
rm "$r/b.test"
mv "$tmp/b.test.keep" "$r/b.test"
grep -q "tlsrpt: $r/a.test/.*Permission denied" "$tmp/log" && ok "the failure is logged with its path" || not_ok "no log line for the disk failure"

# --- the directory cap
head -c 1048576 /dev/zero >"$r/filler"
write_conf "tlsrpt_dir_max = 1"
server_reload
code=$(post a.test "$J" "$tmp/disk.json")
expect "tlsrpt_dir_max reached: 507" 507 "$code" 'store full'
rm "$r/filler"
server_reload
code=$(post a.test "$J" "$tmp/disk.json")
expect "room again after old files are removed and a reload: 201" 201 "$code"

# --- the rate limit, for one client (::1) while another goes on
write_conf "tlsrpt_rate = 2"
server_reload
code1=$(addr=::1 post a.test "$J" "$rfc")
code2=$(addr=::1 post a.test "$J" "$rfc")
code=$(addr=::1 post a.test "$J" "$rfc")
expect "rate limit: 2 taken ($code1 $code2), the third 429" 429 "$code" 'too many'
check "429 says Retry-After" grep -qi '^retry-after: [0-9][0-9]*' "$tmp/hdr"
code=$(post a.test "$J" "$rfc")
expect "another client is not limited" 200 "$code"
check "the daemon still runs" kill -0 "$pid"
server_stop

# --- mta-stsctl reports over the store
out=$("$ctl" reports -f "$conf" 2>"$tmp/err")
rc=$?
case $out in
"a.test
  2016-04-01 Company-X: 1 report, 5326 sessions successful, 303 failed
    certificate-expired: 100 sessions"*)
	ok "reports: a summary per domain, day and organisation" ;;
*) not_ok "reports: rc=$rc [$(echo "$out" | head -5)] $(cat "$tmp/err")" ;;
esac
echo "$out" | grep -q '      hint: the MX certificate has expired' && ok "reports: a hint per failure type" || not_ok "reports: no hint"
echo "$out" | grep -q 'MX hosts: mx1.mail.company-y.example' && echo "$out" | grep -q 'sending IPs: 2001:db8:abcd:0012::1' &&
    ok "reports: failing MX hosts and sending IPs" || not_ok "reports: MX hosts or IPs missing"
out=$("$ctl" reports -f "$conf" a.test --since 2016-04-12)
n=$(echo "$out" | grep -c '^  2016-04-')
check "reports --since: only days from then ($n)" test "$n" = 7
out=$("$ctl" reports -f "$conf" b.test)
check "reports DOMAIN: only that domain" test "$(echo "$out" | head -1)" = b.test
"$ctl" reports -f "$conf" --json >"$tmp/all.json"
if python3 - "$tmp/all.json" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
first = rows[0]
assert first["domain"] == "a.test" and first["date"] == "2016-04-01", first
assert first["organization"] == "Company-X" and first["successful"] == 5326
types = [f["result-type"] for f in first["failures"]]
assert types == ["certificate-expired", "starttls-not-supported",
                 "validation-failure"], types
assert first["failures"][0]["mx-hosts"] == ["mx1.mail.company-y.example"]
assert all(f["hint"] for r in rows for f in r["failures"])
assert {r["domain"] for r in rows} == {"a.test", "b.test"}
EOF
then ok "reports --json parses, with the expected rows"; else not_ok "reports --json"; fi
out=$("$ctl" reports -f "$conf" --since 2016-4-1 2>&1)
check "reports --since with a bad day is refused" test "$out" = "mta-stsctl reports: --since '2016-4-1': expected YYYY-MM-DD"

# --- --import of reports saved from mail
gi=tests/golden/tlsrpt/in
out=$("$ctl" reports -f "$conf" --import "$gi/microsoft.json" "$gi/google-2024-05-01.json.gz" "$gi/google-2024-05-02.gz" 2>&1)
rc=$?
if [ "$rc" = 0 ] && [ "$(echo "$out" | grep -c ': stored as ')" = 3 ]; then
	ok "--import .json, .json.gz, .gz"
else
	not_ok "--import: rc=$rc [$out]"
fi
check "--import: the domain directory belongs to tlsrpt_dir's owner" test "$(stat -c %U "$r/example.com")" = nobody
out=$("$ctl" reports -f "$conf" --import "$gi/microsoft.json" 2>&1)
check "--import of a stored report: already stored" out_has 'already stored'
out=$("$ctl" reports -f "$conf" --import "$tmp/bad.gz" "$gi/rfc8460.json" 2>&1)
rc=$?
case "$rc:$out" in
"1:mta-stsctl reports: $tmp/bad.gz: bad gzip data"*) ok "--import of a bad file: exit 1, the file named" ;;
*) not_ok "--import bad: rc=$rc [$out]" ;;
esac
out=$("$ctl" reports -f "$conf" --import "$tmp/nosum.json" 2>&1)
check "--import of a report missing a field names it" test "$out" = "mta-stsctl reports: $tmp/nosum.json: policies[0].summary: missing"
out=$("$ctl" reports -f "$conf" example.com)
check "imported reports are summed" out_has '2024-05-01 Microsoft Corporation: 1 report'

# --- init --rua prints the matching _smtp._tls record
mkdir "$tmp/p2"
printf '[server]\npolicy_dir = %s\ncert_dir = %s\n' "$tmp/p2" "$c" >"$tmp/init.conf"
out=$("$ctl" init -f "$tmp/init.conf" c.test --mx mx.c.test --rua https://mta-sts.c.test/tlsrpt 2>"$tmp/init.err")
check "init --rua https://mta-sts.DOMAIN/tlsrpt prints the _smtp._tls TXT" out_has -x '_smtp._tls.c.test. 3600 IN TXT "v=TLSRPTv1; rua=https://mta-sts.c.test/tlsrpt;"'
check "init notes that tlsrpt_dir is not set" grep -q "note: https://mta-sts.c.test/tlsrpt: tlsrpt_dir is not set in $tmp/init.conf" "$tmp/init.err"

# --- the receiver is off without tlsrpt_dir
grep -v '^tlsrpt_' "$conf" >"$tmp/off.conf"
server_up "$tmp/off.conf"
code=$(post a.test "$J" "$rfc")
expect "receiver off: POST refused (405)" 405 "$code"
code=$(post a.test "$G" "$tmp/g1.json.gz")
expect "receiver off: a body with NUL bytes gets 400" 400 "$code"
server_stop

check "no crash or sanitizer report in the server log" sh -c "! grep -q 'Sanitizer\|runtime error' '$tmp/log'"

summary
