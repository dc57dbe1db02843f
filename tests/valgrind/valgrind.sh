#!/bin/sh
# tests/valgrind/valgrind.sh: a short end-to-end run of mta-stsd under valgrind
# memcheck (handshakes, resumption, GET, HEAD, errors, hostile bytes, a
# reload, SIGTERM): no error and no leak.  The sandbox is off: valgrind
# makes system calls the filter refuses.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_start valgrind

if ! command -v valgrind >/dev/null; then
	not_ok "valgrind is missing"
	summary
	exit 1
fi
port=$(free_port)
c=$tmp/certs
p=$tmp/p
suite_ca
cert "$c" a ec256 90 mta-sts.a.test
cert "$c" r rsa2048 90 mta-sts.a.test
mkdir -p "$tmp/p"
printf 'version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 1209600\n' >"$tmp/p/a.test.txt"
chmod -R a+rX "$tmp"
server_conf "$tmp/conf" "sandbox = no"

valgrind --quiet --vgdb=no --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    --log-file="$tmp/vg" "$d" -d -f "$tmp/conf" 2>"$tmp/log" &
pid=$!
track "$pid"
log=$tmp/log
url="https://mta-sts.a.test:$port/.well-known/mta-sts.txt"
cu() { curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/ca.pem" --resolve "mta-sts.a.test:$port:127.0.0.1" "$@"; }
i=0
until [ "$(cu "$url")" = 200 ] || [ $i -ge 100 ]; do sleep 0.2; i=$((i + 1)); done
check "starts under valgrind" test "$(cu "$url")" = 200
check "HEAD" test "$(cu -I "$url")" = 200
check "404" test "$(cu "https://mta-sts.a.test:$port/x")" = 404
check "405" test "$(cu -X POST -d x "$url")" = 405
check "RSA" test "$(cu --ciphers ECDHE-RSA-AES128-GCM-SHA256 "$url")" = 200
echo Q | openssl s_client -connect "127.0.0.1:$port" -servername mta-sts.a.test -sess_out "$tmp/s" >/dev/null 2>&1
out=$(echo Q | openssl s_client -connect "127.0.0.1:$port" -servername mta-sts.a.test -sess_in "$tmp/s" 2>&1)
case $out in *Reused*) ok "resumption" ;; *) not_ok "resumption" ;; esac
echo Q | openssl s_client -connect "127.0.0.1:$port" -servername unknown.test >/dev/null 2>&1
printf 'GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n' | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$port" -servername mta-sts.a.test >/dev/null 2>&1
printf 'garbage that is not TLS\r\n' | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$port" >/dev/null 2>&1
printf 'version: STSv1\nmode: testing\nmx: mx.a.test\nmax_age: 86400\n' >"$tmp/p/a.test.txt"
server_reload
case $(fetch a.test) in
*"mode: testing"*) ok "reload" ;; *) not_ok "reload" ;; esac
# valgrind's leak check at exit takes its time.
server_stop 60
rc=$?
if [ "$rc" = 0 ] && [ ! -s "$tmp/vg" ]; then
	ok "valgrind memcheck: no error, no leak"
else
	not_ok "valgrind (exit $rc): $(head -40 "$tmp/vg")"
fi
summary
