#!/bin/sh
# tests/mail/mail.sh: TLS reports by mail, into mta-stsctl reports
# --import-mail: every MIME shape, built with Python's email package
# (mkmail.py); an mbox, a Maildir and its re-runs; real delivery agents
# (procmail writing a Maildir, maildrop piping to the importer as an MTA
# would, with their exit statuses); hostile mail, each refused or ignored
# with its reason, nothing stored, memory bounded (peak RSS measured); the
# same report over HTTPS (the real mta-stsd) and by mail, counted once; a
# full disk (a small tmpfs) and the other temporary failures: 75, and no
# partial file.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_start mail

case $ctl in */san/*) sanitized=1 ;; *) sanitized= ;; esac
RSS_MAX=${RSS_MAX:-65536}	# kB: what any message may cost

m=$tmp/msgs
# The sanitizer pass measures no memory: no 50 MB message to make.
if ! python3 tests/mail/mkmail.py "$m" ${sanitized:+--small} \
    >"$tmp/mkmail.log" 2>&1; then
	not_ok "mkmail.py: $(tail -3 "$tmp/mkmail.log")"
	summary
	exit 1
fi
s=$tmp/store
mkdir "$s"
conf=$tmp/mail.conf
printf '[server]\ntlsrpt_dir = %s\npolicy_dir = %s/none\n' "$s" "$tmp" \
    >"$conf"

# imp ARG...: mta-stsctl reports --import-mail ARG... with $cf (default
# $conf), its peak RSS (kB) in $rss; output in $tmp/out and $tmp/err,
# status in $rc.
# The peak RSS comes from GNU time: a process's peak counts the one that
# started it until exec, and time is small.
imp() {
	/usr/bin/time -f %M -o "$tmp/rss" "$ctl" reports -f "${cf:-$conf}" \
	    --import-mail "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	rss=$(tail -1 "$tmp/rss")
}
# The same, the message on standard input through a pipe, as an MTA.
imp_pipe() {
	cat "$1" | /usr/bin/time -f %M -o "$tmp/rss" "$ctl" reports \
	    -f "${cf:-$conf}" --import-mail >"$tmp/out" 2>"$tmp/err"
	rc=$?
	rss=$(tail -1 "$tmp/rss")
}
nstored() {
	find "${1:-$s}" -type f -name '*.json' | wc -l
}
notmp() {
	[ -z "$(find "${1:-$s}" -name '.*.tmp')" ]
}
# stored_as FILE [STORE]: is a report with exactly FILE's bytes stored?
stored_as() {
	[ -n "$(stored_file "$@")" ]
}
# stored_file FILE [STORE]: the stored report with FILE's bytes.
stored_file() {
	_h=$(sha256sum <"$1" | cut -c1-64)
	find "${2:-$s}" -type f -name '*.json' -exec sha256sum {} + |
	    sed -n "s/^$_h  //p"
}
rss_ok() {
	[ -n "$sanitized" ] || [ "$rss" -le "$RSS_MAX" ]
}
say_rc() {
	echo "exit $rc, rss ${rss}kB: $(head -c 300 "$tmp/err")"
}

# --- every MIME shape, as a file
for f in "$m"/ok/*.eml; do
	name=${f##*/}
	name=${name%.eml}
	imp "$f"
	bad=
	[ "$rc" = 0 ] && [ ! -s "$tmp/err" ] || bad=1
	for j in "$m/ok/$name.json" "$m/ok/$name"-[0-9].json; do
		[ -f "$j" ] || continue
		stored_as "$j" || bad=1
		grep -q ': stored as ' "$tmp/out" || bad=1
	done
	if [ -z "$bad" ]; then
		ok "shape $name: stored as sent"
	else
		not_ok "shape $name: $(say_rc) $(cat "$tmp/out")"
	fi
done
imp "$m/ok/two.eml"
check "two reports in one message, again: two lines, already stored" test "$(grep -c 'already stored' "$tmp/out")" = 2

# --- standard input: a pipe (kept in an unlinked file) and a redirection
n0=$(nstored)
rm -f "$(stored_file "$m/ok/tlsrpt-gzip.json")"
imp_pipe "$m/ok/tlsrpt-gzip.eml"
if [ "$rc" = 0 ] && stored_as "$m/ok/tlsrpt-gzip.json" &&
    grep -q '^stdin: ' "$tmp/out"; then
	ok "standard input through a pipe, no PATH"
else
	not_ok "stdin pipe: $(say_rc) $(cat "$tmp/out")"
fi
"$ctl" reports -f "$conf" --import-mail - <"$m/ok/crlf.eml" >"$tmp/out" 2>&1
check "standard input redirected from a file, '-'" grep -q '^stdin: already stored' "$tmp/out"
[ -z "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name '.mta-stsctl.*' 2>/dev/null)" ] &&
    ok "no spool file left in TMPDIR" || not_ok "a spool file left in TMPDIR"
check "store count back ($n0)" test "$(nstored)" = "$n0"

# --- an mbox, written by Python's mailbox (three messages)
imp "$m/three.mbox"
if [ "$rc" = 0 ] && [ "$(grep -c '^.*three.mbox#[123]: stored as' "$tmp/out")" = 3 ] &&
    stored_as "$m/mbox.1.json" && stored_as "$m/mbox.2.json" &&
    stored_as "$m/mbox.3.json"; then
	ok "mbox: three messages, three reports"
else
	not_ok "mbox: $(say_rc) $(cat "$tmp/out")"
fi

# --- a Maildir: new/ and unseen cur/ read, then marked seen; re-runs
md=$m/Maildir
imp "$md"
if [ "$rc" = 0 ] && [ "$(grep -c ': stored as' "$tmp/out")" = 3 ] &&
    stored_as "$m/maildir.1.json" && stored_as "$m/maildir.2.json" &&
    stored_as "$m/maildir.4.json"; then
	ok "Maildir: new/ and the unseen message of cur/ imported"
else
	not_ok "Maildir: $(say_rc) $(cat "$tmp/out")"
fi
check "Maildir: a message already seen is left alone" sh -c "! grep -q maildir-3 '$tmp/out' && [ \$(grep -rl maildir-3 '$s' | wc -l) = 0 ]"
check "Maildir: new/ is empty" test -z "$(ls "$md/new")"
check "Maildir: every message in cur/ has the S flag ($(ls "$md/cur" | tr '\n' ' '))" \
    test "$(ls "$md/cur" | grep -c ':2,[A-Z]*S')" = 4
check "Maildir: other flags kept, in order (:2,FS)" sh -c "ls '$md/cur' | grep -q ':2,FS\$'"
n1=$(nstored)
imp "$md"
check "Maildir again: nothing read, nothing stored" sh -c "[ $rc = 0 ] && [ ! -s '$tmp/out' ] && [ ! -s '$tmp/err' ] && [ $(nstored) = $n1 ]"
cp "$m/later-1.eml" "$md/new/1700000000.later.host"
imp "$md"
check "Maildir, one more message: only it is read" sh -c "[ $rc = 0 ] && [ \$(wc -l <'$tmp/out') = 1 ] && grep -q 'later.host: stored as' '$tmp/out'"

# --- real delivery agents, fed through a pipe as an MTA feeds them
if command -v procmail >/dev/null 2>&1; then
	mkdir "$tmp/pm"
	printf 'LOGFILE=%s/pm/log\n:0\n%s/pm/Maildir/\n' "$tmp" "$tmp" \
	    >"$tmp/pm/rc"
	cat "$m/agent-1.eml" | procmail -m "$tmp/pm/rc"
	prc=$?
	imp "$tmp/pm/Maildir"
	if [ "$prc" = 0 ] && [ "$rc" = 0 ] && stored_as "$m/agent-1.json"; then
		ok "procmail wrote a Maildir; its message imported"
	else
		not_ok "procmail: procmail $prc, $(say_rc) $(cat "$tmp/pm/log" 2>/dev/null | tail -3)"
	fi
	check "procmail's Maildir: marked seen" sh -c "ls '$tmp/pm/Maildir/cur' | grep -q ':2,S\$'"
	# procmail piping to the importer, its exit status passed back.
	printf 'SHELL=/bin/sh\n:0 w\n| %s reports -f %s --import-mail -\nEXITCODE=$?\n:0\n/dev/null\n' \
	    "$ctl" "$tmp/missing.conf" >"$tmp/pm/rc-pipe"
	cat "$m/agent-1.eml" | procmail -m "$tmp/pm/rc-pipe" >/dev/null 2>&1
	check "procmail | mta-stsctl without its configuration: 75 passed back (try again)" test $? = 75
else
	missing "procmail is not installed"
fi
if command -v maildrop >/dev/null 2>&1; then
	printf 'to "| %s reports -f %s --import-mail -"\n' "$ctl" "$conf" \
	    >"$tmp/mailfilter"
	chmod 600 "$tmp/mailfilter"
	cat "$m/agent-2.eml" | maildrop "$tmp/mailfilter" >"$tmp/md.out" 2>&1
	mrc=$?
	if [ "$mrc" = 0 ] && stored_as "$m/agent-2.json"; then
		ok "maildrop piped the message to the importer: stored"
	else
		not_ok "maildrop: exit $mrc: $(head -3 "$tmp/md.out")"
	fi
	cat "$m/agent-2.eml" | maildrop "$tmp/mailfilter" >/dev/null 2>&1
	check "maildrop, the same message again: 0 (already stored)" test $? = 0
	printf 'to "| %s reports -f %s --import-mail -"\n' "$ctl" \
	    "$tmp/missing.conf" >"$tmp/mailfilter"
	cat "$m/agent-2.eml" | maildrop "$tmp/mailfilter" >/dev/null 2>&1
	check "maildrop | mta-stsctl without its configuration: 75" test $? = 75
else
	missing "maildrop is not installed"
fi

# --- hostile mail: refused or ignored with a reason, nothing stored
n0=$(nstored)
for f in "$m"/bad/*.eml; do
	name=${f##*/}
	name=${name%.eml}
	why=$(cat "$m/bad/$name.why")
	imp "$f"
	if [ "$rc" = 0 ] && grep -q "$why" "$tmp/err" && notmp &&
	    [ "$(nstored)" = "$n0" ] && rss_ok; then
		ok "hostile $name: '$why', nothing stored (${rss} kB)"
	else
		not_ok "hostile $name: expected '$why': $(say_rc)"
	fi
done
imp "$m/bomb.eml"
if [ "$rc" = 0 ] && grep -q 'beyond the limit' "$tmp/err" && rss_ok &&
    [ "$(nstored)" = "$n0" ]; then
	ok "gzip bomb in base64 (256 MiB of zeros): refused at the cap, ${rss} kB"
else
	not_ok "gzip bomb: $(say_rc)"
fi
echo "# mail: gzip bomb refused with a peak RSS of ${rss} kB"
if [ -z "$sanitized" ]; then
	imp "$m/big.eml"
	check "50 MB message as a file: ignored, over tlsrpt_max_mail ($rss kB)" sh -c "[ $rc = 0 ] && grep -q 'over tlsrpt_max_mail' '$tmp/err' && [ $(nstored) = $n0 ]"
	imp_pipe "$m/big.eml"
	if [ "$rc" = 0 ] && grep -q 'stdin: a message of 52' "$tmp/err" &&
	    rss_ok && [ "$(nstored)" = "$n0" ]; then
		ok "50 MB message through a pipe: read to the end, ignored, ${rss} kB"
	else
		not_ok "50 MB through a pipe: $(say_rc)"
	fi
	echo "# mail: 50 MB message through a pipe, ignored with a peak RSS of ${rss} kB"
	printf 'tlsrpt_max_mail = 67108864\n' | cat "$conf" - >"$tmp/big.conf"
	cf=$tmp/big.conf imp_pipe "$m/big.eml"
	if [ "$rc" = 0 ] && grep -q 'stored as' "$tmp/out" && rss_ok; then
		ok "50 MB message allowed: the report after 37 MB of attachment stored, ${rss} kB (parts read from the spool, not memory)"
	else
		not_ok "50 MB allowed: $(say_rc)"
	fi
	echo "# mail: 50 MB message parsed with a peak RSS of ${rss} kB"
	# What GMime keeps in memory whatever it is: parsed, bounded.
	for t in "long-header:a 200 KB folded header" \
	    "preamble:a 3.5 MB preamble"; do
		imp "$m/${t%%:*}.eml"
		if [ "$rc" = 0 ] && stored_as "$m/${t%%:*}.json" && rss_ok; then
			ok "${t#*:}: parsed, ${rss} kB"
		else
			not_ok "${t#*:}: $(say_rc)"
		fi
		echo "# mail: ${t#*:} parsed with a peak RSS of ${rss} kB"
	done
fi
check "no temporary file left after the hostile mail" notmp

# --- the same report over HTTPS and by mail: stored once
port=$(free_port)
c=$tmp/certs
p=$tmp/policies
r=$tmp/rx
suite_ca
cert "$c" a ec256 90 mta-sts.a.test
mkdir -p "$p" "$r"
printf 'version: STSv1\nmode: testing\nmx: mx.a.test\nmax_age: 86400\n' >"$p/a.test.txt"
chmod -R a+rX "$tmp"
chown nobody "$r"
server_conf "$tmp/d.conf" "tlsrpt_dir = $r" "log_level = info"
printf '[server]\ntlsrpt_dir = %s\n' "$r" >"$tmp/rx.conf"
server_up "$tmp/d.conf"
post() {
	curl -s -o "$tmp/body" -w '%{http_code}' --max-time 20 \
	    --cacert "$tmp/ca.pem" --resolve "mta-sts.a.test:$port:127.0.0.1" \
	    -H "Content-Type: application/tlsrpt+json" --data-binary @"$1" \
	    "https://mta-sts.a.test:$port/tlsrpt"
}
code=$(post "$m/dup.json")
cf=$tmp/rx.conf imp "$m/dup.eml"
if [ "$code" = 201 ] && [ "$rc" = 0 ] && grep -q 'already stored' "$tmp/out" &&
    [ "$(nstored "$r")" = 1 ]; then
	ok "over HTTPS (201), then by mail: already stored, one file"
else
	not_ok "HTTPS then mail: POST $code, $(say_rc) $(cat "$tmp/out")"
fi
cf=$tmp/rx.conf imp "$m/dup2.eml"
code=$(post "$m/dup2.json")
if [ "$rc" = 0 ] && grep -q 'stored as' "$tmp/out" && [ "$code" = 200 ] &&
    grep -q 'already stored' "$tmp/body" && [ "$(nstored "$r")" = 2 ]; then
	ok "by mail, then over HTTPS: 200 already stored, one file"
else
	not_ok "mail then HTTPS: POST $code, $(say_rc)"
fi
check "the server can still write the domain directory the import made" test "$(stat -c %U "$r/a.test")" = nobody
server_stop

# --- temporary failures: 75, nothing stored partially, stored later
cf=$tmp/missing.conf imp "$m/disk-1.eml"
check "no configuration: 75" test "$rc" = 75
printf '[server]\n' >"$tmp/unset.conf"
cf=$tmp/unset.conf imp "$m/disk-1.eml"
check "tlsrpt_dir not set: 75" test "$rc" = 75
printf '[server]\ntlsrpt_dir = %s/gone\n' "$tmp" >"$tmp/gone.conf"
cf=$tmp/gone.conf imp "$m/disk-1.eml"
check "tlsrpt_dir missing: 75" sh -c "[ $rc = 75 ] && grep -q 'No such file' '$tmp/err'"
imp "$tmp/no-such-path"
check "a PATH that cannot be read: 66" test "$rc" = 66
head -c 1100000 /dev/zero >"$s/filler"
printf 'tlsrpt_dir_max = 1\n' | cat "$conf" - >"$tmp/max.conf"
cf=$tmp/max.conf imp "$m/disk-1.eml"
check "tlsrpt_dir_max reached: 75, will be tried again" sh -c "[ $rc = 75 ] && grep -q 'tlsrpt_dir_max' '$tmp/err' && ! grep -rq disk-1 '$s'"
rm -f "$s/filler"
full=$tmp/full
mkdir "$full"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64k,mode=0755 tmpfs "$full"; then
	at_cleanup "umount '$full'"
	printf '[server]\ntlsrpt_dir = %s\n' "$full" >"$tmp/full.conf"
	mkdir "$full/a.test"
	dd if=/dev/zero of="$full/filler" bs=4096 >/dev/null 2>&1
	mkdir -p "$tmp/fmd/new" "$tmp/fmd/cur" "$tmp/fmd/tmp"
	cp "$m/disk-1.eml" "$tmp/fmd/new/1700000001.disk.host"
	cf=$tmp/full.conf imp "$tmp/fmd"
	if [ "$rc" = 75 ] && grep -q 'No space left on device: will be tried again' "$tmp/err" &&
	    [ "$(nstored "$full")" = 0 ] && notmp "$full"; then
		ok "disk full: 75, no partial file"
	else
		not_ok "disk full: $(say_rc) $(ls -la "$full/a.test")"
	fi
	check "disk full: the Maildir message stays unread in new/" test -f "$tmp/fmd/new/1700000001.disk.host"
	rm "$full/filler"
	cf=$tmp/full.conf imp "$tmp/fmd"
	check "room again: stored, then marked seen" sh -c "[ $rc = 0 ] && [ -n \"\$(ls '$tmp/fmd/cur')\" ] && [ -z \"\$(ls '$tmp/fmd/new')\" ]"
	stored_as "$m/disk-1.json" "$full" && ok "room again: the report stored whole" ||
	    not_ok "room again: not stored"
	dd if=/dev/zero of="$full/filler" bs=4096 >/dev/null 2>&1
	TMPDIR=$full imp_pipe "$m/later-1.eml"
	check "a message on a pipe with TMPDIR full: 75" sh -c "[ $rc = 75 ] && grep -q 'cannot keep the message' '$tmp/err'"
	rm "$full/filler"
else
	missing "cannot mount a tmpfs (root needed) for the full-disk test"
fi

check "nothing written to the store's top but domain directories" sh -c "[ -z \"\$(find '$s' -maxdepth 1 -type f)\" ]"
summary
