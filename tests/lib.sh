# tests/lib.sh: counters shared by the shell test suites.
# Each suite sources this, calls ok/not_ok, and ends with summary, which
# prints the closing line "N passed, N failed" and sets the exit status.

PASS=0
FAIL=0

ok() {
	PASS=$((PASS + 1))
	[ -n "${VERBOSE:-}" ] && echo "ok - $*"
	return 0
}

not_ok() {
	FAIL=$((FAIL + 1))
	echo "FAIL - $*"
	return 0
}

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}

summary() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

# free_port: prints a loopback TCP port free at this moment.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
