#!/bin/sh
# tests/run.sh: runs every suite and prints the closing line
# "N passed, N failed" over all of them.  Exit status 0 only when nothing
# failed and every suite ran.
cd "$(dirname "$0")/.." || exit 1

total_pass=0
total_fail=0
began=$(date +%s)
t0=$began
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# tally NAME: adds the counts a suite printed to the totals.
tally() {
	p=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\2/p' "$out" | tail -1)
	if [ -z "$p" ]; then
		echo "== $1: no summary line (suite broken)"
		p=0 f=1
	fi
	# The time a suite took, so that a slow one shows (make test must
	# stay under 10 minutes).
	echo "== $1: $p passed, $f failed ($(($(date +%s) - t0)) s)"
	t0=$(date +%s)
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

# unit NAME PROGRAM: runs a cmocka program, which prints
# "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s).", and tallies it.
unit() {
	"$2" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out")
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out")
	[ "$rc" -ne 0 ] && [ -z "$f" ] && f=1
	[ "$rc" -ne 0 ] && cat "$out"
	echo "${p:-0} passed, ${f:-0} failed" >>"$out"
	tally "$1 $(basename "$2")"
}

for t in tests/unit/test_*; do
	case $t in *.c) continue ;; esac
	unit unit "$t"
done

for suite in golden cli man e2e tlsrpt life fetchers check acme install valgrind stress; do
	sh "tests/$suite/$suite.sh" >"$out" 2>&1
	grep -v '^ok - ' "$out" | grep -v '^[0-9]* passed' | head -40
	tally "$suite"
done

# The second pass: AddressSanitizer (with leaks) and UndefinedBehavior-
# Sanitizer builds of the same programs through the same suites.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in server/san/test_*; do
	unit "sanitizers: unit" "$t"
done
for suite in golden cli e2e tlsrpt life check; do
	# Sanitized programs run several times slower: a larger time budget.
	LIFE_TIMEOUT=300 \
	    MTA_STSD=$PWD/server/san/mta-stsd MTA_STSCTL=$PWD/server/san/mta-stsctl \
	    sh "tests/$suite/$suite.sh" >"$out" 2>&1
	grep -v '^ok - ' "$out" | grep -v '^[0-9]* passed' | head -40
	tally "sanitizers: $suite"
done
unset ASAN_OPTIONS UBSAN_OPTIONS

FUZZ_SECONDS=${FUZZ_SMOKE:-5} sh tests/fuzz/fuzz.sh >"$out" 2>&1
grep '^fuzz \|FAIL' "$out"
tally fuzz

echo "# all suites: $(($(date +%s) - began)) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
