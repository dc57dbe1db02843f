#!/bin/sh
# tests/fleet/fleet.sh: running a fleet.  On loopback, with the real
# mta-stsd (as nobody, sandbox on), curl, openssl, Python's ssl, and
# Debian's prometheus and promtool:
#
#   1. [metrics] listen: GET /metrics in the Prometheus text format
#      (promtool check metrics), /healthz and /readyz; a value the test
#      caused for every family (requests by code, full and resumed
#      handshakes, each kind of failed handshake, open and refused
#      connections, reloads and their result, domains served and failed,
#      each per-domain family, TLS reports and their sessions, build
#      info); then a real Prometheus scrapes it and its HTTP API must
#      give the same values, every family, and the shipped alert rules
#      evaluating (promtool check rules and test rules first);
#   2. watch_policies: a policy renamed into policy_dir is served without
#      a signal; one written in place by a slow writer is not read until
#      it is closed (the previous version stays served); a git checkout of
#      300 files is one or two reloads;
#   3. both directories as Kubernetes volumes (k8s_volume.py writes them
#      as the kubelet does: ..data switched by a rename): served, then
#      new versions of both, five times, without a signal; nothing under
#      ..data or ..TIMESTAMP read twice;
#   4. log_format = json: every log line one JSON object, access lines
#      with their fields;
#   5. the sandbox refuses nothing that serving does (strace: no EPERM,
#      EACCES or EBADF after Landlock and seccomp are on).
#
# Needs root (user nobody).  Ends with "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_start fleet

# Debian's Python (a shim elsewhere on PATH may take a second to start).
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
for t in curl openssl python3 promtool prometheus git strace; do
	if ! command -v $t >/dev/null; then
		missing "fleet: $t not installed (Debian: prometheus, git, strace)"
		summary
		exit
	fi
done
if [ "$(id -u)" != 0 ]; then
	missing "fleet: needs root (the server runs as nobody)"
	summary
	exit
fi

t0=$(date +%s)
port=$(free_port)
mport=$(free_port)
M=http://127.0.0.1:$mport
p=$tmp/policies
c=$tmp/certs
r=$tmp/reports
mkdir -p "$p" "$c" "$r"
suite_ca
cert "$c" a ec256 90 mta-sts.a.test
# b.test expires in 10 days: the expiry alert fires for it.
cert "$c" b ec256 10 mta-sts.b.test
for dom in a b c; do
	printf 'version: STSv1\nmode: enforce\nmx: mx.%s.test\nmax_age: 1209600\n' \
	    "$dom" >"$p/$dom.test.txt"
done
# c.test has no certificate: a domain with a policy that is not served.
chmod -R a+rX "$tmp"
chown nobody "$r"

conf=$tmp/fleet.conf
write_conf() {
	server_conf "$conf" "pid_file = $tmp/mta-stsd.pid" \
	    "log_level = info" "log_format = json" "handshake_timeout = 1" \
	    "max_connections = 30" "tlsrpt_dir = $r" "workers = 2" "$@" \
	    "[metrics]" "listen = 127.0.0.1:$mport"
}
write_conf
touch "$tmp/mta-stsd.pid"
chown nobody "$tmp/mta-stsd.pid"
server_up "$conf"

# A real Prometheus, started now: its first scrape comes 5 to 8 s later
# (Prometheus 2.42), while the traffic below runs.
pport=$(free_port)
P=http://127.0.0.1:$pport
cat >"$tmp/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ['$top/server/mta-stsd.rules.yml']
scrape_configs:
  - job_name: mta-stsd
    static_configs: [{targets: ['127.0.0.1:$mport']}]
EOF
promtool check config "$tmp/prometheus.yml" >"$tmp/pt" 2>&1 ||
    not_ok "prometheus: promtool check config: $(cat "$tmp/pt")"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn \
    --web.console.templates="$tmp" --web.console.libraries="$tmp" \
    >"$tmp/prometheus.log" 2>&1 &
ppid=$!
track "$ppid"

# metric NAME{LABELS}: its value in a fresh scrape ("" when absent).
metric() {
	curl -s --max-time 5 "$M/metrics" |
	    awk -v k="$1" '$1 == k { print $2; exit }'
}

# http PATH [CURL ARGS]: the status of a request to the metrics listener,
# its body in $tmp/mb and headers in $tmp/mh.
http() {
	_p=$1
	shift
	curl -s --max-time 5 -o "$tmp/mb" -D "$tmp/mh" -w '%{http_code}' "$@" \
	    "$M$_p"
}

# ---- 1. the endpoint ---------------------------------------------------------

check "metrics: /metrics 200" test "$(http /metrics)" = 200
check "metrics: Content-Type text/plain; version=0.0.4" \
    grep -qi '^content-type: text/plain; version=0.0.4' "$tmp/mh"
if promtool check metrics <"$tmp/mb" >"$tmp/pt" 2>&1; then
	ok "metrics: promtool check metrics passes"
else
	not_ok "metrics: promtool check metrics: $(head -5 "$tmp/pt")"
fi
check "metrics: /healthz 200 ok" test "$(http /healthz)" = 200 -a "$(cat "$tmp/mb")" = ok
check "metrics: /readyz 200 ready" test "$(http /readyz)" = 200 -a "$(cat "$tmp/mb")" = ready
check "metrics: another path 404" test "$(http /metrics/x)" = 404
check "metrics: POST 405" test "$(http /metrics -X POST -d x)" = 405
check "metrics: the policy is not served there" test "$(http /.well-known/mta-sts.txt)" = 404
check "metrics: nothing on the HTTPS port without TLS" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/metrics")" = 000

# ---- traffic whose counts the test knows ----------------------------------

# 7 policies served for a.test (new connections, so full or resumed
# handshakes), 2 for b.test, a 404 and a 421 on a.test.
for i in 1 2 3 4 5 6 7; do fetch a.test -o /dev/null; done
fetch b.test -o /dev/null
fetch b.test -o /dev/null
curl -s -o /dev/null --cacert "$tmp/ca.pem" --resolve "mta-sts.a.test:$port:127.0.0.1" \
    "https://mta-sts.a.test:$port/nothing"
curl -s -o /dev/null --cacert "$tmp/ca.pem" --resolve "mta-sts.a.test:$port:127.0.0.1" \
    -H 'Host: mta-sts.b.test' "https://mta-sts.a.test:$port/.well-known/mta-sts.txt"
# Resumed handshakes: Python resumes its session 4 times.
"$PY" - "$port" "$tmp/ca.pem" >"$tmp/resumed" 2>&1 <<'EOF'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
sess, n = None, 0
for i in range(5):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    t = ctx.wrap_socket(s, server_hostname="mta-sts.a.test", session=sess)
    t.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\nConnection: close\r\n\r\n")
    while t.recv(4096):
        pass
    n += t.session_reused
    sess = t.session
    t.close()
print(n)
EOF
check "traffic: Python resumed 4 sessions" test "$(cat "$tmp/resumed")" = 4
# Failed handshakes, one of each kind.
openssl s_client -connect "127.0.0.1:$port" -noservername -tls1_2 </dev/null >/dev/null 2>&1
openssl s_client -connect "127.0.0.1:$port" -servername mta-sts.nowhere.test -tls1_2 </dev/null >/dev/null 2>&1
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 "$PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
s.settimeout(3)
try:
    s.recv(100)
except OSError:
    pass' "$port"
# A connection that never starts its handshake: closed after 1 s.
timeout 5 "$PY" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(4)
try:
    s.recv(1)
except OSError:
    pass' "$port"

# TLS reports: one stored (90 sessions, 10 failed, for a.test), the same
# again (duplicate), one malformed; one for another policy domain
# (stored, but its sessions are not a.test's).
"$PY" - "$tmp" <<'EOF'
import json, sys
r = json.load(open("tests/tlsrpt/rfc8460.json"))
r["report-id"] = "fleet-1"
r["policies"][0]["policy"]["policy-domain"] = "a.test"
r["policies"][0]["summary"] = {"total-successful-session-count": 90,
                               "total-failure-session-count": 10}
json.dump(r, open(sys.argv[1] + "/rep1.json", "w"))
r["report-id"] = "fleet-2"
r["policies"][0]["policy"]["policy-domain"] = "elsewhere.test"
json.dump(r, open(sys.argv[1] + "/rep2.json", "w"))
EOF
printf '{"not": "a report"}' >"$tmp/bad.json"
post() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$tmp/ca.pem" \
	    --resolve "mta-sts.a.test:$port:127.0.0.1" \
	    -H "Content-Type: application/tlsrpt+json" --data-binary @"$1" \
	    "https://mta-sts.a.test:$port/tlsrpt"
}
codes="$(post "$tmp/rep1.json") $(post "$tmp/rep1.json") $(post "$tmp/bad.json") $(post "$tmp/rep2.json")"
check "traffic: reports answered 201 200 400 201" test "$codes" = "201 200 400 201"

# Connections refused at the limit: 30 held until their handshakes time
# out (1 s), then one more while they are.
"$PY" - "$port" <<'EOF'
import socket, sys, time
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for i in range(30)]
time.sleep(0.3)
extra = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
extra.settimeout(3)
try:
    extra.recv(1)
except OSError:
    pass
time.sleep(1.5)
for s in held:
    s.close()
EOF
sleep 1.5

# Reloads: one good (SIGHUP), then one with a broken configuration.
server_reload || not_ok "reload: no reload line"
# Inside the sandbox as before it: every CPU the process may use.
cpus=$(nproc)
check "reload: read on the $cpus CPUs that the start used" \
    grep -q "reload: built in [0-9]* ms beside the event loops ($cpus CPUs)" "$log"
echo "bogus_key = 1" >>"$conf"
server_reload || not_ok "reload: no reload line"
check "health: after a failed reload /healthz 503" test "$(http /healthz)" = 503
check "health: ... with the reason" grep -q 'last reload failed: .*bogus_key: unknown key' "$tmp/mb"
check "health: /readyz still 200" test "$(http /readyz)" = 200
check "health: still serving" fetch a.test -o /dev/null
cp "$tmp/mb" "$tmp/health-failed"

# ---- the values ---------------------------------------------------------------

http /metrics >/dev/null
cp "$tmp/mb" "$tmp/scrape"
# value NAME{LABELS}: from that scrape.
value() {
	awk -v k="$1" '$1 == k { print $2; exit }' "$tmp/scrape"
}
# expect_value NAME{LABELS} VALUE
expect_value() {
	_v=$(value "$1")
	if [ "$_v" = "$2" ]; then ok "metrics: $1 = $2"; else not_ok "metrics: $1 = '$_v', expected $2"; fi
}
# at_least NAME{LABELS} N
at_least() {
	_v=$(value "$1")
	if [ -n "$_v" ] && [ "${_v%.*}" -ge "$2" ]; then ok "metrics: $1 = $_v (>= $2)"; else not_ok "metrics: $1 = '$_v', expected >= $2"; fi
}
notafter() {
	date -d "$(openssl x509 -noout -enddate -in "$1" | cut -d= -f2)" +%s
}
# 200: a.test 7 + 5 (Python) + 1 (after the failed reload), b.test 2,
# and the report sent twice; 404: server_up's probe of / and /nothing.
expect_value 'mta_stsd_requests_total{code="200"}' 16
expect_value 'mta_stsd_requests_total{code="201"}' 2
expect_value 'mta_stsd_requests_total{code="400"}' 1
expect_value 'mta_stsd_requests_total{code="404"}' 2
expect_value 'mta_stsd_requests_total{code="421"}' 1
expect_value 'mta_stsd_tls_handshakes_total{kind="resumed"}' 4
at_least 'mta_stsd_tls_handshakes_total{kind="full"}' 15
expect_value 'mta_stsd_tls_handshake_failures_total{reason="no_server_name"}' 1
expect_value 'mta_stsd_tls_handshake_failures_total{reason="unknown_name"}' 1
# protocol: plain HTTP twice (curl above, and Python).
expect_value 'mta_stsd_tls_handshake_failures_total{reason="protocol"}' 2
expect_value 'mta_stsd_tls_handshake_failures_total{reason="timeout"}' 31
expect_value 'mta_stsd_connections_refused_total' 1
expect_value 'mta_stsd_connections_open' 0
expect_value 'mta_stsd_reloads_total{result="success"}' 1
expect_value 'mta_stsd_reloads_total{result="failure"}' 1
expect_value 'mta_stsd_last_reload_successful' 0
at_least 'mta_stsd_last_reload_success_timestamp_seconds' "$t0"
expect_value 'mta_stsd_domains{state="served"}' 2
expect_value 'mta_stsd_domains{state="failed"}' 1
expect_value 'mta_stsd_domain_served{domain="a.test"}' 1
expect_value 'mta_stsd_domain_served{domain="c.test"}' 0
expect_value 'mta_stsd_certificate_not_after_timestamp_seconds{domain="a.test",key_type="ecdsa"}' "$(notafter "$c/a.pem")"
expect_value 'mta_stsd_certificate_not_after_timestamp_seconds{domain="b.test",key_type="ecdsa"}' "$(notafter "$c/b.pem")"
expect_value 'mta_stsd_policy_info{domain="a.test",mode="enforce",id="",max_age="1209600"}' 1
expect_value 'mta_stsd_policy_mode_since_timestamp_seconds{domain="a.test",mode="enforce"}' "$(stat -c %Y "$p/a.test.txt")"
expect_value 'mta_stsd_policy_fetches_total{domain="a.test"}' 13
expect_value 'mta_stsd_policy_fetches_total{domain="b.test"}' 2
expect_value 'mta_stsd_tlsrpt_reports_total{result="stored"}' 2
expect_value 'mta_stsd_tlsrpt_reports_total{result="duplicate"}' 1
expect_value 'mta_stsd_tlsrpt_reports_total{result="malformed"}' 1
expect_value 'mta_stsd_tlsrpt_sessions_total{policy_domain="a.test",result="successful"}' 90
expect_value 'mta_stsd_tlsrpt_sessions_total{policy_domain="a.test",result="failed"}' 10
check "metrics: no sessions for a policy domain not served here" \
    sh -c "! grep -q 'policy_domain=\"elsewhere.test\"' '$tmp/scrape'"
expect_value 'mta_stsd_build_info{version="0.1"}' 1
at_least 'mta_stsd_start_time_seconds' "$t0"
# Every family has HELP and TYPE (promtool warns of a missing HELP).
families=$(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$tmp/scrape")
check "metrics: 18 families" test "$(echo "$families" | wc -l)" = 18
promtool check metrics <"$tmp/scrape" >"$tmp/pt" 2>&1
check "metrics: promtool check metrics passes after traffic" test $? = 0

# Mended: healthy again.
write_conf
server_reload || not_ok "reload: no reload line"
check "health: mended, /healthz 200 again" test "$(http /healthz)" = 200

# ---- a real Prometheus ------------------------------------------------------

promtool check rules server/mta-stsd.rules.yml >"$tmp/pt" 2>&1
check "rules: promtool check rules: 6 rules" grep -q 'SUCCESS: 6 rules found' "$tmp/pt"
if (cd tests/fleet && promtool test rules rules_test.yml) >"$tmp/pt" 2>&1; then
	ok "rules: promtool test rules (each alert fires when it should)"
else
	not_ok "rules: promtool test rules: $(tail -15 "$tmp/pt")"
fi
# query PROMQL: the result's "METRIC VALUE" lines, metric as JSON.
query() {
	curl -s --max-time 5 "$P/api/v1/query" --data-urlencode "query=$1" |
	    "$PY" -c 'import json, sys
r = json.load(sys.stdin)
assert r["status"] == "success", r
for s in r["data"]["result"]:
    print(json.dumps(s["metric"], sort_keys=True), s["value"][1])'
}
# Started before the traffic; its last scrape must come after it.
sleep 2
i=0
while [ "$(query 'up{job="mta-stsd"}' 2>/dev/null | awk '{print $NF}')" != 1 ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "prometheus: scrapes mta-stsd (up == 1)" test "$(query 'up{job="mta-stsd"}' | awk '{print $NF}')" = 1
# Every family the server exposes, as Prometheus stored it.
query 'count by (__name__) ({__name__=~"mta_stsd_.*"})' >"$tmp/names" 2>&1
missing_families=
for f in $families; do
	grep -q "\"$f\"" "$tmp/names" || missing_families="$missing_families $f"
done
check "prometheus: every one of the 18 families stored${missing_families:+ (missing:$missing_families)}" \
    test -z "$missing_families"
# pq PROMQL VALUE WHAT: the query's one value is VALUE.
pq() {
	_v=$(query "$1" | awk '{print $NF}' | head -2)
	if [ "$_v" = "$2" ]; then ok "prometheus: $3 ($1 = $2)"; else not_ok "prometheus: $3: $1 = '$_v', expected $2"; fi
}
pq 'mta_stsd_requests_total{code="200"}' "$(metric 'mta_stsd_requests_total{code="200"}')" "policies served"
pq 'mta_stsd_policy_fetches_total{domain="b.test"}' 2 "fetches of b.test"
pq 'mta_stsd_reloads_total{result="failure"}' 1 "the failed reload"
pq 'mta_stsd_reloads_total{result="success"}' 2 "the good reloads"
pq 'mta_stsd_certificate_not_after_timestamp_seconds{domain="a.test"}' "$(notafter "$c/a.pem")" "a.test's certificate expiry"
pq 'mta_stsd_tls_handshake_failures_total{reason="timeout"}' 31 "handshake timeouts"
pq 'mta_stsd_tlsrpt_sessions_total{policy_domain="a.test",result="failed"}' 10 "failed sessions reported"
pq 'mta_stsd_domain_served{domain="c.test"}' 0 "c.test not served"
# The rules run on what was scraped: b.test expires within 14 days.
i=0
while ! query 'ALERTS{alertname="MtaStsCertificateExpiringSoon",alertstate="firing"}' 2>/dev/null |
    grep -q '"domain": "b.test"' && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
query 'ALERTS{alertname="MtaStsCertificateExpiringSoon"}' >"$tmp/alerts" 2>&1
check "prometheus: MtaStsCertificateExpiringSoon fires for b.test (10 days left)" \
    grep -q '"alertstate": "firing".*"domain": "b.test"' "$tmp/alerts"
check "prometheus: ... and only for b.test" test "$(grep -c '"domain": "b.test"' "$tmp/alerts")$(grep -c '"domain": "a.test"' "$tmp/alerts")" = 10
query 'ALERTS{alertname="MtaStsDomainNotServed"}' >"$tmp/alerts" 2>&1
check "prometheus: MtaStsDomainNotServed pending for c.test" grep -q '"alertstate": "pending".*"domain": "c.test"\|"domain": "c.test".*"alertstate": "pending"' "$tmp/alerts"
stop_pid "$ppid"

# An id issued by mta-stsctl (reload, confirmation over HTTPS, record):
# the label of a.test's policy once the record is for the body served.
if "$ctl" -f "$conf" issue a.test >"$tmp/issue" 2>&1; then
	newid=$(sed -n 's/.*"v=STSv1; id=\([0-9A-Za-z]*\);".*/\1/p' "$tmp/issue" | head -1)
	i=0
	while [ "$(metric "mta_stsd_policy_info{domain=\"a.test\",mode=\"enforce\",id=\"$newid\",max_age=\"1209600\"}")" != 1 ] &&
	    [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "metrics: the id mta-stsctl issued is a.test's policy_info id ($newid)" \
	    test -n "$newid" -a "$i" -lt 50
else
	not_ok "mta-stsctl issue a.test: $(tail -3 "$tmp/issue")"
fi

# ---- 2. watch_policies --------------------------------------------------------

reloads() { grep -c 'reload: reading' "$log"; }
cert "$c" d ec256 90 mta-sts.d.test
chmod a+r "$c"/d.*
printf 'version: STSv1\nmode: testing\nmx: mx.d.test\nmax_age: 86400\n' >"$tmp/d.new"
chmod a+r "$tmp/d.new"
mv "$tmp/d.new" "$p/d.test.txt"
i=0
while ! fetch d.test 2>/dev/null | grep -q 'mode: testing' && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done
check "watch: a policy renamed into policy_dir is served without a signal" fetch d.test -o /dev/null
check "watch: the reload came from the watch" grep -q "watch: $p and $c changed: reloading" "$log"

# A slow writer: half the new a.test, then 4 s, then the rest.
before=$(reloads)
cat >"$tmp/writer.py" <<'EOF'
import sys, time
f = open(sys.argv[1], "w")
f.write("version: STSv1\nmode: testing\n")
f.flush()
time.sleep(4)
f.write("mx: mx.a.test\nmax_age: 86400\n")
f.close()
EOF
"$PY" "$tmp/writer.py" "$p/a.test.txt" >"$tmp/writer.log" 2>&1 &
wpid=$!
track "$wpid"
# The reload 2 s after the first half; the writer holds the file 4 s.
i=0
while ! grep -q 'a.test.txt: still being written; serving the previous version' "$log" &&
    alive "$wpid" && [ $i -lt 60 ]; do
	sleep 0.1
	i=$((i + 1))
done
fetch a.test >"$tmp/during" 2>&1
check "watch: a reload while a.test.txt is being written keeps its old version" \
    grep -q 'a.test.txt: still being written; serving the previous version' "$log"
check "watch: ... the old version is served (max_age 1209600)" grep -q 'max_age: 1209600' "$tmp/during"
check "watch: ... the writer was still writing" alive "$wpid"
reap "$wpid"
i=0
while ! fetch a.test 2>/dev/null | grep -q 'mode: testing' && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done
fetch a.test >"$tmp/after" 2>&1
check "watch: once closed, the new a.test is served (max_age 86400)" grep -q 'max_age: 86400' "$tmp/after"
check "watch: never an invalid a.test in the log" sh -c "! grep -q 'a.test.txt:.*error' '$log'"

# A git checkout of 300 policies: one or two reloads.
g=$tmp/git
mkdir -p "$g"
git -C "$g" init -q -b main 2>/dev/null || git -C "$g" init -q
"$PY" - "$g" <<'EOF'
import os, sys
for i in range(300):
    open(os.path.join(sys.argv[1], "g%03d.test.txt" % i), "w").write(
        "version: STSv1\nmode: testing\nmx: mx.g%03d.test\nmax_age: 86400\n" % i)
EOF
git -C "$g" -c user.name=t -c user.email=t@t add -A
git -C "$g" -c user.name=t -c user.email=t@t commit -q -m v1
sleep 2.5
before=$(reloads)
(cd "$p" && git --git-dir="$g/.git" --work-tree="$p" checkout -q main -- .)
i=0
while [ "$(grep -c 'reload: [0-9]* domains served' "$log")" -lt "$((before + 1))" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 3
n=$(($(reloads) - before))
check "watch: a git checkout of 300 files: $n reload(s), one or two" test "$n" -ge 1 -a "$n" -le 2
check "watch: ... and the 300 are loaded (no certificate: failed)" \
    test "$(metric 'mta_stsd_domains{state="failed"}')" = 301

# ---- 4. log_format = json -----------------------------------------------------

"$PY" - "$log" >"$tmp/json" 2>&1 <<'EOF'
import json, sys
bad = access = 0
for line in open(sys.argv[1], encoding="utf-8", errors="strict"):
    try:
        o = json.loads(line)
        assert set(("time", "level", "message")) <= set(o)
    except Exception as e:
        bad += 1
        continue
    if o["message"].startswith("access: "):
        assert o["client"] == "127.0.0.1" and "server_name" in o
        assert o["request"].split()[0] in ("GET", "HEAD", "POST")
        assert isinstance(o["status"], int) and isinstance(o["bytes"], int)
        assert isinstance(o["duration_us"], int)
        access += 1
print(bad, access)
EOF
set -- $(cat "$tmp/json")
check "log_format json: every line is a JSON object with time, level, message" test "${1:-x}" = 0
check "log_format json: access lines carry client, server_name, request, status, bytes, duration_us ($2)" \
    test "${2:-0}" -ge 20
server_stop

# ---- 3. Kubernetes volumes ----------------------------------------------------

kv=$tmp/k8s
mkdir -p "$kv/policies" "$kv/certs" "$kv/src"
cert "$kv/src" k1 ec256 90 mta-sts.k.test
printf 'version: STSv1\nmode: testing\nmx: mx.k.test\nmax_age: 86400\n' >"$kv/src/p1"
"$PY" tests/fleet/k8s_volume.py "$kv/certs" "tls.crt=@$kv/src/k1.pem" "tls.key=@$kv/src/k1.key" >/dev/null
"$PY" tests/fleet/k8s_volume.py "$kv/policies" "k.test.txt=@$kv/src/p1" >/dev/null
chmod -R a+rX "$kv"
check "k8s: the volumes are links through ..data" test -L "$kv/certs/tls.crt" -a -L "$kv/certs/..data" -a -L "$kv/policies/k.test.txt"
p=$kv/policies c=$kv/certs log=$tmp/k8s.log
server_conf "$conf" "log_level = debug"
server_up "$conf" k.test
serial() {
	openssl s_client -connect "127.0.0.1:$port" -servername mta-sts.k.test </dev/null 2>/dev/null |
	    openssl x509 -noout -serial 2>/dev/null
}
check "k8s: served from the volumes" fetch k.test -o /dev/null
check "k8s: ..data and ..TIMESTAMP not read: no certificate twice" sh -c "! grep -q 'private key without certificate' '$log'"
check "k8s: ... no policy twice: 1 domain served" grep -q 'mta-stsd 0.1: 1 domains served, 0 failed' "$log"
good=0
for v in 2 3 4 5 6; do
	cert "$kv/src" "k$v" ec256 90 mta-sts.k.test
	want=$(openssl x509 -noout -serial -in "$kv/src/k$v.pem")
	mode=testing
	[ $((v % 2)) = 0 ] && mode=enforce
	printf 'version: STSv1\nmode: %s\nmx: mx.k.test\nmax_age: %s\n' "$mode" $((86400 * v)) >"$kv/src/p$v"
	"$PY" tests/fleet/k8s_volume.py "$kv/certs" "tls.crt=@$kv/src/k$v.pem" "tls.key=@$kv/src/k$v.key" >/dev/null
	"$PY" tests/fleet/k8s_volume.py "$kv/policies" "k.test.txt=@$kv/src/p$v" >/dev/null
	chmod -R a+rX "$kv"
	i=0
	while { [ "$(serial)" != "$want" ] || ! fetch k.test 2>/dev/null | grep -q "max_age: $((86400 * v))"; } && [ $i -lt 80 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(serial)" = "$want" ] && fetch k.test 2>/dev/null | grep -q "mode: $mode" && good=$((good + 1))
done
check "k8s: 5 new versions of both volumes served, each without a signal ($good of 5)" test "$good" = 5
check "k8s: old ..TIMESTAMP directories gone" test "$(ls -d "$kv"/certs/..2* | wc -l)" = 1
check "k8s: still no certificate read twice" sh -c "! grep -q 'private key without certificate' '$log'"
check "k8s: every reload from the watch" sh -c "! grep -qi 'signal\|SIGHUP' '$log'"
check "k8s: same process" alive "$pid"
server_stop

# The sandbox refuses nothing that serving does.  A server under strace
# serves a policy, /metrics, /healthz, an ACME challenge and a TLS
# report, reloads on SIGHUP and on a watched change, and stops; after
# landlock_restrict_self no call may fail with EPERM or EACCES (what
# seccomp and Landlock answer: a library that falls back in silence, as
# jansson seeding its hash tables from the time when /dev/urandom is
# refused, or a reload counting one CPU, would go unnoticed otherwise)
# or EBADF.
p=$tmp/policies c=$tmp/certs
aport=$(free_port)
port=$(free_port)
mport=$(free_port)
M=http://127.0.0.1:$mport
mkdir -p "$tmp/audit/reports" "$tmp/audit/web/.well-known/acme-challenge"
echo token-body >"$tmp/audit/web/.well-known/acme-challenge/tok"
chown nobody "$tmp/audit/reports"
chmod -R a+rX "$tmp/audit"
server_conf "$tmp/audit.conf" "log_level = debug" "workers = 2" \
    "tlsrpt_dir = $tmp/audit/reports" "[metrics]" "listen = 127.0.0.1:$mport" \
    "[acme]" "listen = 127.0.0.1:$aport" "webroot = $tmp/audit/web"
log=$tmp/audit.log
dsave=$d
d=$tmp/audit-strace
printf '#!/bin/sh\nexec strace -f -qq -o %s/strace.out "%s" "$@"\n' \
    "$tmp" "$dsave" >"$d"
chmod +x "$d"
if server_start "$tmp/audit.conf"; then
	# $pid is strace's: signals go to the server, its child.
	spid=$pid
	pid=$(pgrep -P "$spid")
	track "$pid"
	check "audit: policy served" fetch a.test -o /dev/null
	check "audit: /metrics" sh -c "curl -sf '$M/metrics' | grep -q mta_stsd_build_info"
	check "audit: /healthz" test "$(curl -s -o /dev/null -w '%{http_code}' "$M/healthz")" = 200
	check "audit: ACME challenge" test "$(curl -s --resolve "mta-sts.a.test:$aport:127.0.0.1" "http://mta-sts.a.test:$aport/.well-known/acme-challenge/tok")" = token-body
	check "audit: TLS report stored" test "$(post "$tmp/rep1.json")" = 201
	server_reload || not_ok "audit: no reload line"
	n=$(reloads_ended)
	printf 'version: STSv1\nmode: testing\nmx: mx.a.test\nmax_age: 86400\n' >"$p/.a.new"
	mv "$p/.a.new" "$p/a.test.txt"
	reload_after "$n" || not_ok "audit: no reload after a policy changed"
	check "audit: the watch reloaded" fetch a.test -o - 2>/dev/null | grep -q "mode: testing"
	server_stop
	stop_pid "$spid" 10
	out=$(sed -n '/landlock_restrict_self/,$p' "$tmp/strace.out" | grep -E '= -1 (EPERM|EACCES|EBADF) ')
	check "audit: the sandbox was entered under strace" grep -q landlock_restrict_self "$tmp/strace.out"
	check "audit: no call refused after the sandbox${out:+: $(echo "$out" | head -3)}" test -z "$out"
else
	not_ok "audit: server under strace did not start: $(tail -5 "$log")"
fi
d=$dsave

echo "fleet: $(($(date +%s) - t0)) s"
summary
