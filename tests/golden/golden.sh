#!/bin/sh
# tests/golden/golden.sh: golden files for mta-stsctl, compared byte for byte.
#
# tests/golden/policy/NAME.txt	a policy source
#		    NAME.err	the exact stderr of
#				"cd tests/golden/policy &&
#				 mta-stsctl validate --print NAME.txt"
#		    NAME.body	the exact stdout (the canonical body, CRLF),
#				only when the source is valid: exit 0 when it
#				exists, 1 when it does not
# tests/golden/txt/NAME.rec	a TXT record, without a trailing newline
#		 NAME.out	the exact stdout ("ID\n", exit 0) or, when it
#				starts with "mta-stsctl ", the exact stderr
#				(exit 1) of "mta-stsctl parse-txt RECORD"
#
# tests/golden/tlsrpt/in/*	TLS-RPT reports (.json, .json.gz, .gz), imported
#				with "mta-stsctl reports --import" into an
#				empty store
#		   NAME.args	the arguments of one "mta-stsctl reports" run
#				over that store (one line)
#		   NAME.out	its exact stdout (exit 0, nothing on stderr)
#
# tests/golden/corpus/mail/NAME.eml  TLS reports by mail, as Google,
#				Microsoft, a large hoster and odd senders
#				send them (written by mkcorpus.py beside
#				them), imported with "mta-stsctl reports
#				--import-mail" into an empty store
#		    reports/NAME.json	the report each carries: stored as it is
#		    policies/	the policies and id records they are
#				judged against (policy_dir)
#		    NAME.args	the arguments of one "mta-stsctl reports"
#		    NAME.out	its exact stdout (nothing on stderr)
#		    NAME.rc	its exit status, when not 0
#
# Names starting with ok- or warn- must be valid, err- invalid.  An empty
# directory, or a file without its partner, is a failure.
#
# MTA_STSCTL names the binary (relative to the current directory); the
# default is server/mta-stsctl in this tree.

# The cases run from tests/golden/policy: the binary path must be absolute
# (suite_start makes $ctl so).
case ${MTA_STSCTL:-} in
"" | /*) ;;
*) MTA_STSCTL=$PWD/$MTA_STSCTL ;;
esac
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_start golden
g=tests/golden

# same EXPECTED ACTUAL: are the two files byte-identical?
same() {
	cmp -s "$1" "$2"
}

# show WHAT EXPECTED ACTUAL: a short diff, with CR and other bytes made
# visible by sed's "l" command.
show() {
	sed -n l "$2" >"$tmp/exp.l"
	sed -n l "$3" >"$tmp/act.l"
	echo "  $1 differs (- expected, + actual):"
	diff "$tmp/exp.l" "$tmp/act.l" >"$tmp/diff"
	if grep -q '^[<>]' "$tmp/diff"; then
		sed -n 's/^</  -/p;s/^>/  +/p' "$tmp/diff" | head -n 10
	else
		echo "  $(cmp "$2" "$3" 2>&1)"
	fi
}

if [ ! -x "$ctl" ]; then
	not_ok "golden: $ctl is not an executable (run make)"
	summary
	exit
fi

# policy: validate --print
n=0
for src in "$g"/policy/*.txt; do
	[ -e "$src" ] || continue
	n=$((n + 1))
	name=${src##*/}
	name=${name%.txt}
	d=$g/policy
	if [ ! -f "$d/$name.err" ]; then
		not_ok "policy $name: no $name.err"
		continue
	fi
	if [ -f "$d/$name.body" ]; then
		want_rc=0
		cp "$d/$name.body" "$tmp/want_out"
	else
		want_rc=1
		: >"$tmp/want_out"
	fi
	case $name:$want_rc in
	ok-*:1 | warn-*:1 | err-*:0)
		not_ok "policy $name: .body presence contradicts the name"
		continue ;;
	esac
	(cd "$d" && exec "$ctl" validate --print "$name.txt") \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
	bad=
	[ "$rc" = "$want_rc" ] || bad="$bad exit $rc (expected $want_rc);"
	same "$d/$name.err" "$tmp/err" || bad="$bad stderr;"
	same "$tmp/want_out" "$tmp/out" || bad="$bad stdout;"
	if [ -z "$bad" ]; then
		ok "policy $name"
	else
		not_ok "policy $name:$bad"
		same "$d/$name.err" "$tmp/err" ||
		    show stderr "$d/$name.err" "$tmp/err"
		same "$tmp/want_out" "$tmp/out" ||
		    show stdout "$tmp/want_out" "$tmp/out"
	fi
done
[ "$n" -gt 0 ] || not_ok "policy: no cases in $g/policy"
for f in "$g"/policy/*.err "$g"/policy/*.body; do
	[ -e "$f" ] || continue
	b=${f%.*}
	[ -f "$b.txt" ] || not_ok "policy: $f has no ${b##*/}.txt beside it"
done

# txt: parse-txt RECORD
: >"$tmp/empty"
n=0
for f in "$g"/txt/*.rec; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	name=${f##*/}
	name=${name%.rec}
	d=$g/txt
	if [ ! -f "$d/$name.out" ]; then
		not_ok "txt $name: no $name.out"
		continue
	fi
	first=
	IFS= read -r first <"$d/$name.out"
	case $first in
	"mta-stsctl "*)
		want_rc=1
		want_out=$tmp/empty
		want_err=$d/$name.out ;;
	*)
		want_rc=0
		want_out=$d/$name.out
		want_err=$tmp/empty ;;
	esac
	case $name:$want_rc in
	ok-*:1 | err-*:0)
		not_ok "txt $name: .out kind contradicts the name"
		continue ;;
	esac
	# Byte-exact: $(...) strips trailing newlines, the x protects them.
	rec=$(cat "$f"; printf x)
	rec=${rec%x}
	"$ctl" parse-txt "$rec" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	bad=
	[ "$rc" = "$want_rc" ] || bad="$bad exit $rc (expected $want_rc);"
	same "$want_err" "$tmp/err" || bad="$bad stderr;"
	same "$want_out" "$tmp/out" || bad="$bad stdout;"
	if [ -z "$bad" ]; then
		ok "txt $name"
	else
		not_ok "txt $name:$bad"
		same "$want_err" "$tmp/err" || show stderr "$want_err" "$tmp/err"
		same "$want_out" "$tmp/out" || show stdout "$want_out" "$tmp/out"
	fi
done
[ "$n" -gt 0 ] || not_ok "txt: no cases in $g/txt"
for f in "$g"/txt/*.out; do
	[ -e "$f" ] || continue
	b=${f%.out}
	[ -f "$b.rec" ] || not_ok "txt: $f has no ${b##*/}.rec beside it"
done

# tlsrpt: reports over a store made from tests/golden/tlsrpt/in
mkdir "$tmp/store"
printf '[server]\ntlsrpt_dir = %s\n' "$tmp/store" >"$tmp/rpt.conf"
if "$ctl" reports -f "$tmp/rpt.conf" --import "$g"/tlsrpt/in/* \
    >"$tmp/out" 2>"$tmp/err" && [ ! -s "$tmp/err" ]; then
	ok "tlsrpt: import"
else
	not_ok "tlsrpt: import: $(cat "$tmp/err")"
fi
n=0
for f in "$g"/tlsrpt/*.args; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	name=${f##*/}
	name=${name%.args}
	if [ ! -f "$g/tlsrpt/$name.out" ]; then
		not_ok "tlsrpt $name: no $name.out"
		continue
	fi
	# shellcheck disable=SC2046
	"$ctl" reports -f "$tmp/rpt.conf" $(cat "$f") >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$tmp/err" ] &&
	    same "$g/tlsrpt/$name.out" "$tmp/out"; then
		ok "tlsrpt $name"
	else
		not_ok "tlsrpt $name: exit $rc $(cat "$tmp/err")"
		show stdout "$g/tlsrpt/$name.out" "$tmp/out"
	fi
done
[ "$n" -gt 0 ] || not_ok "tlsrpt: no cases in $g/tlsrpt"

# corpus: reports by mail, and the summaries and alerts expected of them
cg=$g/corpus
mkdir "$tmp/cstore"
printf '[server]\ntlsrpt_dir = %s\npolicy_dir = %s\n' "$tmp/cstore" \
    "$top/$cg/policies" >"$tmp/corpus.conf"
nmail=$(find "$cg/mail" -name '*.eml' | wc -l)
"$ctl" reports -f "$tmp/corpus.conf" --import-mail "$cg"/mail/*.eml \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" = 0 ] && [ ! -s "$tmp/err" ] && [ "$nmail" -gt 0 ] &&
    [ "$(grep -c ': stored as ' "$tmp/out")" = "$nmail" ]; then
	ok "corpus: $nmail messages imported, one report each"
else
	not_ok "corpus: import: exit $rc, $(grep -c ': stored as ' "$tmp/out") of $nmail stored: $(head -5 "$tmp/err")"
fi
for f in "$cg"/mail/*.eml; do
	b=${f##*/}
	[ -f "$cg/reports/${b%.eml}.json" ] ||
	    not_ok "corpus: $f has no reports/${b%.eml}.json"
done
# Each report stored byte for byte as its sender wrote it.
find "$tmp/cstore" -type f -name '*.json' -exec sha256sum {} + |
    cut -c1-64 | sort >"$tmp/got.sha"
sha256sum "$cg"/reports/*.json | cut -c1-64 | sort >"$tmp/want.sha"
if cmp -s "$tmp/want.sha" "$tmp/got.sha"; then
	ok "corpus: every report stored as sent ($(wc -l <"$tmp/got.sha") files)"
else
	not_ok "corpus: stored reports differ from reports/*.json"
fi
n=0
for f in "$cg"/*.args; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	name=${f##*/}
	name=${name%.args}
	if [ ! -f "$cg/$name.out" ]; then
		not_ok "corpus $name: no $name.out"
		continue
	fi
	want_rc=0
	[ -f "$cg/$name.rc" ] && want_rc=$(cat "$cg/$name.rc")
	# shellcheck disable=SC2046
	"$ctl" reports -f "$tmp/corpus.conf" $(cat "$f") >"$tmp/out" \
	    2>"$tmp/err"
	rc=$?
	if [ "$rc" = "$want_rc" ] && [ ! -s "$tmp/err" ] &&
	    same "$cg/$name.out" "$tmp/out"; then
		ok "corpus $name"
	else
		not_ok "corpus $name: exit $rc (expected $want_rc) $(head -3 "$tmp/err")"
		show stdout "$cg/$name.out" "$tmp/out"
	fi
done
[ "$n" -gt 0 ] || not_ok "corpus: no cases in $cg"
# The page of the corpus (tests/html opens it in a browser).
"$ctl" reports -f "$tmp/corpus.conf" --html "$tmp/corpus.html" \
    --today 2024-05-03 >"$tmp/out" 2>"$tmp/err"
rc=$?
bad=
for dom in example.com example.net example.org; do
	grep -q "<svg id=\"chart-$dom\"" "$tmp/corpus.html" &&
	    grep -q "<table id=\"table-$dom\"" "$tmp/corpus.html" || bad="$bad $dom"
done
if [ "$rc" = 0 ] && [ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ] &&
    [ -z "$bad" ] && tail -1 "$tmp/corpus.html" | grep -q '</html>'; then
	ok "corpus: --html writes the page, a chart and a table per domain"
else
	not_ok "corpus: --html: exit $rc, missing:$bad $(head -3 "$tmp/err")"
fi

summary
