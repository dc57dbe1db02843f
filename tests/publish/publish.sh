#!/bin/sh
# tests/publish/publish.sh: mta-stsctl publishes the _mta-sts record itself
# ([dns] update), only after every replica serves the new policy, and proves
# it at every authoritative server of the zone.
#
# In a network namespace of its own (mta-stsd-publish-$$), with real
# servers only:
#   - BIND 9 (tests/bind.sh): the primary of the test zones on 127.0.0.2
#     and ::1, taking updates signed with a key made by tsig-keygen, and a
#     secondary on 127.0.0.3 fed by NOTIFY and zone transfers, made to lag
#     on purpose (bind_lag: the primary stops notifying);
#   - mta-stsd on 127.0.0.1:443, the server mta-stsctl drives, and two
#     replicas on 127.0.0.11 and 127.0.0.12 that a sync loop (this script)
#     keeps at the same policies, as rsync would: one can be held back;
#   - postfix-mta-sts-resolver's mta-sts-daemon, a caching sender, whose
#     resolver (the namespace's resolv.conf) is the lagging secondary.
#
# Zones: example.test (an old v=STSv1 record and another TXT at the same
# name), two.test (two v=STSv1 records), new.test (no record), denied.test
# (the key may not change _mta-sts there), hook.test (through the exec hook,
# tests/publish/hook.sh, which runs nsupdate).  Every failure path is
# checked for what it leaves: the policy served or restored, the zone
# changed or not, the id recorded as published or not.
#
# Needs root, bind9 (named, tsig-keygen, rndc), bind9-dnsutils (dig,
# nsupdate), postfix-mta-sts-resolver.  Without them: a failure, or only a
# SKIP line with SKIP_PUBLISH=1.  VERBOSE=1 shows each step's output.
# Ends with "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

ns=mta-stsd-publish-$$
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY
suite_start publish
daemon=$d
. tests/netns.sh
. tests/bind.sh
show_lines=30

missing_end() {
	missing "$@"
	summary
	exit
}

[ "$(id -u)" = 0 ] || missing_end "publish: needs root (network namespace, ports 53 and 443)"
[ -x "$daemon" ] && [ -x "$ctl" ] || missing_end "publish: $daemon or $ctl not built (run make)"
for t in named tsig-keygen rndc named-checkconf dig nsupdate; do
	command -v $t >/dev/null ||
	    missing_end "publish: $t missing (Debian bind9, bind9-utils, bind9-dnsutils)"
done
command -v mta-sts-daemon >/dev/null ||
    missing_end "publish: mta-sts-daemon missing (Debian postfix-mta-sts-resolver)"

start=$(date +%s)

# ---- certificates, policies, configurations ---------------------------------

p=$tmp/policies
c=$tmp/certs
mkdir -p "$p" "$c" "$tmp/r1/policies" "$tmp/r2/policies" "$tmp/run" \
    "$tmp/nocerts" "$tmp/hook"
suite_ca
ca=$tmp/ca.pem
names=
for z in example two new denied hook; do names="$names mta-sts.$z.test"; done
# shellcheck disable=SC2086
cert "$c" sts ec256 90 $names
chown nobody "$tmp/run"
chmod -R a+rX "$tmp"

# conf NAME [DNS LINE...]: a configuration $tmp/NAME.conf: the [server]
# section mta-stsd runs with, then [dns] with the LINEs.
conf() {
	_f=$tmp/$1.conf
	shift
	{
		printf '[server]\nlisten = 127.0.0.1:443\npolicy_dir = %s\n' "$p"
		printf 'cert_dir = %s\nuser = nobody\npid_file = %s\n' "$c" \
		    "$tmp/run/mta-stsd.pid"
		printf 'log_level = info\n[dns]\n'
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} >"$_f"
}
rfc="update = rfc2136"
srv="server = 127.0.0.2"
key="tsig_key = $bk/mta-sts.key"
capem="ca_file = $ca"
conf main "$rfc" "$srv" "$key" "wait = 10" "$capem"
conf repl "$rfc" "$srv" "$key" "wait = 20" "$capem" \
    "replicas = 127.0.0.11 127.0.0.12:443"
conf short "$rfc" "$srv" "$key" "wait = 2" "$capem" \
    "replicas = 127.0.0.11 127.0.0.12"
conf v6 "$rfc" "server = [::1]:53" "$key" "wait = 10" "zone = new.test"
conf badsig "$rfc" "$srv" "tsig_key = $bk/wrong-secret.key" "wait = 2"
conf badkey "$rfc" "$srv" "tsig_key = $bk/unknown.key" "wait = 2"
conf nokey "$rfc" "$srv" "tsig_key = $tmp/no-such.key" "wait = 2"
conf hook "update = exec" "hook = $top/tests/publish/hook.sh" \
    "hook_timeout = 2" "wait = 10"
conf auto "$rfc" "$srv" "$key" "wait = 10" "publish = yes"
conf off
for r in 1 2; do
	printf '[server]\nlisten = 127.0.0.1%d:443\npolicy_dir = %s\ncert_dir = %s\nuser = nobody\nlog_level = info\n' \
	    "$r" "$tmp/r$r/policies" "$c" >"$tmp/r$r.conf"
done

# ---- mta-stsd -n checks [dns] -----------------------------------------------

# dash_n NAME RC PATTERN: mta-stsd -n -f $tmp/NAME.conf exits RC and says
# PATTERN (grep -E).
dash_n() {
	"$daemon" -n -f "$tmp/$1.conf" >"$tmp/out" 2>&1
	_rc=$?
	if [ "$_rc" = "$2" ] && grep -Eq -- "$3" "$tmp/out"; then
		ok "mta-stsd -n ($1): exit $2, '$3'"
	else
		not_ok "mta-stsd -n ($1): exit $_rc, expected $2 and '$3'"
		show "$tmp/out"
	fi
}
bind_keys || missing_end "publish: tsig-keygen failed"
printf 'key "old" {\n\talgorithm hmac-md5;\n\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0";\n};\n' \
    >"$tmp/md5.key"
dash_n main 0 "^dns: update rfc2136 to 127.0.0.2, key mta-sts-key \(hmac-sha256\)$"
dash_n repl 0 "^dns: 2 replicas: 127.0.0.11 127.0.0.12:443$"
dash_n hook 0 "^dns: update exec $top/tests/publish/hook.sh$"
conf bad1 "$rfc" "$srv"
dash_n bad1 1 "\[dns\] update = rfc2136 needs server \(the primary\) and tsig_key"
conf bad2 "$rfc" "server = ns1.example.test" "$key"
dash_n bad2 1 ":10: server: 'ns1.example.test' is not an IPv4 or IPv6 address"
conf bad3 "update = nsupdate"
dash_n bad3 1 ":9: update: 'nsupdate' is not rfc2136, exec or empty"
conf bad4 "$rfc" "$srv" "tsig_key = $tmp/md5.key"
dash_n bad4 1 "tsig_key $tmp/md5.key:2: algorithm hmac-md5 is too weak"
conf bad5 "update = exec" "hook = $tmp/md5.key"
dash_n bad5 1 "\[dns\] hook $tmp/md5.key: Permission denied"
conf bad6 "publish = yes"
dash_n bad6 1 "publish = yes needs update"
conf bad7 "replicas = 127.0.0.11 bad_name:443"
dash_n bad7 1 "replicas: 'bad_name:443' is not HOST, HOST:PORT"
conf bad8 "$rfc" "$srv" "$key" "wait = 0"
dash_n bad8 1 "wait: '0' is not a whole number from 1 to 3600"
# The key may be root's only: mta-stsd -n, as the server's user, says so
# (a copy of the program, which that user may run wherever the tree is).
chmod 0600 "$bk/mta-sts.key"
cp "$daemon" "$tmp/mta-stsd-n" && chmod 0755 "$tmp/mta-stsd-n"
if command -v runuser >/dev/null; then
	runuser -u nobody -- "$tmp/mta-stsd-n" -n -f "$tmp/main.conf" \
	    >"$tmp/out" 2>&1
	_rc=$?
	if grep -q "tsig_key $bk/mta-sts.key is not readable by this user" "$tmp/out"; then
		ok "mta-stsd -n as nobody: a key readable by root only is noted, not an error"
	else
		not_ok "mta-stsd -n as nobody: exit $_rc"
		show "$tmp/out"
	fi
fi

# ---- the namespace: BIND, mta-stsd and its replicas, the sync loop ----------

netns_up 127.0.0.2 127.0.0.3 127.0.0.11 127.0.0.12 ||
    missing_end "publish: cannot make network namespace $ns"
# Senders and mta-stsctl resolve through the secondary: the one that lags.
printf 'nameserver 127.0.0.3\n' >"/etc/netns/$ns/resolv.conf"

bind_zone example.test <<'EOF'
@ IN MX 10 mail.example.test.
mail IN A 127.0.0.25
mta-sts IN A 127.0.0.1
_mta-sts IN TXT "v=STSv1; id=old1;"
_mta-sts IN TXT "other=kept"
EOF
bind_zone two.test <<'EOF'
mta-sts IN A 127.0.0.1
_mta-sts IN TXT "v=STSv1; id=first;"
_mta-sts IN TXT "v=STSv1; " "id=second;"
_mta-sts IN TXT "V=STSV1; not ours"
EOF
bind_zone new.test <<'EOF'
mta-sts IN A 127.0.0.1
other IN TXT "v=STSv1; id=elsewhere;"
EOF
bind_zone denied.test "grant mta-sts-key name _smtp._tls.denied.test. TXT;" <<'EOF'
mta-sts IN A 127.0.0.1
EOF
bind_zone hook.test <<'EOF'
mta-sts IN A 127.0.0.1
_mta-sts IN TXT "v=STSv1; id=hookold;"
EOF
t0=$(date +%s)
if bind_start; then
	ok "BIND primary and secondary answer every zone ($(($(date +%s) - t0)) s)"
else
	not_ok "BIND did not start"
	show "$bk/primary.log"
	show "$bk/secondary.log"
	summary
	exit
fi

bg "$tmp/mta-stsd.log" "$daemon" -d -f "$tmp/main.conf"
main_pid=${pids##* }
for r in 1 2; do
	bg "$tmp/r$r.log" "$daemon" -d -f "$tmp/r$r.conf"
	eval "r${r}_pid=\${pids##* }"
done
if wait_for 5 grep -q 'domains served' "$tmp/mta-stsd.log" &&
    wait_for 5 grep -q 'domains served' "$tmp/r1.log" &&
    wait_for 5 grep -q 'domains served' "$tmp/r2.log" &&
    wait_for 5 test -s "$tmp/run/mta-stsd.pid"; then
	ok "mta-stsd and its two replicas started"
else
	not_ok "mta-stsd did not start"
	for f in mta-stsd r1 r2; do show "$tmp/$f.log"; done
	summary
	exit
fi

# The fleet's sync, as rsync and a reload would do it: each policy file of
# the main server copied to a replica that differs, then SIGHUP.  A file
# $tmp/rN.held holds replica N back.  Bounded: 10 minutes at most.
syncer() {
	_i=0
	while [ $_i -lt 6000 ]; do
		for _r in 1 2; do
			[ -e "$tmp/r$_r.held" ] && continue
			_ch=
			for _f in "$p"/*.txt; do
				[ -f "$_f" ] || continue
				_b=${_f##*/}
				cmp -s "$_f" "$tmp/r$_r/policies/$_b" && continue
				cp "$_f" "$tmp/r$_r/policies/.$_b.tmp" &&
				    mv "$tmp/r$_r/policies/.$_b.tmp" \
				    "$tmp/r$_r/policies/$_b" && _ch=1
			done
			if [ -n "$_ch" ]; then
				eval "kill -HUP \$r${_r}_pid"
			fi
		done
		sleep 0.1
		_i=$((_i + 1))
	done
}
syncer &
track $!

export SSL_CERT_FILE="$ca" SSL_CERT_DIR="$tmp/nocerts"
bg "$tmp/daemon.log" mta-sts-daemon -c tests/fetchers/daemon.yml -v debug \
    --disable-uvloop
export HOOK_DIR="$tmp/hook"
cp "$bk/mta-sts.key" "$tmp/hook/"

# ---- helpers ----------------------------------------------------------------

# stsctl CONF ARGS...: mta-stsctl -f $tmp/CONF.conf ARGS in the namespace;
# $tmp/so, $tmp/se, exit status in $rc.  No mail host answers here: mode
# and set go without the pre-flight before enforce (tests/mxpolicy's).
stsctl() {
	_cf=$1
	shift
	case $1 in mode | set) set -- "$@" --no-preflight ;; esac
	nsx -t 60 "$ctl" -f "$tmp/$_cf.conf" "$@" >"$tmp/so" 2>"$tmp/se"
	rc=$?
	last="mta-stsctl $*"
	if [ -n "${VERBOSE:-}" ]; then
		show "$tmp/so"
		show "$tmp/se"
	fi
}

# (expect, out, err, rec_id: tests/lib.sh.)

# rec_published DOMAIN: the id the record says is published.
rec_published() { sed -n 's/^published: //p' "$p/.ids/$1.id" 2>/dev/null; }

# zone_is DESCRIPTION NAME EXPECTED [SERVERS]: the TXT records of NAME, as
# each server (default: 127.0.0.2, ::1 and 127.0.0.3) answers them, one a
# line, sorted, are EXPECTED (\n between lines).
zone_is() {
	_want=$(printf "$3")
	for _a in ${4:-127.0.0.2 ::1 127.0.0.3}; do
		_got=$(bind_txt "$_a" "$2")
		if [ "$_got" = "$_want" ]; then
			ok "$1: $_a answers $(echo "$_want" | tr '\n' ' ')"
		else
			not_ok "$1: $_a answers '$(echo "$_got" | tr '\n' ' ')', expected '$(echo "$_want" | tr '\n' ' ')'"
		fi
	done
}

# serves HOST DOMAIN MODE: mta-stsd at HOST:443 serves DOMAIN's policy in
# MODE.
serves() {
	nsx -t 10 curl -sS --max-time 5 --cacert "$ca" \
	    --resolve "mta-sts.$2:443:$1" \
	    "https://mta-sts.$2/.well-known/mta-sts.txt" 2>/dev/null |
	    grep -q "^mode: $3"
}

# sender DOMAIN: what mta-sts-daemon (postfix-mta-sts-resolver) applies for
# DOMAIN: "testing" (NOTFOUND in the postfix zone, OK in the strict one),
# "enforce" (OK in both), or what it answered.
sender() {
	_sp=$(nsx -t 20 /usr/bin/python3 tests/fetchers/socketmap.py 127.0.0.1 \
	    8461 "postfix $1" 2>&1)
	_ss=$(nsx -t 20 /usr/bin/python3 tests/fetchers/socketmap.py 127.0.0.1 \
	    8461 "strict $1" 2>&1)
	case $_sp/$_ss in
	"NOTFOUND /OK secure"*) echo testing ;;
	"OK secure"*"/OK secure"*) echo enforce ;;
	*) echo "$_sp/$_ss" ;;
	esac
}

# ---- new.test: a zone without the record; init publishes both records -------

stsctl main init new.test --mx mail.new.test --publish \
    --rua mailto:tlsrpt@new.test
expect 0
idn=$(rec_id new.test)
out "^mta-sts.new.test: served now.$" \
    "^_mta-sts.new.test: update accepted by the primary 127.0.0.2 \(zone new.test\)$" \
    "^_mta-sts.new.test: 3 of 3 name servers answer the new id: ns1.new.test \(127.0.0.2\), ns1.new.test \(::1\), ns2.new.test \(127.0.0.3\)$" \
    "^published: _mta-sts.new.test TXT \"v=STSv1; id=$idn;\"$" \
    "^published: _smtp._tls.new.test TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@new.test;\"$"
zone_is "init --publish: created" _mta-sts.new.test "\"v=STSv1; id=$idn;\""
zone_is "init --rua --publish: TLS-RPT" _smtp._tls.new.test \
    '"v=TLSRPTv1; rua=mailto:tlsrpt@new.test;"'
zone_is "init --publish: another name untouched" other.new.test \
    '"v=STSv1; id=elsewhere;"' 127.0.0.2
check "init --publish: the id is recorded as published" \
    test "$(rec_published new.test)" = "$idn"
stsctl main status new.test
expect 0
out "^  id: $idn \(published [0-9T:Z-]+\)$"

# Publishing what is there already sends nothing, and still proves it.
stsctl main publish new.test
expect 0
out "^_mta-sts.new.test: the primary 127.0.0.2 already has it; no update sent$" \
    "^published: _mta-sts.new.test TXT \"v=STSv1; id=$idn;\"$"

# The primary over IPv6, the zone given.
stsctl v6 mode new.test enforce --publish
expect 0
idn2=$(rec_id new.test)
out "^_mta-sts.new.test: update accepted by the primary \[::1\]:53 \(zone new.test\)$" \
    "^published: _mta-sts.new.test TXT \"v=STSv1; id=$idn2;\"$"
zone_is "mode enforce --publish over IPv6" _mta-sts.new.test "\"v=STSv1; id=$idn2;\""

# ---- two.test: two v=STSv1 records, one afterwards ---------------------------

stsctl main init two.test --mx mail.two.test --publish
expect 0
idt=$(rec_id two.test)
zone_is "two v=STSv1 records: one afterwards, the other tag kept" \
    _mta-sts.two.test "\"V=STSV1; not ours\"\n\"v=STSv1; id=$idt;\""

# ---- example.test: replicas, a lagging secondary, a caching sender -----------

stsctl repl init example.test --mx mail.example.test --publish
expect 0
ide1=$(rec_id example.test)
out "^mta-sts.example.test: every replica serves it too \(127.0.0.11, 127.0.0.12:443\).$" \
    "^published: _mta-sts.example.test TXT \"v=STSv1; id=$ide1;\"$"
zone_is "init with replicas: the old v=STSv1 replaced, the other TXT kept" \
    _mta-sts.example.test "\"other=kept\"\n\"v=STSv1; id=$ide1;\""
check "replica 127.0.0.11 serves example.test in mode testing" \
    serves 127.0.0.11 example.test testing
check "mta-sts-daemon: example.test in mode testing after init" \
    test "$(sender example.test)" = testing

# The secondary lags: the command waits for it, the sender keeps its
# cached policy meanwhile (its resolver is that secondary), though the
# new policy is already served.
bind_lag on
nsx -t 60 "$ctl" -f "$tmp/repl.conf" mode example.test enforce --publish \
    --no-preflight >"$tmp/lag.so" 2>"$tmp/lag.se" &
lag_pid=$!
track "$lag_pid"
if wait_for 15 grep -q "^_mta-sts.example.test: 2 of 3 name servers answer the new id$" \
    "$tmp/lag.so"; then
	ok "lagging secondary: the command waits, 2 of 3 name servers answer"
else
	not_ok "lagging secondary: no progress line"
	show "$tmp/lag.so"
	show "$tmp/lag.se"
fi
check "lagging secondary: enforce is served while the command waits" \
    serves 127.0.0.1 example.test enforce
check "lagging secondary: so do the replicas" serves 127.0.0.12 example.test enforce
v=$(sender example.test)
check "lagging secondary: mta-sts-daemon keeps mode testing while the command runs ($v)" \
    test "$v" = testing
check "lagging secondary: the command is still waiting" alive "$lag_pid"
bind_sync || not_ok "bind_sync failed"
reap "$lag_pid"
lag_rc=$?
ide2=$(rec_id example.test)
if [ "$lag_rc" = 0 ] && grep -q "^_mta-sts.example.test: 3 of 3 name servers answer the new id: " "$tmp/lag.so" &&
    grep -q "^published: _mta-sts.example.test TXT \"v=STSv1; id=$ide2;\"$" "$tmp/lag.so"; then
	ok "lagging secondary caught up: 3 of 3, published $ide2"
else
	not_ok "lagging secondary: exit $lag_rc"
	show "$tmp/lag.so"
	show "$tmp/lag.se"
fi
v=$(sender example.test)
check "mta-sts-daemon sees mode enforce once the command returned ($v)" \
    test "$v" = enforce
bind_lag off

# The secondary never catches up within wait: exit 3, the policy stays
# served, the id is not published until 'publish' succeeds.
bind_lag on
stsctl short mode example.test testing --publish
expect 3
ide3=$(rec_id example.test)
out "^_mta-sts.example.test: 2 of 3 name servers answer the new id$" \
    "^_mta-sts.example.test. 3600 IN TXT \"v=STSv1; id=$ide3;\"$"
err "after 2 s, name server ns2.example.test \(127.0.0.3\) answers 'v=STSv1; id=$ide2;'" \
    "the new policy is served, but id $ide3 is NOT published"
check "timeout: the new policy stays served" serves 127.0.0.1 example.test testing
check "timeout: the id is not recorded as published" \
    test "$(rec_published example.test)" = "$ide2"
stsctl repl status example.test
expect 1
out "^  id: $ide3 -- not published: run 'mta-stsctl publish example.test'$"
stsctl repl status --dns example.test
expect 1
out "^  dns: zone example.test, 3 name servers$" \
    "^    ns1.example.test \(127.0.0.2\): id $ide3$" \
    "^    ns2.example.test \(127.0.0.3\): id $ide2, not the current id$" \
    "^  replica 127.0.0.11: serves this policy$"
bind_sync
bind_lag off
stsctl repl publish example.test
expect 0
out "already has it; no update sent$" \
    "^published: _mta-sts.example.test TXT \"v=STSv1; id=$ide3;\"$"
stsctl repl status --dns --json example.test
expect 0
if python3 - "$tmp/so" "$ide3" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))[0]
assert e["published"] is True, e
assert e["dns"]["zone"] == "example.test", e
s = e["dns"]["servers"]
assert len(s) == 3 and all(x["id"] == sys.argv[2] and x["current"] for x in s), s
r = e["replicas"]
assert [x["replica"] for x in r] == ["127.0.0.11", "127.0.0.12:443"], r
assert all(x["serves"] for x in r), r
EOF
then
	ok "status --dns --json: published, every server's id, the replicas"
else
	not_ok "status --dns --json"
	show "$tmp/so"
fi

# A replica that never gets the new file: nothing published, the previous
# policy restored, the replica named; then it does: published.
touch "$tmp/r2.held"
before=$(cat "$p/example.test.txt")
stsctl short mode example.test enforce --publish
expect 1
err "replica 127.0.0.12 does not serve the new policy after 2 s: serves another policy body" \
    "the previous policy was restored; no new id"
check "replica held back: the policy file restored" \
    test "$(cat "$p/example.test.txt")" = "$before"
check "replica held back: no new id" test "$(rec_id example.test)" = "$ide3"
zone_is "replica held back: nothing published" _mta-sts.example.test \
    "\"other=kept\"\n\"v=STSv1; id=$ide3;\""
wait_for 10 serves 127.0.0.1 example.test testing &&
    ok "replica held back: mta-stsd serves the previous policy again" ||
    not_ok "replica held back: mta-stsd does not serve the previous policy"
(sleep 1; rm -f "$tmp/r2.held") &
track $!
stsctl repl mode example.test enforce --publish
expect 0
ide4=$(rec_id example.test)
out "^mta-sts.example.test: 1 of 2 replicas serve the new policy$" \
    "^mta-sts.example.test: every replica serves it too" \
    "^published: _mta-sts.example.test TXT \"v=STSv1; id=$ide4;\"$"
zone_is "replica caught up: published" _mta-sts.example.test \
    "\"other=kept\"\n\"v=STSv1; id=$ide4;\""

# publish = yes publishes without the flag; --no-publish only prints.
stsctl auto set example.test --max-age 1209600
expect 0
ide5=$(rec_id example.test)
out "^published: _mta-sts.example.test TXT \"v=STSv1; id=$ide5;\"$"
stsctl auto set example.test --max-age 604800 --no-publish
expect 0
ide6=$(rec_id example.test)
out "^_mta-sts.example.test. 3600 IN TXT \"v=STSv1; id=$ide6;\"$"
zone_is "--no-publish: the DNS keeps the previous id" _mta-sts.example.test \
    "\"other=kept\"\n\"v=STSv1; id=$ide5;\"" 127.0.0.2
stsctl main issue --publish example.test
expect 0
out "^published: _mta-sts.example.test TXT \"v=STSv1; id=$ide6;\"$"

# ---- wrong keys: refused, the code named, the zone unchanged -----------------

zn=$(bind_txt 127.0.0.2 _mta-sts.new.test)
stsctl badsig mode new.test testing --publish
expect 3
idn3=$(rec_id new.test)
err "the update was not accepted: 127.0.0.2 answered NOTAUTH, TSIG error BADSIG" \
    "the new policy is served, but id $idn3 is NOT published"
out "^_mta-sts.new.test. 3600 IN TXT \"v=STSv1; id=$idn3;\"$"
check "BADSIG: the policy stays served" serves 127.0.0.1 new.test testing
check "BADSIG: the zone is unchanged" test "$(bind_txt 127.0.0.2 _mta-sts.new.test)" = "$zn"
stsctl badkey publish new.test
expect 3
err "127.0.0.2 answered NOTAUTH, TSIG error BADKEY"
check "BADKEY: the zone is unchanged" test "$(bind_txt 127.0.0.2 _mta-sts.new.test)" = "$zn"
stsctl nokey publish new.test
expect 3
err "\[dns\] tsig_key $tmp/no-such.key: No such file or directory; nothing was sent"
check "missing key: not recorded as published" test "$(rec_published new.test)" = "$idn2"
stsctl main publish new.test
expect 0
zone_is "the right key: published" _mta-sts.new.test "\"v=STSv1; id=$idn3;\""

stsctl main init denied.test --mx mail.denied.test --publish
expect 3
err "127.0.0.2 answered REFUSED: the server does not let this key change this name"
zone_is "REFUSED: nothing created" _mta-sts.denied.test "" 127.0.0.2

# ---- the exec hook ------------------------------------------------------------

echo ok >"$tmp/hook/behaviour"
stsctl hook init hook.test --mx mail.hook.test --publish
expect 0
idh=$(rec_id hook.test)
out "^_mta-sts.hook.test: the hook accepted the change \(zone hook.test\)$" \
    "^published: _mta-sts.hook.test TXT \"v=STSv1; id=$idh;\"$"
check "hook: called as 'publish NAME TTL VALUE', with MTA_STS_*" \
    grep -qxF "publish _mta-sts.hook.test 3600 v=STSv1; id=$idh; | hook.test $idh testing" \
    "$tmp/hook/hook.log"
zone_is "hook: published" _mta-sts.hook.test "\"v=STSv1; id=$idh;\""

echo fail >"$tmp/hook/behaviour"
stsctl hook mode hook.test enforce --publish
expect 3
idh2=$(rec_id hook.test)
err "hook $top/tests/publish/hook.sh exited with status 4" \
    "^hook: the provider refused the change \(quota exceeded\)$" \
    "id $idh2 is NOT published"
check "hook failed: enforce stays served" serves 127.0.0.1 hook.test enforce
zone_is "hook failed: the zone is unchanged" _mta-sts.hook.test "\"v=STSv1; id=$idh;\"" 127.0.0.2

echo hang >"$tmp/hook/behaviour"
t0=$(date +%s)
stsctl hook publish hook.test
expect 3
err "hook $top/tests/publish/hook.sh did not finish within 2 s: stopped"
check "hung hook: stopped within 6 s" test $(($(date +%s) - t0)) -le 6
left=
for _p in $(pgrep -x sleep); do
	grep -qzx "MTA_STS_DOMAIN=hook.test" "/proc/$_p/environ" 2>/dev/null &&
	    left="$left $_p"
done
check "hung hook: its process group is gone ($left)" test -z "$left"
echo ok >"$tmp/hook/behaviour"
stsctl hook publish hook.test
expect 0
zone_is "hook: published once it works" _mta-sts.hook.test "\"v=STSv1; id=$idh2;\"" 127.0.0.2

# ---- unpublish ----------------------------------------------------------------

stsctl main unpublish new.test
expect 1
err "the policy is in mode testing: first 'mta-stsctl mode new.test none'"
stsctl main mode new.test none --publish
expect 0
out "^  3. then 'mta-stsctl unpublish new.test' removes the _mta-sts.new.test TXT record"
stsctl main unpublish new.test
expect 1
err "new.test: not before [0-9-]+ [0-9:]+Z: senders may apply the policy mode none replaced"
zone_is "unpublish refused: the record stays" _mta-sts.new.test \
    "\"v=STSv1; id=$(rec_id new.test);\"" 127.0.0.2
stsctl main unpublish --force new.test
expect 0
out "^_mta-sts.new.test: 3 of 3 name servers answer no v=STSv1 record" \
    "^unpublished: _mta-sts.new.test has no v=STSv1 record.$"
zone_is "unpublish --force: removed" _mta-sts.new.test ""
zone_is "unpublish: the TLS-RPT record stays" _smtp._tls.new.test \
    '"v=TLSRPTv1; rua=mailto:tlsrpt@new.test;"' 127.0.0.2
check "unpublish: recorded" grep -q '^unpublished: ' "$p/.ids/new.test.id"

# ---- without [dns] update ------------------------------------------------------

stsctl off publish new.test
expect 1
err "\[dns\] update is not set in $tmp/off.conf"
stsctl off mode two.test enforce --publish
expect 1
err "^mta-stsctl: --publish: \[dns\] update is not set"
for cmd in publish unpublish; do
	stsctl main "$cmd" --help
	expect 0
done
stsctl main publish
expect 2
stsctl main publish --force new.test
expect 2
stsctl main publish --rua ftp://x.test new.test
expect 1
err "--rua 'ftp://x.test': a mailto: or https: URI is required"

stop_all
echo "publish: $(($(date +%s) - start)) s"
summary
