#!/bin/sh
# tests/certbot/certbot.sh: cert_dir at certbot's live/ directory, with
# the sandbox on.  Certbot (Debian's, --webroot through mta-stsd's own
# [acme] listener) against Debian's pebble, in a network namespace of
# the test's own:
#
#   1. mta-stsd starts (as nobody, Landlock and seccomp on) with
#      cert_dir = certbot's config/live, which is empty: nothing served;
#   2. certbot issues mta-sts.one.example: served, no restart, no signal;
#   3. mta-stsd restarts: one.example served from the start (its links
#      into archive/ exist then);
#   4. certbot issues mta-sts.two.example after that start: a new
#      archive/two.../ directory behind new links, which the sandbox of a
#      process started before it must let it read: served, no restart, no
#      signal;
#   5. certbot renews one.example (a new key, live/ links switched):
#      the new certificate served, no restart, no signal.
#
# The one step an administrator takes by hand, as mta-stsd.conf(5) says:
# live/ and archive/ made readable by the server's group once, and a
# deploy hook that makes a new name's private key readable by it (certbot
# keeps that group and mode for renewals).  Pebble validates for real
# (HTTP-01 to the [acme] listener), without its random wait
# (PEBBLE_VA_NOSLEEP); PEBBLE_AUTHZREUSE=0 makes the renewal validate
# again.  Needs root.  SKIP_CERTBOT=1 makes a missing prerequisite a SKIP.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

ns=mta-stsd-certbot-$$
addr=127.0.0.2
pebble_host=pebble.example
dir_url=https://$pebble_host:14000/dir
mgmt=https://$pebble_host:15000
limit=${CERTBOT_TEST_LIMIT:-150}
NSX_TIMEOUT=30

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY
unset PEBBLE_VA_ALWAYS_VALID
umask 022
suite_start certbot
daemon=$d
. tests/netns.sh

if [ "$(id -u)" != 0 ]; then
	missing "certbot: needs root (network namespace, ports 80 and 443)"
	summary
	exit
fi
debs=
for t in pebble certbot dnsmasq openssl curl ip; do
	command -v $t >/dev/null || debs="$debs $t"
done
[ -z "$debs" ] || apt_install pebble certbot dnsmasq-base openssl curl iproute2
gone=
for t in pebble certbot dnsmasq openssl curl ip; do
	command -v $t >/dev/null || gone="$gone $t"
done
if [ -n "$gone" ]; then
	missing "certbot: missing:$gone (Debian pebble certbot dnsmasq-base)"
	summary
	exit
fi

start=$(date +%s)
# The whole test is bounded: the watchdog stops the script (its sleep
# goes with it when it is stopped: nothing is left behind).
(
	trap 'kill "$_sl" 2>/dev/null; exit 0' TERM
	sleep "$limit" &
	_sl=$!
	wait "$_sl" && kill -TERM $$
) >/dev/null 2>&1 &
track $!
exec 3>&1
trap '{ not_ok "certbot: stopped after ${limit} s (time limit)"; summary; } >&3 2>&1; exit 1' TERM

# ---- files -------------------------------------------------------------------

mkcert "$tmp/api" ca
mkcert "$tmp/api" cert pebble ec256 2 "$pebble_host"
api_ca=$tmp/api/ca.pem
cat >"$tmp/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:14000",
  "managementListenAddress": "127.0.0.1:15000",
  "certificate": "$tmp/api/pebble.pem", "privateKey": "$tmp/api/pebble.key",
  "httpPort": 80, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
le=$tmp/letsencrypt
live=$le/live
mkdir -p "$tmp/policies" "$tmp/webroot" "$le" "$live" "$le/archive" "$tmp/run"
for n in one two; do
	printf 'version: STSv1\nmode: testing\nmx: mx.%s.example\nmax_age: 86400\n' \
	    "$n" >"$tmp/policies/$n.example.txt"
done
chmod 0755 "$tmp" "$tmp/webroot" "$le"
chmod -R a+rX "$tmp/policies"
# Once, by hand: certbot's directories readable by the server's group.
chgrp nogroup "$live" "$le/archive"
chmod 0750 "$live" "$le/archive"
chown nobody "$tmp/run"
conf=$tmp/mta-stsd.conf
cat >"$conf" <<EOF
[server]
listen = $addr:443
policy_dir = $tmp/policies
cert_dir = $live
user = nobody
log_level = info
pid_file = $tmp/run/mta-stsd.pid
sandbox = yes
watch_certs = yes

[acme]
listen = $addr:80
webroot = $tmp/webroot
EOF

if ! netns_up "$addr"; then
	not_ok "certbot: cannot make network namespace $ns"
	summary
	exit
fi
# shellcheck disable=SC2046
bg "$tmp/dnsmasq.log" dnsmasq $(dnsmasq_args) --local=/example/ \
    --host-record=mta-sts.one.example,$addr --host-record=mta-sts.two.example,$addr \
    --host-record=$pebble_host,127.0.0.1
wait_for 5 ip netns exec "$ns" getent ahostsv4 mta-sts.one.example ||
    not_ok "dnsmasq does not answer"
bg "$tmp/pebble.log" env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    PEBBLE_AUTHZREUSE=0 pebble -config "$tmp/pebble.json" -dnsserver 127.0.0.1:53
if wait_for 15 nsx -t 3 curl -sf -o /dev/null --cacert "$api_ca" "$dir_url" &&
    nsx curl -sSf --max-time 5 --cacert "$api_ca" -o "$tmp/root.pem" \
    "$mgmt/roots/0" 2>"$tmp/e"; then
	ok "pebble runs"
else
	not_ok "pebble did not start"
	show "$tmp/pebble.log"
	summary
	exit
fi

# mta_stsd: starts the server in the namespace; its PID in $mpid.
mta_stsd() {
	ip netns exec "$ns" "$daemon" -d -f "$conf" >>"$tmp/mta-stsd.log" 2>&1 &
	mpid=$!
	track "$mpid"
	wait_for 5 grep -q 'acme: listening on' "$tmp/mta-stsd.log"
}
# certbot_run LOG ARGS...: certbot as root in the namespace, its own
# directories under $le, trusting pebble's API CA.  The deploy hook is
# the one documented: the new key readable by the server's group.
certbot_run() {
	_log=$1
	shift
	nsx -t 60 env REQUESTS_CA_BUNDLE="$api_ca" certbot "$@" \
	    --config-dir "$le" --work-dir "$tmp/le-work" --logs-dir "$tmp/le-logs" \
	    --server "$dir_url" --non-interactive --no-random-sleep-on-renew \
	    >"$_log" 2>&1
}
issue() {
	certbot_run "$tmp/certbot-$1.log" certonly --agree-tos \
	    --register-unsafely-without-email --webroot -w "$tmp/webroot" \
	    -d "mta-sts.$1.example" --key-type ecdsa --elliptic-curve secp256r1 \
	    --deploy-hook 'chgrp nogroup "$RENEWED_LINEAGE/privkey.pem" && chmod 0640 "$RENEWED_LINEAGE/privkey.pem"'
}
# served NAME: the serial mta-stsd presents for mta-sts.NAME.example.
served() {
	nsx -t 8 openssl s_client -connect "$addr:443" \
	    -servername "mta-sts.$1.example" </dev/null 2>/dev/null |
	    openssl x509 -noout -serial 2>/dev/null
}
# issued NAME: the serial of certbot's live/ certificate for it.
issued() {
	openssl x509 -noout -serial -in "$live/mta-sts.$1.example/cert.pem" 2>/dev/null
}
# policy NAME PATTERN: GET the policy, trusting pebble's root only (the
# chain served must hold the intermediate: fullchain.pem, not cert.pem).
policy() {
	nsx -t 8 env -u CURL_CA_BUNDLE -u SSL_CERT_FILE -u SSL_CERT_DIR \
	    curl -sS --max-time 5 --cacert "$tmp/root.pem" --capath /nonexistent \
	    "https://mta-sts.$1.example/.well-known/mta-sts.txt" 2>&1 | grep -q "$2"
}
# is_served NAME SERIAL
is_served() {
	[ "$(served "$1")" = "$2" ]
}
# serves NAME SERIAL WHAT: within 15 s.
serves() {
	_t=$(date +%s)
	if wait_for 15 is_served "$1" "$2"; then
		ok "$3: served after $(($(date +%s) - _t)) s, no restart, no signal"
	else
		not_ok "$3: not served within 15 s (served '$(served "$1")', issued $2)"
		tail -20 "$tmp/mta-stsd.log" | show /dev/stdin
	fi
}

# ---- 1. an empty live/ ----------------------------------------------------------

mta_stsd || not_ok "mta-stsd did not start"
check "start: sandbox on (seccomp)" grep -q '^Seccomp:[[:space:]]*2' "/proc/$mpid/status"
check "start: the sandbox reads certbot's archive/ too" grep -q "sandbox: confined to reading" "$tmp/mta-stsd.log"
check "start: nothing served (0 domains, 2 failed)" grep -q ': 0 domains served, 2 failed' "$tmp/mta-stsd.log"

# ---- 2. the first name, issued after the start --------------------------------------

if issue one; then
	ok "certbot: mta-sts.one.example issued through the [acme] listener"
else
	not_ok "certbot: issuing one.example failed"
	show "$tmp/certbot-one.log"
fi
check "certbot: the challenge was answered by mta-stsd (200)" \
    grep -q 'acme: .* "GET /.well-known/acme-challenge/[A-Za-z0-9_-]*" 200' "$tmp/mta-stsd.log"
serves one "$(issued one)" "one.example, issued after the start"
check "one.example: the policy, over the whole chain (trusting pebble's root only)" policy one 'mx: mx.one.example'

# ---- 3. a restart: one.example from the start ---------------------------------

stop_pid "$mpid"
mta_stsd || not_ok "mta-stsd did not start again"
wait_for 5 test -n "$(served one)"
check "restart: one.example served from the start" test "$(served one)" = "$(issued one)"
check "restart: 1 domain served at start" grep -q ': 1 domains served, 1 failed' "$tmp/mta-stsd.log"
reloads0=$(grep -c 'reload: reading' "$tmp/mta-stsd.log")

# ---- 4. a second name after that start: a new archive/ directory -----------

if issue two; then
	ok "certbot: mta-sts.two.example issued after mta-stsd started"
else
	not_ok "certbot: issuing two.example failed"
	show "$tmp/certbot-two.log"
fi
check "certbot: archive/mta-sts.two.example/ made after the start" \
    test "$le/archive/mta-sts.two.example" -nt "$tmp/run/mta-stsd.pid"
serves two "$(issued two)" "two.example, a new name"
check "two.example: the policy, over the whole chain (trusting pebble's root only)" policy two 'mx: mx.two.example'

# ---- 5. a renewal ---------------------------------------------------------------

old=$(issued one)
if certbot_run "$tmp/certbot-renew.log" renew --force-renewal \
    --cert-name mta-sts.one.example && [ "$(issued one)" != "$old" ]; then
	ok "certbot: one.example renewed (a new key)"
else
	not_ok "certbot: renewal failed"
	show "$tmp/certbot-renew.log"
fi
serves one "$(issued one)" "one.example renewed"
check "renewal: two.example still served" test "$(served two)" = "$(issued two)"
check "renewal: one.example's policy over its new chain" policy one 'mx: mx.one.example'

# ---- the same process, the sandbox on, the watch alone --------------------------

check "mta-stsd: same process since the restart" alive "$mpid"
check "mta-stsd: still confined (seccomp)" grep -q '^Seccomp:[[:space:]]*2' "/proc/$mpid/status"
check "mta-stsd: reloads since the restart ($(($(grep -c 'reload: reading' "$tmp/mta-stsd.log") - reloads0))) all came from the watch" \
    awk '/watch: .* changed: reloading/ { w = 1; next }
    /reload: reading/ { if (!w) bad = 1; w = 0 }
    END { exit bad }' "$tmp/mta-stsd.log"
check "mta-stsd: no signal in the log" sh -c "! grep -qi 'signal' '$tmp/mta-stsd.log'"
check "mta-stsd: no sandbox refusal in the log" sh -c "! grep -qi 'Permission denied\|Operation not permitted' '$tmp/mta-stsd.log'"
if [ -n "${VERBOSE:-}" ]; then
	sed 's/^/#   /' "$tmp/mta-stsd.log"
fi
stop_all
echo "certbot: $(($(date +%s) - start)) s"
summary
