#!/bin/sh
# tests/mxpolicy/mxpolicy.sh: policies that match the mail domain.
#
#   - init without --mx derives the mx lines from the live MX records
#     (each host exactly; *.mail.protection.outlook.com when every host is
#     Exchange Online's), and refuses a null MX, no MX, an unknown name and
#     an MX that is an address;
#   - the pre-flight before mode enforce (and set while enforcing): one
#     case per FAIL (an MX not covered, a wildcard one label short, no
#     STARTTLS, a certificate for another name, expired, expiring within
#     14 days), each leaving the policy and its id as they were; --force
#     and --no-preflight;
#   - adopt: a policy nginx serves today (LF line ends, another order)
#     taken over with its published id, from a file, refused when invalid;
#     the ids after it never repeat it; the real fetchers
#     (postfix-mta-sts-resolver and mailauth) see the same mode and mx
#     before and after mta-sts.DOMAIN moves from nginx to mta-stsd;
#   - the one-week threshold, and check on the documented Exchange Online
#     set-up: exit 0.
#
# In a network namespace of its own (mta-stsd-mxpolicy-$$): BIND
# (tests/bind.sh) answers the zones "test" and "outlook.com" on 127.0.0.2,
# which is the namespace's resolver too; mta-stsd on 127.0.0.1:443; nginx
# on 127.0.0.4:443, the host being moved away from; STARTTLS SMTP servers
# (tests/check/smtpd.py, python3-aiosmtpd) on 127.0.0.20 (a certificate for
# every good MX name), 127.0.0.21 (expired), 127.0.0.23 (no STARTTLS),
# 127.0.0.24 (5 days left).  Needs root, bind9, nginx, python3-aiosmtpd,
# postfix-mta-sts-resolver, node and mailauth (installed as
# tests/fetchers does).  Without them: a failure, or only a SKIP line with
# SKIP_MXPOLICY=1.  VERBOSE=1 shows each step's output.  Ends with
# "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

ns=mta-stsd-mxpolicy-$$
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY
suite_start mxpolicy
daemon=$d
. tests/netns.sh
. tests/bind.sh
show_lines=30
PY=/usr/bin/python3

missing_end() {
	missing "$@"
	summary
	exit
}

[ "$(id -u)" = 0 ] || missing_end "mxpolicy: needs root (network namespace, ports 25, 53, 443)"
[ -x "$daemon" ] && [ -x "$ctl" ] || missing_end "mxpolicy: $daemon or $ctl not built (run make)"
for t in named tsig-keygen dig nsupdate nginx mta-sts-daemon mta-sts-query; do
	command -v $t >/dev/null ||
	    missing_end "mxpolicy: $t missing (Debian bind9, bind9-dnsutils, nginx, postfix-mta-sts-resolver)"
done
"$PY" -c 'import aiosmtpd' 2>/dev/null || missing_end "mxpolicy: python3-aiosmtpd missing"
mailauth_install
have_mailauth || missing_end "mxpolicy: mailauth $MAILAUTH_VERSION missing (npm, into $NODE_PREFIX)"

start=$(date +%s)

# ---- certificates, configuration -------------------------------------------

p=$tmp/policies
c=$tmp/certs
mkdir -p "$p" "$c" "$tmp/run" "$tmp/www/moved" "$tmp/www/broken" \
    "$tmp/nginx" "$tmp/nocerts"
suite_ca
ca=$tmp/ca.pem
names=
for z in plain exo mixed pfok pfcover pfwild pfplain pfname pfexp pfsoon \
    moved adopt2 filed broken; do
	names="$names mta-sts.$z.test"
done
# shellcheck disable=SC2086
cert "$c" sts ec256 90 $names
cert "$tmp/mx" good ec256 90 mx1.plain.test mx2.plain.test \
    exo-test.mail.protection.outlook.com \
    mixed-test.mail.protection.outlook.com backup.mixed.test mx.pfok.test \
    mx.pfcover.test mx2.pfcover.test a.b.pfwild.test mx.moved.test
cert "$tmp/mx" expired ec256 -2 mx.pfexp.test
cert "$tmp/mx" soon ec256 5 mx.pfsoon.test
cert "$tmp/nginx" old ec256 90 mta-sts.moved.test mta-sts.broken.test
chown nobody "$tmp/run"
chmod -R a+rX "$tmp"

conf=$tmp/mta-stsd.conf
printf '[server]\nlisten = 127.0.0.1:443\npolicy_dir = %s\ncert_dir = %s\nuser = nobody\nlog_level = info\npid_file = %s\n' \
    "$p" "$c" "$tmp/run/mta-stsd.pid" >"$conf"

# The host senders fetch moved.test's policy from today: LF line ends,
# max_age first; and an invalid policy for broken.test.
printf 'max_age: 604800\nmx: mx.moved.test\nversion: STSv1\nmode: enforce\n' \
    >"$tmp/www/moved/mta-sts.txt"
printf 'version: STSv1\nmode: enforced\nmx: mx.broken.test\nmax_age: 604800\n' \
    >"$tmp/www/broken/mta-sts.txt"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
user nobody nogroup;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
	access_log $tmp/nginx/access.log;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	types { }
	default_type text/plain;
	server {
		listen 127.0.0.4:443 ssl;
		server_name mta-sts.moved.test;
		ssl_certificate $tmp/nginx/old.pem;
		ssl_certificate_key $tmp/nginx/old.key;
		location = /.well-known/mta-sts.txt {
			alias $tmp/www/moved/mta-sts.txt;
		}
	}
	server {
		listen 127.0.0.4:443 ssl;
		server_name mta-sts.broken.test;
		ssl_certificate $tmp/nginx/old.pem;
		ssl_certificate_key $tmp/nginx/old.key;
		location = /.well-known/mta-sts.txt {
			alias $tmp/www/broken/mta-sts.txt;
		}
	}
}
EOF
chmod -R a+rX "$tmp"

# ---- the namespace: DNS, mta-stsd, nginx, SMTP, a caching sender ------------

netns_up 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.20 127.0.0.21 127.0.0.23 \
    127.0.0.24 || missing_end "mxpolicy: cannot make network namespace $ns"
printf 'nameserver 127.0.0.2\n' >"/etc/netns/$ns/resolv.conf"

bind_keys || missing_end "mxpolicy: tsig-keygen failed"
bind_zone test "grant mta-sts-key zonesub ANY;" <<'EOF'
plain MX 10 mx1.plain.test.
plain MX 20 mx2.plain.test.
mx1.plain A 127.0.0.20
mx2.plain A 127.0.0.20
exo MX 0 exo-test.mail.protection.outlook.com.
exo TXT "v=spf1 -all"
_smtp._tls.exo TXT "v=TLSRPTv1; rua=mailto:tlsrpt@exo.test"
mixed MX 10 mixed-test.mail.protection.outlook.com.
mixed MX 20 backup.mixed.test.
backup.mixed A 127.0.0.20
nullmx MX 0 .
addrmx MX 10 192.0.2.25.
nomx A 127.0.0.1
pfok MX 10 mx.pfok.test.
mx.pfok A 127.0.0.20
pfcover MX 10 mx.pfcover.test.
pfcover MX 20 mx2.pfcover.test.
mx.pfcover A 127.0.0.20
mx2.pfcover A 127.0.0.20
pfwild MX 10 a.b.pfwild.test.
a.b.pfwild A 127.0.0.20
pfplain MX 10 mx.pfplain.test.
mx.pfplain A 127.0.0.23
pfname MX 10 mx.pfname.test.
mx.pfname A 127.0.0.20
pfexp MX 10 mx.pfexp.test.
mx.pfexp A 127.0.0.21
pfsoon MX 10 mx.pfsoon.test.
mx.pfsoon A 127.0.0.24
moved MX 10 mx.moved.test.
mx.moved A 127.0.0.20
mta-sts.moved A 127.0.0.4
_mta-sts.moved TXT "v=STSv1; id=20240505000000Z;"
broken MX 10 mx.broken.test.
mta-sts.broken A 127.0.0.4
_mta-sts.broken TXT "v=STSv1; id=20240606000000Z;"
$ORIGIN exo.test.
mta-sts A 127.0.0.1
_mta-sts TXT "v=STSv1; id=20250101000000Z;"
EOF
bind_zone outlook.com <<'EOF'
exo-test.mail.protection A 127.0.0.20
mixed-test.mail.protection A 127.0.0.20
EOF
if bind_start; then
	ok "BIND answers the zones test and outlook.com"
else
	not_ok "BIND did not start"
	show "$bk/primary.log"
	summary
	exit
fi

bg "$tmp/mta-stsd.log" "$daemon" -d -f "$conf"
bg "$tmp/nginx/out.log" nginx -c "$tmp/nginx/nginx.conf"
nginx_pid=${pids##* }
bg "$tmp/smtpd.log" "$PY" tests/check/smtpd.py \
    "127.0.0.20:$tmp/mx/good.pem:$tmp/mx/good.key" \
    "127.0.0.21:$tmp/mx/expired.pem:$tmp/mx/expired.key" \
    "127.0.0.24:$tmp/mx/soon.pem:$tmp/mx/soon.key" plain=127.0.0.23
export SSL_CERT_FILE="$ca" SSL_CERT_DIR="$tmp/nocerts" NODE_EXTRA_CA_CERTS="$ca"
bg "$tmp/daemon.log" mta-sts-daemon -c tests/fetchers/daemon.yml -v debug \
    --disable-uvloop
if wait_for 5 grep -q 'domains served' "$tmp/mta-stsd.log" &&
    wait_for 5 test -s "$tmp/run/mta-stsd.pid" &&
    wait_for 10 grep -q ready "$tmp/smtpd.log" &&
    wait_for 5 nsx curl -s -o /dev/null --max-time 2 --cacert "$ca" \
    https://mta-sts.moved.test/.well-known/mta-sts.txt &&
    wait_for 10 nsx "$PY" -c 'import socket
socket.create_connection(("127.0.0.1", 8461), timeout=1)'; then
	ok "mta-stsd, nginx, the SMTP servers and mta-sts-daemon started"
else
	not_ok "a server did not start"
	for f in mta-stsd.log nginx/error.log smtpd.log daemon.log; do
		show "$tmp/$f"
	done
	summary
	exit
fi

# ---- helpers --------------------------------------------------------------

# stsctl ARGS...: mta-stsctl -f CONF ARGS in the namespace, with the test
# DNS server for the commands that take it; $tmp/so, $tmp/se, $rc.
net="--resolver 127.0.0.2 --timeout 5"
stsctl() {
	nsx -t 60 "$ctl" -f "$conf" "$@" >"$tmp/so" 2>"$tmp/se"
	rc=$?
	last="mta-stsctl $*"
	if [ -n "${VERBOSE:-}" ]; then
		show "$tmp/so"
		show "$tmp/se"
	fi
}

# (expect, out, err, rec_id: tests/lib.sh.)

mx_lines() { sed -n 's/^mx: //p' "$p/$1.txt" | tr '\n' ' '; }
mode_of() { sed -n 's/^mode: //p' "$p/$1.txt"; }

# serves DOMAIN MODE: mta-stsd serves DOMAIN's policy in MODE.
serves() {
	nsx -t 10 curl -sS --max-time 5 --cacert "$ca" \
	    --resolve "mta-sts.$1:443:127.0.0.1" \
	    "https://mta-sts.$1/.well-known/mta-sts.txt" 2>/dev/null |
	    grep -q "^mode: $2"
}

# ---- init from the live MX records ------------------------------------------

stsctl init plain.test $net
expect 0
out "^plain.test: MX records from 127.0.0.2:53: 10 mx1.plain.test, 20 mx2.plain.test$" \
    "^plain.test: mx lines derived from them: mx1.plain.test mx2.plain.test$"
check "init plain.test: the policy has both MX hosts" \
    test "$(mx_lines plain.test)" = "mx1.plain.test mx2.plain.test "

stsctl init exo.test --max-age 604800 $net
expect 0
out "^exo.test: MX records from 127.0.0.2:53: 0 exo-test.mail.protection.outlook.com$" \
    "^exo.test: mx lines derived from them: \*.mail.protection.outlook.com \(every MX host is Exchange Online's: the pattern Microsoft documents\)$"
check "init exo.test: one mx line, the Exchange Online pattern" \
    test "$(mx_lines exo.test)" = "*.mail.protection.outlook.com "

stsctl init --dry-run mixed.test $net
expect 0
out "^mixed.test: mx lines derived from them: mixed-test.mail.protection.outlook.com backup.mixed.test$" \
    "^mx: mixed-test.mail.protection.outlook.com$"
check "init --dry-run: no policy written" test ! -e "$p/mixed.test.txt"
stsctl init mixed.test --mx mail.mixed.test $net
expect 0
check "init --mx: given mx lines win, no MX derived" \
    test "$(mx_lines mixed.test)" = "mail.mixed.test "
if grep -q "MX records from" "$tmp/so"; then
	not_ok "init --mx: looked up the MX records"
else
	ok "init --mx: no MX lookup"
fi

for case in "nullmx null MX \(RFC 7505\): the domain takes no mail" \
    "addrmx MX 10 192.0.2.25 is an address, not a host name" \
    "nomx no MX records: its mail goes to its address records" \
    "nonexistent the name does not exist in the DNS"; do
	dom=${case%% *}
	stsctl init "$dom.test" $net
	expect 1
	err "${case#* }"
	check "init $dom.test: nothing written" test ! -e "$p/$dom.test.txt"
done

# ---- the pre-flight before enforce ----------------------------------------------

pre="$net --ca-file $ca"
# A policy in testing for each case (its mx lines given), then enforce.
stsctl init pfok.test --mx mx.pfok.test $net
stsctl init pfcover.test --mx mx.pfcover.test $net
stsctl init pfwild.test --mx '*.pfwild.test' $net
stsctl init pfplain.test --mx mx.pfplain.test $net
stsctl init pfname.test --mx mx.pfname.test $net
stsctl init pfexp.test --mx mx.pfexp.test $net
stsctl init pfsoon.test --mx mx.pfsoon.test $net

stsctl mode pfok.test enforce $pre
expect 0
out "^pfok.test: pre-flight of the policy about to be served" \
    "^OK   mx.policy: mx.pfok.test matches mx mx.pfok.test$" \
    "^OK   mx.tls: mx.pfok.test: TLS 1.2 .*valid (89|90) more days$" \
    "^mta-sts.pfok.test now serves mode enforce"
check "pre-flight passed: enforce served" serves pfok.test enforce

# refused DOMAIN PATTERN: mode DOMAIN enforce stops on a FAIL matching
# PATTERN, with its fix, and leaves the policy and its id as they were.
refused() {
	_id=$(rec_id "$1")
	_src=$(cat "$p/$1.txt")
	stsctl mode "$1" enforce $pre
	expect 1
	out "^FAIL $2" "^     fix: "
	err "the pre-flight failed \(FAIL above\); nothing changed"
	if [ "$(cat "$p/$1.txt")" = "$_src" ] && [ "$(rec_id "$1")" = "$_id" ] &&
	    serves "$1" testing; then
		ok "$1: refused: the policy, its id and what is served unchanged"
	else
		not_ok "$1: refused, but something changed"
	fi
}
refused pfcover.test "mx.policy: mx2.pfcover.test matches no mx pattern of the policy"
refused pfwild.test "mx.policy: a.b.pfwild.test matches no mx pattern of the policy"
refused pfplain.test "mx.tls: mx.pfplain.test port 25: EHLO: STARTTLS not offered"
refused pfname.test "mx.tls: mx.pfname.test: TLS handshake: certificate not valid for mx.pfname.test"
refused pfexp.test "mx.tls: mx.pfexp.test: TLS handshake: certificate expired"
refused pfsoon.test "mx.tls: mx.pfsoon.test: TLS 1.2 .*valid 4 more days"

stsctl mode pfexp.test enforce --force $pre
expect 0
err "--force: enforcing although the pre-flight failed: mx.tls: mx.pfexp.test: TLS handshake: certificate expired"
check "--force: enforce served" serves pfexp.test enforce
stsctl mode pfplain.test enforce --no-preflight $pre
expect 0
out "^pfplain.test: pre-flight skipped \(--no-preflight\): the MX hosts were not checked"
check "--no-preflight: enforce served" serves pfplain.test enforce
stsctl mode pfplain.test testing $pre
expect 0
if grep -q "pre-flight" "$tmp/so"; then
	not_ok "mode testing: ran a pre-flight"
else
	ok "mode testing: no pre-flight (the way back)"
fi
# set while enforcing: the new mx list leaves an MX host uncovered.
_id=$(rec_id pfok.test)
stsctl set pfok.test --mx other.pfok.test $pre
expect 1
out "^FAIL mx.policy: mx.pfok.test matches no mx pattern of the policy"
check "set while enforcing: refused, same id" test "$(rec_id pfok.test)" = "$_id"
stsctl set pfok.test --max-age 1209600 $pre
expect 0
out "^OK   mx.policy: mx.pfok.test matches mx mx.pfok.test$"

# ---- the one-week threshold; check on the Exchange Online set-up -----------

printf 'version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604799\n' >"$tmp/short.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 604800\n' >"$tmp/week.txt"
"$ctl" validate "$tmp/short.txt" "$tmp/week.txt" >"$tmp/so" 2>"$tmp/se"
rc=$? last="validate (604799, 604800)"
expect 0
err "^$tmp/short.txt:4: warning: max_age 604799 is under 604800 \(one week\), short for mode enforce$"
check "validate: one week draws no warning" sh -c "! grep -q week.txt '$tmp/se'"
stsctl mode exo.test enforce $pre
expect 0
stsctl status exo.test
expect 0
if grep -q warning "$tmp/so"; then
	not_ok "status exo.test (one week): a warning"
	show "$tmp/so"
else
	ok "status exo.test: one week in enforce, no warning"
fi
stsctl set exo.test --max-age 86400 --no-preflight
stsctl status exo.test
expect 1
out "^  warning: max_age 86400 is under 604800 \(one week\), short for mode enforce$"
stsctl set exo.test --max-age 604800 --no-preflight
# The published id is the recorded one: the documented set-up, checked
# as senders see it, passes every check.
nsx sh -c "printf 'server 127.0.0.2\nupdate delete _mta-sts.exo.test TXT\nupdate add _mta-sts.exo.test 300 TXT \"v=STSv1; id=$(rec_id exo.test);\"\nsend\n' | nsupdate -k $bk/mta-sts.key"
nsx -t 60 "$ctl" -f "$conf" check $pre exo.test >"$tmp/so" 2>"$tmp/se"
rc=$? last="check exo.test (the Exchange Online set-up)"
expect 0
out "^OK   policy: mode enforce, 1 mx, max_age 604800$" \
    "^OK   mx.policy: exo-test.mail.protection.outlook.com matches mx \*.mail.protection.outlook.com$" \
    "^exo.test: all checks passed$"

# ---- adopt ---------------------------------------------------------------------

# sender_sees DOMAIN ID MODE MX WHEN: mta-sts-query, mta-sts-daemon (a
# caching sender) and mailauth see the policy id ID in MODE with MX.
sender_sees() {
	nsx -t 20 mta-sts-query "$1" >"$tmp/q" 2>&1
	if grep -qF "'$2'" "$tmp/q" && grep -qF "'mode': '$3'" "$tmp/q" &&
	    grep -qF "'mx': ['$4']" "$tmp/q"; then
		ok "mta-sts-query $1 $5: id $2, mode $3, mx $4"
	else
		not_ok "mta-sts-query $1 $5: expected id $2, mode $3, mx $4"
		show "$tmp/q"
	fi
	_sm=$(nsx -t 20 "$PY" tests/fetchers/socketmap.py 127.0.0.1 8461 \
	    "postfix $1" 2>&1)
	if [ "$_sm" = "OK secure match=$4 servername=hostname" ]; then
		ok "mta-sts-daemon $1 $5: '$_sm'"
	else
		not_ok "mta-sts-daemon $1 $5: '$_sm'"
	fi
	nsx -t 20 node tests/fetchers/mailauth.js "$NODE_PREFIX" "$1" "$4" \
	    >"$tmp/m" 2>&1
	if grep -qx "id=$2" "$tmp/m" && grep -qx "mode=$3" "$tmp/m" &&
	    grep -qx "mx=$4" "$tmp/m" && grep -qx "validateMx $4=true" "$tmp/m"; then
		ok "mailauth $1 $5: id $2, mode $3, mx $4"
	else
		not_ok "mailauth $1 $5: expected id $2, mode $3, mx $4"
		show "$tmp/m"
	fi
}

sender_sees moved.test 20240505000000Z enforce mx.moved.test "served by nginx"
check "before the move, the fetchers got the policy from nginx" \
    grep -q 'GET /.well-known/mta-sts.txt' "$tmp/nginx/access.log"
stsctl adopt moved.test $pre
expect 0
out "^moved.test: id 20240505000000Z published at _mta-sts.moved.test; policy fetched from https://mta-sts.moved.test/.well-known/mta-sts.txt \([0-9]+ bytes\)$" \
    "^  4 of 4 lines end with LF, not CRLF" \
    "^  the keys come in the order 'max_age mx version mode', not 'version mode mx max_age'$" \
    "^moved.test: this does not matter to senders: they read both as the same policy \(mode enforce, 1 mx, max_age 604800\)" \
    "^moved.test: adopted into $p/moved.test.txt, current id 20240505000000Z" \
    "^mta-sts.moved.test: served here now"
check "adopt: the id recorded" test "$(rec_id moved.test)" = 20240505000000Z
check "adopt: mta-stsd serves the adopted policy" serves moved.test enforce
# An invalid served policy is refused with the validator's errors.
stsctl adopt broken.test $pre
expect 1
err "^https://mta-sts.broken.test/.well-known/mta-sts.txt:2: error: " \
    "the served policy is invalid \(errors above\); nothing adopted"
check "adopt of an invalid policy: nothing written" test ! -e "$p/broken.test.txt"
# The move: mta-sts.moved.test now points at mta-stsd; nginx goes.
bind_nsupdate "$bk/mta-sts.key" "update delete mta-sts.moved.test A
update add mta-sts.moved.test 300 A 127.0.0.1"
stop_pid "$nginx_pid"
sender_sees moved.test 20240505000000Z enforce mx.moved.test "served by mta-stsd"
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.moved.test\r\nmax_age: 604800\r\n' >"$tmp/canon"
if nsx -t 10 curl -sS --max-time 5 --cacert "$ca" \
    https://mta-sts.moved.test/.well-known/mta-sts.txt 2>/dev/null |
    cmp -s - "$tmp/canon"; then
	ok "after the move, mta-sts.moved.test is mta-stsd's canonical body"
else
	not_ok "after the move, mta-sts.moved.test is not mta-stsd's"
fi

# The next change issues a new id, never the adopted one.
stsctl set moved.test --max-age 1209600 $pre
expect 0
idm=$(rec_id moved.test)
check "after adopt: a new id ($idm), not the adopted one" \
    test -n "$idm" -a "$idm" != 20240505000000Z
check "after adopt: the adopted id is among the previous ones" \
    grep -qx 'previous: 20240505000000Z' "$p/.ids/moved.test.id"

# Offline, with the id the clock would give now: the next id differs.
now_id=$("$ctl" id)
printf 'version: STSv1\r\nmode: testing\r\nmx: mx.adopt2.test\r\nmax_age: 86400\r\n' >"$tmp/adopt2.txt"
stsctl adopt adopt2.test --from-file "$tmp/adopt2.txt" --id "$now_id"
expect 0
out "^adopt2.test: the served body is already the canonical one"
stsctl mode adopt2.test none
expect 0
ida=$(rec_id adopt2.test)
check "adopted $now_id (this hour's id), then a change: $ida, another" \
    test -n "$ida" -a "$ida" != "$now_id"
stsctl adopt adopt2.test --from-file "$tmp/adopt2.txt" --id "$now_id"
expect 1
err "adopt2.test.txt exists; adopt never overwrites a policy"

# Blank and comment lines, no final line end: that matters to senders.
printf 'version: STSv1\n\n# the mail hosts\nmode: testing\nmx:  mx.filed.test\nmax_age: 86400' \
    >"$tmp/filed.txt"
stsctl adopt filed.test --from-file "$tmp/filed.txt" --id 20230101000000Z
expect 0
out "^  1 blank and 1 comment lines: go-mtasts and mox reject such a policy" \
    "^  1 lines are not spaced as 'key: value'$" \
    "^  the last line has no line end" \
    "^filed.test: this matters to some senders"
check "adopt --from-file: the id recorded, not as published" \
    sh -c "grep -qx 'id: 20230101000000Z' '$p/.ids/filed.test.id' && ! grep -q '^published:' '$p/.ids/filed.test.id'"
stsctl adopt filed.test --from-file "$tmp/adopt2.txt"
expect 2
stsctl adopt filed.test --id 20240101000000Z
expect 2

stop_all
echo "mxpolicy: $(($(date +%s) - start)) s"
summary
