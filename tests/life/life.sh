#!/bin/sh
# tests/life/life.sh: mta-stsctl's life-cycle commands (init, mode, set, issue,
# status, txt's recorded id) as a black box, against a real mta-stsd on a
# free loopback port with its own CA: what is written, what is served (curl),
# which ids are issued and recorded, and that every refusal changes nothing
# on disk (checksums of the policy directory, .ids included).
#
# Then the changes the server cannot serve (tests/life/unserved.sh).
#
# Bounded: every mta-stsctl run has its own timeout, and the whole script
# runs under one (LIFE_TIMEOUT, 150 s); it normally takes well under 90 s.
cd "$(dirname "$0")/../.." || exit 1
if [ -z "${LIFE_TIMED:-}" ]; then
	LIFE_TIMED=1 exec timeout -k 5 "${LIFE_TIMEOUT:-150}" sh tests/life/life.sh "$@"
fi
. tests/lib.sh
umask 022
# LIFE_KEEP, as KEEP_TMP: keep the temporary directory.
[ -z "${LIFE_KEEP:-}" ] || KEEP_TMP=1
suite_start life
p=$tmp/policies
c=$tmp/certs
conf=$tmp/mta-stsd.conf
log=$tmp/log
pidf=$tmp/run/mta-stsd.pid
pid=
immutable=
started=$(date +%s)
# An immutable policy directory is made mutable again before it goes.
at_cleanup '[ -z "$immutable" ] || chattr -i "$p" 2>/dev/null'
# curl fails on an HTTP error status, within 5 s (lib.sh: fetch).
fetch_opts="-f --max-time 5"

# --- helpers

# run ARGS...: mta-stsctl -f CONF ARGS; sets $rc, $so (stdout), $se (stderr).
# This suite has no DNS and no mail hosts: mode and set go without the
# pre-flight before enforce ($npf), which tests/mxpolicy covers.
npf=--no-preflight
run() {
	case $1 in mode | set) set -- "$@" "$npf" ;; esac
	timeout 15 "$ctl" -f "$conf" "$@" >"$tmp/so" 2>"$tmp/se"
	rc=$?
	so=$(cat "$tmp/so")
	se=$(cat "$tmp/se")
	still_up "mta-stsctl $*"
}

# still_up WHEN: mta-stsd should run until the test stops it; if it died,
# that is reported (with the kernel's or the sanitizer's line) and it is
# started again so that the checks after it still test mta-stsctl.
still_up() {
	if [ -n "$pid" ] && ! alive "$pid"; then
		reap "$pid" 2>/dev/null
		_why=$(dmesg 2>/dev/null | grep "mta-stsd\\[$pid\\]" | tail -1)
		[ -z "$_why" ] && _why=$(grep 'SUMMARY: \|^[A-Za-z]*: .*ERROR' "$log" | tail -1)
		not_ok "mta-stsd (pid $pid) died, found after: $1 [$_why]"
		pid=
		start_server || { not_ok "mta-stsd does not start again"; exit 1; }
	fi
}

# (what, the last run for failure messages, and has: tests/lib.sh.)

# snap: every name under the policy directory (lock files aside) with the
# SHA-256 of each file: equal snapshots mean nothing changed on disk.
snap() {
	(cd "$p" && find . ! -name '*.lock' | LC_ALL=C sort | while IFS= read -r f; do
		if [ -f "$f" ]; then sha256sum "$f"; else echo "dir $f"; fi
	done)
}
# locks: the lock files in .ids.
locks() {
	ls -a "$p/.ids" 2>/dev/null | grep '\.lock$'
}

# (fetch DOMAIN [CURL ARGS...], tests/lib.sh: the policy mta-stsd serves
# for DOMAIN.)

# serves DOMAIN: mta-stsd serves the canonical body of POLICY_DIR/DOMAIN.txt.
serves() {
	fetch "$1" >"$tmp/got" 2>/dev/null &&
	    "$ctl" validate --print "$p/$1.txt" >"$tmp/want" 2>/dev/null &&
	    cmp -s "$tmp/got" "$tmp/want"
}

# rec_prev DOMAIN: the ids recorded before the current one (rec_id:
# tests/lib.sh).
rec_prev() { sed -n 's/^previous: //p' "$p/.ids/$1.id" 2>/dev/null; }

# txt_id DOMAIN TEXT: the id of the _mta-sts TXT line in TEXT.
txt_id() {
	printf '%s\n' "$2" | sed -n "s/^_mta-sts\\.$(echo "$1" | sed 's/\./\\./g')\\. 3600 IN TXT \"v=STSv1; id=\\([A-Za-z0-9]*\\);\"\$/\\1/p"
}

# new_id TEXT: the id after "new id " in TEXT.
new_id() {
	printf '%s\n' "$1" | sed -n 's/.*new id \([A-Za-z0-9]*\)\..*/\1/p' | head -1
}

# is_id ID: yyyymmddhhmmssZ (hour, minute or second precision).
is_id() {
	printf '%s\n' "$1" | grep -Eqx '[0-9]{14}Z'
}

# refused DESCRIPTION RC MESSAGE ARGS...: mta-stsctl ARGS exits RC with
# MESSAGE on stderr, and changes nothing on disk, not even a lock file.
refused() {
	_desc=$1 _rc=$2 _msg=$3
	shift 3
	_before=$(snap)
	_locks=$(locks)
	run "$@"
	if [ "$rc" = "$_rc" ] && has "$se" "$_msg"; then
		ok "$_desc: exit $_rc, '$_msg'"
	else
		not_ok "$_desc: expected exit $_rc and '$_msg': $(what)"
	fi
	unchanged "$_desc"
}

# unchanged DESCRIPTION: the policy directory is as in $_before/$_locks.
unchanged() {
	_after=$(snap)
	if [ "$_before" = "$_after" ]; then
		ok "$1: nothing changed on disk"
	else
		not_ok "$1: the policy directory changed: $(printf '%s\n' "$_before" >"$tmp/b"; printf '%s\n' "$_after" | diff "$tmp/b" - | grep '^[<>]' | tr '\n' ' ')"
	fi
	if [ "$_locks" = "$(locks)" ]; then
		ok "$1: no lock file left behind"
	else
		not_ok "$1: left a lock file behind: $(printf '%s\n' "$_locks" >"$tmp/b"; locks | diff "$tmp/b" - | sed -n 's/^> //p' | tr '\n' ' ')"
	fi
}

# start_server: mta-stsd in the foreground as nobody, until it serves b.test
# and has written its pid file.
start_server() {
	server_start "$conf" b.test || return 1
	_i=0
	while [ ! -s "$pidf" ]; do
		_i=$((_i + 1))
		[ $_i -gt 50 ] && return 1
		sleep 0.1
	done
	return 0
}

# wait_log TEXT: up to 3 s for TEXT in the server's log.
wait_log() {
	_i=0
	while ! grep -qF -- "$1" "$log"; do
		_i=$((_i + 1))
		[ $_i -gt 30 ] && return 1
		sleep 0.1
	done
	return 0
}

# --- set-up: CA, certificates, a hand-written policy, configuration

port=$(free_port)
suite_ca
cert "$c" a ec256 90 mta-sts.a.test
cert "$c" rest ec256 90 mta-sts.b.test mta-sts.c.test mta-sts.k.test \
    mta-sts.l.test mta-sts.p.test mta-sts.u.test
# For tests/life/unserved.sh: ub.test's certificate alone in its files.
cert "$c" ub ec256 90 mta-sts.ub.test
cert "$c" un ec256 90 mta-sts.ua.test mta-sts.uc.test mta-sts.ud.test \
    mta-sts.us.test
mkdir -p "$p" "$tmp/run"
chown nobody "$tmp/run"

# b.test: written by hand, CRLF, comments and a blank line.
bsrc() {
	printf '# b.test: written by hand\r\n# keep this comment\r\nversion: STSv1\r\n\r\nmode: %s\r\n# the mail hosts\r\nmx: mx1.b.test\r\nmx: *.b.test\r\nmax_age: 604800\r\n' "$1"
}
bsrc testing >"$p/b.test.txt"
chmod -R a+rX "$tmp"
# The policies are not watched: a change reaches the server only by the
# signal mta-stsctl sends (the cases where it reaches no server need it).
server_conf "$conf" "log_level = debug" "pid_file = $pidf" \
    "watch_policies = no"

if start_server; then
	ok "mta-stsd starts and serves the hand-written policy"
else
	not_ok "mta-stsd did not start: $(cat "$log")"
	summary
	exit 1
fi

# --- help
for cmd in init mode set issue status txt; do
	run "$cmd" --help
	if [ "$rc" = 0 ] && has "$so" "usage: mta-stsctl $cmd "; then
		ok "$cmd --help: exit 0, usage"
	else
		not_ok "$cmd --help: $(what)"
	fi
	run "$cmd" -h
	check "$cmd -h: exit 0" test "$rc" = 0
done
run help mode
check "help mode: exit 0" test "$rc" = 0

# --- init
h0=$(date -u +%Y%m%d%H0000Z)
run init a.test --mx mx1.a.test --rua 'mailto:a,b@x' --rua 'https://r.test/p;q!x'
h1=$(date -u +%Y%m%d%H0000Z)
id0=$(txt_id a.test "$so")
check "init: exit 0" test "$rc" = 0
if [ -n "$id0" ] && { [ "$id0" = "$h0" ] || [ "$id0" = "$h1" ]; }; then
	ok "init: prints the _mta-sts TXT record with the hour's id ($id0)"
else
	not_ok "init: TXT record with a yyyymmddhh0000Z id: $(what)"
fi
if printf '%s\n' "$so" | grep -Eqx '(; )?mta-sts\.a\.test\. 3600 IN CNAME .+\.' &&
    has "$so" "an A record is needed"; then
	ok "init: prints the mta-sts CNAME/A hint"
else
	not_ok "init: CNAME/A hint: $(what)"
fi
if printf '%s\n' "$so" | grep -qxF '_smtp._tls.a.test. 3600 IN TXT "v=TLSRPTv1; rua=mailto:a%2Cb@x,https://r.test/p%3Bq%21x;"'; then
	ok "init: two --rua joined by ',', with ',' ';' '!' percent-encoded"
else
	not_ok "init: TLS-RPT record: $(what)"
fi
if grep -qx 'mode: testing' "$p/a.test.txt" && grep -qx 'mx: mx1.a.test' "$p/a.test.txt" &&
    grep -qx 'max_age: 86400' "$p/a.test.txt" && "$ctl" validate -q "$p/a.test.txt"; then
	ok "init: a valid DOMAIN.txt in mode testing, the mx given, max_age 86400"
else
	not_ok "init: the file: $(cat "$p/a.test.txt" 2>&1)"
fi
check "init: the id is recorded in .ids/a.test.id" test -n "$id0" -a "$(rec_id a.test)" = "$id0"
if has "$so" "mta-sts.a.test: served now." && serves a.test; then
	ok "init: reloads the server, which serves the new policy"
else
	not_ok "init: not served: $(what)"
fi

run init c.test --mx mx.c.test --max-age 1209600 --rua 'mailto:a,b@x'
if [ "$rc" = 0 ] && grep -qx 'max_age: 1209600' "$p/c.test.txt" && serves c.test; then
	ok "init --max-age N: max_age N, served"
else
	not_ok "init --max-age: $(what) file=[$(cat "$p/c.test.txt" 2>&1)]"
fi
if printf '%s\n' "$so" | grep -qxF '_smtp._tls.c.test. 3600 IN TXT "v=TLSRPTv1; rua=mailto:a%2Cb@x;"'; then
	ok "init --rua mailto:a,b@x: rua=mailto:a%2Cb@x"
else
	not_ok "init --rua: $(what)"
fi

# (each refusal on a domain of its own, to see whether it leaves a lock file)
refused "init --rua ftp:" 1 "a mailto: or https: URI is required" \
    init r1.test --mx mx.r1.test --rua ftp://r.test/x
check "init --rua ftp: no r1.test.txt" test ! -e "$p/r1.test.txt"

cp "$p/a.test.txt" "$tmp/a.before"
refused "init over an existing policy" 1 "init never overwrites a policy" \
    init a.test --mx other.a.test --max-age 600
check "init over an existing policy: file byte for byte" cmp -s "$p/a.test.txt" "$tmp/a.before"

refused "init with an invalid mx" 1 "nothing created" init r2.test --mx 'bad_mx.r2.test'
check "init with an invalid mx: no r2.test.txt" test ! -e "$p/r2.test.txt"
refused "init with an IP address as mx" 1 "nothing created" init r3.test --mx 192.0.2.1
refused "init --max-age out of range" 2 "is not 0 to 31557600 seconds" \
    init r4.test --mx mx.r4.test --max-age 31557601
# Without --mx, the MX records: from a DNS server that never answers.
refused "init without --mx, no answer for its MX records" 1 \
    "cannot look up its MX records: no answer from 127.0.0.1:9 within 1 s; give --mx" \
    init r5.test --resolver 127.0.0.1:9 --timeout 1

_before=$(snap)
_locks=$(locks)
run init --dry-run f.test --mx mx.f.test
if [ "$rc" = 0 ] && has "$so" "would create" && has "$so" "mode: testing"; then
	ok "init --dry-run: exit 0, says what it would create"
else
	not_ok "init --dry-run: $(what)"
fi
check "init --dry-run: no f.test.txt, no id record" test ! -e "$p/f.test.txt" -a ! -e "$p/.ids/f.test.id"
unchanged "init --dry-run"

# --- mode, on the hand-written CRLF policy of b.test (no id record yet)
bsrc enforce >"$tmp/b.enforce"
run mode b.test enforce
idb1=$(new_id "$so")
check "mode enforce: exit 0" test "$rc" = 0
if cmp -s "$p/b.test.txt" "$tmp/b.enforce"; then
	ok "mode enforce: only the mode line rewritten (comments, blank line, CRLF kept)"
else
	not_ok "mode enforce: file is $(od -c "$p/b.test.txt" | head -20)"
fi
if serves b.test && grep -q '^mode: enforce' "$tmp/got"; then
	ok "mode enforce: the server serves the new canonical body (curl)"
else
	not_ok "mode enforce: served $(cat "$tmp/got")"
fi
if is_id "$idb1" && [ "$(txt_id b.test "$so")" = "$idb1" ] && [ "$(rec_id b.test)" = "$idb1" ]; then
	ok "mode enforce: new id $idb1 printed, in the TXT record, recorded"
else
	not_ok "mode enforce: id: $(what) record=[$(cat "$p/.ids/b.test.id" 2>&1)]"
fi
check "mode enforce: reminder with the previous max_age" has "$so" "for at most its max_age (604800 s, 7.0 days)"

cp "$p/.ids/b.test.id" "$tmp/b.id"
_before=$(snap)
_locks=$(locks)
run mode b.test enforce
if [ "$rc" = 0 ] && has "$so" "b.test: the policy is unchanged; it keeps its id $idb1"; then
	ok "mode, same mode again: 'unchanged; it keeps its id', exit 0"
else
	not_ok "mode, same mode again: $(what)"
fi
unchanged "mode, same mode again"

refused "mode with a bad mode word" 1 "testing, enforce or none" mode b.test strict
refused "mode with a mode word in capitals" 1 "testing, enforce or none" mode b.test ENFORCE

fetch b.test >"$tmp/b.served"
_before=$(snap)
_locks=$(locks)
run mode --dry-run b.test testing
if [ "$rc" = 0 ] && has "$so" "would serve" && has "$so" "mode: testing"; then
	ok "mode --dry-run: exit 0, says what it would serve"
else
	not_ok "mode --dry-run: $(what)"
fi
unchanged "mode --dry-run"
fetch b.test >"$tmp/b.served2"
check "mode --dry-run: the server's body unchanged" cmp -s "$tmp/b.served" "$tmp/b.served2"

t0=$(date +%s)
run mode b.test none
t1=$(date +%s)
idb2=$(new_id "$so")
if [ "$rc" = 0 ] && cmp -s "$p/b.test.txt" "$(bsrc none >"$tmp/b.none"; echo "$tmp/b.none")" &&
    serves b.test && grep -q '^mode: none' "$tmp/got"; then
	ok "mode none: file rewritten, served"
else
	not_ok "mode none: $(what)"
fi
if is_id "$idb2" && [ "$idb2" != "$idb1" ] && [ "$(rec_id b.test)" = "$idb2" ] &&
    rec_prev b.test | grep -qx "$idb1"; then
	ok "mode none: new id $idb2 recorded, $idb1 kept as previous"
else
	not_ok "mode none: ids: $(what) record=[$(cat "$p/.ids/b.test.id")]"
fi
u0=$(date -u -d "@$((t0 + 604800))" '+%Y-%m-%d %H:%MZ')
u1=$(date -u -d "@$((t1 + 604800))" '+%Y-%m-%d %H:%MZ')
if has "$so" "To remove MTA-STS from b.test:" &&
    { has "$so" "$u0" || has "$so" "$u1"; } && has "$so" "previous max_age" &&
    has "$so" "then delete the _mta-sts.b.test TXT record, and only then $p/b.test.txt"; then
	ok "mode none: prints the removal procedure, with the date the previous max_age ends"
else
	not_ok "mode none: removal procedure: $(what)"
fi

# --- ids: changes within the hour, and a return to an earlier policy
cp "$p/a.test.txt" "$tmp/a.testing"
run mode a.test enforce
id1=$(new_id "$so")
run mode a.test testing
id2=$(new_id "$so")
check "ids: the return to the first policy is byte for byte the first file" cmp -s "$p/a.test.txt" "$tmp/a.testing"
if is_id "$id1" && is_id "$id2" && [ "$id1" != "$id0" ] && [ "$id2" != "$id1" ]; then
	ok "ids: two changes within the hour, two different ids ($id0, $id1, $id2)"
else
	not_ok "ids: $id0 / $id1 / $id2: $(what)"
fi
if [ -n "$id2" ] && [ "$id2" != "$id0" ] && [ "$(rec_id a.test)" = "$id2" ] &&
    [ "$(rec_prev a.test | tr '\n' ' ')" = "$id0 $id1 " ]; then
	ok "ids: back to an earlier policy, still a new id never used; previous: $id0 $id1"
else
	not_ok "ids: record after the return: [$(cat "$p/.ids/a.test.id")]"
fi
run mode a.test testing
check "ids: an unchanged policy keeps its id" test "$rc" = 0 -a "$(rec_id a.test)" = "$id2"
has "$so" "keeps its id $id2" || not_ok "ids: unchanged policy message: $(what)"

# --- set
run set a.test --add-mx mx2.a.test
if [ "$rc" = 0 ] && [ "$(grep '^mx:' "$p/a.test.txt" | tr '\n' ' ')" = "mx: mx1.a.test mx: mx2.a.test " ] &&
    serves a.test && is_id "$(new_id "$so")"; then
	ok "set --add-mx: added, served, new id"
else
	not_ok "set --add-mx: $(what) file=[$(cat "$p/a.test.txt")]"
fi
refused "set --remove-mx of an unknown mx" 1 "not in the policy; nothing changed" \
    set a.test --remove-mx mx9.a.test
run set a.test --remove-mx MX1.a.test
if [ "$rc" = 0 ] && [ "$(grep '^mx:' "$p/a.test.txt" | tr '\n' ' ')" = "mx: mx2.a.test " ] && serves a.test; then
	ok "set --remove-mx (any case): removed, served"
else
	not_ok "set --remove-mx: $(what) file=[$(cat "$p/a.test.txt")]"
fi
run set a.test --mx '*.a.test' --mx mx3.a.test
if [ "$rc" = 0 ] && [ "$(grep '^mx:' "$p/a.test.txt" | tr '\n' ' ')" = "mx: *.a.test mx: mx3.a.test " ] && serves a.test; then
	ok "set --mx: replaces every mx, served"
else
	not_ok "set --mx: $(what) file=[$(cat "$p/a.test.txt")]"
fi
run set a.test --max-age 1209600
if [ "$rc" = 0 ] && grep -qx 'max_age: 1209600' "$p/a.test.txt" && serves a.test &&
    has "$so" "for at most its max_age (86400 s, 1.0 days)"; then
	ok "set --max-age: written, served, reminder with the previous max_age"
else
	not_ok "set --max-age: $(what)"
fi
check "set: comments kept" grep -q '^# a.test, created by mta-stsctl init' "$p/a.test.txt"
refused "set --mx with an invalid mx" 1 "nothing changed" set a.test --mx 'bad_mx.a.test'
refused "set --add-mx with an invalid mx" 1 "nothing changed" set a.test --add-mx 'mx.a.test:25'
refused "set --remove-mx of every mx" 1 "nothing changed" set a.test --remove-mx '*.a.test' --remove-mx mx3.a.test
refused "set --mx with --add-mx" 2 "usage: mta-stsctl set" set a.test --mx mx.a.test --add-mx mx4.a.test
refused "set without a change" 2 "usage: mta-stsctl set" set a.test
_before=$(snap)
_locks=$(locks)
run set --dry-run a.test --max-age 3600
check "set --dry-run: exit 0, would serve" test "$rc" = 0 -a -n "$(has "$so" "would serve" && echo y)"
unchanged "set --dry-run"
ida=$(rec_id a.test)

# --- txt: the recorded id
run txt a.test
if [ "$rc" = 0 ] && [ "$so" = "_mta-sts.a.test. 3600 IN TXT \"v=STSv1; id=$ida;\"" ]; then
	ok "txt DOMAIN -f CONF: the recorded id"
else
	not_ok "txt DOMAIN -f CONF: expected id $ida: $(what)"
fi
so=$(timeout 15 "$ctl" txt b.test -f "$conf")
check "txt DOMAIN -f CONF (option after the domain): the recorded id" test "$so" = "_mta-sts.b.test. 3600 IN TXT \"v=STSv1; id=$idb2;\""
run txt a.test --id 123abc
check "txt --id: the id given" test "$so" = '_mta-sts.a.test. 3600 IN TXT "v=STSv1; id=123abc;"'

# --- status, all well
run status
if [ "$rc" = 0 ] && has "$so" "a.test: mode testing, max_age 1209600, mx *.a.test mx3.a.test" &&
    has "$so" "  id: $ida
  certificate: mta-sts.a.test (ECDSA P-256), " && has "$so" "  server: serves this policy" &&
    ! has "$so" "changed since"; then
	ok "status: human output, exit 0 when all is well"
else
	not_ok "status: $(what)"
fi
check "status: one entry per domain" test "$(printf '%s\n' "$so" | grep -c 'server: serves this policy')" = 3
run status --json
printf '%s\n' "$so" >"$tmp/json"
if [ "$rc" = 0 ] && python3 -m json.tool "$tmp/json" >/dev/null 2>&1; then
	ok "status --json: valid JSON, exit 0"
else
	not_ok "status --json: $(what)"
fi
# json_check FILE DOMAIN EXPECTATIONS...: python assertions on one entry.
json_check() {
	python3 - "$@" <<'EOF'
import json, sys
f, dom = sys.argv[1], sys.argv[2]
try:
    e = [x for x in json.load(open(f)) if x.get("domain") == dom][0]
except Exception as ex:
    print("no entry for %s: %s" % (dom, ex)); sys.exit(1)
bad = []
for x in sys.argv[3:]:
    k, v = x.split("=", 1)
    cur = e
    for part in k.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if v.startswith("range:"):
        lo, hi = map(int, v[6:].split(","))
        if not (isinstance(cur, int) and lo <= cur <= hi): bad.append("%s=%r" % (k, cur))
    elif json.dumps(cur) != v:
        bad.append("%s=%s, expected %s" % (k, json.dumps(cur), v))
if bad: print("; ".join(bad)); sys.exit(1)
EOF
}
if out=$(json_check "$tmp/json" a.test mode='"testing"' max_age=1209600 \
    mx='["*.a.test", "mx3.a.test"]' id="\"$ida\"" changed_since_id=false \
    next_id=null certificate.subject='"mta-sts.a.test"' \
    certificate.kind='"ECDSA P-256"' certificate.days_left=range:88,90 \
    server='"serves this policy"'); then
	ok "status --json: mode, mx, max_age, id, changed_since_id, next_id, certificate, server"
else
	not_ok "status --json fields: $out"
fi

# --- a change by hand: status reports the drift, the server logs it, issue
if grep -q 'store: mta-sts.a.test: the policy changed since' "$log"; then
	not_ok "mta-stsd warned of drift during normal mta-stsctl changes: $(grep 'store: mta-sts.a.test: the policy changed since' "$log" | head -2)"
else
	ok "no drift warning from mta-stsd during normal mta-stsctl changes"
fi
sed -i 's/^max_age: .*/max_age: 2000000/' "$p/a.test.txt"
run status a.test
nxt=$(printf '%s\n' "$so" | sed -n 's/.*publish id \([A-Za-z0-9]*\)$/\1/p')
if [ "$rc" = 1 ] && has "$so" "id: $ida -- policy changed since the id was issued: run 'mta-stsctl issue a.test'" &&
    is_id "$nxt" && [ "$nxt" != "$ida" ] && ! rec_prev a.test | grep -qx "$nxt"; then
	ok "status after an edit by hand: drift reported with a fresh id to publish ($nxt), exit 1"
else
	not_ok "status drift: $(what)"
fi
run status --json a.test
printf '%s\n' "$so" >"$tmp/json"
if [ "$rc" = 1 ] && out=$(json_check "$tmp/json" a.test changed_since_id=true max_age=2000000 id="\"$ida\""); then
	ok "status --json after an edit: changed_since_id true, exit 1"
else
	not_ok "status --json drift: $(what) $out"
fi
check "status --json after an edit: next_id is a new id" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))[0]
sys.exit(not (isinstance(e["next_id"], str) and len(e["next_id"]) == 15 and e["next_id"] != e["id"]))' "$tmp/json"
kill -HUP "$pid"
if wait_log "store: mta-sts.a.test: the policy changed since id $ida was issued"; then
	ok "mta-stsd logs the drift at a reload"
else
	not_ok "no drift warning in the log: $(tail -5 "$log")"
fi
_before=$(snap)
_locks=$(locks)
run issue --dry-run a.test
if [ "$rc" = 0 ] && has "$so" "would issue id"; then
	ok "issue --dry-run: exit 0, says which id it would issue"
else
	not_ok "issue --dry-run: $(what)"
fi
unchanged "issue --dry-run"
run issue a.test
idi=$(printf '%s\n' "$so" | sed -n 's/^mta-sts\.a\.test serves the policy; new id \([A-Za-z0-9]*\)\. Publish this record now:$/\1/p')
if [ "$rc" = 0 ] && is_id "$idi" && [ "$idi" != "$ida" ] && [ "$(txt_id a.test "$so")" = "$idi" ] &&
    [ "$(rec_id a.test)" = "$idi" ] && rec_prev a.test | grep -qx "$ida" && serves a.test; then
	ok "issue: confirms the policy is served, issues and records a new id ($idi)"
else
	not_ok "issue: $(what) record=[$(cat "$p/.ids/a.test.id")]"
fi
[ "$idi" = "$nxt" ] || echo "# status said to publish id $nxt; issue then issued $idi"
run status a.test
check "status after issue: clean, exit 0" test "$rc" = 0 -a -z "$(has "$so" "changed since" && echo y)"
run issue a.test
if [ "$rc" = 0 ] && has "$so" "unchanged since id $idi was issued" && [ "$(rec_id a.test)" = "$idi" ]; then
	ok "issue again: unchanged, keeps its id"
else
	not_ok "issue again: $(what)"
fi

# A domain removed and created again: its new id is none of the old ones.
oldc=$(sed -n 's/^id: //p; s/^previous: //p' "$p/.ids/c.test.id")
rm "$p/c.test.txt"
run init c.test --mx mx.c.test
idc=$(txt_id c.test "$so")
if [ "$rc" = 0 ] && is_id "$idc" && ! printf '%s\n' "$oldc" | grep -qx "$idc" &&
    [ "$(rec_id c.test)" = "$idc" ] && rec_prev c.test | grep -qx "$(printf '%s\n' "$oldc" | head -1)"; then
	ok "init after the policy was removed: a new id ($idc), the old ones kept"
else
	not_ok "init after removal: old ids [$oldc]: $(what) record=[$(cat "$p/.ids/c.test.id")]"
fi

# --- failure paths: clear message, non-zero exit, nothing changed
refused "mode on a domain without policy" 1 "no such policy (create it with 'mta-stsctl init')" \
    mode z1.test enforce
refused "set on a domain without policy" 1 "no such policy" set z2.test --max-age 600
refused "issue on a domain without policy" 1 "no such policy" issue z3.test
refused "status on a domain without policy" 1 "no such policy" status z4.test
refused "mode on an invalid domain (underscore)" 1 "invalid domain 'bad_dom.test'" mode bad_dom.test enforce
refused "mode on an invalid domain (empty label)" 1 "invalid domain 'a..test'" mode a..test enforce
refused "init on an invalid domain" 1 "invalid domain" init 'x y.test' --mx mx.x.test
refused "init on an IP address" 1 "invalid domain" init 192.0.2.1 --mx mx.x.test

# A damaged id record: reported, never overwritten.
cp "$p/.ids/a.test.id" "$tmp/a.id"
printf 'id: 20200101000000Z\nsha256: nothex\ngarbage\001\n' >"$p/.ids/a.test.id"
cp "$p/.ids/a.test.id" "$tmp/a.id.damaged"
refused "mode with a damaged id record" 1 "damaged id record" mode a.test enforce
refused "set with a damaged id record" 1 "damaged id record" set a.test --max-age 1300000
refused "issue with a damaged id record" 1 "damaged id record" issue a.test
refused "status with a damaged id record" 1 "damaged id record" status a.test
refused "txt with a damaged id record" 1 "damaged id record" txt a.test
check "damaged id record: byte for byte as it was" cmp -s "$p/.ids/a.test.id" "$tmp/a.id.damaged"
check "damaged id record: the old policy still served" serves a.test
run status --json
printf '%s\n' "$so" >"$tmp/json"
if [ "$rc" = 1 ] && python3 -m json.tool "$tmp/json" >/dev/null 2>&1; then
	ok "status --json with a damaged record on the first domain: still valid JSON, exit 1"
else
	not_ok "status --json with a damaged record on the first domain: invalid JSON: $(what)"
fi
cp "$tmp/a.id" "$p/.ids/a.test.id"

# No certificate for the domain.
run init n.test --mx mx.n.test
if [ "$rc" = 0 ] && has "$so" "mta-sts.n.test: not served yet (no certificate)"; then
	ok "init without a certificate: created, says it is not served yet"
else
	not_ok "init without a certificate: $(what)"
fi
refused "mode without a certificate" 1 "mta-sts.n.test: no certificate" mode n.test enforce
has "$se" "n.test: nothing changed" || not_ok "mode without a certificate: no 'nothing changed': $(what)"
refused "set without a certificate" 1 "no certificate" set n.test --max-age 1300000
run status n.test
if [ "$rc" = 1 ] && has "$so" "certificate: none: " && has "$so" "server: not served"; then
	ok "status without a certificate: says so, exit 1"
else
	not_ok "status without a certificate: $(what)"
fi

# The policy directory unwritable.  As root chmod does not stop us: chattr
# +i the directory (as a chmod 0555 would for its owner: .ids stays
# writable), else mta-stsctl as nobody with setpriv.
fetch a.test >"$tmp/a.served"
as=
if [ "${LIFE_UNWRITABLE:-}" != setpriv ] && chattr +i "$p" 2>/dev/null; then
	immutable=1
	how="chattr +i on the policy directory"
else
	as="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	how="mta-stsctl as nobody (setpriv), policy directory owned by root, 0755"
fi
echo "# unwritable policy directory: $how"
_before=$(snap)
_locks=$(locks)
for args in "mode a.test enforce $npf" "set a.test --max-age 1300000 $npf" \
    "init w.test --mx mx.w.test"; do
	# shellcheck disable=SC2086
	$as timeout 15 "$ctl" -f "$conf" $args >"$tmp/so" 2>"$tmp/se"
	rc=$?
	so=$(cat "$tmp/so")
	se=$(cat "$tmp/se")
	if [ "$rc" = 1 ] && { has "$se" "Operation not permitted" || has "$se" "Permission denied"; }; then
		ok "unwritable policy directory: $args refused with the reason"
	else
		not_ok "unwritable policy directory: $args: $(what)"
	fi
done
[ -n "$immutable" ] && chattr -i "$p" && immutable=
unchanged "unwritable policy directory"
fetch a.test >"$tmp/a.served2"
check "unwritable policy directory: the old policy still served" cmp -s "$tmp/a.served" "$tmp/a.served2"

# The whole policy directory read-only (a read-only bind mount in a private
# mount namespace): changes refused; status, which only reads, still works.
if unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && ! touch "$1/.probe" 2>/dev/null' sh "$p"; then
	# ro ARGS...: mta-stsctl ARGS with the policy directory read-only.
	ro() {
		unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
		    sh "$p" timeout 15 "$ctl" -f "$conf" "$@" >"$tmp/so" 2>"$tmp/se"
		rc=$?
		so=$(cat "$tmp/so")
		se=$(cat "$tmp/se")
	}
	_before=$(snap)
	_locks=$(locks)
	ro mode a.test enforce "$npf"
	if [ "$rc" = 1 ] && has "$se" "Read-only file system"; then
		ok "read-only policy directory: mode refused with the reason"
	else
		not_ok "read-only policy directory: mode: $(what)"
	fi
	unchanged "read-only policy directory"
	ro status a.test
	if [ "$rc" = 0 ] && has "$so" "server: serves this policy"; then
		ok "read-only policy directory: status (which only reads) works"
	else
		not_ok "read-only policy directory: status a.test fails: $(what)"
	fi
else
	rm -f "$p/.probe"
	echo "# read-only bind mount not available: skipped"
fi

# --- crash safety: killed between writing a temporary file and renaming it
# fault DOMAIN MODE: mode DOMAIN MODE with MTA_STSCTL_FAULT=rename (a kill
# between writing the new policy and renaming it), then the checks: killed,
# the policy byte for byte, the recorded id unchanged, the old policy
# still served; then a normal run succeeds and leaves no temporary file.
fault() {
	cp "$p/$1.txt" "$tmp/f.txt"
	rm -f "$tmp/f.id"
	if [ -e "$p/.ids/$1.id" ]; then cp "$p/.ids/$1.id" "$tmp/f.id"; fi
	fetch "$1" >"$tmp/f.served"
	MTA_STSCTL_FAULT=rename timeout 15 "$ctl" -f "$conf" mode "$1" "$2" \
	    "$npf" >"$tmp/so" 2>"$tmp/se"
	rc=$?
	echo "# fault in mode $1 $2 left: $(cd "$p" && ls -a . .ids | grep '\.tmp$' | tr '\n' ' ')"
	check "fault in mode $1: mta-stsctl killed (SIGKILL)" test "$rc" = 137
	check "fault in mode $1: the old policy byte for byte" cmp -s "$p/$1.txt" "$tmp/f.txt"
	if [ -e "$tmp/f.id" ]; then
		# The record may carry the run's "pending" mark; its id is the same.
		check "fault in mode $1: no new id recorded" test "$(grep '^id: ' "$p/.ids/$1.id")" = "$(grep '^id: ' "$tmp/f.id")"
	else
		check "fault in mode $1: no id recorded" test ! -e "$p/.ids/$1.id"
	fi
	sleep 0.2
	fetch "$1" >"$tmp/f.served2"
	check "fault in mode $1: the old policy still served" cmp -s "$tmp/f.served" "$tmp/f.served2"
	run mode "$1" "$2"
	if [ "$rc" = 0 ] && grep -q "^mode: $2" "$p/$1.txt" && serves "$1" &&
	    [ "$(rec_id "$1")" = "$(new_id "$so")" ]; then
		ok "fault in mode $1: the next mode run succeeds, served, id recorded"
	else
		not_ok "fault in mode $1: next mode run: $(what)"
	fi
	_stray=$(cd "$p" && ls -a . .ids | grep "^\.$(echo "$1" | sed 's/\./\\./g')\..*\.tmp\$")
	check "fault in mode $1: no stray .$1.*.tmp left [$_stray]" test -z "$_stray"
}
# a.test has an id record; p.test, written by hand, has none yet.
fault a.test "$(grep -q '^mode: enforce' "$p/a.test.txt" && echo testing || echo enforce)"
printf 'version: STSv1\nmode: testing\nmx: mx.p.test\nmax_age: 86400\n' >"$p/p.test.txt"
kill -HUP "$pid"
_i=0
while ! fetch p.test -o /dev/null 2>/dev/null && [ $_i -lt 30 ]; do sleep 0.1; _i=$((_i + 1)); done
fault p.test enforce

# The same fault in init and issue.
MTA_STSCTL_FAULT=rename timeout 15 "$ctl" -f "$conf" init k.test --mx mx.k.test >/dev/null 2>&1
rc=$?
check "fault in init: killed, no policy, no id record" test "$rc" = 137 -a ! -e "$p/k.test.txt" -a ! -e "$p/.ids/k.test.id"
run init k.test --mx mx.k.test
check "fault in init: the next init succeeds" test "$rc" = 0 -a -n "$(serves k.test && echo y)"
if ls -a "$p" | grep -q '^\.k\.test\.txt\..*\.tmp$'; then
	not_ok "fault in init: the next init leaves the stray temporary file: $(ls -a "$p" | grep '\.tmp$' | tr '\n' ' ')"
else
	ok "fault in init: no stray temporary file after the next init"
fi
sed -i 's/^max_age: .*/max_age: 86401/' "$p/k.test.txt"
cp "$p/.ids/k.test.id" "$tmp/k.id"
MTA_STSCTL_FAULT=rename-id timeout 15 "$ctl" -f "$conf" issue k.test >/dev/null 2>&1
rc=$?
check "fault in issue: killed, id record byte for byte" test "$rc" = 137 -a -n "$(cmp -s "$p/.ids/k.test.id" "$tmp/k.id" && echo y)"
run issue k.test
check "fault in issue: the next issue succeeds" test "$rc" = 0 -a "$(rec_id k.test)" = "$(new_id "$so")"
if ls -a "$p/.ids" | grep -q '^\.k\.test\.id\..*\.tmp$'; then
	not_ok "fault in issue: a stray temporary file stays in .ids after the next issue: $(ls -a "$p/.ids" | grep '\.tmp$' | tr '\n' ' ')"
else
	ok "fault in issue: no stray temporary file in .ids"
fi

# --- lock: two mode runs at the same time on one domain
run init l.test --mx mx.l.test --max-age 1209600
for round in 1 2; do
	run mode l.test none
	[ "$rc" = 0 ] || not_ok "lock round $round: mode none: $(what)"
	cp "$p/.ids/l.test.id" "$tmp/l.id"
	idl=$(rec_id l.test)
	sed 's/^mode: none$/mode: enforce/' "$p/l.test.txt" >"$tmp/l.enforce"
	sed 's/^mode: none$/mode: testing/' "$p/l.test.txt" >"$tmp/l.testing"
	timeout 15 "$ctl" -f "$conf" mode l.test enforce "$npf" >"$tmp/l1.out" \
	    2>"$tmp/l1.err" &
	j1=$!
	timeout 15 "$ctl" -f "$conf" mode l.test testing >"$tmp/l2.out" 2>"$tmp/l2.err" &
	j2=$!
	track "$j1" "$j2"
	reap "$j1"
	r1=$?
	reap "$j2"
	r2=$?
	echo "# lock round $round: $(cat "$tmp/l1.err" "$tmp/l2.err" | grep -c 'waiting for another mta-stsctl') run(s) waited for the other"
	i1=$(new_id "$(cat "$tmp/l1.out")")
	i2=$(new_id "$(cat "$tmp/l2.out")")
	if [ "$r1" = 0 ] && [ "$r2" = 0 ]; then
		ok "lock round $round: both runs complete"
	else
		not_ok "lock round $round: rc $r1/$r2: [$(cat "$tmp/l1.out" "$tmp/l1.err" "$tmp/l2.out" "$tmp/l2.err")]"
	fi
	if is_id "$i1" && is_id "$i2" && [ "$i1" != "$i2" ] && [ "$i1" != "$idl" ] && [ "$i2" != "$idl" ] &&
	    ! grep -qx "previous: $i1\|previous: $i2" "$tmp/l.id" &&
	    { { [ "$(rec_id l.test)" = "$i2" ] && rec_prev l.test | grep -qx "$i1"; } ||
	      { [ "$(rec_id l.test)" = "$i1" ] && rec_prev l.test | grep -qx "$i2"; }; } &&
	    rec_prev l.test | grep -qx "$idl"; then
		ok "lock round $round: two distinct new ids ($i1, $i2), both in the record"
	else
		not_ok "lock round $round: ids $i1/$i2: record [$(cat "$p/.ids/l.test.id")]"
	fi
	if "$ctl" validate -q "$p/l.test.txt" &&
	    { cmp -s "$p/l.test.txt" "$tmp/l.enforce" || cmp -s "$p/l.test.txt" "$tmp/l.testing"; } &&
	    serves l.test; then
		ok "lock round $round: the file is one of the two policies, valid, served"
	else
		not_ok "lock round $round: file [$(cat "$p/l.test.txt")]"
	fi
done

# --- a mixed-case domain name is the same domain as in lower case
run init U.test --mx mx.u.test
run init u.test --mx mx.u.test
if [ "$rc" = 1 ] && [ "$(ls "$p" | grep -ci '^u\.test\.txt$')" = 1 ]; then
	ok "init u.test after init U.test: refused, one policy per domain"
else
	not_ok "init u.test after init U.test: a second policy for the same domain: $(ls "$p" | grep -i '^u\.test' | tr '\n' ' ') $(what)"
fi
rm -f "$p/U.test.txt" "$p/u.test.txt" "$p/.ids/U.test.id" "$p/.ids/u.test.id"

# --- changes the server cannot serve
. tests/life/unserved.sh

# --- the server stopped
server_stop
check "server stopped: its pid file removed" test ! -e "$pidf"
other=$(grep -q '^mode: enforce' "$p/a.test.txt" && echo testing || echo enforce)
refused "mode with the server stopped" 1 "server not running" mode a.test "$other"
has "$se" "a.test: nothing changed" || not_ok "mode with the server stopped: no 'nothing changed': $(what)"
refused "set with the server stopped" 1 "server not running" set a.test --max-age 1300000
sed -i 's/^max_age: .*/max_age: 1300001/' "$p/a.test.txt"
refused "issue with the server stopped" 1 "no id issued" issue a.test
run status a.test
if [ "$rc" = 1 ] && has "$so" "server: server not running"; then
	ok "status with the server stopped: says so, exit 1"
else
	not_ok "status with the server stopped: $(what)"
fi
run status --json
printf '%s\n' "$so" >"$tmp/json"
if [ "$rc" = 1 ] && out=$(json_check "$tmp/json" b.test server='"server not running"'); then
	ok "status --json with the server stopped: server not running, exit 1"
else
	not_ok "status --json with the server stopped: $(what) $out"
fi
# A pid file naming another process: it is not signalled.
sleep 30 &
other_pid=$!
track "$other_pid"
echo "$other_pid" >"$pidf"
refused "mode with a pid file naming another process" 1 "server not running" mode b.test testing
check "the other process was not signalled" kill -0 "$other_pid"
stop_pid "$other_pid"
rm -f "$pidf"
# A pid file left by a killed server.
if start_server; then
	kill -9 "$pid"
	reap "$pid" 2>/dev/null
	pid=
	refused "mode with a stale pid file" 1 "server not running (pid" mode b.test testing
else
	not_ok "mta-stsd did not start again: $(tail -5 "$log")"
fi

check "no crash or sanitizer report in the server log" sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$log'"
echo "# $(($(date +%s) - started)) s"
summary
