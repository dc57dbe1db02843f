# tests/stress/hostile.sh: hostile files, sourced by tests/stress/stress.sh with
# the server of the slow-client cases running ($pid, $log, $p, $c, $tmp,
# fetch, ok, not_ok, check).  For each: set it up, SIGHUP, then the log
# names the file and the problem, the last good policies and certificates
# are still served (bodies byte-exact, same certificate), the process is
# alive; then put things back and check all three domains are served again.

echo "# hostile files"

# hup: SIGHUP and wait (at most 20 s) for the reload to finish; the log
# lines it wrote are in $tmp/rl, its time in $rl_secs, its counts in
# $rl_served and $rl_failed ("-" when it failed).
hup() {
	set -- $(python3 tests/stress/hup.py "$pid" "$log" "$tmp/rl" "$(cap "${1:-20}")")
	rl_secs=$1 rl_served=$2 rl_failed=$3
}

# logged WHAT PATTERN: the last reload's log lines match PATTERN (grep -E).
logged() {
	if grep -Eq -- "$2" "$tmp/rl"; then
		ok "$1: logged"
	else
		not_ok "$1: no log line /$2/ in: $(grep -v 'access:\|conn:\|tls:' "$tmp/rl" | head -8)"
	fi
}

serial() {
	echo Q | timeout 5 openssl s_client -connect "127.0.0.1:$port" -servername "mta-sts.$1" \
	    -CAfile "$tmp/ca.pem" 2>/dev/null | openssl x509 -noout -serial 2>/dev/null
}

# still_good WHAT: a, b and c served byte-exact with their first
# certificates, and the process alive.
still_good() {
	_bad=
	for _dom in a b c; do
		fetch "$_dom.test" -o "$tmp/got" 2>/dev/null && cmp -s "$tmp/got" "$tmp/$_dom.body" ||
		    _bad="$_bad $_dom.test:body"
	done
	[ "$(serial a.test)" = "$serial_a" ] || _bad="$_bad a.test:certificate"
	[ "$(serial b.test)" = "$serial_b" ] || _bad="$_bad b.test:certificate"
	running || _bad="$_bad process-gone"
	if [ -z "$_bad" ]; then ok "$1: last good state served, server alive"; else not_ok "$1:$_bad"; fi
}

# restored WHAT: after the files are put back, a reload serves all three.
restored() {
	hup
	if [ "$rl_served $rl_failed" = "3 0" ]; then still_good "$1: restored"; else not_ok "$1: restored: reload says $rl_served served, $rl_failed failed"; fi
}

serial_a=$(serial a.test)
serial_b=$(serial b.test)
check "hostile: certificate serials known" test -n "$serial_a" -a -n "$serial_b"
rss0=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status)

# --- unreadable files (the server runs as nobody)
cp -p "$p/a.test.txt" "$tmp/a.test.txt.orig"
printf 'version: STSv1\nmode: testing\nmx: mx9.a.test\nmax_age: 86400\n' >"$p/a.test.txt"
chmod 000 "$p/a.test.txt"
mkfifo "$p/fifo.test.txt"
chmod 000 "$c/a.key"
mkdir -p "$c/locked" && cp "$c/c.pem" "$c/locked/x.pem" && chmod 000 "$c/locked"
hup
logged "unreadable policy" "policy: $p/a.test.txt: cannot read: Permission denied"
logged "unreadable policy: previous kept" "store: mta-sts.a.test: keeping the previous policy"
logged "FIFO as a policy" "policy: $p/fifo.test.txt: cannot read: not a regular file"
logged "unreadable key" "certs: $c/a.key: Permission denied"
logged "unreadable key: certificate kept" "store: mta-sts.a.test: .*keeping the previous certificate"
logged "unreadable directory in cert_dir" "certs: $c/locked: Permission denied"
still_good "unreadable files"
chmod 644 "$p/a.test.txt" "$c/a.key"
cp -p "$tmp/a.test.txt.orig" "$p/a.test.txt"
rm -f "$p/fifo.test.txt"
chmod 755 "$c/locked" && rm -rf "$c/locked"
restored "unreadable files"

chmod 000 "$p"
hup
logged "unreadable policy_dir" "store: $p: Permission denied"
logged "unreadable policy_dir: previous state kept" "reload: failed; still serving the previous state"
still_good "unreadable policy_dir"
chmod 755 "$p"
restored "unreadable policy_dir"

# --- symlink loops
mv "$p/a.test.txt" "$tmp/a.test.txt.orig"
ln -s a.test.txt "$p/a.test.txt"
ln -s loop2.test.txt "$p/loop1.test.txt"
ln -s loop1.test.txt "$p/loop2.test.txt"
ln -s . "$p/dir.test.txt"
ln -s loop.pem "$c/loop.pem"
ln -s . "$c/self"
ln -s .. "$c/up"
mkdir -p "$c/deep/er" && ln -s ../.. "$c/deep/er/back"
hup
if [ "$rl_secs" != timeout ]; then ok "symlink loops: the reload ends ($rl_secs s)"; else not_ok "symlink loops: no reload line"; fi
logged "policy that links to itself" "policy: $p/a.test.txt: cannot read: Too many levels of symbolic links"
logged "policy that links to itself: previous kept" "store: mta-sts.a.test: keeping the previous policy"
logged "two policies linking to each other" "policy: $p/loop1.test.txt: cannot read: Too many levels of symbolic links"
logged "policy linking to a directory" "policy: $p/dir.test.txt: cannot read: Is a directory"
logged "certificate file that links to itself" "certs: $c/loop.pem: Too many levels of symbolic links"
still_good "symlink loops"
rm -f "$p/a.test.txt" "$p/loop1.test.txt" "$p/loop2.test.txt" "$p/dir.test.txt" "$c/loop.pem" "$c/self" "$c/up"
rm -rf "$c/deep"
mv "$tmp/a.test.txt.orig" "$p/a.test.txt"
restored "symlink loops"

# --- 1 GB files (sparse)
mv "$p/a.test.txt" "$tmp/a.test.txt.orig"
truncate -s 1G "$p/a.test.txt"
truncate -s 1G "$p/big.test.txt"
mv "$c/b.pem" "$tmp/b.pem.orig"
truncate -s 1G "$c/b.pem"
truncate -s 1G "$c/big.pem"
chmod 644 "$p/a.test.txt" "$p/big.test.txt" "$c/b.pem" "$c/big.pem"
hup
logged "1 GB policy" "policy: $p/a.test.txt:1: error: source larger than 65536 bytes"
logged "1 GB policy: previous kept" "store: mta-sts.a.test: keeping the previous policy"
logged "1 GB new policy: not served" "store: mta-sts.big.test: not served: invalid policy"
logged "1 GB certificate file" "certs: $c/b.pem: larger than 1048576 bytes, skipped"
logged "1 GB certificate file: previous kept" "store: mta-sts.b.test: .*keeping the previous certificate"
logged "1 GB junk in cert_dir" "certs: $c/big.pem: larger than 1048576 bytes, skipped"
echo "  1 GB files: reload took $rl_secs s"
still_good "1 GB files"
rss1=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status)
check "1 GB files: VmRSS did not grow by more than 4 MB ($rss0 -> $rss1 kB)" test "$rss1" -le $((rss0 + 4096))
rm -f "$p/a.test.txt" "$p/big.test.txt" "$c/b.pem" "$c/big.pem"
mv "$tmp/a.test.txt.orig" "$p/a.test.txt"
mv "$tmp/b.pem.orig" "$c/b.pem"
restored "1 GB files"

# --- a key that does not match its certificate
cp -p "$c/b.key" "$tmp/b.key.orig"
cp "$tmp/spare/stray.key" "$c/b.key"
# and a combined file whose key is not its certificate's (b's second
# certificate, whose key is nowhere in cert_dir)
sed -n '/BEGIN CERT/,/END CERT/p' "$tmp/spare/b2.pem" | sed '/END CERT/q' >"$tmp/b2.leaf"
cat "$tmp/spare/stray.key" "$tmp/b2.leaf" >"$c/combined.pem"
chmod 644 "$c/b.key" "$c/combined.pem"
hup
logged "key not matching its certificate" "certs: $c/b.pem: no private key in $c matches this certificate \(mta-sts.b.test\)"
logged "key not matching its certificate: previous kept" "store: mta-sts.b.test: no certificate with a key names mta-sts.b.test; keeping the previous certificate"
logged "combined file with a foreign key" "certs: $c/combined.pem: no private key in $c matches this certificate \(mta-sts.b.test\)"
still_good "key not matching its certificate"
cp -p "$tmp/b.key.orig" "$c/b.key"
rm -f "$c/combined.pem"
restored "key not matching its certificate"

# --- a policy (and a certificate) replaced during reloads
mkdir -p "$tmp/replace"
printf 'version: STSv1\nmode: enforce\nmax_age: 1209600\nmx: mx1.a.test\nmx: mx2.a.test\nmx: mx3.a.test\n' >"$tmp/replace/1.src"
printf 'version: STSv1\nmode: testing\nmax_age: 86400\nmx: mx4.a.test\nmx: mx5.a.test\nmx: mx6.a.test\n' >"$tmp/replace/2.src"
"$ctl" validate --print "$tmp/replace/1.src" >"$tmp/replace/1.body"
"$ctl" validate --print "$tmp/replace/2.src" >"$tmp/replace/2.body"
cp "$tmp/b.body" "$tmp/replace/b.body"
cp "$c/b.pem" "$c/b.key" "$tmp/spare/"
cp -p "$p/a.test.txt" "$tmp/a.test.txt.orig"
timeout "$(cap 30)" python3 tests/stress/replace.py --port "$port" --ca "$tmp/ca.pem" --pid "$pid" \
    --log "$log" --policy-dir "$p" --cert-dir "$c" --spare "$tmp/spare" \
    --versions "$tmp/replace" --seconds 4 >"$tmp/replace.out" 2>&1
while read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"FAIL - "*) not_ok "${line#FAIL - }" ;;
	"info - "*) echo "  ${line#info - }" ;;
	*) echo "  | $line" ;;
	esac
done <"$tmp/replace.out"
check "replace: its checks ran" test "$(grep -c '^ok - \|^FAIL - ' "$tmp/replace.out")" -ge 8
cp -p "$tmp/a.test.txt.orig" "$p/a.test.txt"
chmod 644 "$p/a.test.txt" "$c/b.pem" "$c/b.key"
restored "replaced during reloads"

# --- 100,000 files in the policy directory
# 40,000 not .txt (skipped), 20,000 .txt not named as a domain, 30,000
# empty DOMAIN.txt, 10,000 valid policies without a certificate.
python3 - "$p" <<'EOF'
import os, sys
p = sys.argv[1]
pol = b"version: STSv1\nmode: testing\nmx: mx.example.net\nmax_age: 86400\n"
for i in range(40000):
    os.close(os.open(f"{p}/junk-{i}.bak", os.O_CREAT | os.O_WRONLY, 0o644))
for i in range(20000):
    os.close(os.open(f"{p}/{i} junk name.txt", os.O_CREAT | os.O_WRONLY, 0o644))
for i in range(30000):
    os.close(os.open(f"{p}/e{i}.test.txt", os.O_CREAT | os.O_WRONLY, 0o644))
for i in range(10000):
    fd = os.open(f"{p}/v{i}.test.txt", os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, pol)
    os.close(fd)
EOF
check "100,000 files made" test "$(ls -f "$p" | wc -l)" -ge 100003
logbefore=$(wc -c <"$log")
# Fetches all through the reload: the loader reads beside the event loops,
# which go on serving the previous state.
timeout "$(cap 20)" python3 tests/stress/latency.py "$port" "$tmp/ca.pem" mta-sts.a.test 2.5 >"$tmp/during" 2>&1 &
fetcher=$!
track "$fetcher"
sleep 0.3
hup 60
reap "$fetcher"
set -- $(cat "$tmp/during")
echo "  100,000 files: reload took $rl_secs s (SIGHUP to 'reload: $rl_served domains served, $rl_failed failed'); log grew by $(( ($(wc -c <"$log") - logbefore) / 1024 )) kB"
echo "  100,000 files: fetches through the reload: $1, the longest $2 s, $3 failed (served beside the reload)"
check "100,000 files: no fetch failed during the reload" test "${3:-1}" = 0
check "100,000 files: reload: 3 domains served, 60000 failed" test "$rl_served $rl_failed" = "3 60000"
logged "100,000 files: bad names" "policy: $p/[0-9]+ junk name.txt: file name is not DOMAIN.txt"
logged "100,000 files: empty policies" "policy: $p/e[0-9]+.test.txt:1: error: missing field 'version'"
logged "100,000 files: no certificate" "store: mta-sts.v[0-9]+.test: not served: no certificate with a key names mta-sts.v[0-9]+.test"
still_good "100,000 files"
rss2=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status)
echo "  100,000 files: VmRSS $rss0 kB before the hostile files, $rss2 kB after this reload"
find "$p" -maxdepth 1 \( -name 'junk-*.bak' -o -name '* junk name.txt' -o -name 'e*.test.txt' -o -name 'v*.test.txt' \) -delete
hup
echo "  100,000 files removed: reload took $rl_secs s"
if [ "$rl_served $rl_failed" = "3 0" ]; then still_good "100,000 files: removed"; else not_ok "100,000 files removed: $rl_served served, $rl_failed failed"; fi
check "hostile files: no sanitizer report" sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error' '$log'"
