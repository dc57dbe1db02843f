#!/bin/sh
# tests/cli/cli.sh: mta-stsctl as a black box: exit status, stdout, stderr.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_start cli

# run ARGS...: runs the tool; sets $rc, $so (stdout) and $se (stderr).
run() {
	"$ctl" "$@" >"$tmp/so" 2>"$tmp/se"
	rc=$?
	so=$(cat "$tmp/so")
	se=$(cat "$tmp/se")
}

# expect DESCRIPTION RC STDOUT STDERR-SUBSTRING
expect() {
	if [ "$rc" = "$2" ] && [ "$so" = "$3" ] &&
	    { [ -z "$4" ] && [ -z "$se" ] || case $se in *"$4"*) true ;; *) false ;; esac; }; then
		ok "$1"
	else
		not_ok "$1: rc=$rc stdout=[$so] stderr=[$se]"
	fi
}

# id
run id --time 2022-01-01T08:30:00Z
expect "id for a given time" 0 20220101080000Z ""
run id -t 2024-02-29T23:59:59Z
expect "id, leap day, short option" 0 20240229230000Z ""
run id --time 2023-02-29T00:00:00Z
expect "id rejects an impossible date" 1 "" "invalid time '2023-02-29T00:00:00Z'"
run id --time 2022-01-01T08:30:00
expect "id rejects a time without Z" 1 "" "expected YYYY-MM-DDTHH:MM:SSZ"
run id
now=$(date -u +%Y%m%d%H0000Z)
later=$(date -u +%Y%m%d%H0000Z)
if [ "$rc" = 0 ] && { [ "$so" = "$now" ] || [ "$so" = "$later" ]; }; then
	ok "id defaults to the current UTC hour"
else
	not_ok "id default: got [$so], expected [$now]"
fi
run id extra
expect "id takes no operand" 2 "" "usage: mta-stsctl id"

# txt
run txt example.com --id 20220101080000Z
expect "txt with id" 0 '_mta-sts.example.com. 3600 IN TXT "v=STSv1; id=20220101080000Z;"' ""
run txt --ttl 300 --id abc Example.COM
expect "txt lower-cases the domain, ttl" 0 '_mta-sts.example.com. 300 IN TXT "v=STSv1; id=abc;"' ""
run txt example.com --id 12345678901234567890123456789012
expect "txt id of 32 characters" 0 '_mta-sts.example.com. 3600 IN TXT "v=STSv1; id=12345678901234567890123456789012;"' ""
run txt example.com --id 123456789012345678901234567890123
expect "txt refuses id of 33 characters" 1 "" "invalid id '123456789012345678901234567890123': an id may be at most 32"
run txt example.com --id 2022-01-01
expect "txt refuses id with '-'" 1 "" "only ASCII letters and digits"
run txt example.com --id ""
expect "txt refuses an empty id" 1 "" "may not be empty"
run txt example.com. --id x
expect "txt refuses a trailing dot" 1 "" "trailing dot"
run txt localhost --id x
expect "txt refuses one label" 1 "" "at least two labels"
run txt 'ex_ample.com' --id x
expect "txt refuses an underscore" 1 "" "underscore"
run txt '*.example.com' --id x
expect "txt refuses a wildcard" 1 "" "wildcard is not allowed"
run txt 192.0.2.1 --id x
expect "txt refuses an IP address" 1 "" "IP address"
run txt example.com --id x --ttl 2147483648
expect "txt refuses a TTL above 2^31-1" 1 "" "invalid TTL"
run txt example.com --id x --ttl -5
expect "txt refuses a negative TTL" 1 "" "invalid TTL"
run txt example.com --id x --ttl 2147483647
expect "txt TTL 2^31-1" 0 '_mta-sts.example.com. 2147483647 IN TXT "v=STSv1; id=x;"' ""
run txt mta-sts.example.com --id x
expect "txt notes a policy host name" 0 '_mta-sts.mta-sts.example.com. 3600 IN TXT "v=STSv1; id=x;"' "looks like the policy host"
run txt example.com
case $so in
'_mta-sts.example.com. 3600 IN TXT "v=STSv1; id='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'0000Z;"') ok "txt default id is the id for now" ;;
*) not_ok "txt default id: [$so]" ;;
esac
run txt
expect "txt needs a domain" 2 "" "usage: mta-stsctl txt"

# parse-txt
run parse-txt 'v=STSv1; id=20220101080000Z;'
expect "parse-txt prints the id" 0 20220101080000Z ""
run parse-txt 'v=STSv1; id=20220101080000Z'
expect "parse-txt: final ';' optional" 0 20220101080000Z ""
run parse-txt 'v=STSv2; id=1;'
expect "parse-txt rejects v=STSv2" 1 "" "column 1: the record must start with 'v=STSv1'"
run parse-txt
expect "parse-txt needs a record" 2 "" "usage: mta-stsctl parse-txt"

# validate
printf 'version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 1209600\n' >"$tmp/good.txt"
printf 'version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604799\n' >"$tmp/warn.txt"
printf 'version: STSv1\nmode: Enforce\nmx: mail.example.com\nmax_age: 1209600\n' >"$tmp/bad.txt"
run validate "$tmp/good.txt"
expect "validate: a valid file is silent" 0 "" ""
run validate --print "$tmp/good.txt"
if [ "$rc" = 0 ] && cmp -s "$tmp/so" - <<EOT
$(printf 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 1209600\r')
EOT
then ok "validate --print writes the canonical body"; else not_ok "validate --print: $(od -c "$tmp/so" | head -3)"; fi
run validate "$tmp/warn.txt"
expect "validate: warnings do not fail" 0 "" "$tmp/warn.txt:4: warning: max_age 604799 is under 604800 (one week)"
run validate "$tmp/bad.txt"
expect "validate: an error fails" 1 "" "$tmp/bad.txt:2: error: mode must be"
run validate "$tmp/good.txt" "$tmp/bad.txt" "$tmp/warn.txt"
expect "validate: one bad file among several fails" 1 "" "$tmp/bad.txt:2: error"
case $se in *warn.txt*) ok "validate: checks every file" ;; *) not_ok "validate stopped early: $se" ;; esac
run validate -q "$tmp/bad.txt" "$tmp/warn.txt"
expect "validate -q is silent" 1 "" ""
run validate "$tmp/missing.txt"
expect "validate: a missing file" 1 "" "$tmp/missing.txt: error: cannot read: No such file or directory"
run validate "$tmp"
expect "validate: a directory" 1 "" "cannot read: Is a directory"
mkfifo "$tmp/fifo"
run validate "$tmp/fifo"
expect "validate: a FIFO does not block" 1 "" "not a regular file"
head -c 70000 /dev/zero >"$tmp/big.txt"
run validate "$tmp/big.txt"
expect "validate: a file over 64 KiB" 1 "" "big.txt:1: error: source larger than 65536 bytes"
truncate -s 1G "$tmp/huge.txt"
run validate "$tmp/huge.txt"
expect "validate: a 1 GB file costs nothing" 1 "" "huge.txt:1: error: source larger than 65536 bytes"
rm -f "$tmp/huge.txt"
"$ctl" validate --print - <"$tmp/good.txt" >"$tmp/so" 2>"$tmp/se"
rc=$?
if [ "$rc" = 0 ] && grep -q "max_age: 1209600" "$tmp/so"; then ok "validate - reads stdin"; else not_ok "validate -: rc=$rc"; fi
"$ctl" validate - <"$tmp/bad.txt" >/dev/null 2>"$tmp/se"
case $(cat "$tmp/se") in "<stdin>:2: error:"*) ok "validate - names <stdin>" ;; *) not_ok "validate - name: $(cat "$tmp/se")" ;; esac
run validate
expect "validate needs a file" 2 "" "usage: mta-stsctl validate"
for p in policies/*.txt; do
	run validate "$p"
	expect "example policy $p is valid" 0 "" ""
done

# help and dispatch
run --help
case $so in *"validate [-q] [--print] FILE..."*) ok "--help lists commands" ;; *) not_ok "--help: $so" ;; esac
for c in validate id txt parse-txt; do
	run "$c" --help
	if [ "$rc" = 0 ] && case $so in "usage: mta-stsctl $c"*) true ;; *) false ;; esac; then
		ok "$c --help"; else not_ok "$c --help: rc=$rc [$so]"; fi
	run "$c" -h
	[ "$rc" = 0 ] && ok "$c -h" || not_ok "$c -h: rc=$rc"
done
# cert: its usage, and a configuration without a client (no server needed
# to refuse: nothing is asked of anyone).
run cert --help
case $so in "usage: mta-stsctl cert [-f CONFIG] [--dry-run] [--force] DOMAIN | --renew"*) ok "cert --help" ;; *) not_ok "cert --help: rc=$rc [$so]" ;; esac
run cert
expect "cert needs a domain or --renew" 2 "" "usage: mta-stsctl cert"
run cert --renew a.test
expect "cert --renew takes no domain" 2 "" "usage: mta-stsctl cert"
run cert --renew --force
expect "cert --renew --force: usage" 2 "" "usage: mta-stsctl cert"
mkdir -p "$tmp/p" "$tmp/c"
printf '[server]\npolicy_dir = %s/p\ncert_dir = %s/c\n' "$tmp" "$tmp" >"$tmp/noclient.conf"
run cert -f "$tmp/noclient.conf" a.test
expect "cert without [acme] client: refused" 1 "" "$tmp/noclient.conf sets no [acme] client: set client = lego (or certbot)"
run cert -f "$tmp/noclient.conf" --renew
expect "cert --renew without [acme] client: refused" 1 "" "sets no [acme] client"
printf '[acme]\nlisten = :8080\nwebroot = %s/w\nclient = certbot\n' "$tmp" >>"$tmp/noclient.conf"
run cert -f "$tmp/noclient.conf" --renew --dry-run
expect "cert --renew with no policy: nothing to do" 0 "cert --renew: 0 renewed, 0 not due, 0 without a certificate, 0 failed" ""
run cert -f "$tmp/noclient.conf" --dry-run a.test
expect "cert for a domain without a policy: refused" 1 "" "no certificate is requested for a domain without one"

run frobnicate
expect "unknown command" 2 "" "unknown command 'frobnicate'"
run validate --bogus x
expect "unknown option" 2 "" "usage: mta-stsctl validate"
run
expect "no command" 2 "" "usage: mta-stsctl COMMAND"

# reports: the options of the summary and of --import-mail
printf '[server]\ntlsrpt_dir = %s\n' "$tmp" >"$tmp/r.conf"
run reports -f "$tmp/r.conf" --fail-rate abc
expect "reports --fail-rate not a number: usage" 2 "" "--fail-rate 'abc': expected a number from 0 to 100"
run reports -f "$tmp/r.conf" --fail-rate 101
expect "reports --fail-rate over 100: usage" 2 "" "expected a number from 0 to 100"
run reports -f "$tmp/r.conf" --stale -1
expect "reports --stale negative: usage" 2 "" "--stale '-1': expected a number"
run reports -f "$tmp/r.conf" --today 2024-02-30
expect "reports --today, a day that does not exist" 1 "" "--today '2024-02-30': expected YYYY-MM-DD"
run reports -f "$tmp/r.conf" --html "$tmp/p.html" --json
expect "reports --html with --json: usage" 2 "" "usage: mta-stsctl reports"
run reports -f "$tmp/r.conf" --import --import-mail x
expect "reports, two modes at once: usage" 2 "" "usage: mta-stsctl reports"
run reports -f "$tmp/r.conf" --import-mail --since 2024-01-01
expect "reports --import-mail with --since: usage" 2 "" "usage: mta-stsctl reports"
run reports -f "$tmp/r.conf" --summary --stale 3 --today 2024-01-01
expect "reports --stale over an empty store: nothing to say, exit 0" 0 "no reports" ""
run reports -f "$tmp/none.conf" --import-mail </dev/null
expect "reports --import-mail without its configuration: 75 (an MTA tries again)" 75 "" "none.conf"
run reports -f "$tmp/r.conf" --import-mail "$tmp/nothing-here"
expect "reports --import-mail of a path that does not exist: 66" 66 "" "nothing-here: No such file or directory"

summary
