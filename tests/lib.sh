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

# await_answer PID CAFILE PORT LOG: waits (10 s at most) until the server
# PID answers https://mta-sts.a.test:PORT/ on loopback; when it dies or
# never answers, ends the suite as failed, with the end of LOG.
await_answer() {
	_i=0
	while ! curl -s -o /dev/null --cacert "$2" \
	    --resolve "mta-sts.a.test:$3:127.0.0.1" "https://mta-sts.a.test:$3/"; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 "$1" 2>/dev/null; then
			not_ok "server did not start: $(tail -20 "$4")"
			summary
			exit 1
		fi
		sleep 0.1
	done
}

# free_port: prints a loopback TCP port free at this moment.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
