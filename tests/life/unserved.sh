# tests/life/unserved.sh: changes the server cannot serve.  Sourced by
# tests/life/life.sh with its server running ($pid, $conf, $p, $c, $log,
# $port, run, fetch, has, what, snap, rec_id...).
#
# mta-stsctl confirms a change by fetching the new body over HTTPS from the
# server it signalled (server/life.c: served()).  Here the server cannot
# serve the change, and each case expects what mta-stsctl.8 documents
# ("the change the server does not confirm"): exit 1, "the server does not
# serve the new policy after 10 s", "the previous policy was restored; no
# new id", the previous file byte for byte, the .ids record byte for byte,
# within the 10 s the page gives (plus the last fetch); then status, which
# asks the server the same way, naming what differs, or saying the
# restored policy is served.
#
#   a. pid_file names a live process that is not the server
#      (a `sleep` called mta-stsd, deaf to SIGHUP): the server is never
#      reloaded and keeps the old body; a plain `sleep` is refused earlier
#      ("server not running", life.sh)
#   b. the domain's certificate removed from cert_dir: refused before any
#      write; then a new certificate and key the server (as nobody) cannot
#      read: its reload keeps the previous certificate, which is not the
#      one mta-stsctl expects
#   c. a second mta-stsd whose policy_dir is another directory than the
#      one mta-stsctl writes to: it keeps serving the old body; and the
#      server stopped (SIGSTOP), which serves nothing at all
#   d. a policy edited on disk without a reload: status names the
#      difference
#
# Each case uses domains of its own: ua, ub, uc, ud, us.test (certificates
# made by life.sh).

echo "# changes the server cannot serve"

# The domains: policies served, with recorded ids.
for _u in ua ub uc ud us; do
	run init "$_u.test" --mx "mx.$_u.test"
	if [ "$rc" = 0 ] && has "$so" "mta-sts.$_u.test: served now." && serves "$_u.test"; then
		ok "unserved: $_u.test created and served"
	else
		not_ok "unserved: init $_u.test: $(what)"
	fi
done

# change_start CONF DOMAIN: mta-stsctl -f CONF mode DOMAIN enforce, in the
# background (at most 18 s), its output in $tmp/DOMAIN.so and .se; the
# policy and id record as they were in $tmp/DOMAIN.txt and .id.
change_start() {
	cp "$p/$2.txt" "$tmp/$2.txt"
	cp "$p/.ids/$2.id" "$tmp/$2.id"
	date +%s >"$tmp/$2.t0"
	timeout 18 "$ctl" -f "$1" mode "$2" enforce "$npf" >"$tmp/$2.so" \
	    2>"$tmp/$2.se" &
	echo $! >"$tmp/$2.job"
	track "$(cat "$tmp/$2.job")"
}

# unserved WHAT DOMAIN: waits for change_start's run on DOMAIN, which the
# server cannot confirm: every expectation above.  Sets $rc, $so, $se,
# $secs.
unserved() {
	_what=$1 _dom=$2
	reap "$(cat "$tmp/$_dom.job")"
	rc=$?
	secs=$(($(date +%s) - $(cat "$tmp/$_dom.t0")))
	so=$(cat "$tmp/$_dom.so")
	se=$(cat "$tmp/$_dom.se")
	if [ "$rc" = 1 ]; then ok "$_what: exit 1"; else not_ok "$_what: exit 1: $(what)"; fi
	if has "$se" "mta-stsctl: mta-sts.$_dom: the server does not serve the new policy after 10 s: "; then
		ok "$_what: 'the server does not serve the new policy after 10 s'"
	else
		not_ok "$_what: no 'does not serve the new policy': $(what)"
	fi
	check "$_what: 'the previous policy was restored; no new id'" \
	    has "$se" "mta-stsctl: $_dom: the previous policy was restored; no new id"
	check "$_what: the previous policy byte for byte" cmp -s "$p/$_dom.txt" "$tmp/$_dom.txt"
	check "$_what: the id record byte for byte (no new id)" cmp -s "$p/.ids/$_dom.id" "$tmp/$_dom.id"
	if has "$so" "new id" || has "$so" "IN TXT"; then
		not_ok "$_what: a new id printed: $(what)"
	else
		ok "$_what: no new id, no TXT record printed"
	fi
	_stray=$(cd "$p" && ls -a . .ids | grep "^\.$_dom\..*\.tmp\$")
	check "$_what: no temporary file left [$_stray]" test -z "$_stray"
	check "$_what: done within 10 s and the last fetch ($secs s)" test "$secs" -le 16
	still_up "$_what"
}

# served_now WHAT: the last status run says the policy is served, exit 0.
served_now() {
	if [ "$rc" = 0 ] && has "$so" "  server: serves this policy"; then
		ok "$1: status: served, exit 0"
	else
		not_ok "$1: status: $(what)"
	fi
}

# ustatus CONF DOMAIN: mta-stsctl -f CONF status DOMAIN; sets $rc, $so, $se.
ustatus() {
	timeout 25 "$ctl" -f "$1" status "$2" >"$tmp/so" 2>"$tmp/se"
	rc=$?
	so=$(cat "$tmp/so")
	se=$(cat "$tmp/se")
}

# --- a. pid_file names a live process that is not the server, and
# --- c. a server whose policy_dir is not the one mta-stsctl writes to
# (one after the other: mta-stsctl takes the policy directory's lock).
mkdir -p "$tmp/bin"
ln -sf "$(command -v sleep)" "$tmp/bin/mta-stsd"
sh -c 'trap "" HUP; exec "$0" 100' "$tmp/bin/mta-stsd" &
fake=$!
track "$fake"
sed "s|^pid_file = .*|pid_file = $tmp/fake.pid|" "$conf" >"$tmp/a.conf"
echo "$fake" >"$tmp/fake.pid"
_i=0
while [ "$(cat "/proc/$fake/comm" 2>/dev/null)" != mta-stsd ] && [ $_i -lt 20 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check "unserved a: the impostor's process name is mta-stsd, its pid in pid_file" \
    test "$(cat "/proc/$fake/comm" 2>/dev/null)" = mta-stsd

port2=$(free_port)
mkdir -p "$tmp/p2" "$tmp/run2"
cp -p "$p"/*.txt "$tmp/p2/"
chmod -R a+rX "$tmp/p2"
chown nobody "$tmp/run2"
sed "s|^listen = .*|listen = 127.0.0.1:$port2|; s|^policy_dir = .*|policy_dir = $tmp/p2|; s|^pid_file = .*|pid_file = $tmp/run2/mta-stsd.pid|" \
    "$conf" >"$tmp/c2.conf"
sed "s|^listen = .*|listen = 127.0.0.1:$port2|; s|^pid_file = .*|pid_file = $tmp/run2/mta-stsd.pid|" \
    "$conf" >"$tmp/c.conf"
"$d" -d -f "$tmp/c2.conf" 2>"$tmp/log2" &
pid2=$!
track "$pid2"
_i=0
while ! curl -s -o /dev/null --max-time 5 --cacert "$tmp/ca.pem" \
    --resolve "mta-sts.uc.test:$port2:127.0.0.1" "https://mta-sts.uc.test:$port2/" ||
    [ ! -s "$tmp/run2/mta-stsd.pid" ]; do
	_i=$((_i + 1))
	[ $_i -gt 100 ] && break
	sleep 0.1
done
check "unserved c: a second server on policy_dir $tmp/p2 runs" alive "$pid2"

change_start "$tmp/a.conf" ua.test
unserved "unserved a (pid_file names a process that is not the server)" ua.test
check "unserved a: the impostor was signalled and lives on (it ignores SIGHUP)" alive "$fake"
if has "$se" "another policy body"; then
	ok "unserved a: the reason: the server serves another policy body"
else
	not_ok "unserved a: reason: $(what)"
fi

change_start "$tmp/c.conf" uc.test
unserved "unserved c (the server reads another policy_dir)" uc.test
if has "$se" "another policy body"; then
	ok "unserved c: the reason: the server serves another policy body"
else
	not_ok "unserved c: reason: $(what)"
fi
_i=0
while [ "$(grep -c 'reload: [0-9]* domains served' "$tmp/log2")" -lt 2 ] && [ $_i -lt 30 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check "unserved c: the second server was reloaded (twice: the change, the restore)" \
    test "$(grep -c 'reload: [0-9]* domains served' "$tmp/log2")" = 2

ustatus "$tmp/a.conf" ua.test
served_now "unserved a: the restored policy"
ustatus "$tmp/c.conf" uc.test
served_now "unserved c: the restored policy"
stop_pid "$fake"
stop_pid "$pid2"

# --- b. the certificate removed, then one the server cannot read
mkdir -p "$tmp/ub.saved"
mv "$c/ub.pem" "$c/ub.key" "$tmp/ub.saved/"
_before=$(snap)
_locks=$(locks)
run mode ub.test enforce
if [ "$rc" = 1 ] && has "$se" "mta-stsctl: mta-sts.ub.test: no certificate" &&
    has "$se" "the server does not serve it" && has "$se" "ub.test: nothing changed"; then
	ok "unserved b (certificate removed from cert_dir): refused before any write, exit 1"
else
	not_ok "unserved b (certificate removed): $(what)"
fi
unchanged "unserved b (certificate removed)"
run status ub.test
if [ "$rc" = 1 ] && has "$so" "  certificate: none: " && has "$so" "  server: not served ("; then
	ok "unserved b (certificate removed): status names it: no certificate, not served, exit 1"
else
	not_ok "unserved b (certificate removed): status: $(what)"
fi
# A new key and certificate, root's alone (0600): mta-stsctl, as root,
# expects them; the server, as nobody, cannot read them at its reload.
cert "$c" ub2 ec256 90 mta-sts.ub.test
chmod 0600 "$c/ub2.pem" "$c/ub2.key"
change_start "$conf" ub.test
unserved "unserved b (a certificate the server cannot read)" ub.test
check "unserved b: the server logged the unreadable key" grep -q "certs: $c/ub2.key: Permission denied" "$log"
check "unserved b: the server kept the previous certificate" \
    grep -q "store: mta-sts.ub.test: .*keeping the previous certificate" "$log"
run status ub.test
if [ "$rc" = 1 ] && has "$so" "  certificate: mta-sts.ub.test (ECDSA P-256)" &&
    has "$so" "  server: serves " && has "$so" "server presented another certificate"; then
	ok "unserved b: status names the difference (the certificate served), exit 1"
else
	not_ok "unserved b: status: $(what)"
fi
chmod 0644 "$c/ub2.pem" "$c/ub2.key"
server_reload
run status ub.test
served_now "unserved b: once readable and reloaded"

# --- c. the server stopped (SIGSTOP): it accepts nothing, answers
# nothing.  Each fetch waits for its own time limit; the confirmation
# must still end within its 10 s.  Whatever mta-stsctl leaves (if it is
# stopped at the bound) is put back before the server continues.
at_cleanup '[ -z "${pid:-}" ] || kill -CONT "$pid" 2>/dev/null'
kill -STOP "$pid"
change_start "$conf" us.test
unserved "unserved c (the server stopped)" us.test
kill -CONT "$pid"
if [ "$rc" = 124 ]; then
	echo "# unserved c (the server stopped): mta-stsctl still waiting after $secs s; stopped, its policy and record put back"
	cp "$tmp/us.test.txt" "$p/us.test.txt"
	cp "$tmp/us.test.id" "$p/.ids/us.test.id"
	rm -f "$p"/.us.test.txt.*.tmp "$p"/.ids/.us.test.id.*.tmp
fi
server_reload
run status us.test
served_now "unserved c (the server stopped), continued"

# --- d. a policy edited on disk, the server not reloaded
cp "$p/ud.test.txt" "$tmp/ud.txt"
idd=$(rec_id ud.test)
sed -i 's/^max_age: .*/max_age: 86401/' "$p/ud.test.txt"
run status ud.test
if [ "$rc" = 1 ] && has "$so" "  server: serves another policy body"; then
	ok "unserved d: status names the difference: the server serves another policy body, exit 1"
else
	not_ok "unserved d: status: $(what)"
fi
check "unserved d: status: the drift from the recorded id" \
    has "$so" "id: $idd -- policy changed since the id was issued: run 'mta-stsctl issue ud.test'"
run status --json ud.test
printf '%s\n' "$so" >"$tmp/json"
if [ "$rc" = 1 ] && out=$(json_check "$tmp/json" ud.test server='"serves another policy body"' changed_since_id=true); then
	ok "unserved d: status --json: server 'serves another policy body', exit 1"
else
	not_ok "unserved d: status --json: $(what) $out"
fi
cp "$tmp/ud.txt" "$p/ud.test.txt"
run status ud.test
served_now "unserved d: the edit undone"
