#!/bin/sh
# tests/cert/cert.sh: a domain's certificate comes with it.  mta-stsctl
# init, cert, cert --force and cert --renew run the real ACME clients,
# Debian's lego (key_type ec256) and certbot (key_type rsa2048), the same
# steps for each, both at once, against
# Debian's pebble (tests/pebble.sh), which validates every HTTP-01
# challenge for real through mta-stsd's [acme] listener.
#
#   dnsmasq     the test's DNS: mta-sts.NAME of every test domain is the
#               address of that client's mta-stsd, except the ones meant
#               not to resolve; pebble.cert.test is 127.0.0.1
#   pebble      issues certificates valid 60 days: with renew_days 30,
#               its certificates are not due, the suite CA's 5-day ones
#               are (PEBBLE_VA_NOSLEEP: no random wait before it
#               validates; the validation itself is real)
#   mta-stsd    one per client, as nobody, [acme] listener and
#               watch_certs on, its policies and the certificates that
#               were there before (from the suite's CA, installed by hand,
#               of the client's key type)
#
# For each client (T is l for lego, c for certbot):
#   1. init Ta.test: a certificate is obtained first, installed into
#      cert_dir (chain 0644, key 0640 of the daemon's group, nothing of
#      the client's there), the policy written and served, the served
#      certificate verified against pebble's root; status shows the issuer
#      and when renewal is due.
#   2. cert Ta.test: not due, nothing asked of pebble.
#   3. cert Ta.test --force: a new serial, served by the same process
#      without a signal (the certificate watch).
#   4. cert --renew: Tdead (due, its name does not resolve) fails with
#      pebble's reason and keeps its old certificate served; Tdue1 and
#      Tdue2 (due) are renewed in the same run, one line each; Ta and Tfar
#      are not due, Tnone has no certificate; exit 1.  Then a new
#      certificate that would not be served is taken back: Tfar's by hand
#      expires later (certbot); Ta's is not confirmed
#      (MTA_STSCTL_FAULT=confirm, lego): the previous one is exchanged
#      back and still served.  A key certified again is not taken for
#      served before the server presents the new certificate (certbot).
#   5. init Tnx.test, whose name does not resolve: exit 1 with the ACME
#      server's reason, and nothing left: no policy, no id record, nothing
#      in cert_dir, no challenge file (certbot).
#   6. cert for a domain without a policy: refused before any order.
#
# Needs root (namespace, ports 80 and 443).  Installs what is missing:
# pebble, lego, certbot, dnsmasq-base (and iproute2, openssl, curl).
# VERBOSE=1 shows each ok line; KEEP_TMP=1 keeps the work directory.
# Ends with "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

ns=mta-stsd-cert-$$
NSX_TIMEOUT=30

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY PEBBLE_VA_ALWAYS_VALID PEBBLE_VA_SLEEPTIME
umask 022
suite_start cert
. tests/netns.sh
. tests/pebble.sh

if [ "$(id -u)" != 0 ]; then
	missing "cert: needs root (network namespace, ports 80 and 443)"
	summary
	exit
fi
if [ ! -x "$d" ] || [ ! -x "$ctl" ]; then
	not_ok "cert: $d or $ctl is not built (run make)"
	summary
	exit
fi
if ! require ip:iproute2 openssl:openssl curl:curl pebble:pebble lego:lego \
    certbot:certbot dnsmasq:dnsmasq-base; then
	missing "cert: missing:$gone (Debian iproute2 openssl curl pebble lego certbot dnsmasq-base)"
	summary
	exit
fi
start=$(date +%s)
time_limit "${CERT_TEST_LIMIT:-240}"

# ---- the configuration: what mta-stsd -n accepts and refuses ---------------

# conf FILE CLIENT ADDR DIR [KEYTYPE]: mta-stsd's configuration for one
# client: its files under DIR, listening on ADDR; CLIENT's [acme] keys
# (read by mta-stsctl only), its certificates' keys KEYTYPE (default
# ec256).
conf() {
	cat >"$1" <<EOF
[server]
listen = $3:443
policy_dir = $4/policies
cert_dir = $4/certs
user = nobody
log_level = info
pid_file = $4/run/mta-stsd.pid
watch_certs = yes

[acme]
listen = $3:80
webroot = $4/webroot
client = $2
state_dir = $4/state
directory = $dir_url
email = hostmaster@$2.test
key_type = ${5:-ec256}
renew_days = 30
ca_file = $api_ca
EOF
}

pebble_setup pebble.cert.test 5184000
mkdir -p "$tmp/v/policies" "$tmp/v/certs"
conf "$tmp/v.conf" lego 127.0.0.2 "$tmp/v"
out=$("$d" -n -f "$tmp/v.conf" 2>&1)
check "mta-stsd -n: the [acme] client keys are accepted" \
    test "$out" = "0 domains served, 0 failed"
# bad KEY VALUE MESSAGE: mta-stsd -n refuses [acme] KEY = VALUE, saying so.
bad() {
	sed "s|^$1 = .*|$1 = $2|" "$tmp/v.conf" >"$tmp/bad.conf"
	out=$("$d" -n -f "$tmp/bad.conf" 2>&1)
	case $out in
	*"$3"*) ok "mta-stsd -n refuses $1 = $2" ;;
	*) not_ok "mta-stsd -n: $1 = $2: [$out], expected '$3'" ;;
	esac
}
bad client acme.sh ":13: client: 'acme.sh' is not lego or certbot"
bad key_type rsa4096 ":17: key_type: 'rsa4096' is not ec256 or rsa2048"
bad renew_days 0 ":18: renew_days: '0' is not a whole number from 1 to 365"
bad directory "http://$pebble_host/dir" ":15: directory: 'http://$pebble_host/dir' is not an https:// URL"
bad email "-x@y" ":16: email: '-x@y' is not an address"
bad email "" "[acme] client = lego needs email"
bad state_dir "$tmp/v/certs/acme" "[acme] state_dir $tmp/v/certs/acme must be apart from cert_dir"
bad ca_file "pebble.pem" ":19: ca_file: 'pebble.pem' is not an absolute path"

# ---- the namespace: DNS and pebble ------------------------------------------

# Each client's domains resolve to its own mta-stsd; "dead" and "nx" do
# not resolve at all (NXDOMAIN from --local).
records=
for t in l:127.0.0.2 c:127.0.0.3; do
	for n in a due1 due2 far; do
		records="$records --host-record=mta-sts.${t%%:*}$n.test,${t#*:}"
	done
done
if ! netns_up 127.0.0.2 127.0.0.3; then
	not_ok "cert: cannot make network namespace $ns"
	summary
	exit
fi
# shellcheck disable=SC2046,SC2086
bg "$tmp/dnsmasq.log" dnsmasq $(dnsmasq_args) --local=/test/ $records \
    --host-record=$pebble_host,127.0.0.1
if ! wait_for 5 ip netns exec "$ns" getent ahostsv4 mta-sts.la.test; then
	not_ok "dnsmasq does not answer"
	show "$tmp/dnsmasq.log"
	summary
	exit
fi
pebble_up PEBBLE_VA_NOSLEEP=1
suite_ca

# ---- helpers --------------------------------------------------------------

# ctlx ARGS...: mta-stsctl -f $conf ARGS in the namespace, as root;
# output in $so and $se (shown with VERBOSE), status in $rc.
ctlx() {
	_t0=$(date +%s)
	nsx -t 200 env ${fault:+MTA_STSCTL_FAULT=$fault} "$ctl" -f "$conf" \
	    "$@" >"$dir/so" 2>"$dir/se"
	rc=$?
	so=$(cat "$dir/so")
	se=$(cat "$dir/se")
	[ -z "${VERBOSE:-}" ] ||
	    printf '# mta-stsctl %s: exit %s, %s s\n%s\n%s\n' "$*" "$rc" \
	    "$(($(date +%s) - _t0))" "$so" "$se" | sed '2,$s/^/#   /'
}

# (what, has: tests/lib.sh.)

# served HOST: the certificate mta-stsd presents for HOST, in $dir/served
# (empty when none).
served() {
	nsx -t 10 openssl s_client -connect "$addr:443" -servername "$1" \
	    </dev/null 2>/dev/null | openssl x509 >"$dir/served" 2>/dev/null
}

# serial_of FILE / served_serial HOST / served_issuer HOST
serial_of() {
	openssl x509 -noout -serial -in "$1" 2>/dev/null | sed 's/^serial=//'
}
served_serial() {
	served "$1"
	serial_of "$dir/served"
}
served_issuer() {
	served "$1"
	openssl x509 -noout -issuer -nameopt RFC2253 -in "$dir/served" \
	    2>/dev/null | sed 's/^issuer=//'
}

# verified DOMAIN: GET the policy of DOMAIN with curl trusting pebble's
# root only: 200 and the canonical body of DOMAIN's policy file.
verified() {
	_code=$(env -u CURL_CA_BUNDLE -u SSL_CERT_FILE -u SSL_CERT_DIR \
	    timeout 10 ip netns exec "$ns" curl -sS --max-time 5 \
	    --cacert "$tmp/root.pem" --capath /nonexistent -o "$dir/b" \
	    -w '%{http_code}' "https://mta-sts.$1/.well-known/mta-sts.txt" \
	    2>"$dir/e")
	"$ctl" validate --print "$dir/policies/$1.txt" >"$dir/canon" \
	    2>/dev/null
	[ "$_code" = 200 ] && cmp -s "$dir/b" "$dir/canon"
}

# policy DOMAIN: a policy file for DOMAIN, as written by hand.
policy() {
	printf 'version: STSv1\nmode: testing\nmx: mx.%s\nmax_age: 86400\n' \
	    "$1" >"$dir/policies/$1.txt"
}

# handcert DOMAIN DAYS: a certificate of the suite's CA for mta-sts.DOMAIN
# valid DAYS, of the scenario's key type, installed by hand in cert_dir,
# readable by nobody.
handcert() {
	cert "$dir/certs" "mta-sts.$1" "$keytype" "$2" "mta-sts.$1"
	chgrp nogroup "$dir/certs/mta-sts.$1.key"
	chmod 0640 "$dir/certs/mta-sts.$1.key"
}

# reloads_by_watch FROM: every reload in the log after line FROM followed
# a "watch: ... changed" line (a SIGHUP reload has none), and there was
# at least one.
reloads_by_watch() {
	tail -n +"$(($1 + 1))" "$log" | awk '
	    /watch: .* changed: reloading/ { w = 1; next }
	    /reload: reading/ { n++; if (!w) bad = 1; w = 0 }
	    END { exit bad || n == 0 }'
}

# mode_of PATH: "MODE USER GROUP"
mode_of() {
	stat -c '%a %U %G' "$1" 2>/dev/null
}

# ---- one client, start to end -------------------------------------------------

# vars CLIENT T ADDR KEYTYPE: the variables of CLIENT's run: its domains
# T*.test, its mta-stsd on ADDR, its files in $dir, its certificates'
# keys KEYTYPE (and $kind, as mta-stsctl names them).
vars() {
	client=$1 t=$2 addr=$3 keytype=$4
	case $keytype in
	ec256) kind="ECDSA P-256" ;;
	rsa2048) kind="RSA 2048" ;;
	esac
	dir=$tmp/$client
	conf=$dir/mta-stsd.conf
	log=$dir/mta-stsd.log
	state=$dir/state
}

# prepare CLIENT T ADDR: CLIENT's files, the domains that were there
# before, certificates installed by hand (from the suite's CA, one
# certificate at a time).
prepare() {
	vars "$@"
	mkdir -p "$dir/policies" "$dir/certs" "$dir/webroot" "$dir/run"
	chmod 0755 "$tmp" "$dir" "$dir/webroot"
	chown nobody:nogroup "$dir/run"
	chgrp nogroup "$dir/certs"
	chmod 0750 "$dir/certs"
	conf "$conf" "$client" "$addr" "$dir" "$keytype"

	# The domains that were there before, certificates by hand.
	for n in dead due1 due2 far none; do
		policy "$t$n.test"
	done
	handcert "${t}dead.test" 5
	handcert "${t}due1.test" 5
	handcert "${t}due2.test" 5
	handcert "${t}far.test" 200
}

# scenario CLIENT T ADDR: the steps above for CLIENT.
scenario() {
	vars "$@"
	began=$(date +%s)
	bg "$log" "$d" -d -f "$conf"
	spid=${pids##* }
	if wait_for 5 grep -q 'acme: listening on' "$log" &&
	    wait_for 5 test -s "$dir/run/mta-stsd.pid"; then
		ok "$client: mta-stsd starts, 4 domains"
	else
		not_ok "$client: mta-stsd did not start"
		show "$log"
		return
	fi
	dead1=$(served_serial "mta-sts.${t}dead.test")
	far1=$(served_serial "mta-sts.${t}far.test")

	# 1. init: the certificate first, then the policy.
	dom=${t}a.test host=mta-sts.$dom
	v0=$(pebble_validations "$log")
	t0=$(date +%s)
	ctlx init "$dom" --mx "mx.$dom"
	if [ "$rc" = 0 ] &&
	    has "$so" "$host: certificate from Pebble Intermediate CA" &&
	    has "$so" "installed in $dir/certs/$host; expires " &&
	    has "$so" "$host: served now." &&
	    [ "$(pebble_validations "$log")" -gt "$v0" ]; then
		ok "$client: init $dom: certificate obtained through mta-stsd's listener, policy served ($(($(date +%s) - t0)) s)"
	else
		not_ok "$client: init $dom: $(what)"
		grep 'acme:' "$log" | show /dev/stdin
	fi
	if verified "$dom" &&
	    [ "$(served_issuer "$host")" = "$inter_subj" ] &&
	    openssl verify -CAfile "$tmp/root.pem" -untrusted "$tmp/inter.pem" \
	    "$dir/served" >/dev/null 2>&1; then
		ok "$client: init: the served certificate is pebble's, verified against its root"
	else
		not_ok "$client: init: served certificate: issuer '$(served_issuer "$host")'; curl: $(cat "$dir/e")"
	fi
	if [ "$(mode_of "$dir/certs/$host")" = "750 root nogroup" ] &&
	    [ "$(mode_of "$dir/certs/$host/fullchain.pem")" = "644 root nogroup" ] &&
	    [ "$(mode_of "$dir/certs/$host/privkey.pem")" = "640 root nogroup" ] &&
	    [ "$(ls -A "$dir/certs/$host" | tr '\n' ' ')" = "fullchain.pem privkey.pem " ]; then
		ok "$client: cert_dir/$host: fullchain.pem 0644, privkey.pem 0640, group nogroup"
	else
		not_ok "$client: cert_dir/$host: $(ls -lA "$dir/certs/$host" 2>&1 | tr '\n' ' ')"
	fi
	# The client's account and state: in state_dir, never in cert_dir.
	left=$(cd "$dir/certs" && find . ! -name 'mta-sts.*' ! -path "./$host/fullchain.pem" \
	    ! -path "./$host/privkey.pem" ! -path . | tr '\n' ' ')
	case $client in
	lego) acct=$(find "$state/lego/accounts" -name '*.key' 2>/dev/null | head -1) ;;
	certbot) acct=$(find "$state/certbot/config/accounts" -name private_key.json 2>/dev/null | head -1) ;;
	esac
	if [ -z "$left" ] && [ -n "$acct" ] &&
	    [ "$(stat -c %a "$state/$client")" = 700 ] &&
	    [ "$(stat -c %a "$state/logs/$host.log")" = 600 ]; then
		ok "$client: the account key in state_dir (0700), nothing of the client's in cert_dir"
	else
		not_ok "$client: cert_dir holds [$left]; account key [$acct]"
	fi
	ctlx status "$dom"
	if has "$so" "certificate: $host ($kind), 59 days left, expires " &&
	    has "$so" ", issuer Pebble Intermediate CA" &&
	    has "$so" "renewal: in 29 days (renew_days 30)"; then
		ok "$client: status: issuer, expiry, renewal in 29 days"
	else
		not_ok "$client: status: $(what)"
	fi
	ctlx status "${t}due1.test"
	check "$client: status: renewal due for a 5-day certificate" \
	    has "$so" "renewal: due (renew_days 30): 'mta-stsctl cert --renew' renews it"

	# 2. Not due: nothing asked.
	v0=$(pebble_validations "$log")
	ctlx cert "$dom"
	if [ "$rc" = 0 ] && has "$so" "$host: not due: expires " &&
	    has "$so" "59 days left (renew_days 30); --force renews it now" &&
	    [ "$(pebble_validations "$log")" = "$v0" ]; then
		ok "$client: cert $dom: not due, nothing asked of pebble"
	else
		not_ok "$client: cert $dom (not due): $(what)"
	fi

	# 3. --force: a new serial, served without a restart or a signal.
	s1=$(served_serial "$host")
	from=$(wc -l <"$log")
	t0=$(date +%s)
	ctlx cert "$dom" --force
	s2=$(served_serial "$host")
	if [ "$rc" = 0 ] &&
	    has "$so" "$host: renewed: certificate from Pebble Intermediate CA" &&
	    has "$so" "served now; expires " && [ -n "$s2" ] &&
	    [ "$s2" != "$s1" ] &&
	    [ "$s2" = "$(serial_of "$dir/certs/$host/fullchain.pem")" ]; then
		ok "$client: cert --force: new serial $s2 served ($(($(date +%s) - t0)) s)"
	else
		not_ok "$client: cert --force: served '$s1' then '$s2': $(what)"
	fi
	if reloads_by_watch "$from" && alive "$spid" &&
	    [ "$(cat "$dir/run/mta-stsd.pid")" = "$spid" ]; then
		ok "$client: cert --force: taken by the certificate watch, same process, no signal"
	else
		not_ok "$client: cert --force: reloads not all from the watch, or mta-stsd restarted"
		tail -n +"$((from + 1))" "$log" | grep 'reload\|watch' | show /dev/stdin
	fi
	check "$client: nothing hidden left in cert_dir" \
	    test -z "$(ls -A "$dir/certs" | grep '^\.')"

	# 4. --renew: what is due, one at a time, past a failure.
	a1=$(served_serial "$host")
	v0=$(pebble_validations "$log")
	from=$(wc -l <"$log")
	t0=$(date +%s)
	ctlx cert --renew
	secs=$(($(date +%s) - t0))
	if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$so" | wc -l)" = 7 ] &&
	    has "$so" "mta-sts.${t}a.test: not due: expires " &&
	    has "$so" "mta-sts.${t}dead.test: failed: $client exit " &&
	    has "$so" "still serving the previous certificate (expires " &&
	    has "$so" "mta-sts.${t}due1.test: renewed: certificate from Pebble Intermediate CA" &&
	    has "$so" "mta-sts.${t}due2.test: renewed: certificate from Pebble Intermediate CA" &&
	    has "$so" "mta-sts.${t}far.test: not due: expires " &&
	    has "$so" "mta-sts.${t}none.test: no certificate: 'mta-stsctl cert ${t}none.test' obtains one" &&
	    has "$so" "cert --renew: 2 renewed, 2 not due, 1 without a certificate, 1 failed"; then
		ok "$client: cert --renew: one line a domain, 2 renewed past a failure, exit 1 ($secs s)"
	else
		not_ok "$client: cert --renew: $(what)"
	fi
	line=$(printf '%s\n' "$so" | grep "^mta-sts.${t}dead.test: ")
	if has "$line" "connection: " &&
	    has "$line" "http://mta-sts.${t}dead.test:80/.well-known/acme-challenge/"; then
		ok "$client: the failure says what the ACME server answered"
	else
		not_ok "$client: failure line: [$line]"
	fi
	if [ "$(served_serial "mta-sts.${t}dead.test")" = "$dead1" ] &&
	    [ "$(served_serial "mta-sts.${t}far.test")" = "$far1" ] &&
	    [ "$(served_serial "$host")" = "$a1" ] &&
	    [ ! -e "$dir/certs/mta-sts.${t}dead.test" ]; then
		ok "$client: the failed, the not due: their certificates still served"
	else
		not_ok "$client: after --renew: dead '$(served_serial "mta-sts.${t}dead.test")' (was $dead1), far '$(served_serial "mta-sts.${t}far.test")' (was $far1)"
	fi
	for n in due1 due2; do
		if [ "$(served_issuer "mta-sts.$t$n.test")" = "$inter_subj" ] &&
		    verified "$t$n.test"; then
			ok "$client: $t$n.test: renewed by pebble, served, verified against its root"
		else
			not_ok "$client: $t$n.test: served issuer '$(served_issuer "mta-sts.$t$n.test")'"
		fi
	done
	ch=$(ls -A "$dir/webroot/.well-known/acme-challenge" 2>/dev/null)
	check "$client: --renew: no challenge file left in the webroot" \
	    test -z "$ch"
	if [ "$(pebble_validations "$log")" = $((v0 + 2)) ] &&
	    reloads_by_watch "$from"; then
		ok "$client: --renew: two validations through the listener, reloads by the watch only"
	else
		not_ok "$client: --renew: validations $v0 -> $(pebble_validations "$log"); reloads:"
		tail -n +"$((from + 1))" "$log" | grep 'reload\|watch' | show /dev/stdin
	fi

	# A new certificate that would not be served: the previous one back.
	# What mta-stsctl does with a new certificate is the same whichever
	# client made it: each case with one client (the suite's time).
	# A certificate by hand that expires later wins the name (certbot)...
	[ "$client" = lego ] || ctlx cert "${t}far.test" --force
	if [ "$client" = lego ]; then
		:
	elif [ "$rc" = 1 ] &&
	    has "$se" "$dir/certs/mta-sts.${t}far.test.pem expires later (" &&
	    has "$se" "and would still be served instead: move it out of cert_dir; still serving the previous certificate" &&
	    [ "$(served_serial "mta-sts.${t}far.test")" = "$far1" ] &&
	    [ -z "$(ls -A "$dir/certs" | grep "${t}far.test\$")" ]; then
		ok "$client: cert --force under a later certificate by hand: refused, nothing left"
	else
		not_ok "$client: cert --force under a later certificate: $(what)"
	fi
	# ... or the server does not present it (made to fail): the
	# previous directory exchanged back (lego).
	fault=confirm
	[ "$client" = certbot ] || ctlx cert "$dom" --force
	fault=
	if [ "$client" = certbot ]; then
		:
	elif [ "$rc" = 1 ] && has "$se" "still serving the previous certificate" &&
	    [ "$(serial_of "$dir/certs/$host/fullchain.pem")" = "$a1" ] &&
	    [ "$(served_serial "$host")" = "$a1" ] &&
	    [ -z "$(ls -A "$dir/certs" | grep '^\.')" ]; then
		ok "$client: cert --force not confirmed: the previous certificate back in place and served"
	else
		not_ok "$client: cert --force not confirmed: file serial $(serial_of "$dir/certs/$host/fullchain.pem"), served $(served_serial "$host"), was $a1: $(what)"
	fi

	# A renewal that keeps its key is not served until the very new
	# certificate is: Tfar's key, certified again (expiring later), next
	# to the old one; the server presents the old one until its watch
	# reloads (2 s after the change), and mta-stsctl must tell them apart
	# (certbot).
	k=$dir/certs/mta-sts.${t}far.test.key
	printf 'subjectAltName=DNS:mta-sts.%s\n' "${t}far.test" >"$dir/b.ext"
	if [ "$client" = lego ]; then
		:
	elif openssl req -new -key "$k" -subj "/CN=mta-sts.${t}far.test" \
	    -out "$dir/b.csr" 2>/dev/null &&
	    openssl x509 -req -in "$dir/b.csr" -CA "$tmp/ca/ca.pem" \
	    -CAkey "$tmp/ca/ca.key" -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
	    -days 300 -extfile "$dir/b.ext" -out "$dir/b.pem" 2>/dev/null; then
		cat "$dir/b.pem" "$tmp/ca/ca.pem" >"$dir/certs/.b.tmp"
		mv "$dir/certs/.b.tmp" "$dir/certs/mta-sts.${t}far.test.b.pem"
		ctlx status "${t}far.test"
		if ! has "$so" "server: serves this policy" &&
		    has "$so" "server presented another certificate, not the $kind one in $dir/certs/mta-sts.${t}far.test.b.pem"; then
			ok "$client: the same key certified again: not taken for served before the server presents it"
		else
			not_ok "$client: the same key certified again, before the reload: $(what)"
		fi
		if wait_for 10 sh -c "ip netns exec '$ns' '$ctl' -f '$conf' status '${t}far.test' | grep -q 'server: serves this policy'"; then
			ok "$client: ... and served once the watch reloaded"
		else
			not_ok "$client: the same key certified again: never served"
		fi
	else
		not_ok "$client: openssl could not certify the key again"
	fi

	# 5. init of a domain whose name does not resolve: nothing left
	# (certbot; lego's answer is read the same way, in --renew above).
	if [ "$client" = certbot ]; then
		dom=${t}nx.test host=mta-sts.$dom
		ctlx init "$dom" --mx "mx.$dom"
		if [ "$rc" = 1 ] && has "$se" "mta-stsctl: $host: no certificate: $client exit " &&
		    has "$se" "connection: " &&
		    has "$se" "http://$host:80/.well-known/acme-challenge/" &&
		    has "$se" "; nothing created" && [ -z "$so" ]; then
			ok "$client: init $dom: fails with the ACME server's reason"
		else
			not_ok "$client: init $dom: $(what)"
		fi
		ch=$(ls -A "$dir/webroot/.well-known/acme-challenge" 2>/dev/null)
		if [ ! -e "$dir/policies/$dom.txt" ] &&
		    [ ! -e "$dir/policies/.ids/$dom.id" ] &&
		    [ -z "$(ls -A "$dir/certs" | grep "$host")" ] &&
		    [ -z "$ch" ]; then
			ok "$client: init $dom: nothing left (policy, id, cert_dir, webroot)"
		else
			not_ok "$client: init $dom left: $(ls -A "$dir/policies" "$dir/certs" | tr '\n' ' ') challenges [$ch]"
		fi
	fi

	# 6. Only names with a policy: nothing asked for another.
	v0=$(wc -l <"$tmp/pebble.log")
	ctlx cert "${t}nopolicy.test"
	if [ "$rc" = 1 ] && has "$se" "no such policy" &&
	    has "$se" "no certificate is requested for a domain without one" &&
	    [ ! -e "$state/logs/mta-sts.${t}nopolicy.test.log" ] &&
	    ! tail -n +"$((v0 + 1))" "$tmp/pebble.log" | grep -q "nopolicy"; then
		ok "$client: cert for a domain without a policy: refused, no order"
	else
		not_ok "$client: cert without a policy: $(what)"
	fi

	if alive "$spid" && [ "$(grep -c 'mta-stsd .*: [0-9]* domains served' "$log")" = 1 ]; then
		ok "$client: mta-stsd: the same process from start to end"
	else
		not_ok "$client: mta-stsd restarted or died"
		show "$log"
	fi
	stop_pid "$spid"
	echo "# $client: $(($(date +%s) - began)) s"
	[ -z "${VERBOSE:-}" ] || { echo "# $client: mta-stsd log:"; show "$log" 200; }
}

# The two clients at once, each against its own mta-stsd (the same
# pebble): each run in a subshell of its own, which counts its own and
# writes them out; they are added up here.  What a run started is
# stopped by it; should it be killed, its mta-stsd by its pid file.
kill_daemons() {
	for _f in "$tmp"/*/run/mta-stsd.pid; do
		[ -s "$_f" ] && kill "$(cat "$_f")" 2>/dev/null
	done
}
at_cleanup kill_daemons
prepare lego l 127.0.0.2 ec256
prepare certbot c 127.0.0.3 rsa2048
runs=
for r in lego:l:127.0.0.2:ec256 certbot:c:127.0.0.3:rsa2048; do
	cl=${r%%:*}
	(
		trap - EXIT INT HUP TERM
		PASS=0 FAIL=0 pids=
		# shellcheck disable=SC2046
		scenario $(echo "$r" | tr ':' ' ')
		echo "$PASS $FAIL" >"$tmp/$cl.count"
	) >"$tmp/$cl.out" 2>&1 &
	runs="$runs $!"
	track $!
done
for r in $runs; do
	reap "$r"
done
for cl in lego certbot; do
	cat "$tmp/$cl.out"
	if [ -s "$tmp/$cl.count" ]; then
		read -r p f <"$tmp/$cl.count"
		PASS=$((PASS + p))
		FAIL=$((FAIL + f))
	else
		not_ok "$cl: the run did not finish"
	fi
done

stop_all
echo "cert: $(($(date +%s) - start)) s"
summary
