#!/bin/sh
# tests/run.sh [SUITE...]: runs the named suites, in the order given; with
# none, every suite as make test does: the unit tests and the black-box
# suites in one lane, the sanitizer pass and the fuzzers in another, at
# the same time (JOBS=1: one after the other).  Prints "== NAME: N passed,
# N failed (T s)" for each and closes with "N passed, N failed" over all
# of them.  Exit status 0 only when nothing failed and every suite ran;
# 2 for an unknown suite name.
#
# SUITE is one of
#   unit golden cli man e2e tlsrpt mail html life fetchers check publish
#   mxpolicy acme cert certbot fleet install valgrind stress fuzz
#   san        the sanitizer pass: unit, golden, cli, e2e, tlsrpt, mail,
#              life, check, publish, mxpolicy, cert and fleet again on the
#              AddressSanitizer + UndefinedBehaviorSanitizer builds
#              (server/san/; the page of html is written in golden)
#   san:NAME   one of those on the sanitizer builds (san:e2e, san:unit)
#
# Each suite runs with MTA_STSD_TEST_RUN set to a token of its own.  A
# process still carrying it once the suite is over, or a directory
# /tmp/mta-stsd-* that appeared meanwhile marked with it (tests/lib.sh,
# suite_start), is a failure of that suite, named; the processes are then
# stopped (by PID).  With KEEP_TMP or LIFE_KEEP set, kept directories are
# not counted.
cd "$(dirname "$0")/.." || exit 1

PLAIN="golden cli man e2e tlsrpt mail html life fetchers check publish \
mxpolicy acme cert certbot fleet install valgrind stress"
SAN="unit golden cli e2e tlsrpt mail life check publish mxpolicy cert fleet"

usage() {
	echo "usage: sh tests/run.sh [SUITE...]" >&2
	echo "  SUITE: unit $PLAIN fuzz san san:NAME" >&2
	echo "  (san:NAME for NAME in: $SAN)" >&2
	exit 2
}

# known NAME LIST: NAME is a word of LIST.
known() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}

for a in "$@"; do
	case $a in
	san | fuzz | unit) ;;
	san:*) known "${a#san:}" "$SAN" || usage ;;
	*) known "$a" "$PLAIN" || usage ;;
	esac
done

# Everything (make test): two lanes at once, the plain suites in one, the
# sanitizer pass and the fuzzers in the other.  Most suites spend their
# time waiting (deadlines, slow clients, ACME polls, confirmations), not
# computing: two cores run both lanes in little more than the longer
# one's time.  Each lane prints its own lines as they come; the closing
# line adds both.  JOBS=1 runs them one after the other.
if [ $# -eq 0 ] && [ "${JOBS:-2}" != 1 ]; then
	began=$(date +%s)
	ta=$(mktemp) tb=$(mktemp)
	trap 'rm -f "$ta" "$tb"' EXIT
	RUN_TOTALS=$ta sh "$0" unit $PLAIN &
	a=$!
	RUN_TOTALS=$tb sh "$0" san fuzz &
	b=$!
	wait "$a"
	wait "$b"
	p=0 f=0
	for t in "$ta" "$tb"; do
		read -r tp tf <"$t" || { tp=0; tf=1; echo "== a lane died"; }
		p=$((p + tp))
		f=$((f + tf))
	done
	echo "# all suites: $(($(date +%s) - began)) s, in two lanes"
	echo "$p passed, $f failed"
	[ "$f" -eq 0 ]
	exit
fi
[ $# -gt 0 ] || set -- unit $PLAIN san fuzz

total_pass=0
total_fail=0
began=$(date +%s)
t0=$began
out=$(mktemp)
leak=$(mktemp)
before=$(mktemp)
trap 'rm -f "$out" "$leak" "$before"' EXIT
nrun=0
current=

# tally NAME: adds the counts a suite printed (its last "N passed, N
# failed" line in $out), and what it left behind, to the totals.
tally() {
	p=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\2/p' "$out" | tail -1)
	if [ -z "$p" ]; then
		echo "== $1: no summary line (suite broken)"
		p=0 f=1
	fi
	cat "$leak"
	f=$((f + $(grep -c '^FAIL - ' "$leak")))
	# The time a suite took, so that a slow one shows (make test must
	# stay under 10 minutes).
	echo "== $1: $p passed, $f failed ($(($(date +%s) - t0)) s)"
	t0=$(date +%s)
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

# tmp_dirs: the /tmp/mta-stsd-* directories there are now.
tmp_dirs() {
	for _d in /tmp/mta-stsd-*; do
		[ -d "$_d" ] && echo "$_d"
	done
}

# holders TOKEN: the PIDs of the processes whose environment holds
# MTA_STSD_TEST_RUN=TOKEN.
holders() {
	grep -lzxF "MTA_STSD_TEST_RUN=$1" /proc/[0-9]*/environ 2>/dev/null |
	    sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}

# run COMMAND...: runs COMMAND (a suite) with a token of its own, its
# output in $out; what it left behind, as FAIL lines, in $leak.  Returns
# the command's exit status.
run() {
	nrun=$((nrun + 1))
	token=$$.$nrun.$(date +%s)
	tmp_dirs >"$before"
	MTA_STSD_TEST_RUN=$token "$@" >"$out" 2>&1
	_rc=$?
	: >"$leak"
	# What the suite stopped may still be on its way out.
	_i=0
	while [ -n "$(holders "$token")" ] && [ $_i -lt 20 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	_left=$(holders "$token")
	for _p in $_left; do
		echo "FAIL - left a process behind: $_p $(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null | cut -c1-200)" >>"$leak"
	done
	if [ -n "$_left" ]; then
		# shellcheck disable=SC2086
		kill $_left 2>/dev/null
		sleep 1
		# shellcheck disable=SC2046
		kill -9 $(holders "$token") 2>/dev/null
	fi
	[ -z "${KEEP_TMP:-}${LIFE_KEEP:-}" ] || return $_rc
	tmp_dirs | while read -r _d; do
		grep -qxF "$_d" "$before" && continue
		if grep -qxF "$token" "$_d/.mta-stsd-test-run" 2>/dev/null; then
			echo "FAIL - left a temporary directory behind: $_d" >>"$leak"
		elif [ ! -e "$_d/.mta-stsd-test-run" ]; then
			# Another run's (at the same time, from another tree),
			# unless it has this suite's name.
			case $_d in "/tmp/mta-stsd-$current."*)
				echo "# $_d appeared, not marked by this run (another run at the same time?)" >>"$leak" ;;
			esac
		fi
	done
	return $_rc
}

# unit LABEL PROGRAM: runs a cmocka program, which prints
# "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s).", and tallies it.
unit() {
	run "$2"
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out")
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out")
	[ "$rc" -ne 0 ] && [ -z "$f" ] && f=1
	[ "$rc" -ne 0 ] && cat "$out"
	echo "${p:-0} passed, ${f:-0} failed" >>"$out"
	tally "$1 $(basename "$2")"
}

# suite NAME LABEL [VAR=VALUE...]: runs tests/NAME/NAME.sh with those
# variables, shows what is not an ok line, and tallies it.
suite() {
	_name=$1 _label=$2
	current=$1
	shift 2
	run env "$@" sh "tests/$_name/$_name.sh"
	grep -v '^ok - ' "$out" | grep -v '^[0-9]* passed' | head -40
	tally "$_label"
}

# The second pass: AddressSanitizer (with leaks) and UndefinedBehavior-
# Sanitizer builds of the same programs through the same suites.
san() {
	export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	if [ "$1" = unit ]; then
		for t in server/san/test_*; do
			unit "sanitizers: unit" "$t"
		done
	else
		# Sanitized programs run several times slower: a larger time
		# budget.
		suite "$1" "sanitizers: $1" LIFE_TIMEOUT=300 \
		    "MTA_STSD=$PWD/server/san/mta-stsd" \
		    "MTA_STSCTL=$PWD/server/san/mta-stsctl"
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS
}

for name in "$@"; do
	case $name in
	unit)
		for t in tests/unit/test_*; do
			case $t in *.c) continue ;; esac
			unit unit "$t"
		done ;;
	san)
		for s in $SAN; do
			san "$s"
		done ;;
	san:*)
		san "${name#san:}" ;;
	fuzz)
		run env "FUZZ_SECONDS=${FUZZ_SMOKE:-5}" sh tests/fuzz/fuzz.sh
		grep '^fuzz \|FAIL' "$out"
		tally fuzz ;;
	*)
		suite "$name" "$name" ;;
	esac
done

echo "# suites $*: $(($(date +%s) - began)) s"
# In a lane (RUN_TOTALS), the totals go to the file: only the closing
# line of the whole run says "N passed, N failed".
if [ -n "${RUN_TOTALS:-}" ]; then
	echo "$total_pass $total_fail" >"$RUN_TOTALS"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
