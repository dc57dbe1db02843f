#!/bin/sh
# tests/acme/acme.sh: a certificate from a real ACME server, through mta-stsd's
# own HTTP-01 listener, taken up without a restart or a signal.
#
#   pebble (Debian)  the ACME CA, with real HTTP-01 validation: it resolves
#                    mta-sts.acme.example through the test DNS and fetches
#                    http://mta-sts.acme.example:80/.well-known/
#                    acme-challenge/TOKEN from mta-stsd's [acme] listener
#   lego (Debian)    the ACME client, as root, writing the challenge files
#                    into mta-stsd's [acme] webroot (--http.webroot)
#   dnsmasq          the DNS of the test: mta-sts.acme.example is
#                    127.0.0.2 (mta-stsd: 443 and the ACME listener on 80),
#                    pebble.acme.example is 127.0.0.1 (pebble's API)
#
# The steps:
#   1. mta-stsd starts (as nobody) with a valid policy for acme.example
#      and an EMPTY cert_dir: the domain is not served (unrecognized_name);
#      its ACME listener answers only challenge tokens, never the policy.
#   2. lego obtains a certificate for mta-sts.acme.example from pebble.
#   3. The certificate and key are installed into cert_dir as a deploy
#      hook would (install -m 0640 -g nogroup).  No SIGHUP, no restart:
#      the inotify watch on cert_dir reloads 2 s after the last change.
#   4. curl trusting only pebble's root (fetched from pebble's management
#      API: a new root at each pebble start) gets the canonical policy;
#      the certificate served is pebble's, the PID is the same, and every
#      reload in the log came from the watch.
#   5. Renewal: lego renews (a new key), the new files are installed over
#      the old ones, and the new certificate is served, again by the watch
#      alone.
#
# Everything runs in a network namespace of its own, on its loopback
# addresses only; the host's network and resolv.conf are not touched.
# pebble (tests/pebble.sh) runs without PEBBLE_VA_NOSLEEP and
# PEBBLE_VA_ALWAYS_VALID: real validation, after pebble's own random wait
# (up to 15 s by default); the renewal validates again, through mta-stsd
# now serving the domain over HTTPS.
#
# Needs root (namespace, port 80 and 443).  Installs what is missing: the
# Debian packages pebble, lego, dnsmasq-base (and iproute2, openssl, curl).
# A prerequisite that cannot be had is a failure, or only a SKIP line with
# SKIP_ACME=1.  VERBOSE=1 shows each ok line and the logs at the end;
# KEEP_TMP=1 keeps the work directory.  Ends with "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

ns=mta-stsd-acme-$$
dom=acme.example
host=mta-sts.$dom
addr=127.0.0.2			# mta-stsd: 443 and the ACME listener on 80
NSX_TIMEOUT=20

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY
# Real validation only.
unset PEBBLE_VA_NOSLEEP PEBBLE_VA_ALWAYS_VALID PEBBLE_VA_SLEEPTIME

# lego writes the challenge files with its umask: mta-stsd reads them as
# nobody.
umask 022
suite_start acme
daemon=$d
. tests/netns.sh
. tests/pebble.sh

# (missing WHAT: SKIP with SKIP_ACME=1; show FILE; require, time_limit:
# tests/lib.sh; pebble_setup, pebble_up: tests/pebble.sh.)

# ---- prerequisites --------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	missing "acme: needs root (network namespace, ports 80 and 443)"
	summary
	exit
fi
if [ ! -x "$daemon" ]; then
	not_ok "acme: $daemon is not built (run make)"
	summary
	exit
fi
if ! require ip:iproute2 openssl:openssl curl:curl pebble:pebble lego:lego \
    dnsmasq:dnsmasq-base; then
	missing "acme: missing:$gone (Debian iproute2 openssl curl pebble lego dnsmasq-base)"
	summary
	exit
fi

start=$(date +%s)
time_limit "${ACME_TEST_LIMIT:-85}"

# ---- files ------------------------------------------------------------------

pebble_setup "pebble.$dom"		# pebble's API, on 127.0.0.1

# mta-stsd: the policy; cert_dir empty; the webroot lego writes (as root)
# and mta-stsd reads (as nobody); the pid file's directory is nobody's.
mkdir -p "$tmp/policies" "$tmp/certs" "$tmp/webroot" "$tmp/run" "$tmp/lego"
printf '# enforce\nversion: STSv1\nmode: enforce\nmx: MX1.acme.example\nmx: *.mx.acme.example\nmax_age: 1209600\n' \
    >"$tmp/policies/$dom.txt"
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.acme.example\r\nmx: *.mx.acme.example\r\nmax_age: 1209600\r\n' \
    >"$tmp/expected"
chmod 0755 "$tmp" "$tmp/webroot"
chmod 0700 "$tmp/lego"
chown nobody:nogroup "$tmp/run"
chgrp nogroup "$tmp/certs" "$tmp/policies" "$tmp/policies/$dom.txt"
chmod 0750 "$tmp/certs" "$tmp/policies"
chmod 0640 "$tmp/policies/$dom.txt"
conf=$tmp/mta-stsd.conf
cat >"$conf" <<EOF
[server]
listen = $addr:443
policy_dir = $tmp/policies
cert_dir = $tmp/certs
user = nobody
log_level = debug
pid_file = $tmp/run/mta-stsd.pid
watch_certs = yes

[acme]
listen = $addr:80
webroot = $tmp/webroot
EOF

if "$daemon" -n -f "$conf" >"$tmp/check.out" 2>&1; then rc=0; else rc=$?; fi
if [ "$rc" = 1 ] && grep -q '^0 domains served, 1 failed$' "$tmp/check.out"; then
	ok "mta-stsd -n: empty cert_dir: 0 domains served, 1 failed"
else
	not_ok "mta-stsd -n: empty cert_dir: expected exit 1 and '0 domains served, 1 failed' (exit $rc)"
	show "$tmp/check.out"
fi

# ---- the namespace ------------------------------------------------------------

if ! netns_up "$addr"; then
	not_ok "acme: cannot make network namespace $ns"
	summary
	exit
fi

# shellcheck disable=SC2046
bg "$tmp/dnsmasq.log" dnsmasq $(dnsmasq_args) --local=/$dom/ \
    --host-record=$host,$addr --host-record=$pebble_host,127.0.0.1
if wait_for 5 ip netns exec "$ns" getent ahostsv4 "$host"; then
	ok "dnsmasq answers in the namespace"
else
	not_ok "dnsmasq does not answer"
	show "$tmp/dnsmasq.log"
	summary
	exit
fi

pebble_up

bg "$tmp/mta-stsd.log" "$daemon" -d -f "$conf"
mta_stsd_pid=${pids##* }
if wait_for 5 grep -q 'acme: listening on' "$tmp/mta-stsd.log" &&
    wait_for 5 nsx -t 3 curl -s -o /dev/null "http://$host/"; then
	ok "mta-stsd starts with an empty cert_dir, ACME listener up"
else
	not_ok "mta-stsd did not start"
	show "$tmp/mta-stsd.log"
	summary
	exit
fi
if grep -q 'domains served' "$tmp/mta-stsd.log" &&
    grep -q ': 0 domains served, 1 failed$' "$tmp/mta-stsd.log"; then
	ok "mta-stsd: 0 domains served at start"
else
	not_ok "mta-stsd: expected '0 domains served, 1 failed' at start"
	show "$tmp/mta-stsd.log"
fi
if [ "$(cat "$tmp/run/mta-stsd.pid" 2>/dev/null)" = "$mta_stsd_pid" ] &&
    [ "$(awk '/^Uid:/ {print $2}' "/proc/$mta_stsd_pid/status")" = "$(id -u nobody)" ]; then
	ok "mta-stsd runs as nobody, pid file $mta_stsd_pid"
else
	not_ok "mta-stsd: pid file or user wrong"
fi

# ---- before the certificate -----------------------------------------------------

# The handshake for the name is refused with unrecognized_name (alert 112).
nsx openssl s_client -connect "$addr:443" -servername "$host" </dev/null \
    >"$tmp/s" 2>&1
if grep -qi 'unrecognized name\|alert number 112' "$tmp/s"; then
	ok "before issuance: $host gets unrecognized_name"
else
	not_ok "before issuance: $host: expected the unrecognized_name alert"
	show "$tmp/s"
fi
nsx curl -sS --max-time 5 -k -o /dev/null \
    "https://$host/.well-known/mta-sts.txt" 2>"$tmp/e"
rc=$?
if [ "$rc" = 35 ]; then
	ok "before issuance: curl fails the handshake (exit 35)"
else
	not_ok "before issuance: curl -k exit $rc, expected 35"
	show "$tmp/e"
fi

# http PATH [CURL ARGS...]: status of a plain-HTTP request to the ACME
# listener, the body in $tmp/hb.
http() {
	_p=$1
	shift
	rm -f "$tmp/hb"
	nsx -t 8 curl -s --path-as-is --max-time 5 -o "$tmp/hb" \
	    -w '%{http_code}' "$@" "http://$host$_p" 2>/dev/null
}

# expect_http STATUS PATH WHAT [CURL ARGS...]
expect_http() {
	_want=$1 _path=$2 _what=$3
	shift 3
	_got=$(http "$_path" "$@")
	if [ "$_got" = "$_want" ]; then
		ok "acme listener: $_what: $_want"
	else
		not_ok "acme listener: $_what: got '$_got', expected $_want ($_path)"
		[ ! -f "$tmp/hb" ] || show "$tmp/hb"
	fi
}

# Files the filter must refuse although they exist under the webroot: the
# 404s are about the name, not a missing file.
cd_ch=$tmp/webroot/.well-known/acme-challenge
mkdir -p "$cd_ch/sub" "$tmp/webroot/.well-known"
printf 'control-body' >"$cd_ch/Control_token-1"
printf 'dotted' >"$cd_ch/a.b"
printf 'nested' >"$cd_ch/sub/tok"
printf 'secret' >"$tmp/secret"
ln -s "$tmp/secret" "$cd_ch/linked"
cp "$tmp/policies/$dom.txt" "$tmp/webroot/.well-known/mta-sts.txt"
chmod -R a+rX "$tmp/webroot"
chmod 0644 "$tmp/secret"

code=$(http /.well-known/acme-challenge/Control_token-1)
if [ "$code" = 200 ] && [ "$(cat "$tmp/hb")" = control-body ]; then
	ok "acme listener: a token file is served (200, its content)"
else
	not_ok "acme listener: control token: got '$code' '$(cat "$tmp/hb")'"
fi
expect_http 404 /.well-known/mta-sts.txt "the policy over plain HTTP"
expect_http 404 /.well-known/acme-challenge/a.b "a token with '.'"
expect_http 404 /.well-known/acme-challenge/sub/tok "a token with '/'"
expect_http 404 /.well-known/acme-challenge/../mta-sts.txt "'..' in the path"
expect_http 404 /.well-known/acme-challenge/%2e%2e%2fmta-sts.txt "an encoded '../'"
expect_http 404 /.well-known/acme-challenge/linked "a symbolic link"
expect_http 404 /.well-known/acme-challenge/ "an empty token"
expect_http 404 /.well-known/acme-challenge/Missing "a missing token"
expect_http 405 /.well-known/acme-challenge/Control_token-1 "POST, no body" \
    -X POST
expect_http 405 /.well-known/acme-challenge/Control_token-1 "POST with a body" \
    --data x

# ---- issuance: lego against pebble, HTTP-01 through mta-stsd ----------------

# lego LOG ARGS...: lego as root in the namespace; trusts the API CA only.
lego_run() {
	_log=$1
	shift
	LEGO_CA_CERTIFICATES=$api_ca nsx -t 50 lego --server "$dir_url" \
	    --email "t@$dom" --domains "$host" --http \
	    --http.webroot "$tmp/webroot" --path "$tmp/lego" --accept-tos \
	    "$@" >"$_log" 2>&1
}

t0=$(date +%s)
crt=$tmp/lego/certificates/$host.crt
key=$tmp/lego/certificates/$host.key
if lego_run "$tmp/lego.log" run && [ -s "$crt" ] && [ -s "$key" ]; then
	ok "lego: certificate issued by pebble ($(($(date +%s) - t0)) s)"
else
	not_ok "lego run failed"
	show "$tmp/lego.log"
	grep -i 'acme\|error' "$tmp/pebble.log" | tail -10 | show /dev/stdin
	summary
	exit
fi
# validations: how many challenge requests mta-stsd answered 200.
validations() {
	pebble_validations "$tmp/mta-stsd.log"
}
# pebble fetched the token from mta-stsd (not some other server).
nval=$(validations)
if [ "$nval" -ge 1 ]; then
	ok "pebble's validation was answered by mta-stsd (200)"
else
	not_ok "no validation request answered 200 in mta-stsd's log"
	grep 'acme:' "$tmp/mta-stsd.log" | show /dev/stdin
fi

# serial_of FILE: the serial of the first certificate in FILE.
serial_of() {
	openssl x509 -noout -serial -in "$1" | sed 's/^serial=//'
}

# served_serial: the serial of the certificate mta-stsd presents for $host.
served_serial() {
	nsx -t 8 openssl s_client -connect "$addr:443" -servername "$host" \
	    </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null |
	    sed 's/^serial=//'
}

# serves SERIAL: mta-stsd presents the certificate SERIAL for $host.
serves() {
	[ "$(served_serial)" = "$1" ]
}

# deploy: what a deploy hook does: the chain and key into cert_dir,
# readable by mta-stsd's user; then wait for the watch (no signal).
deploy() {
	install -m 0640 -g nogroup "$crt" "$tmp/certs/$host.crt" &&
	    install -m 0640 -g nogroup "$key" "$tmp/certs/$host.key"
}

reloads_before=$(grep -c 'reload: reading' "$tmp/mta-stsd.log")
serial1=$(serial_of "$crt")
t0=$(date +%s)
if deploy; then
	ok "certificate installed into cert_dir"
else
	not_ok "install into cert_dir failed"
fi
if wait_for 15 serves "$serial1"; then
	ok "the new certificate is served after $(($(date +%s) - t0)) s, no signal"
else
	not_ok "the new certificate is not served within 15 s (served serial '$(served_serial)', issued $serial1)"
	show "$tmp/mta-stsd.log"
fi

# ---- the policy, trusting pebble's root only ----------------------------------

# fetch: GET the policy with curl, trusting only pebble's root (no system
# store: --cacert replaces it, and CURL_CA_BUNDLE/SSL_CERT_* are unset).
fetch() {
	env -u CURL_CA_BUNDLE -u SSL_CERT_FILE -u SSL_CERT_DIR \
	    timeout 10 ip netns exec "$ns" curl -sS --max-time 5 \
	    --cacert "$tmp/root.pem" --capath /nonexistent \
	    -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' \
	    "https://$host/.well-known/mta-sts.txt" 2>"$tmp/e"
}

code=$(fetch)
if [ "$code" = 200 ] && cmp -s "$tmp/b" "$tmp/expected" &&
    tr -d '\r' <"$tmp/h" | grep -qix 'content-type: text/plain'; then
	ok "curl trusting pebble's root only: 200, canonical body"
else
	not_ok "curl trusting pebble's root: status '$code'"
	show "$tmp/e"
	show "$tmp/h"
	od -c "$tmp/b" | show /dev/stdin
fi
# The same body that mta-stsctl calls canonical.
if [ -x "$ctl" ] && "$ctl" validate --print "$tmp/policies/$dom.txt" >"$tmp/canon" 2>/dev/null &&
    cmp -s "$tmp/b" "$tmp/canon"; then
	ok "the body is mta-stsctl validate --print's"
else
	not_ok "the body differs from mta-stsctl validate --print"
fi
# Control: the same request trusting the API CA (not pebble's root) fails.
env -u CURL_CA_BUNDLE timeout 10 ip netns exec "$ns" curl -sS --max-time 5 \
    --cacert "$api_ca" -o /dev/null \
    "https://$host/.well-known/mta-sts.txt" 2>"$tmp/e"
rc=$?
if [ "$rc" = 60 ]; then
	ok "control: another CA does not verify it (curl exit 60)"
else
	not_ok "control: curl with the wrong CA exit $rc, expected 60"
	show "$tmp/e"
fi
# The chain: leaf issued by pebble's intermediate, which pebble's root
# signed; the name verifies.
nsx openssl s_client -connect "$addr:443" -servername "$host" \
    -verify_hostname "$host" -CAfile "$tmp/root.pem" -showcerts \
    </dev/null >"$tmp/s" 2>&1
leaf_issuer=$(openssl x509 -noout -issuer -nameopt RFC2253 -in "$tmp/s" 2>/dev/null)
if [ "${leaf_issuer#issuer=}" = "$inter_subj" ] &&
    grep -q 'Verify return code: 0 (ok)' "$tmp/s" &&
    openssl verify -CAfile "$tmp/root.pem" -untrusted "$tmp/inter.pem" \
    "$crt" >/dev/null 2>&1; then
	ok "served certificate: issuer ${leaf_issuer#issuer=}, verified to pebble's root"
else
	not_ok "served certificate: issuer '${leaf_issuer#issuer=}', pebble's intermediate '$inter_subj'"
	grep -i 'verify\|issuer\|error' "$tmp/s" | show /dev/stdin
fi
# Over HTTPS the challenge path is nothing: 404.
code=$(env -u CURL_CA_BUNDLE timeout 10 ip netns exec "$ns" curl -s \
    --max-time 5 --cacert "$tmp/root.pem" -o /dev/null -w '%{http_code}' \
    "https://$host/.well-known/acme-challenge/Control_token-1")
if [ "$code" = 404 ]; then
	ok "https: a challenge path is 404"
else
	not_ok "https: challenge path: got '$code', expected 404"
fi

# ---- renewal: a new key, installed over the old files -------------------------

t0=$(date +%s)
if lego_run "$tmp/lego2.log" renew --days 100000 --no-random-sleep && [ -s "$crt" ] &&
    [ "$(serial_of "$crt")" != "$serial1" ]; then
	serial2=$(serial_of "$crt")
	ok "lego renew: new certificate ($(($(date +%s) - t0)) s)"
	if [ "$(validations)" -gt "$nval" ] &&
	    grep -q 'Trying to solve HTTP-01' "$tmp/lego2.log"; then
		ok "renewal validated again through mta-stsd's listener"
	else
		not_ok "renewal: no new validation answered by mta-stsd"
		show "$tmp/lego2.log"
	fi
else
	serial2=
	not_ok "lego renew failed"
	show "$tmp/lego2.log"
fi
if [ -n "$serial2" ]; then
	t0=$(date +%s)
	deploy
	if wait_for 15 serves "$serial2"; then
		ok "the renewed certificate is served after $(($(date +%s) - t0)) s, no signal"
	else
		not_ok "the renewed certificate is not served within 15 s (served '$(served_serial)', renewed $serial2)"
		show "$tmp/mta-stsd.log"
	fi
	code=$(fetch)
	if [ "$code" = 200 ] && cmp -s "$tmp/b" "$tmp/expected"; then
		ok "after renewal: curl trusting pebble's root: 200, canonical body"
	else
		not_ok "after renewal: status '$code'"
		show "$tmp/e"
	fi
fi

# ---- the same process all along, reloaded by the watch only --------------------

if alive "$mta_stsd_pid" &&
    [ "$(cat "$tmp/run/mta-stsd.pid" 2>/dev/null)" = "$mta_stsd_pid" ] &&
    [ "$(grep -c 'domains served, [0-9]* failed$' "$tmp/mta-stsd.log")" -ge 1 ] &&
    [ "$(grep -c 'mta-stsd .*: [0-9]* domains served' "$tmp/mta-stsd.log")" = 1 ]; then
	ok "mta-stsd: same PID $mta_stsd_pid, started once"
else
	not_ok "mta-stsd: not the same process, or started again"
	show "$tmp/mta-stsd.log"
fi
# Every reload follows a "watch: ... changed" line (a SIGHUP reload has
# none), and the last one serves the domain.
reloads=$(grep -c 'reload: reading' "$tmp/mta-stsd.log")
if awk '/watch: .* changed: reloading/ { w = 1; next }
    /reload: reading/ { if (!w) bad = 1; w = 0 }
    END { exit bad }' "$tmp/mta-stsd.log" &&
    [ "$reloads" -gt "$reloads_before" ] &&
    grep 'reload: [0-9]* domains served' "$tmp/mta-stsd.log" | tail -1 |
    grep -q 'reload: 1 domains served, 0 failed$'; then
	ok "all $reloads reloads came from the cert_dir watch; 1 domain served"
else
	not_ok "reloads: expected only watch reloads ending with 1 served"
	grep 'reload\|watch' "$tmp/mta-stsd.log" | show /dev/stdin
fi
if grep -qi 'signal' "$tmp/mta-stsd.log"; then
	not_ok "mta-stsd logged a signal"
	grep -i 'signal' "$tmp/mta-stsd.log" | show /dev/stdin
else
	ok "no signal in mta-stsd's log"
fi

if grep -i 'error\|warn' "$tmp/mta-stsd.log" >"$tmp/w"; then
	echo "# mta-stsd logged errors or warnings:"
	show "$tmp/w"
fi
if [ -n "${VERBOSE:-}" ]; then
	for f in mta-stsd pebble lego lego2; do
		[ -f "$tmp/$f.log" ] || continue
		echo "# $f log:"
		sed 's/^/#   /' "$tmp/$f.log"
	done
fi

stop_all
echo "acme: $(($(date +%s) - start)) s"
summary
