#!/bin/sh
# tests/fetchers/fetchers.sh: real MTA-STS senders fetch what mta-stsd serves.
#
# Two independent fetchers, as mail servers run them:
#   - postfix-mta-sts-resolver (Debian): mta-sts-query, and mta-sts-daemon
#     asked over the Postfix socketmap protocol (tests/fetchers/socketmap.py);
#   - mailauth (npm): getPolicy() and validateMx() of its MTA-STS module
#     (tests/fetchers/mailauth.js).
# Each resolves _mta-sts.DOMAIN (TXT) and mta-sts.DOMAIN (A) through a real
# DNS server (dnsmasq) and fetches https://mta-sts.DOMAIN/.well-known/
# mta-sts.txt from mta-stsd on port 443, trusting only a test CA.  All of
# it runs in a network namespace of its own, on that namespace's loopback
# (127.0.0.1 and 127.0.0.2); the host's network and resolv.conf are never
# touched (ip netns exec bind-mounts /etc/netns/NS/{resolv.conf,hosts}).
#
# Domains:
#   example.com        ECDSA P-256 certificate, enforce: must be accepted
#   example.net        RSA 2048 certificate, enforce, a wildcard mx: accepted
#   untrusted.example  served by mta-stsd, certificate from another CA:
#                      every fetcher must refuse it
#   mismatch.example   answered (127.0.0.2) by openssl s_server with the
#                      trusted certificate of mta-sts.example.com: the name
#                      is not covered, every fetcher must refuse it
#   cycle.example      no policy at start: the life cycle of mta-stsctl
#                      (init, mode enforce, mode testing) against the
#                      running mta-stsd, each new id published in the test
#                      DNS, and what the fetchers see before and after
#
# The life cycle runs mta-stsctl in the namespace (it reaches mta-stsd at
# the configuration's first listen address and signals it through
# pid_file), publishes the TXT record it prints by restarting dnsmasq with
# it, and asks mta-sts-daemon (which caches policies by id: cache_grace 0
# makes it look the id up on every request, and fetch again only for a new
# one), mta-sts-query and mailauth (which always fetch).  mta-sts-daemon
# answers in two zones: "postfix" (strict_testing false: NOTFOUND for
# testing, OK secure for enforce) and "strict" (OK secure for both): the
# pair tells testing from enforce from no policy.
#
# Needs root.  Installs what is missing: the Debian packages
# postfix-mta-sts-resolver and dnsmasq-base (and nodejs, npm if there is no
# node), and mailauth MAILAUTH_VERSION with npm into $CACHE/node, where
# reruns find it.  A prerequisite that cannot be had is a failure, or only
# a SKIP line with SKIP_FETCHERS=1.  VERBOSE=1 shows what each fetcher said.
# Ends with "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

ns=mta-stsd-fetch-$$

# Proxies from the environment would send the fetchers elsewhere.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY

suite_start fetchers
daemon=$d
. tests/netns.sh

# (missing WHAT, tests/lib.sh: a prerequisite that is not there; SKIP
# with SKIP_FETCHERS=1.)

# say TEXT: shown with VERBOSE only (what a fetcher said).
say() {
	[ -n "${VERBOSE:-}" ] && echo "# $*"
	return 0
}

# (show FILE: the file's lines as comments, at most 20; apt_install
# PACKAGE...: tests/lib.sh.)

# (have_mailauth, mailauth_install: tests/lib.sh.)

# ---- prerequisites --------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	missing "fetchers: needs root (network namespace, port 443)"
	summary
	exit
fi
if [ ! -x "$daemon" ]; then
	not_ok "fetchers: $daemon is not built (run make)"
	summary
	exit
fi
if ! command -v ip >/dev/null || ! command -v openssl >/dev/null ||
    ! command -v curl >/dev/null; then
	apt_install iproute2 openssl curl
fi

debs=
if ! command -v mta-sts-query >/dev/null ||
    ! command -v mta-sts-daemon >/dev/null; then
	debs="$debs postfix-mta-sts-resolver"
fi
command -v dnsmasq >/dev/null || debs="$debs dnsmasq-base"
# shellcheck disable=SC2086
[ -z "$debs" ] || apt_install $debs
mailauth_install

use_dns=1 use_resolver=1 use_mailauth=1
if ! command -v dnsmasq >/dev/null; then
	use_dns=0
	missing "fetchers: dnsmasq missing (Debian dnsmasq-base)"
fi
if ! command -v mta-sts-query >/dev/null ||
    ! command -v mta-sts-daemon >/dev/null; then
	use_resolver=0
	missing "fetchers: mta-sts-query/mta-sts-daemon missing (Debian postfix-mta-sts-resolver)"
fi
if ! have_mailauth; then
	use_mailauth=0
	missing "fetchers: mailauth $MAILAUTH_VERSION missing (npm, into $NODE_PREFIX)"
fi
if [ "$use_dns" = 0 ] || { [ "$use_resolver" = 0 ] && [ "$use_mailauth" = 0 ]; }; then
	summary
	exit
fi

start=$(date +%s)

# ---- certificates, policies, configuration --------------------------------

mkcert "$tmp/ca" ca
mkcert "$tmp/ca" cert example.com-ec ec256 90 mta-sts.example.com
mkcert "$tmp/ca" cert example.net-rsa rsa2048 90 mta-sts.example.net
mkcert "$tmp/ca" cert cycle ec256 90 mta-sts.cycle.example
mkcert "$tmp/badca" ca
mkcert "$tmp/badca" cert untrusted ec256 90 mta-sts.untrusted.example
mkdir -p "$tmp/certs" "$tmp/policies" "$tmp/www/.well-known" "$tmp/nocerts"
cp "$tmp/ca/example.com-ec.pem" "$tmp/ca/example.com-ec.key" \
    "$tmp/ca/example.net-rsa.pem" "$tmp/ca/example.net-rsa.key" \
    "$tmp/badca/untrusted.pem" "$tmp/badca/untrusted.key" \
    "$tmp/ca/cycle.pem" "$tmp/ca/cycle.key" "$tmp/certs/"
ca=$tmp/ca/ca.pem

printf '# enforce, one mx\nversion: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 1209600\n' \
    >"$tmp/policies/example.com.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx1.example.net\nmx: *.mx.example.net\nmax_age: 1209600\n' \
    >"$tmp/policies/example.net.txt"
printf 'version: STSv1\nmode: enforce\nmx: mail.untrusted.example\nmax_age: 1209600\n' \
    >"$tmp/policies/untrusted.example.txt"
printf 'version: STSv1\r\nmode: enforce\r\nmx: mail.mismatch.example\r\nmax_age: 1209600\r\n' \
    >"$tmp/www/.well-known/mta-sts.txt"

# pid_file: mta-stsctl signals the server through it; the server removes
# it as nobody at exit, so its directory belongs to nobody.
conf=$tmp/mta-stsd.conf
mkdir -p "$tmp/run"
chown nobody:nogroup "$tmp/run"
printf '[server]\nlisten = 127.0.0.1:443\npolicy_dir = %s\ncert_dir = %s\nuser = nobody\nlog_level = debug\npid_file = %s\n' \
    "$tmp/policies" "$tmp/certs" "$tmp/run/mta-stsd.pid" >"$conf"
chmod 0755 "$tmp"
chgrp -R nogroup "$tmp/certs" "$tmp/policies"
chmod 0750 "$tmp/certs" "$tmp/policies"
chmod 0640 "$tmp/certs"/* "$tmp/policies"/*


# What the fetchers trust: the test CA only.  Python's OpenSSL reads
# SSL_CERT_FILE and SSL_CERT_DIR (an empty one: no system store); node adds
# NODE_EXTRA_CA_CERTS to its bundled roots, which sign nothing here.
export SSL_CERT_FILE="$ca" SSL_CERT_DIR="$tmp/nocerts" NODE_EXTRA_CA_CERTS="$ca"

if "$daemon" -n -f "$conf" >"$tmp/check.out" 2>&1 &&
    grep -q '^3 domains served, 0 failed$' "$tmp/check.out"; then
	ok "mta-stsd -n: 3 domains served"
else
	not_ok "mta-stsd -n: expected 3 domains served"
	show "$tmp/check.out"
fi

# ---- the namespace --------------------------------------------------------

# 127.0.0.2 is where the impostor listens (see netns_up).
if ! netns_up 127.0.0.2; then
	not_ok "fetchers: cannot make network namespace $ns"
	summary
	exit
fi

# start_dns [OPTION...]: (re)starts dnsmasq with the fixed records and the
# extra OPTIONs (the life cycle's TXT record).  dnsmasq rereads no
# --txt-record on SIGHUP: a new record is a restart.  Local records have
# TTL 0 (--local-ttl): no resolver keeps an old id.
dns_pid=
start_dns() {
	[ -z "$dns_pid" ] || stop_pid "$dns_pid"
	# shellcheck disable=SC2046
	bg "$tmp/dnsmasq.log" dnsmasq $(dnsmasq_args) \
	    --local=/example.com/ --local=/example.net/ \
	    --local=/untrusted.example/ --local=/mismatch.example/ \
	    --local=/cycle.example/ \
	    "--txt-record=_mta-sts.example.com,v=STSv1; id=20240101000000Z;" \
	    "--txt-record=_mta-sts.example.net,v=STSv1; id=20240202000000Z;" \
	    "--txt-record=_mta-sts.untrusted.example,v=STSv1; id=20240303000000Z;" \
	    "--txt-record=_mta-sts.mismatch.example,v=STSv1; id=20240404000000Z;" \
	    --host-record=mta-sts.example.com,127.0.0.1 \
	    --host-record=mta-sts.example.net,127.0.0.1 \
	    --host-record=mta-sts.untrusted.example,127.0.0.1 \
	    --host-record=mta-sts.mismatch.example,127.0.0.2 \
	    --host-record=mta-sts.cycle.example,127.0.0.1 "$@"
	dns_pid=${pids##* }
	wait_for 5 ip netns exec "$ns" getent ahostsv4 mta-sts.example.com
}

if start_dns; then
	ok "dnsmasq answers in the namespace"
else
	not_ok "dnsmasq does not answer"
	show "$tmp/dnsmasq.log"
	summary
	exit
fi

bg "$tmp/mta-stsd.log" "$daemon" -d -f "$conf"
mta_stsd_pid=${pids##* }
if wait_for 5 grep -q 'domains served' "$tmp/mta-stsd.log" &&
    wait_for 5 nsx curl -s -o /dev/null --max-time 2 --cacert "$ca" \
    https://mta-sts.example.com/.well-known/mta-sts.txt; then
	ok "mta-stsd serves in the namespace"
else
	not_ok "mta-stsd did not start"
	show "$tmp/mta-stsd.log"
	summary
	exit
fi

# shellcheck disable=SC2016
bg "$tmp/s_server.log" sh -c 'cd "$1" && exec openssl s_server -quiet \
    -accept 127.0.0.2:443 -cert "$2.pem" -key "$2.key" -WWW' sh \
    "$tmp/www" "$tmp/ca/example.com-ec"
if [ "$use_resolver" = 1 ]; then
	bg "$tmp/daemon.log" mta-sts-daemon -c tests/fetchers/daemon.yml -v debug \
	    --disable-uvloop
fi

# ---- baseline: curl and openssl see what the fetchers will see ------------

expected=$(printf 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 1209600\r\n')
if nsx curl -sS --max-time 5 --cacert "$ca" -D "$tmp/h" -o "$tmp/b" \
    https://mta-sts.example.com/.well-known/mta-sts.txt 2>"$tmp/e" &&
    [ "$(cat "$tmp/b")" = "$expected" ] &&
    grep -qi '^content-type: text/plain' "$tmp/h"; then
	ok "curl: example.com policy, text/plain, via DNS"
else
	not_ok "curl: example.com policy"
	show "$tmp/e"
	show "$tmp/h"
fi

# tls_key HOST BITS: the certificate served for HOST verifies against the
# test CA and has a BITS-bit key (256 ECDSA, 2048 RSA).
tls_key() {
	nsx openssl s_client -connect 127.0.0.1:443 -servername "$1" \
	    -verify_hostname "$1" -CAfile "$ca" </dev/null >"$tmp/s" 2>&1
	if grep -q "Server public key is $2 bit" "$tmp/s" &&
	    grep -q 'Verify return code: 0 (ok)' "$tmp/s"; then
		ok "openssl: $1 has a verified $2-bit key"
	else
		not_ok "openssl: $1: expected a verified $2-bit key"
		grep -i 'public key\|verify\|error' "$tmp/s" | show /dev/stdin
	fi
}
tls_key mta-sts.example.com 256
tls_key mta-sts.example.net 2048

# control HOST: the policy is there without verification, and curl refuses
# the certificate (exit 60): so a fetcher's refusal is about TLS.
control() {
	nsx curl -sS -k --max-time 5 -o "$tmp/b" \
	    "https://$1/.well-known/mta-sts.txt" 2>"$tmp/e"
	rc1=$?
	nsx curl -sS --max-time 5 --cacert "$ca" -o /dev/null \
	    "https://$1/.well-known/mta-sts.txt" 2>"$tmp/e2"
	rc2=$?
	if [ "$rc1" = 0 ] && grep -q '^mode: enforce' "$tmp/b" &&
	    [ "$rc2" = 60 ]; then
		ok "control: $1 serves a policy, its certificate is refused"
		say "curl: $(cat "$tmp/e2")"
	else
		not_ok "control: $1: curl -k rc=$rc1, curl --cacert rc=$rc2 (expected 0 and 60)"
		show "$tmp/e"
		show "$tmp/e2"
	fi
}
wait_for 5 nsx curl -sk -o /dev/null --max-time 2 \
    https://mta-sts.mismatch.example/.well-known/mta-sts.txt
control mta-sts.untrusted.example
control mta-sts.mismatch.example

# ---- postfix-mta-sts-resolver ---------------------------------------------

# has FILE STRING...: FILE contains every STRING.
has() {
	_f=$1
	shift
	for _s in "$@"; do
		grep -qF -- "$_s" "$_f" || return 1
	done
}

# query DOMAIN ID MODE MX...: mta-sts-query gets a valid policy.
query() {
	_d=$1 _id=$2 _mode=$3
	shift 3
	_mx=
	for _m in "$@"; do _mx="$_mx${_mx:+, }'$_m'"; done
	nsx mta-sts-query -v debug "$_d" >"$tmp/q" 2>"$tmp/qe"
	if has "$tmp/q" "STSFetchResult.VALID" "'$_id'" \
	    "'version': 'STSv1'" "'mode': '$_mode'" "'mx': [$_mx]" \
	    "'max_age': 1209600"; then
		ok "mta-sts-query: $_d: $_mode, mx $*"
		say "mta-sts-query $_d: $(cat "$tmp/q")"
	else
		not_ok "mta-sts-query: $_d: expected VALID $_mode mx $*"
		show "$tmp/q"
		show "$tmp/qe"
	fi
}

# query_refused DOMAIN WHY: mta-sts-query gets no policy, for a TLS reason.
query_refused() {
	nsx mta-sts-query -v debug "$1" >"$tmp/q" 2>"$tmp/qe"
	if has "$tmp/q" "STSFetchResult.FETCH_ERROR" &&
	    has "$tmp/qe" CERTIFICATE_VERIFY_FAILED "$2"; then
		ok "mta-sts-query: $1: refused ($2)"
		say "mta-sts-query $1: $(grep -m1 'failed with error' "$tmp/qe")"
	else
		not_ok "mta-sts-query: $1: expected FETCH_ERROR ($2)"
		show "$tmp/q"
		show "$tmp/qe"
	fi
}

# socketmap DOMAIN EXPECTED: mta-sts-daemon's answer to Postfix.
socketmap() {
	nsx /usr/bin/python3 tests/fetchers/socketmap.py 127.0.0.1 8461 \
	    "postfix $1" >"$tmp/sm" 2>&1
	if [ "$(cat "$tmp/sm")" = "$2" ]; then
		ok "mta-sts-daemon: $1: '$2'"
	else
		not_ok "mta-sts-daemon: $1: expected '$2', got '$(cat "$tmp/sm")'"
		show "$tmp/daemon.log"
	fi
}

if [ "$use_resolver" = 1 ]; then
	query example.com 20240101000000Z enforce mail.example.com
	query example.net 20240202000000Z enforce mx1.example.net \
	    '*.mx.example.net'
	query_refused untrusted.example 'self-signed certificate in certificate chain'
	query_refused mismatch.example 'Hostname mismatch'

	if wait_for 10 nsx /usr/bin/python3 -c 'import socket
socket.create_connection(("127.0.0.1", 8461), timeout=1)'; then
		socketmap example.com \
		    'OK secure match=mail.example.com servername=hostname'
		# The daemon lists the mx set in no fixed order.
		nsx /usr/bin/python3 tests/fetchers/socketmap.py 127.0.0.1 \
		    8461 "postfix example.net" >"$tmp/sm" 2>&1
		case $(cat "$tmp/sm") in
		'OK secure match=mx1.example.net:.mx.example.net servername=hostname' |\
		'OK secure match=.mx.example.net:mx1.example.net servername=hostname')
			ok "mta-sts-daemon: example.net: $(cat "$tmp/sm")" ;;
		*)
			not_ok "mta-sts-daemon: example.net: got '$(cat "$tmp/sm")'"
			show "$tmp/daemon.log" ;;
		esac
		socketmap untrusted.example 'NOTFOUND '
		socketmap mismatch.example 'NOTFOUND '
	else
		not_ok "mta-sts-daemon did not start"
		show "$tmp/daemon.log"
	fi
fi

# ---- mailauth ---------------------------------------------------------------

# mailauth DOMAIN ARGS...: runs tests/fetchers/mailauth.js into $tmp/m.
mailauth() {
	nsx node tests/fetchers/mailauth.js "$NODE_PREFIX" "$@" >"$tmp/m" 2>&1
}

# line TEXT: $tmp/m has the line TEXT.
line() {
	grep -qxF -- "$1" "$tmp/m"
}

if [ "$use_mailauth" = 1 ]; then
	mailauth example.com mail.example.com other.example.org
	if line status=found && line id=20240101000000Z &&
	    line mode=enforce && line mx=mail.example.com &&
	    line max_age=1209600; then
		ok "mailauth getPolicy: example.com: enforce, mx mail.example.com"
	else
		not_ok "mailauth getPolicy: example.com: expected found, enforce"
		show "$tmp/m"
	fi
	check "mailauth validateMx: mail.example.com valid" \
	    line "validateMx mail.example.com=true"
	check "mailauth validateMx: other.example.org not valid" \
	    line "validateMx other.example.org=false"
	say "mailauth example.com: $(tr '\n' ' ' <"$tmp/m")"

	mailauth example.net a.mx.example.net mx1.example.net \
	    mx2.example.net
	if line status=found && line id=20240202000000Z &&
	    line mode=enforce && line 'mx=mx1.example.net,*.mx.example.net' &&
	    line 'validateMx a.mx.example.net=true' &&
	    line 'validateMx mx1.example.net=true' &&
	    line 'validateMx mx2.example.net=false'; then
		ok "mailauth: example.net (RSA): enforce, wildcard mx matches"
	else
		not_ok "mailauth: example.net (RSA)"
		show "$tmp/m"
	fi
	say "mailauth example.net: $(tr '\n' ' ' <"$tmp/m")"

	# refused DOMAIN CODE...: no policy, and the error is one of CODEs.
	refused() {
		_d=$1
		shift
		mailauth "$_d" "mail.$_d"
		_ok=
		for _c in "$@"; do
			grep -q "^error=$_c: " "$tmp/m" && _ok=1
		done
		if [ -n "$_ok" ] && line status=errored && line mode=none; then
			ok "mailauth: $_d: refused ($(sed -n 's/^error=//p' "$tmp/m"))"
		else
			not_ok "mailauth: $_d: expected a TLS error ($*)"
			show "$tmp/m"
		fi
	}
	refused untrusted.example SELF_SIGNED_CERT_IN_CHAIN \
	    UNABLE_TO_VERIFY_LEAF_SIGNATURE UNABLE_TO_GET_ISSUER_CERT_LOCALLY
	refused mismatch.example ERR_TLS_CERT_ALTNAME_INVALID
fi

# ---- life cycle: init, enforce, testing with mta-stsctl -------------------

# What the fetchers see of cycle.example at each step, with the TXT id the
# DNS publishes then.  The daemon's cache decides what a caching sender
# applies: before the new id is published it keeps the policy it has.
cyc=cycle.example
cyc_mx=mail.cycle.example
cyc_secure="OK secure match=$cyc_mx servername=hostname"

# stsctl COMMAND...: mta-stsctl in the namespace, on this configuration;
# its output in $tmp/ctl, $tmp/ctle, its exit status in $ctl_rc.
stsctl() {
	nsx "$ctl" -f "$conf" "$@" >"$tmp/ctl" 2>"$tmp/ctle"
	ctl_rc=$?
	return "$ctl_rc"
}

# txt_id: the id of the one TXT record mta-stsctl printed, exactly as
# mta-stsctl's documentation has it; empty when there is not exactly one.
txt_id() {
	_l=$(grep -E "^_mta-sts\.$cyc\. 3600 IN TXT \"v=STSv1; id=[A-Za-z0-9]{1,32};\"\$" \
	    "$tmp/ctl")
	[ "$(grep -c '^_mta-sts\.' "$tmp/ctl")" = 1 ] || return 0
	printf '%s\n' "$_l" | sed 's/.*id=\([A-Za-z0-9]*\);"$/\1/'
}

# publish ID: the DNS answers _mta-sts.cycle.example with the record
# mta-stsctl printed (name and text taken from its output).
publish() {
	_line=$(grep '^_mta-sts\.' "$tmp/ctl")
	_name=${_line%%. *}
	_text=$(printf '%s\n' "$_line" | sed 's/^[^"]*"\(.*\)"$/\1/')
	if start_dns "--txt-record=$_name,$_text"; then
		ok "dnsmasq publishes $_name TXT \"$_text\""
	else
		not_ok "dnsmasq did not restart with id $1"
		show "$tmp/dnsmasq.log"
	fi
}

# cycle_query ID MODE WHAT: mta-sts-query sees TXT id ID and a served
# policy in MODE.
cycle_query() {
	[ "$use_resolver" = 1 ] || return 0
	nsx mta-sts-query -v debug "$cyc" >"$tmp/q" 2>"$tmp/qe"
	if has "$tmp/q" "STSFetchResult.VALID" "'$1'" "'mode': '$2'" \
	    "'mx': ['$cyc_mx']" "'max_age': 86400"; then
		ok "mta-sts-query: $cyc: $3: id $1, mode $2"
		say "mta-sts-query $cyc: $(cat "$tmp/q")"
	else
		not_ok "mta-sts-query: $cyc: $3: expected VALID, id $1, mode $2"
		show "$tmp/q"
		show "$tmp/qe"
	fi
}

# fetches: how often mta-sts-daemon fetched cycle.example's policy.
fetches() {
	grep -c "Parsed policy for domain $cyc:" "$tmp/daemon.log"
}

# cycle_daemon MODE FETCHES WHAT: mta-sts-daemon applies MODE for
# cycle.example (its answers in both zones) and has fetched the policy
# FETCHES times in all, the last time in MODE.
cycle_daemon() {
	[ "$use_resolver" = 1 ] || return 0
	_sp=$(nsx /usr/bin/python3 tests/fetchers/socketmap.py 127.0.0.1 8461 \
	    "postfix $cyc" 2>&1)
	_ss=$(nsx /usr/bin/python3 tests/fetchers/socketmap.py 127.0.0.1 8461 \
	    "strict $cyc" 2>&1)
	case $1 in
	testing) _want='NOTFOUND ' ;;
	enforce) _want=$cyc_secure ;;
	esac
	_n=$(fetches)
	_last=$(grep "Parsed policy for domain $cyc:" "$tmp/daemon.log" |
	    tail -1)
	case $_last in
	*"'mode': '$1'"*) _lastok=1 ;;
	*) _lastok= ;;
	esac
	if [ "$_sp" = "$_want" ] && [ "$_ss" = "$cyc_secure" ] &&
	    [ "$_n" = "$2" ] && [ -n "$_lastok" ]; then
		ok "mta-sts-daemon: $cyc: $3: applies $1 (postfix '$_sp', strict '$_ss', $_n fetches)"
	else
		not_ok "mta-sts-daemon: $cyc: $3: expected $1 after $2 fetches; postfix '$_sp', strict '$_ss', $_n fetches"
		grep "$cyc" "$tmp/daemon.log" | tail -8 | show /dev/stdin
	fi
}

# cycle_mailauth ID MODE WHAT: mailauth's getPolicy finds id ID, MODE.
cycle_mailauth() {
	[ "$use_mailauth" = 1 ] || return 0
	mailauth "$cyc" "$cyc_mx" other.example.org
	if line status=found && line "id=$1" && line "mode=$2" &&
	    line "mx=$cyc_mx" && line "validateMx $cyc_mx=true" &&
	    line "validateMx other.example.org=false"; then
		ok "mailauth: $cyc: $3: id $1, mode $2"
	else
		not_ok "mailauth: $cyc: $3: expected found, id $1, mode $2"
		show "$tmp/m"
	fi
}

# cycle_change MODE: mta-stsctl mode cycle.example MODE; the new id in $id.
cycle_change() {
	id=
	# No mail host answers here: no pre-flight (tests/mxpolicy's).
	if stsctl mode "$cyc" "$1" --no-preflight &&
	    grep -qxF "mta-sts.$cyc now serves mode $1 (max_age 86400); new id $(txt_id)." \
	    "$tmp/ctl" && [ -n "$(txt_id)" ]; then
		id=$(txt_id)
		ok "mta-stsctl mode $cyc $1: served, new id $id"
		say "mta-stsctl: $(cat "$tmp/ctl" "$tmp/ctle" | tr '\n' ' ')"
	else
		not_ok "mta-stsctl mode $cyc $1 (exit $ctl_rc)"
		show "$tmp/ctl"
		show "$tmp/ctle"
	fi
}

if [ ! -x "$ctl" ]; then
	not_ok "fetchers: $ctl is not built (run make)"
elif [ "$(cat "$tmp/run/mta-stsd.pid" 2>/dev/null)" != "$mta_stsd_pid" ]; then
	not_ok "mta-stsd wrote no pid_file with its pid $mta_stsd_pid"
	show "$tmp/mta-stsd.log"
else
	# 1. init: mode testing, served at once, the first id.
	if stsctl init "$cyc" --mx "$cyc_mx" &&
	    grep -qxF "mta-sts.$cyc: served now." "$tmp/ctl" &&
	    [ -n "$(txt_id)" ]; then
		id1=$(txt_id)
		ok "mta-stsctl init $cyc: served now, id $id1"
		say "mta-stsctl: $(cat "$tmp/ctl" "$tmp/ctle" | tr '\n' ' ')"
	else
		not_ok "mta-stsctl init $cyc (exit $ctl_rc)"
		show "$tmp/ctl"
		show "$tmp/ctle"
		id1=
	fi
	[ -z "$id1" ] || publish "$id1"
	cycle_query "$id1" testing "after init"
	cycle_daemon testing 1 "after init"
	cycle_mailauth "$id1" testing "after init"

	# 2. enforce: served at once; a sender that cached the testing
	# policy keeps it until the new id is in the DNS.
	cycle_change enforce
	id2=$id
	if [ -n "$id2" ] && [ "$id2" != "$id1" ]; then
		ok "mta-stsctl: enforce has a new id ($id1 -> $id2)"
	else
		not_ok "mta-stsctl: enforce: id '$id2' is not new (was '$id1')"
	fi
	cycle_query "$id1" enforce "enforce served, old id still published"
	cycle_daemon testing 1 "old id still published: cached policy kept"
	[ -z "$id2" ] || publish "$id2"
	cycle_query "$id2" enforce "new id published"
	cycle_daemon enforce 2 "new id published"
	cycle_mailauth "$id2" enforce "new id published"

	# 3. back to testing: a third id, the cached enforce policy kept
	# until it is published.
	cycle_change testing
	id3=$id
	if [ -n "$id3" ] && [ "$id3" != "$id1" ] && [ "$id3" != "$id2" ]; then
		ok "mta-stsctl: testing again has a third id ($id1, $id2, $id3)"
	else
		not_ok "mta-stsctl: testing again: id '$id3' is not new ($id1, $id2)"
	fi
	cycle_query "$id2" testing "testing served, old id still published"
	cycle_daemon enforce 2 "old id still published: cached policy kept"
	[ -z "$id3" ] || publish "$id3"
	cycle_query "$id3" testing "new id published"
	cycle_daemon testing 3 "new id published"
	cycle_mailauth "$id3" testing "new id published"

	# mta-stsctl's own view at the end: the id published, served.
	if stsctl status "$cyc" &&
	    grep -q "^  id: $id3\$" "$tmp/ctl" &&
	    grep -q '^  server: serves this policy$' "$tmp/ctl" &&
	    grep -q "^$cyc: mode testing, max_age 86400, mx $cyc_mx\$" \
	    "$tmp/ctl"; then
		ok "mta-stsctl status $cyc: mode testing, id $id3, served"
	else
		not_ok "mta-stsctl status $cyc (exit $ctl_rc)"
		show "$tmp/ctl"
		show "$tmp/ctle"
	fi
fi

# ---- mta-stsd after all that ----------------------------------------------

if kill -0 "$mta_stsd_pid" 2>/dev/null &&
    [ "$(ps -o stat= -p "$mta_stsd_pid" | cut -c1)" != Z ]; then
	ok "mta-stsd still running"
else
	not_ok "mta-stsd died"
	show "$tmp/mta-stsd.log"
fi
if grep -qi 'error\|warn' "$tmp/mta-stsd.log"; then
	echo "# mta-stsd logged errors or warnings:"
	grep -i 'error\|warn' "$tmp/mta-stsd.log" | show /dev/stdin
fi
if [ -n "${VERBOSE:-}" ]; then
	echo "# mta-stsd log:"
	sed 's/^/#   /' "$tmp/mta-stsd.log"
fi

stop_all
echo "fetchers: $(($(date +%s) - start)) s"
summary
