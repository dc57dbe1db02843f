#!/bin/sh
# tests/e2e/e2e.sh: the real mta-stsd on loopback, checked with curl and
# openssl s_client: bodies, headers, status codes, certificate choice by
# server name, reload, shutdown.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
# The suite holds clients open (a FIFO into openssl s_client): a write to
# one that went away is a caught SIGPIPE (suite_start), never the end of
# the suite without its cleanup.
suite_start e2e

# A free loopback port.
port=$(free_port)

# --- certificates: ECDSA and RSA for a.test, one certificate for b and c,
# a wildcard for w, an expired one for d; keys as SEC1, PKCS#1, PKCS#8.
c=$tmp/certs
suite_ca
cert "$c" a-ec ec256 90 mta-sts.a.test
cert "$c" a-rsa rsa2048 90 mta-sts.a.test
cert "$c" bc ec384 90 mta-sts.b.test mta-sts.c.test
cert "$c" w ec256 90 '*.w.test'
cert "$c" d rsa2048 -2 mta-sts.d.test
cert "$c" soon ec256 5 mta-sts.s.test
# A SEC1 key file whose embedded public key is forged: f.test's, written
# with another key's private scalar.  Keys pair by the public key their
# file carries; the first handshake checks it and refuses.
cert "$c" f ec256 90 mta-sts.f.test
openssl ecparam -name prime256v1 -genkey -noout -outform DER -out "$tmp/x.der" 2>/dev/null
openssl ec -in "$c/f.key" -outform DER -out "$tmp/f.der" 2>/dev/null
{ head -c -65 "$tmp/x.der"; tail -c 65 "$tmp/f.der"; } |
    openssl base64 | { echo '-----BEGIN EC PRIVATE KEY-----'; cat; echo '-----END EC PRIVATE KEY-----'; } >"$c/f.key"
rm -f "$tmp/x.der" "$tmp/f.der"
# PKCS#8 for one key, and a key and chain in one file for another.
openssl pkcs8 -topk8 -nocrypt -in "$c/bc.key" -out "$c/bc.p8" && rm "$c/bc.key"
mkdir -p "$c/live/w"
cat "$c/w.key" "$c/w.pem" >"$c/live/w/combined.pem" && rm "$c/w.key" "$c/w.pem"
# A certificate whose subjectAltName is malformed (found by fuzz_pem): it
# is skipped, never the whole scan.
cp tests/e2e/bad-san.pem "$c/"

p=$tmp/policies
mkdir -p "$p"
for dom in a b c d w s f; do
	printf 'version: STSv1\nmode: enforce\nmx: mx.%s.test\nmax_age: 1209600\n' "$dom" >"$p/$dom.test.txt"
done
printf '# testing\nversion: STSv1\nmode: testing\nmx: MX1.b.test\nmx: *.b.test\nmax_age: 86400\n' >"$p/b.test.txt"
printf 'secret-outside-policy\n' >"$tmp/secret.txt"
chmod -R a+rX "$tmp"
# Like systemd's RuntimeDirectory: the user may remove its pid file.
mkdir -p "$tmp/run" && chown nobody "$tmp/run"

conf=$tmp/mta-stsd.conf
listen="127.0.0.1:$port [::1]:$port"
log=$tmp/log
write_conf() {
	server_conf "$conf" "log_level = debug" \
	    "pid_file = $tmp/run/mta-stsd.pid" "default_domain = ${1-a.test}"
}
write_conf a.test

# --- start-up checks before the server runs
printf '[server]\nlisten = 127.0.0.1:%s\nbogus = 1\n' "$port" >"$tmp/bad.conf"
out=$("$d" -n -f "$tmp/bad.conf" 2>&1)
rc=$?
case "$rc:$out" in
"1:mta-stsd: $tmp/bad.conf:3: bogus: unknown key in [server]") ok "unknown config key: FILE:LINE: key: why" ;;
*) not_ok "unknown config key: rc=$rc [$out]" ;;
esac
printf '[server]\nhandshake_timeout = 0\n' >"$tmp/bad.conf"
out=$("$d" -n -f "$tmp/bad.conf" 2>&1)
case $out in
*"bad.conf:2: handshake_timeout: '0' is not a whole number from 1 to 300 (seconds)") ok "bad config value" ;;
*) not_ok "bad config value: [$out]" ;;
esac
out=$("$d" -n -f "$conf" 2>"$tmp/n.err")
rc=$?
if [ "$rc" = 1 ] && echo "$out" | grep -q '^mta-sts.a.test: mode enforce, max_age 1209600, mx mx.a.test$' &&
    echo "$out" | grep -q 'certificate mta-sts.a.test (ECDSA P-256)' &&
    echo "$out" | grep -q 'certificate mta-sts.a.test (RSA 2048)' &&
    echo "$out" | grep -q '^6 domains served, 1 failed$' &&
    grep -q 'mta-sts.d.test: not served: certificate .*d.pem expired on' "$tmp/n.err" &&
    grep -q 'mta-sts.s.test: ECDSA P-256 certificate .* expires in [0-9]* days' "$tmp/n.err"; then
	ok "-n lists what is served, says why d.test is not, exit 1"
else
	not_ok "-n: rc=$rc [$out] [$(cat "$tmp/n.err")]"
fi
check "a malformed certificate file is logged and skipped" grep -q 'bad-san.pem: malformed subjectAltName' "$tmp/n.err"
printf '[server]\n# %s\nbogus = 1\n' "$(head -c 230 /dev/zero | tr '\0' x)" >"$tmp/bad.conf"
out=$("$d" -n -f "$tmp/bad.conf" 2>&1)
check "an over-long config line is named by its own number" test "$out" = "mta-stsd: $tmp/bad.conf:2: line longer than 198 characters"
printf '[server]\nlisten = 1*2.3:443\n' >"$tmp/bad.conf"
out=$("$d" -n -f "$tmp/bad.conf" 2>&1)
check "a listen address that is no address is refused" test "$out" = "mta-stsd: $tmp/bad.conf:2: listen: '1*2.3:443' is not ADDRESS:PORT, [IPv6]:PORT or :PORT"
sed 's/^user = nobody/user = root/' "$conf" >"$tmp/root.conf"
out=$(timeout 5 "$d" -d -f "$tmp/root.conf" 2>&1)
case $out in
*"refusing to run as root"*) ok "staying root is refused" ;;
*) not_ok "root not refused: [$out]" ;;
esac

# --- start
server_up "$conf"
ok "server starts and answers"
if [ "$(cat "$tmp/run/mta-stsd.pid" 2>/dev/null)" = "$pid" ]; then ok "pid file"; else not_ok "pid file"; fi
if [ "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" = "$(id -u nobody)" ]; then
	ok "runs as the configured user"
else
	not_ok "uid is $(awk '/^Uid:/ {print $2}' /proc/$pid/status)"
fi

# (fetch NAME [CURL ARGS...], tests/lib.sh: GET the policy of
# mta-sts.NAME over IPv4.)

# --- what is served
fetch a.test -D "$tmp/h" -o "$tmp/body"
"$ctl" validate --print "$p/a.test.txt" >"$tmp/canon"
if cmp -s "$tmp/body" "$tmp/canon"; then ok "GET serves the canonical body"; else not_ok "body: $(od -c "$tmp/body" | head)"; fi
tr -d '\r' <"$tmp/h" >"$tmp/hh"
check "status 200" grep -q '^HTTP/1.1 200 OK$' "$tmp/hh"
check "Content-Type: text/plain" grep -qx 'Content-Type: text/plain' "$tmp/hh"
check "Cache-Control: no-cache" grep -qx 'Cache-Control: no-cache' "$tmp/hh"
check "Content-Length" grep -qx "Content-Length: $(wc -c <"$tmp/canon" | tr -d ' ')" "$tmp/hh"
if grep -qi '^server:\|^location:' "$tmp/hh"; then not_ok "no Server or Location header: $(cat "$tmp/hh")"; else ok "no version banner, no redirect"; fi
fetch b.test -o "$tmp/body"
if cmp -s "$tmp/body" - <<EOF
$(printf 'version: STSv1\r\nmode: testing\r\nmx: mx1.b.test\r\nmx: *.b.test\r\nmax_age: 86400\r')
EOF
then ok "comments dropped, mx lower-cased, CRLF"; else not_ok "b body: $(od -c "$tmp/body" | head -5)"; fi

out=$(fetch a.test -I -o /dev/null -w '%{http_code} %{size_download}' -D "$tmp/h")
if [ "$out" = "200 0" ] && tr -d '\r' <"$tmp/h" | grep -qx "Content-Length: $(wc -c <"$tmp/canon" | tr -d ' ')"; then
	ok "HEAD: 200, length, no body"
else
	not_ok "HEAD: $out"
fi

# code NAME PATH [CURL ARGS...]: the status of a request.
code() {
	_h=mta-sts.$1
	_path=$2
	shift 2
	curl -s -o "$tmp/out" -D "$tmp/h" -w '%{http_code}' --path-as-is \
	    --cacert "$tmp/ca.pem" --resolve "$_h:$port:127.0.0.1" "$@" \
	    "https://$_h:$port$_path"
}
check "other path: 404" test "$(code a.test /)" = 404
check "other path: 404 (/.well-known/)" test "$(code a.test /.well-known/)" = 404
check "dot segments are not resolved to a file" test "$(code a.test /.well-known/../.well-known/mta-sts.txt)" = 404
check "no file outside is readable" test "$(code a.test /../secret.txt)" = 404
check "case matters in the path" test "$(code a.test /.well-known/MTA-STS.txt)" = 404
check "POST: 405" test "$(code a.test /.well-known/mta-sts.txt -X POST -d x=1)" = 405
if tr -d '\r' <"$tmp/h" | grep -qx 'Allow: GET, HEAD'; then ok "405 carries Allow: GET, HEAD"; else not_ok "Allow header: $(cat "$tmp/h")"; fi
check "OPTIONS: 405" test "$(code a.test /.well-known/mta-sts.txt -X OPTIONS)" = 405
check "Host of another domain: 421" test "$(code a.test /.well-known/mta-sts.txt -H 'Host: mta-sts.b.test')" = 421
check "Host with port: 200" test "$(code a.test /.well-known/mta-sts.txt -H "Host: MTA-STS.A.test:$port")" = 200
check "Host a@b: 400" test "$(code a.test /.well-known/mta-sts.txt -H 'Host: a@b')" = 400
check "absolute-form target of another domain: 421" test "$(code a.test /x --request-target "https://mta-sts.b.test/.well-known/mta-sts.txt")" = 421
check "absolute-form target of the same domain: 200" test "$(code a.test /x --request-target "https://mta-sts.a.test/.well-known/mta-sts.txt")" = 200
check "URL over max_header_size: 414" test "$(code a.test "/.well-known/mta-sts.txt?$(head -c 9000 /dev/zero | tr '\0' a)")" = 414
check "header over max_header_size: 431" test "$(code a.test /.well-known/mta-sts.txt -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)")" = 431
check "query string ignored: 200" test "$(code a.test '/.well-known/mta-sts.txt?x=1')" = 200
if [ "$(curl -sS -6 --cacert "$tmp/ca.pem" --resolve "mta-sts.c.test:$port:[::1]" -o /dev/null -w '%{http_code}' "https://mta-sts.c.test:$port/.well-known/mta-sts.txt")" = 200 ]; then
	ok "IPv6"
else
	not_ok "IPv6"
fi
check "wildcard certificate from a combined key+chain file" test "$(code w.test /.well-known/mta-sts.txt)" = 200

# --- TLS, with openssl s_client
# sclient NAME [ARGS...]: handshake, print what s_client says.
sclient() {
	_n=$1
	shift
	echo Q | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
	    ${_n:+-servername "$_n"} -CAfile "$tmp/ca.pem" "$@" 2>&1
}
out=$(sclient mta-sts.b.test)
case $out in *"subject=CN = mta-sts.b.test"*"Verify return code: 0 (ok)"*) ok "b.test gets its certificate, verified" ;; *) not_ok "b.test cert: $out" ;; esac
out=$(sclient mta-sts.c.test)
case $out in *"subject=CN = mta-sts.b.test"*"Verify return code: 0 (ok)"*) ok "one certificate serves two names" ;; *) not_ok "c.test cert: $out" ;; esac
out=$(sclient mta-sts.f.test)
case $out in *"subject=CN = mta-sts.f.test"*) not_ok "a forged embedded public key: served: $out" ;; *) ok "a key whose embedded public key is forged is refused" ;; esac
check "the forged key is logged" grep -q "certs: $c/f.key: private key does not match the public key written with it" "$tmp/log"
out=$(sclient mta-sts.a.test)
case $out in *"Peer signature type: ECDSA"*"Protocol  : TLSv1.2"*"Cipher    : ECDHE-ECDSA-AES128-GCM-SHA256"*) ok "ECDSA by default, TLS 1.2, server's suite order" ;; *) not_ok "a.test default: $out" ;; esac
case $out in *"Server Temp Key: X25519"*) ok "X25519 first" ;; *) not_ok "temp key: $(echo "$out" | grep 'Temp Key')" ;; esac
out=$(sclient mta-sts.a.test -cipher ECDHE-RSA-AES256-GCM-SHA384)
case $out in *"Peer signature type: RSA"*"Cipher    : ECDHE-RSA-AES256-GCM-SHA384"*) ok "RSA certificate for an RSA-only client" ;; *) not_ok "a.test RSA: $out" ;; esac
out=$(sclient mta-sts.a.test -cipher ECDHE-ECDSA-CHACHA20-POLY1305)
case $out in *"Cipher    : ECDHE-ECDSA-CHACHA20-POLY1305"*) ok "ChaCha20-Poly1305" ;; *) not_ok "chacha: $out" ;; esac

# --- what the server refuses, offered by a client that would take it.
# OpenSSL 3's client at its default security level refuses TLS 1.0 and
# 1.1 itself (legacy signature algorithms): at level 0 only the server can
# refuse.  A control, openssl s_server on another port with the same
# certificates and every suite, takes the same offers: so each check can
# fail.  This openssl cannot offer SSL 3 at all (s_client has no -ssl3),
# so SSL 3 is not tried.
psk=0123456789abcdef
cport=$(free_port)
openssl s_server -quiet -accept "127.0.0.1:$cport" -cert "$c/a-rsa.pem" \
    -key "$c/a-rsa.key" -dcert "$c/a-ec.pem" -dkey "$c/a-ec.key" \
    -psk "$psk" -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' \
    >"$tmp/control.log" 2>&1 &
control=$!
track "$control"
i=0
while ! python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)' "$cport" 2>/dev/null &&
    [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done

# offer PORT ARGS...: what openssl s_client says of its handshake with
# 127.0.0.1:PORT, server name mta-sts.a.test, offering as ARGS say.
offer() {
	_p=$1
	shift
	echo Q | timeout 10 openssl s_client -connect "127.0.0.1:$_p" \
	    -servername mta-sts.a.test "$@" 2>&1
}
# took OUT VERSION: the handshake completed, in VERSION.
took() {
	case $1 in *"Cipher is (NONE)"*) return 1 ;; esac
	printf '%s\n' "$1" | grep -qx "    Protocol  : $2"
}
# refused_by_server OUT: the handshake failed on the server's answer (an
# alert, or a record of another version), not by the client's own choice.
refused_by_server() {
	case $1 in *"Cipher is (NONE)"*) ;; *) return 1 ;; esac
	case $1 in
	*"no protocols available"* | *"no ciphers available"* | \
	*"legacy sigalg"* | *"no cipher match"* | *"unsupported protocol"*)
		return 1 ;;
	*"alert"* | *"wrong version number"*) return 0 ;;
	esac
	return 1
}
# refuses WHAT VERSION ARGS...: mta-stsd refuses the offer (ARGS), which
# the control takes in VERSION.
refuses() {
	_what=$1 _v=$2
	shift 2
	_out=$(offer "$port" "$@")
	_ctl=$(offer "$cport" "$@")
	if ! took "$_ctl" "$_v"; then
		not_ok "$_what: the control server does not take the offer either: $(printf '%s\n' "$_ctl" | grep -a 'Protocol  :\|Cipher is\|routines' | head -3)"
	elif refused_by_server "$_out"; then
		ok "$_what refused (the control server takes it in $_v)"
	else
		not_ok "$_what: $(printf '%s\n' "$_out" | grep -a 'Protocol  :\|Cipher is\|routines' | head -3)"
	fi
}
refuses "TLS 1.0" TLSv1 -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
refuses "TLS 1.1" TLSv1.1 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
refuses "CBC (ECDHE-ECDSA-AES128-SHA256)" TLSv1.2 -tls1_2 \
    -cipher 'ECDHE-ECDSA-AES128-SHA256:@SECLEVEL=0'
# PSK suites need a key on both sides (python's ssl offers none): the
# whole list in one handshake.
psks=$(openssl ciphers -s -tls1_2 -psk 'PSK:@SECLEVEL=0')
refuses "$(echo "$psks" | tr ':' '\n' | wc -l) PSK suites in one offer" TLSv1.2 \
    -tls1_2 -psk "$psk" -cipher "$psks:@SECLEVEL=0"

# Every other suite this OpenSSL knows, one handshake each (offers.py):
# the server takes the six ECDHE suites with AEAD ciphers, and refuses
# everything else, with an alert of its own: CBC, NULL, CCM, ARIA,
# Camellia, RSA key exchange, DHE, anonymous.  The control takes each (but
# DSS: it has no DSA certificate).
served_suites="ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384
ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-RSA-AES128-GCM-SHA256
ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305"
openssl ciphers -v -s -tls1_2 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' >"$tmp/suites"
all=$(awk '{ print $1 }' "$tmp/suites")
alerts0=$(grep -c 'closed: sent alert handshake_failure' "$tmp/log")
# shellcheck disable=SC2086
python3 tests/e2e/offers.py "$port" mta-sts.a.test $all >"$tmp/offers" 2>&1
alerts=$(($(grep -c 'closed: sent alert handshake_failure' "$tmp/log") - alerts0))
# shellcheck disable=SC2086
python3 tests/e2e/offers.py "$cport" mta-sts.a.test $all >"$tmp/control" 2>&1
nsuites=0
nrefused=0
for s in $all; do
	nsuites=$((nsuites + 1))
	got=$(awk -v s="$s" '$2 == s' "$tmp/offers")
	ctl=$(awk -v s="$s" '$2 == s { print $1 }' "$tmp/control")
	info=$(awk -v s="$s" '$1 == s { print $3, $4, $5, $6 }' "$tmp/suites")
	case " $(echo $served_suites) " in
	*" $s "*)
		case $got in
		"accepted $s TLSv1.2 $s") ok "suite $s ($info) taken, TLS 1.2" ;;
		*) not_ok "suite $s ($info) not taken: $got" ;;
		esac
		continue ;;
	esac
	nrefused=$((nrefused + 1))
	case $info in
	*Au=DSS*) ctl=accepted ;;
	esac
	if [ "$ctl" != accepted ]; then
		not_ok "suite $s ($info): the control server does not take it either: $(awk -v s="$s" '$2 == s' "$tmp/control")"
	elif [ "${got%% *}" = refused ]; then
		ok "suite $s ($info) refused by the server"
	else
		not_ok "suite $s ($info): $got"
	fi
done
check "every suite offered ($nsuites): one answer each, from both servers" \
    test "$(grep -c . "$tmp/offers")" = "$nsuites" -a "$(grep -c . "$tmp/control")" = "$nsuites"
check "the server sent the alert itself for each suite refused ($alerts of $nrefused)" \
    test "$alerts" -ge "$nrefused"
stop_pid "$control"
out=$(sclient unknown.test)
case $out in *"unrecognized name"*) ok "unknown server name: alert unrecognized_name" ;; *) not_ok "unknown name: $out" ;; esac
out=$(sclient mta-sts.d.test)
case $out in *"unrecognized name"*) ok "domain with an expired certificate is not served" ;; *) not_ok "d.test: $out" ;; esac
out=$(sclient "" -noservername)
case $out in *"subject=CN = mta-sts.a.test"*) ok "no server name: default_domain" ;; *) not_ok "no SNI: $out" ;; esac
sclient mta-sts.a.test -sess_out "$tmp/sess" >/dev/null
out=$(sclient mta-sts.a.test -sess_in "$tmp/sess")
case $out in *"Reused, TLSv1.2"*) ok "session resumption" ;; *) not_ok "resumption: $(echo "$out" | grep -i 'new\|reused')" ;; esac
# A session offered under another server name gets a full handshake
# (RFC 6066 section 3) with that name's certificate.
out=$(sclient mta-sts.w.test -sess_in "$tmp/sess")
case $out in *"New, TLSv1.2"*"subject=CN = *.w.test"*|*"subject=CN = *.w.test"*"New, TLSv1.2"*) ok "no resumption under another server name: full handshake" ;; *) not_ok "cross-name resumption: $(echo "$out" | grep -i 'new,\|reused\|subject=')" ;; esac
out=$(sclient "" -noservername -sess_in "$tmp/sess")
case $out in *"New, TLSv1.2"*) ok "no resumption without a server name either" ;; *) not_ok "no-SNI resumption: $(echo "$out" | grep -i 'new,\|reused')" ;; esac
# A resumed session is looked for only among its own suite; a client that
# no longer offers that suite gets a full handshake with another.
sclient mta-sts.a.test -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -sess_out "$tmp/sess1" >/dev/null
out=$(sclient mta-sts.a.test -cipher ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384 -sess_in "$tmp/sess1")
case $out in *"Reused, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"*) ok "resumption with the session's suite among others" ;; *) not_ok "resumption among suites: $(echo "$out" | grep -i 'new,\|reused')" ;; esac
check "resumption: the session's suite was the server's only one" grep -q "tls: resuming a session for 'mta-sts.a.test' with its suite 0xc02b alone" "$tmp/log"
out=$(sclient mta-sts.a.test -cipher ECDHE-ECDSA-AES256-GCM-SHA384 -sess_in "$tmp/sess1")
case $out in *"New, TLSv1.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384"*) ok "session's suite no longer offered: full handshake" ;; *) not_ok "suite gone: $(echo "$out" | grep -i 'new,\|reused')" ;; esac

# --- hostile requests (request smuggling shapes, NUL bytes, bodies)
python3 tests/e2e/hostile.py "$port" "$tmp/ca.pem" mta-sts.a.test >"$tmp/hostile" 2>&1
while read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	*) not_ok "${line#FAIL - }" ;;
	esac
done <"$tmp/hostile"
check "hostile: fourteen cases ran" test "$(grep -c '^ok - \|^FAIL - ' "$tmp/hostile")" = 14
check "hostile: still serving" test "$(code a.test /.well-known/mta-sts.txt)" = 200
out=$(sclient mta-sts.a.test -groups P-384)
case $out in *"Peer signature type: RSA"*) ok "client without P-256 gets the RSA certificate" ;; *) not_ok "curve choice: $(echo "$out" | grep -i 'signature type\|error\|alert' | head -3)" ;; esac
out=$(sclient mta-sts.b.test -groups P-256)
case $out in *"Cipher is (NONE)"*|*"handshake failure"*) ok "no certificate on the client's curves: handshake failure" ;; *) not_ok "b.test P-256 only: $(echo "$out" | grep -i 'cipher is\|error' | head -3)" ;; esac

# --- keep-alive and pipelining
out=$(curl -sS --cacert "$tmp/ca.pem" --resolve "mta-sts.a.test:$port:127.0.0.1" \
    -o /dev/null -o /dev/null -w '%{num_connects}' \
    "https://mta-sts.a.test:$port/.well-known/mta-sts.txt" \
    "https://mta-sts.a.test:$port/.well-known/mta-sts.txt")
check "keep-alive: two requests, one connection" test "$out" = 10
req='GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\n\r\n'
out=$( (printf "$req$req$req" | sed 's/^$//'; sleep 1) | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" -servername mta-sts.a.test -CAfile "$tmp/ca.pem" 2>/dev/null | tr -d '\r' | grep -c '^HTTP/1.1 200 OK$')
check "pipelining: three requests in one write, three answers" test "$out" = 3

# --- reload
mkfifo "$tmp/fifo"
sleep 30 >"$tmp/fifo" &
hold=$!
track "$hold"
timeout 20 openssl s_client -quiet -connect "127.0.0.1:$port" -servername mta-sts.a.test \
    -CAfile "$tmp/ca.pem" <"$tmp/fifo" >"$tmp/held" 2>/dev/null &
held_client=$!
track "$held_client"
exec 7>"$tmp/fifo"
printf 'GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\n\r\n' >&7

printf 'version: STSv1\nmode: testing\nmx: mx.a.test\nmax_age: 86400\n' >"$p/a.test.txt"
rm "$p/c.test.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx.w.test\nmax_age: 1209600\nfoo: bar\n' >"$p/w.test.txt"
write_conf ""
server_reload
case $(fetch a.test) in *"mode: testing"*) ok "reload: new policy served" ;; *) not_ok "reload: a.test still old" ;; esac
case $(fetch w.test) in *"mode: enforce"*"mx: mx.w.test"*) ok "reload: invalid new policy keeps the old one" ;; *) not_ok "reload: w.test not kept" ;; esac
check "reload: the log names file, line and rule" grep -q "policy: $p/w.test.txt:5: error: unknown key 'foo'" "$tmp/log"
out=$(sclient mta-sts.c.test)
case $out in *"unrecognized name"*) ok "reload: a removed policy is no longer served" ;; *) not_ok "reload: c.test still served" ;; esac
check "reload: the other domain of a shared certificate still served" test "$(code b.test /.well-known/mta-sts.txt)" = 200
out=$(sclient "" -noservername)
case $out in *"unrecognized name"*) ok "reload: no default_domain, no server name: alert" ;; *) not_ok "reload no SNI: $out" ;; esac
printf 'GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\nConnection: close\r\n\r\n' >&7
sleep 0.5
exec 7>&-
stop_pid "$hold"
reap "$held_client" 2>/dev/null
if [ "$(tr -d '\r' <"$tmp/held" | grep -c '^HTTP/1.1 200 OK$')" = 2 ]; then
	ok "a connection open across the reload still works"
else
	not_ok "held connection: $(cat "$tmp/held")"
fi
printf '[server]\nlisten = 127.0.0.1:%s\nnope = 1\n' "$port" >"$conf"
server_reload
check "reload with a broken config keeps running" kill -0 "$pid"
check "reload with a broken config: logged" grep -q "reload: $conf:3: nope: unknown key in \[server\]; keeping the running configuration" "$tmp/log"
check "still serving after a broken config" test "$(code a.test /.well-known/mta-sts.txt)" = 200
# A policy with a warning is served; an unchanged one is taken again at a
# reload without being read, and its warning logged again all the same.
reused() { grep -c "policy: $p/b.test.txt: unchanged since the last load, not read again" "$tmp/log"; }
reused0=$(reused)
printf 'version: STSv1\nmode: enforce\nmx: mx.b.test\nmax_age: 86400\n' >"$p/b.test.txt"
write_conf ""
warned() { grep -c "policy: $p/b.test.txt:4: warning: max_age 86400 is under" "$tmp/log"; }
server_reload
server_reload
check "reload: an unchanged policy's warning is logged at every reload" test "$(warned)" = 2
check "reload: an unchanged policy with a warning is not read again" test "$(reused)" = $((reused0 + 1))
case $(fetch b.test) in *"max_age: 86400"*) ok "reload: a policy with a warning is served" ;; *) not_ok "reload: b.test: $(fetch b.test)" ;; esac
printf 'version: STSv1\nmode: enforce\nmx: mx.b.test\nmax_age: 1209600\n' >"$p/b.test.txt"
server_reload
check "reload: once mended, the warning is gone" test "$(warned)" = 2
check "reload: a changed policy is read again" test "$(reused)" = $((reused0 + 1))
case $(fetch b.test) in *"max_age: 1209600"*) ok "reload: the mended policy is served" ;; *) not_ok "reload: b.test not mended: $(fetch b.test)" ;; esac

# --- deadlines: a second start with short limits
server_stop
write_conf a.test
printf 'handshake_timeout = 1\nrequest_timeout = 1\nkeepalive_timeout = 1\nconnection_lifetime = 3\n' >>"$conf"
server_up "$conf"
python3 tests/e2e/deadlines.py "$port" "$tmp/ca.pem" mta-sts.a.test >"$tmp/dl" 2>&1
while read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	*) not_ok "${line#FAIL - }" ;;
	esac
done <"$tmp/dl"
check "deadlines: four checks ran" test "$(grep -c '^ok - \|^FAIL - ' "$tmp/dl")" = 4

# --- a renewed certificate is taken without a signal (watch_certs)
serial() {
	echo Q | timeout 5 openssl s_client -connect "127.0.0.1:$port" -servername "$1" \
	    2>/dev/null | openssl x509 -noout -serial 2>/dev/null
}
old=$(serial mta-sts.b.test)
check "watch: b.test served before" test -n "$old"
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n' >"$c/half.pem"
chmod a+r "$c/half.pem"
sleep 3
check "watch: a half-written file is not taken" test "$(serial mta-sts.b.test)" = "$old"
check "watch: the half-written file is logged" grep -q "half.pem: incomplete PEM object" "$tmp/log"
rm -f "$c/half.pem"
# The same CA signs the renewal (its key was kept out of cert_dir).
cert "$tmp/r" b2 ec256 90 mta-sts.b.test
cat "$tmp/r/b2.key" "$tmp/r/b2.pem" >"$c/renewed.pem"
chmod a+r "$c/renewed.pem"
i=0
while [ "$(serial mta-sts.b.test)" = "$old" ] && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done
new=$(serial mta-sts.b.test)
if [ -n "$new" ] && [ "$new" != "$old" ]; then ok "watch: a renewed certificate is served without a signal"; else not_ok "watch: still $old"; fi
check "watch: the reload is logged" grep -q "watch: $c changed: reloading" "$tmp/log"
check "watch: same process" kill -0 "$pid"

# --- access log
check "access log line" grep -q 'access: 127.0.0.1 mta-sts.a.test "GET /.well-known/mta-sts.txt" 200 [0-9]* [0-9]*us' "$tmp/log"

# --- the sandbox: the serving process reads policy_dir and cert_dir (and
# the directories the links in cert_dir pointed to at start), nothing
# else.  Put in place while it runs: a policy that is a link to a file
# outside, a certificate and key linked from outside.  With the sandbox
# (Landlock) the reads are refused, EACCES in the log, and the domains not
# served; the control below, sandbox = no, reads and serves the same files.
mkdir -p "$tmp/outside"
printf 'version: STSv1\nmode: enforce\nmx: mx.z.test\nmax_age: 1209600\n' >"$tmp/outside/z.test.txt"
cert "$c" z ec256 90 mta-sts.z.test
cert "$tmp/outside" zz ec256 90 mta-sts.zz.test
printf 'version: STSv1\nmode: enforce\nmx: mx.zz.test\nmax_age: 1209600\n' >"$p/zz.test.txt"
chmod -R a+rX "$tmp/outside" "$p" "$c"
ln -s "$tmp/outside/z.test.txt" "$p/z.test.txt"
ln -s "$tmp/outside/zz.pem" "$c/zz.pem"
ln -s "$tmp/outside/zz.key" "$c/zz.key"
server_reload
if grep -q 'sandbox: no Landlock' "$tmp/log"; then
	not_ok "sandbox: no Landlock in this kernel: reads are not confined"
else
	check "sandbox: a policy linked from outside policy_dir: read refused, logged" \
	    grep -q "policy: $p/z.test.txt: cannot read: Permission denied" "$tmp/log"
	check "sandbox: a certificate linked from outside cert_dir: read refused, logged" \
	    grep -q "certs: $c/zz\.\(pem\|key\): Permission denied" "$tmp/log"
	out=$(sclient mta-sts.z.test)
	case $out in *"unrecognized name"*) ok "sandbox: the domain of that policy is not served" ;; *) not_ok "sandbox: z.test served: $(echo "$out" | grep 'subject=\|Cipher is')" ;; esac
	out=$(sclient mta-sts.zz.test)
	case $out in *"unrecognized name"*) ok "sandbox: the domain of that certificate is not served" ;; *) not_ok "sandbox: zz.test served: $(echo "$out" | grep 'subject=\|Cipher is')" ;; esac
fi

# --- stop (SIGKILL after 8 s: then the exit status is 137)
server_stop 8
rc=$?
check "SIGTERM: exit 0" test "$rc" = 0
check "SIGTERM: pid file removed" test ! -e "$tmp/run/mta-stsd.pid"

# The sandbox's control: the same links, sandbox = no: read and served.
write_conf a.test
echo "sandbox = no" >>"$conf"
denied=$(grep -c 'Permission denied' "$tmp/log")
server_up "$conf"
case $(fetch z.test) in
*"mx: mx.z.test"*) ok "sandbox = no (control): the policy linked from outside is read and served" ;;
*) not_ok "sandbox = no (control): z.test: $(fetch z.test 2>&1)" ;;
esac
out=$(sclient mta-sts.zz.test)
case $out in *"subject=CN = mta-sts.zz.test"*) ok "sandbox = no (control): the certificate linked from outside is read and served" ;; *) not_ok "sandbox = no (control): zz.test: $(echo "$out" | grep 'subject=\|Cipher is\|alert')" ;; esac
check "sandbox = no (control): no read refused" test "$(grep -c 'Permission denied' "$tmp/log")" = "$denied"
server_stop
rm -f "$p/z.test.txt" "$p/zz.test.txt" "$c/z.pem" "$c/z.key" "$c/zz.pem" "$c/zz.key"
# --- workers: threads, each with its own SO_REUSEPORT listener
# threads PID: the threads of a process.
threads() { ls "/proc/$1/task" | wc -l; }
# listeners: the listening sockets on the port (IPv4 and IPv6).
listeners() { ss -Hltn "sport = :$port" | wc -l; }
# start_workers N: starts the server with workers = N, waits for it.
start_workers() {
	write_conf a.test
	echo "workers = $1" >>"$conf"
	server_up "$conf"
}
printf 'version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 1209600\n' >"$p/a.test.txt"
start_workers 2
# Each worker a thread, and the loader (reloads beside the loops).
check "workers = 2: two worker threads and the loader" test "$(threads "$pid")" = 3
check "workers = 2: two listeners for each address" test "$(listeners)" = 4
bad=0
for i in $(seq 30); do
	case $(fetch a.test) in *"mode: enforce"*) ;; *) bad=$((bad + 1)) ;; esac
done
check "workers = 2: 30 new connections served" test "$bad" = 0
printf 'version: STSv1\nmode: testing\nmx: mx.a.test\nmax_age: 86400\n' >"$p/a.test.txt"
server_reload
bad=0
for i in $(seq 30); do
	case $(fetch a.test) in *"mode: testing"*) ;; *) bad=$((bad + 1)) ;; esac
done
check "workers = 2: after a reload every worker serves the new policy" test "$bad" = 0
python3 - "$port" "$tmp/ca.pem" >"$tmp/resume" 2>&1 <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
sess, reused = None, 0
for i in range(20):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    t = ctx.wrap_socket(s, server_hostname="mta-sts.a.test", session=sess)
    reused += t.session_reused
    sess = t.session
    t.close()
print(reused)
PY
check "workers = 2: sessions resume whichever worker accepts (19 of 19)" test "$(cat "$tmp/resume")" = 19
# An idle connection gives back its HTTP side and buffer pages after a
# second; its next request, whole or split across the pause, is served.
python3 - "$port" "$tmp/ca.pem" "$pid" >"$tmp/idle" 2>&1 <<'PY'
import os, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
fds = lambda: len(os.listdir("/proc/%s/fd" % sys.argv[3]))
req = b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\n\r\n"
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
    server_hostname="mta-sts.a.test")
def get(parts):
    for i, p in enumerate(parts):
        if i:
            time.sleep(2.5)
        t.sendall(p)
    buf = b""
    while b"mode: testing" not in buf:
        d = t.recv(4096)
        if not d:
            break
        buf += d
    return buf.startswith(b"HTTP/1.1 200 ")
first = get([req])
busy = fds()
time.sleep(2.5)
idle = fds()
print(first, busy - idle, get([req]), get([req[:20], req[20:]]))
PY
check "idle connection: HTTP side released (2 fds), then served again, also across a split request" test "$(cat "$tmp/idle")" = "True 2 True True"
server_stop
check "workers = 2: SIGTERM stops every worker, exit 0" test "$?" = 0
start_workers 1
check "workers = 1: one worker thread and the loader" test "$(threads "$pid")" = 2
check "workers = 1: one listener for each address" test "$(listeners)" = 2
server_stop

# --- systemd notifications (Type=notify)
write_conf a.test
out=$(python3 tests/e2e/notify.py "$d" "$conf" | tr '\n' ' ')
check "systemd: READY=1, RELOADING=1, READY=1, STOPPING=1, exit 0" test "$out" = "READY=1 RELOADING=1 READY=1 STOPPING=1 exit 0 "

check "no crash or sanitizer report in the log" sh -c "! grep -q 'Sanitizer\|runtime error' '$tmp/log'"
summary
