#!/bin/sh
# tests/stress/stress.sh: slow and greedy clients, and hostile files, against the
# real mta-stsd on loopback.  Needs root (like tests/e2e): the server starts
# as root and drops to nobody; the clients raise their RLIMIT_NOFILE.
#
# Deadlines are shortened to keep the run short (the defaults are 10, 10,
# 15 and 30 s): handshake_timeout 3, request_timeout 3, keepalive_timeout
# 4, connection_lifetime 8.  The connection-limit case runs on a second
# start with max_connections 500.  Every load is bounded in count and
# time; the whole script takes well under 150 s.
#
#   STRESS_CASES="silent halfhello ..."   run only these slow-client cases
#   STRESS_HOSTILE=no                      skip the hostile files
#   KEEP_TMP=1                             keep the temporary directory
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

HS=3 RT=3 KA=4 LIFE=8 MAXCONN=500
started=$(date +%s)
budget_end=$((started + 140))

# cap SECONDS: SECONDS, or fewer if the run's 140 s budget ends sooner
# (1 once it is spent: "timeout 0" would mean none); every helper runs
# under timeout "$(cap N)".
cap() {
	_left=$((budget_end - $(date +%s)))
	[ "$_left" -lt 1 ] && _left=1
	[ "$_left" -lt "$1" ] && echo "$_left" || echo "$1"
}

if [ "$(id -u)" != 0 ]; then
	not_ok "stress.sh needs root (the server drops to user nobody)"
	summary
	exit 1
fi

# The suite holds slow clients: SIGPIPE is caught (suite_start).
suite_start stress
pid=
# The hostile files made some paths unreadable or looping.
at_cleanup 'chmod -R u+rwX "$tmp" 2>/dev/null'

# running: the server we started is alive (kill -0 succeeds on a zombie).
running() {
	[ -n "$pid" ] && alive "$pid"
}

# stop_server: SIGTERM, then SIGKILL after 6 s; only the PID we started.
# Returns the server's exit status.
stop_server() {
	server_stop 6
}

port=$(free_port)

# --- certificates and policies: a, b, c served
c=$tmp/certs
p=$tmp/policies
suite_ca
cert "$c" a ec256 90 mta-sts.a.test
cert "$c" b ec256 90 mta-sts.b.test
cert "$c" c ec256 90 mta-sts.c.test
# Spares, kept out of cert_dir: a second certificate for b, a stray key.
cert "$tmp/spare" b2 ec256 90 mta-sts.b.test
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/spare/stray.key" 2>/dev/null
mkdir -p "$p"
for dom in a b c; do
	printf 'version: STSv1\nmode: enforce\nmx: mx1.%s.test\nmx: mx2.%s.test\nmax_age: 1209600\n' "$dom" "$dom" >"$p/$dom.test.txt"
	"$ctl" validate --print "$p/$dom.test.txt" >"$tmp/$dom.body" || exit 1
done
chmod -R a+rX "$tmp"
mkdir -p "$tmp/run" && chown nobody "$tmp/run"

conf=$tmp/mta-stsd.conf
# write_conf MAX_CONNECTIONS KEEPALIVE LIFETIME
write_conf() {
	server_conf "$conf" "log_level = debug" \
	    "pid_file = $tmp/run/mta-stsd.pid" "default_domain = a.test" \
	    "handshake_timeout = $HS" "request_timeout = $RT" \
	    "keepalive_timeout = $2" "connection_lifetime = $3" \
	    "max_connections = $1" "watch_certs = no"
}

# (fetch NAME [CURL ARGS...], tests/lib.sh: GET the policy of
# mta-sts.NAME, within 5 s.)
fetch_opts="--max-time 5"

# start_server NAME: the server, its log in $tmp/log.NAME.
start_server() {
	log=$tmp/log.$1
	server_up "$conf"
	ok "server $1 starts"
}

# slow CASE [ARGS...]: one slow-client case; its ok/FAIL lines are counted,
# its info lines shown.
slow() {
	_case=$1
	shift
	_t=$(cap 40)
	if [ "$_t" -lt 10 ]; then
		not_ok "$_case: skipped, the run's time budget is spent"
		return 0
	fi
	timeout "$_t" python3 tests/stress/slow.py --case "$_case" --port "$port" \
	    --ca "$tmp/ca.pem" --name mta-sts.a.test --pid "$pid" \
	    --body "$tmp/a.body" --log "$log" --hs $HS --rt $RT --ka $KA \
	    --life $LIFE "$@" >"$tmp/slow.out" 2>&1
	_rc=$?
	while read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"FAIL - "*) not_ok "${line#FAIL - }" ;;
		"info - "*) echo "  ${line#info - }" ;;
		*) echo "  | $line" ;;
		esac
	done <"$tmp/slow.out"
	grep -q '^ok - \|^FAIL - ' "$tmp/slow.out" || not_ok "$_case: no result (rc $_rc)"
	[ "$_rc" = 124 ] && not_ok "$_case: stopped at its $_t s bound"
	return 0
}

# === 1. slow and greedy clients ==========================================
write_conf 10000 $KA $LIFE
start_server slow
echo "# slow clients: handshake_timeout $HS, request_timeout $RT, keepalive_timeout $KA, connection_lifetime $LIFE"
for case in ${STRESS_CASES:-silent halfhello dribble idletls slowloris pipeline}; do
	echo "# $case"
	slow "$case"
done
check "slow clients: server alive" running

# === 2. hostile files ========================================================
if [ "${STRESS_HOSTILE:-yes}" != no ]; then
	. tests/stress/hostile.sh
fi

# === 3. the connection limit ==================================================
stop_server
check "SIGTERM: exit 0" test $? = 0
check "slow clients and hostile files: no crash or sanitizer report in the log" sh -c "! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' '$log'"
write_conf $MAXCONN 15 30
start_server limit
echo "# limit: max_connections $MAXCONN"
slow limit --max $MAXCONN
check "limit: server alive after the case" running
stop_server
check "limit: SIGTERM: exit 0" test $? = 0
check "limit: no crash or sanitizer report in the log" sh -c "! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' '$log'"

echo "# stress.sh took $(($(date +%s) - started)) s"
summary
