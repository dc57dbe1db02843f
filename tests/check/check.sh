#!/bin/sh
# tests/check/check.sh: mta-stsctl check against a whole test deployment.
#
# In a network namespace of its own (mta-stsd-check-$$): dnsmasq answers
# for the .test domains below on 127.0.0.1:53; mta-stsd serves their
# policies on 127.0.0.1:443; tests/check/https.py is a policy host that
# misbehaves (127.0.0.3:443); tests/check/smtpd.py runs STARTTLS SMTP
# servers with python3-aiosmtpd (127.0.0.20: a good certificate,
# 127.0.0.21: an expired one, 127.0.0.22: a server that never answers,
# 127.0.0.23: no STARTTLS, 127.0.0.24: a certificate valid 5 more days,
# 127.0.0.25: a greeting that never ends).
# Certificates come from a test CA (given with --ca-file), and one from
# another CA for the untrusted case.
#
#   good.test      everything right: exit 0, and in JSON
#   testing.test   mode testing, MX with an expired certificate: WARN
#   expired.test   the same in enforce: FAIL
#   uncovered.test an MX the policy's mx patterns do not cover
#   deep.test      mx *.deep.test: an MX one label below it (covered), one
#                  two labels below (not covered: a wildcard is one label)
#   twotxt.test    two v=STSv1 TXT records
#   stale.test     DNS holds an older id than the one recorded
#   drift.test     the local policy changed, the server not reloaded
#   v6only.test    the policy host has AAAA only
#   nomx.test      no MX records
#   badrpt.test    an invalid TLS-RPT record
#   hang.test      an MX that accepts and never answers (--timeout)
#   flood.test     an MX whose greeting never ends
#   plain.test     an MX without STARTTLS
#   wrongmx.test   an MX whose certificate names another host
#   soon.test      an MX whose certificate expires in 5 days
#   redirect.test, html.test, big.test, hazard.test, broken.test,
#   mismatch.test, chunked.test
#                  served by https.py: a redirect, text/html, a body over
#                  64 KiB, a body with sender hazards, an invalid policy,
#                  a certificate without the policy host's name, a good
#                  policy in a chunked body
#
# Needs root (namespace, ports 25, 53 and 443), dnsmasq (dnsmasq-base),
# python3-aiosmtpd, openssl.  Without them: a failure, or only a SKIP
# line with SKIP_CHECK=1.  VERBOSE=1 shows each check's output.
# Ends with "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

ns=mta-stsd-check-$$
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

suite_start check
daemon=$d
. tests/netns.sh

# missing_end WHAT: missing (tests/lib.sh: SKIP with SKIP_CHECK=1), and
# the suite ends.
missing_end() {
	missing "$@"
	summary
	exit
}

# show FILE: its first 30 lines as comments (tests/lib.sh).
show_lines=30

[ "$(id -u)" = 0 ] || missing_end "check: needs root (network namespace, ports 25, 53, 443)"
[ -x "$daemon" ] && [ -x "$ctl" ] || missing_end "check: $daemon or $ctl not built (run make)"
command -v dnsmasq >/dev/null || missing_end "check: dnsmasq missing (Debian dnsmasq-base)"
command -v openssl >/dev/null || missing_end "check: openssl missing"
"$PY" -c 'import aiosmtpd' 2>/dev/null || missing_end "check: python3-aiosmtpd missing"

# ---- certificates, policies, configuration --------------------------------

mxonly="flood plain wrongmx soon"
served="good testing expired uncovered deep twotxt stale drift v6only nomx badrpt hang $mxonly"
names=
for d in $served; do names="$names mta-sts.$d.test"; done
mkcert "$tmp/ca" ca
# shellcheck disable=SC2086
mkcert "$tmp/ca" cert sts ec256 90 $names
mkcert "$tmp/ca" cert odd rsa2048 90 mta-sts.redirect.test mta-sts.html.test \
    mta-sts.big.test mta-sts.hazard.test mta-sts.broken.test \
    mta-sts.chunked.test
mkcert "$tmp/ca" cert mx-good ec256 90 mx.good.test
mkcert "$tmp/ca" cert mx-expired ec256 -2 mx.expired.test
mkcert "$tmp/ca" cert mx-soon ec256 5 mx.soon.test
mkcert "$tmp/badca" ca
ca=$tmp/ca/ca.pem

mkdir -p "$tmp/certs" "$tmp/policies/.ids"
cp "$tmp/ca/sts.pem" "$tmp/ca/sts.key" "$tmp/certs/"
pol() {	# DOMAIN MODE MX...
	_d=$1 _m=$2
	shift 2
	{
		printf 'version: STSv1\nmode: %s\n' "$_m"
		for _x in "$@"; do printf 'mx: %s\n' "$_x"; done
		printf 'max_age: 1209600\n'
	} >"$tmp/policies/$_d.txt"
}
for d in good twotxt stale drift v6only nomx badrpt; do
	pol $d.test enforce mx.good.test
done
pol testing.test testing mx.expired.test
pol expired.test enforce mx.expired.test
pol uncovered.test enforce mx.other.test
pol deep.test enforce '*.deep.test'
pol hang.test enforce mx.hang.test
for d in $mxonly; do pol $d.test enforce "mx.$d.test"; done

# The ids recorded for good.test and stale.test (as mta-stsctl writes them).
record() {	# DOMAIN ID
	_sha=$(printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 1209600\r\n' |
	    sha256sum | cut -d' ' -f1)
	printf 'id: %s\nsha256: %s\nmax_age: 1209600\n' "$2" "$_sha" \
	    >"$tmp/policies/.ids/$1.id"
}
record good.test 20240101000000Z
record stale.test 20250101000000Z

conf=$tmp/mta-stsd.conf
printf '[server]\nlisten = 127.0.0.1:443\npolicy_dir = %s\ncert_dir = %s\nuser = nobody\nlog_level = info\n' \
    "$tmp/policies" "$tmp/certs" >"$conf"
chmod 0755 "$tmp"
chgrp -R nogroup "$tmp/certs" "$tmp/policies"
chmod 0750 "$tmp/certs" "$tmp/policies" "$tmp/policies/.ids"
chmod 0640 "$tmp/certs"/* "$tmp/policies"/*.txt

# ---- the namespace and its servers ----------------------------------------

netns_up 127.0.0.2 127.0.0.3 127.0.0.20 127.0.0.21 127.0.0.22 127.0.0.23 \
    127.0.0.24 127.0.0.25 ||
    missing_end "check: cannot make network namespace $ns"

txt() {	# DOMAIN ID
	echo "--txt-record=_mta-sts.$1,v=STSv1; id=$2;"
}
rpt="--txt-record=_smtp._tls.%s,v=TLSRPTv1; rua=mailto:tlsrpt@%s"
set --
odd="redirect html big hazard broken mismatch chunked"
for d in $served $odd; do
	set -- "$@" "$(txt $d.test 20240101000000Z)" "--local=/$d.test/"
	case " $odd v6only " in
	*" $d "*) ;;
	*) set -- "$@" "--host-record=mta-sts.$d.test,127.0.0.1" ;; esac
	case " $odd " in *" $d "*)
		set -- "$@" "--host-record=mta-sts.$d.test,127.0.0.3" ;; esac
	case $d in nomx) ;;
	testing|expired) set -- "$@" "--mx-host=$d.test,mx.expired.test,10" ;;
	hang|flood|plain|wrongmx|soon)
		set -- "$@" "--mx-host=$d.test,mx.$d.test,10" ;;
	deep) set -- "$@" "--mx-host=deep.test,mx.deep.test,10" \
	    "--mx-host=deep.test,a.b.deep.test,20" ;;
	*) set -- "$@" "--mx-host=$d.test,mx.good.test,10" ;; esac
	case $d in testing|badrpt) ;;
	# shellcheck disable=SC2059
	*) set -- "$@" "$(printf -- "$rpt" "$d.test" "$d.test")" ;; esac
done
# shellcheck disable=SC2046
bg "$tmp/dnsmasq.log" dnsmasq $(dnsmasq_args) "$@" \
    "--txt-record=_mta-sts.twotxt.test,v=STSv1; id=20230101000000Z;" \
    "--txt-record=_smtp._tls.badrpt.test,v=TLSRPTv1; rua=ftp://x.test" \
    --host-record=mta-sts.v6only.test,::1 \
    --host-record=mx.good.test,127.0.0.20 \
    --host-record=mx.expired.test,127.0.0.21 \
    --host-record=mx.hang.test,127.0.0.22 \
    --host-record=mx.plain.test,127.0.0.23 \
    --host-record=mx.soon.test,127.0.0.24 \
    --host-record=mx.flood.test,127.0.0.25 \
    --host-record=mx.wrongmx.test,127.0.0.20 \
    --host-record=mx.deep.test,127.0.0.20 \
    --host-record=a.b.deep.test,127.0.0.20
bg "$tmp/mta-stsd.log" "$daemon" -d -f "$conf"
bg "$tmp/https.log" "$PY" tests/check/https.py 127.0.0.3 \
    "$tmp/ca/odd.pem" "$tmp/ca/odd.key"
bg "$tmp/smtpd.log" "$PY" tests/check/smtpd.py \
    "127.0.0.20:$tmp/ca/mx-good.pem:$tmp/ca/mx-good.key" \
    "127.0.0.21:$tmp/ca/mx-expired.pem:$tmp/ca/mx-expired.key" \
    "127.0.0.24:$tmp/ca/mx-soon.pem:$tmp/ca/mx-soon.key" \
    plain=127.0.0.23 hang=127.0.0.22 flood=127.0.0.25
# A DNS server that never answers: a bound UDP socket nobody reads.
bg "$tmp/mute.log" "$PY" -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5300))
print("ready", flush=True)
time.sleep(600)'

if wait_for 5 grep -q 'started' "$tmp/dnsmasq.log"; then
	ok "dnsmasq answers in the namespace"
else
	not_ok "dnsmasq did not start"
	show "$tmp/dnsmasq.log"
fi
if wait_for 5 grep -q 'domains served' "$tmp/mta-stsd.log" &&
    wait_for 5 grep -q ready "$tmp/https.log" &&
    wait_for 10 grep -q ready "$tmp/smtpd.log" &&
    wait_for 5 grep -q ready "$tmp/mute.log"; then
	ok "mta-stsd, the odd policy host and the SMTP servers started"
else
	not_ok "a server did not start"
	for f in mta-stsd https smtpd mute; do show "$tmp/$f.log"; done
	summary
	exit
fi

# ---- the checks -------------------------------------------------------------

# run RC ARG...: mta-stsctl check ARG... in the namespace, against the test
# DNS server and CA; its output in $tmp/out, its exit status must be RC.
run() {
	_want=$1
	shift
	nsx "$ctl" check --resolver 127.0.0.1:53 --ca-file "$ca" "$@" \
	    >"$tmp/out" 2>&1
	_rc=$?
	last="check $*"
	[ -n "${VERBOSE:-}" ] && show "$tmp/out"
	if [ "$_rc" = "$_want" ]; then
		ok "$last: exit $_want"
	else
		not_ok "$last: exit $_rc, expected $_want"
		show "$tmp/out"
	fi
}

# has PATTERN...: each PATTERN (grep -E) is a line of the last run's output.
has() {
	for _p in "$@"; do
		if grep -Eq -- "$_p" "$tmp/out"; then
			ok "$last: '$_p'"
		else
			not_ok "$last: no line '$_p'"
			show "$tmp/out"
		fi
	done
}

# hasnt PATTERN: no line matches.
hasnt() {
	if grep -Eq -- "$1" "$tmp/out"; then
		not_ok "$last: unexpected '$1'"
		show "$tmp/out"
	else
		ok "$last: no '$1'"
	fi
}

start=$(date +%s)

run 0 -f "$conf" good.test
has '^OK   dns.txt: _mta-sts.good.test: v=STSv1, id=20240101000000Z$' \
    '^OK   dns.address: mta-sts.good.test: A 127.0.0.1$' \
    '^OK   https.tls: mta-sts.good.test: TLS 1.2 ECDHE-ECDSA-[A-Z0-9-]+, certificate for .*mta-sts.good.test.* valid (89|90) more days$' \
    '^OK   https.status: status 200, 67 bytes in [0-9]+ ms$' \
    '^OK   https.type: Content-Type text/plain' \
    '^OK   policy: mode enforce, 1 mx, max_age 1209600$' \
    '^OK   id: DNS has id 20240101000000Z, the one recorded for the local policy$' \
    '^OK   local: the served policy is the local one$' \
    '^OK   dns.mx: good.test: 1 MX: mx.good.test \(10\)$' \
    '^OK   mx.policy: mx.good.test matches mx mx.good.test$' \
    '^OK   mx.tls: mx.good.test: TLS 1.2 .*certificate for mx.good.test valid' \
    '^OK   dns.tlsrpt: _smtp._tls.good.test: v=TLSRPTv1; rua=mailto:tlsrpt@good.test$' \
    '^good.test: all checks passed$'
hasnt '^(WARN|FAIL)'

# The system resolver of the namespace (no --resolver) sees the same.
nsx "$ctl" check --ca-file "$ca" --expect-id 20240101000000Z \
    good.test >"$tmp/out" 2>&1
rc=$?
last="check (system resolver) good.test"
[ "$rc" = 0 ] && ok "$last: exit 0" || { not_ok "$last: exit $rc"; show "$tmp/out"; }
has '^OK   id: DNS has id 20240101000000Z, as expected$'

run 0 --json --expect-id 20240101000000Z good.test
if "$PY" -c 'import json, sys
o = json.load(open(sys.argv[1]))
assert o["domain"] == "good.test" and o["result"] == "OK", o
assert o["mode"] == "enforce" and o["id"] == "20240101000000Z", o
cs = {c["check"] for c in o["checks"]}
assert {"dns.txt", "dns.address", "https.tls", "https.status", "https.type",
    "policy", "id", "dns.mx", "mx.policy", "mx.tls", "dns.tlsrpt"} <= cs, cs
assert all(c["status"] == "OK" and "fix" not in c for c in o["checks"])
' "$tmp/out"; then
	ok "check --json: parses, every check OK"
else
	not_ok "check --json"
	show "$tmp/out"
fi

run 2 --expect-id 20991231000000Z good.test
has '^FAIL id: DNS has id 20240101000000Z, the expected id is 20991231000000Z: senders that cached' \
    '^     fix: publish _mta-sts.good.test. 3600 IN TXT "v=STSv1; id=20991231000000Z;"'
run 2 -f "$conf" stale.test
has '^FAIL id: DNS has id 20240101000000Z, the current policy.s id is 20250101000000Z'

# The untrusted CA: neither the policy host nor the MX verifies.
run 2 --ca-file "$tmp/badca/ca.pem" good.test
has '^FAIL https: https://mta-sts.good.test/.well-known/mta-sts.txt: 127.0.0.1:443: TLS handshake: certificate not trusted' \
    '^     fix: use a certificate from a public CA' \
    '^FAIL mx.tls: mx.good.test: TLS handshake: certificate not trusted'

# Mode-aware severity: the same expired MX certificate.
run 1 testing.test
has '^WARN mx.tls: mx.expired.test: TLS handshake: certificate expired' \
    '^     fix: renew the certificate' \
    '^WARN dns.tlsrpt: _smtp._tls.testing.test: no TLS-RPT record' \
    '^OK   policy: mode testing' '^testing.test: warnings$'
hasnt '^FAIL'
run 2 --json expired.test
if "$PY" -c 'import json, sys
o = json.load(open(sys.argv[1]))
assert o["result"] == "FAIL" and o["mode"] == "enforce", o
m = [c for c in o["checks"] if c["check"] == "mx.tls"]
assert m and m[0]["status"] == "FAIL" and "expired" in m[0]["message"], m
assert "renew" in m[0]["fix"], m
' "$tmp/out"; then
	ok "check --json expired.test: mx.tls FAIL, certificate expired"
else
	not_ok "check --json expired.test"
	show "$tmp/out"
fi

run 2 uncovered.test
has '^FAIL mx.policy: mx.good.test matches no mx pattern of the policy' \
    "^     fix: add it to the policy: 'mta-stsctl set uncovered.test --add-mx mx.good.test'" \
    '^OK   mx.tls: mx.good.test'

# A wildcard covers one label: a.b.deep.test is two below *.deep.test.
run 2 deep.test
has '^OK   mx.policy: mx.deep.test matches mx \*\.deep\.test$' \
    '^FAIL mx.policy: a.b.deep.test matches no mx pattern of the policy' \
    "^     fix: add it to the policy: 'mta-stsctl set deep.test --add-mx a.b.deep.test'"
hasnt '^OK   mx.policy: a.b.deep.test'

run 2 twotxt.test
has '^FAIL dns.txt: _mta-sts.twotxt.test: 2 v=STSv1 records: senders require exactly one'

run 0 -f "$conf" drift.test
has '^OK   local: the served policy is the local one'
pol drift.test enforce mx.good.test mx2.good.test
run 2 -f "$conf" drift.test
has '^FAIL local: the served policy differs from the local one' \
    "^     fix: reload mta-stsd and confirm: 'mta-stsctl issue DOMAIN'"

run 2 v6only.test
has '^FAIL dns.address: mta-sts.v6only.test: AAAA ::1 but no A record: senders on IPv4'

run 2 nomx.test
has '^FAIL dns.mx: nomx.test: no MX records' '^OK   dns.tlsrpt:'

# An invalid TLS-RPT record loses the reports, not the protection: WARN.
run 1 badrpt.test
has '^WARN dns.tlsrpt: _smtp._tls.badrpt.test: invalid record: column 17: a rua URI must be mailto: or https:// \(reports are lost; MTA-STS still protects mail\)$'

run 2 redirect.test
has "^FAIL https.status: status 301 redirects to 'https://elsewhere.test/policy'" \
    '^     fix: serve the policy itself at this URL: senders do not follow redirects'
hasnt '^OK   policy:'

run 2 html.test
has "^FAIL https.type: Content-Type 'text/html', not text/plain" \
    '^OK   policy: mode enforce'

run 2 big.test
has '^FAIL https: .*Content-Length over 65536 bytes' \
    '^     fix: keep the policy under 64 KiB'

run 1 hazard.test
has '^WARN policy.compat: line 1: ends with LF, not CRLF' \
    '^WARN policy.compat: line 3: blank line' \
    '^WARN policy.compat: line 4: comment line' \
    '^OK   policy: mode testing'

run 2 broken.test
has '^FAIL policy: line 1: ' '^FAIL policy: the served policy is invalid'

run 0 chunked.test
has '^OK   https.status: status 200, 67 bytes' \
    '^OK   https.type: Content-Type text/plain; charset=utf-8' \
    '^OK   policy: mode enforce, 1 mx, max_age 1209600$'

run 2 mismatch.test
has '^FAIL https: .*TLS handshake: certificate not valid for mta-sts.mismatch.test' \
    '^     fix: get a certificate whose subjectAltName holds this host name'

# MX hosts: no STARTTLS, a certificate for another name, one close to
# its expiry (a warning even in enforce), a greeting that never ends.
run 2 plain.test
has '^FAIL mx.tls: mx.plain.test port 25: EHLO: STARTTLS not offered' \
    '^     fix: offer STARTTLS on port 25'
run 2 wrongmx.test
has '^FAIL mx.tls: mx.wrongmx.test: TLS handshake: certificate not valid for mx.wrongmx.test' \
    '^     fix: get a certificate whose subjectAltName holds this host name'
run 1 soon.test
has '^WARN mx.tls: mx.soon.test: TLS 1.2 .*certificate for mx.soon.test valid 4 more days' \
    '^     fix: renew the certificate'
run 2 flood.test
has '^FAIL mx.tls: mx.flood.test port 25: greeting: reply longer than 64 lines'

# Timeouts: an MX that never speaks, a DNS server that never answers.
t0=$(date +%s)
run 2 --timeout 2 hang.test
has '^FAIL mx.tls: mx.hang.test port 25: greeting: timed out \(2000 ms\)'
[ $(($(date +%s) - t0)) -le 8 ] && ok "hang.test: done within 8 s" ||
    not_ok "hang.test took $(($(date +%s) - t0)) s"

t0=$(date +%s)
nsx "$ctl" check --resolver 127.0.0.1:5300 --timeout 1 \
    --ca-file "$ca" good.test >"$tmp/out" 2>&1
rc=$?
last="check --resolver 127.0.0.1:5300 --timeout 1"
[ "$rc" = 2 ] && ok "$last: exit 2" || not_ok "$last: exit $rc"
has '^FAIL dns.txt: _mta-sts.good.test TXT: no answer from 127.0.0.1:5300 within 1 s'
[ $(($(date +%s) - t0)) -le 12 ] && ok "mute resolver: done within 12 s" ||
    not_ok "mute resolver took $(($(date +%s) - t0)) s"

# Usage errors.
for bad in "--timeout 0 good.test" "--timeout x good.test" \
    "--resolver [::1]:0 good.test" "--expect-id bad-id good.test" \
    "good.test extra" "not_a_domain" "--ca-file /nonexistent good.test"; do
	# shellcheck disable=SC2086
	"$ctl" check $bad >"$tmp/out" 2>&1
	rc=$?
	[ "$rc" = 2 ] && ok "check $bad: exit 2" ||
	    { not_ok "check $bad: exit $rc, expected 2"; show "$tmp/out"; }
done

[ -n "${VERBOSE:-}" ] && echo "# checks took $(($(date +%s) - start)) s"
summary
