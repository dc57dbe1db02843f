#!/bin/sh
# tests/fuzz/fuzz.sh: runs every fuzzer for FUZZ_SECONDS (default 60),
# each from its committed seed corpus plus the golden files or another
# target's seeds, keeping what it finds in tests/fuzz/work/ (not
# committed).  Prints one line per target and the closing "N passed,
# N failed".
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

secs=${FUZZ_SECONDS:-60}
work=tests/fuzz/work

run_target() {
	name=$1
	shift
	mkdir -p "$work/$name"
	log="$work/$name.log"
	if "tests/fuzz/fuzz_$name" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$work/$name-" "$work/$name" \
	    "tests/fuzz/corpus/$name" "$@" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz $name: ${secs}s, ${execs:-?} executions, no finding"
		ok "fuzz $name"
	else
		tail -30 "$log"
		not_ok "fuzz $name (see $log)"
	fi
}

run_target policy tests/golden/policy
run_target txt tests/golden/txt
run_target config
run_target der
run_target pem
run_target hello tests/fuzz/corpus/tls
run_target ids
run_target tsig
run_target tls tests/fuzz/corpus/hello
run_target http
run_target check
run_target tlsrpt tests/golden/tlsrpt/in tests/golden/corpus/reports
run_target acme
run_target mail tests/golden/corpus/mail
summary
