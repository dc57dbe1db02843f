# tests/lib.sh: what the shell test suites share.  Each suite starts with
#
#	cd "$(dirname "$0")/../.." || exit 1
#	. tests/lib.sh
#	suite_start NAME
#
# calls ok/not_ok/check, and ends with summary, which prints the closing
# line "N passed, N failed" and sets the exit status.  What the suite
# starts in the background is stopped by PID at exit (track, stop_pid,
# stop_all); its temporary directory is removed unless KEEP_TMP is set.

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
	[ "${sigpipes:-0}" -gt 0 ] &&
	    echo "# SIGPIPE caught $sigpipes time(s): a client went away while written to"
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

# has TEXT SUBSTRING: TEXT contains SUBSTRING.
has() {
	case $1 in *"$2"*) return 0 ;; esac
	return 1
}

# what: the last command's exit status and output, from $rc, $so (its
# standard output) and $se (its standard error), for a failure.
what() {
	printf 'rc=%s stdout=[%s] stderr=[%s]' "$rc" "$so" "$se"
}

# show FILE [LINES]: the first LINES (default $show_lines, else 20) lines
# of FILE as comments.
show() {
	sed -n "1,${2:-${show_lines:-20}}s/^/#   /p" "$1"
}

# missing WHAT: a prerequisite that is not there: a failure, or only a
# SKIP line when SKIP_SUITE=1 (SKIP_FETCHERS, SKIP_CHECK, SKIP_ACME).
missing() {
	eval "_skip=\${SKIP_$(echo "$suite" | tr 'a-z' 'A-Z'):-}"
	if [ "$_skip" = 1 ]; then
		echo "SKIP - $*"
	else
		not_ok "$*"
	fi
}

# apt_install PACKAGE...: installs Debian packages (as root only, each
# apt-get bounded in time); what apt said in $tmp/apt.log.
apt_install() {
	[ "$(id -u)" = 0 ] || return 1
	echo "$suite: installing $*"
	DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq \
	    --no-install-recommends "$@" >"$tmp/apt.log" 2>&1 ||
	    { timeout 120 apt-get update -qq >>"$tmp/apt.log" 2>&1 &&
	    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq \
	    --no-install-recommends "$@" >>"$tmp/apt.log" 2>&1; } ||
	    { tail -5 "$tmp/apt.log"; return 1; }
}

# require COMMAND:PACKAGE...: installs (as root, apt_install) the Debian
# PACKAGE of each COMMAND that is missing; returns 1 unless every COMMAND
# is there then, the missing ones in $gone.
require() {
	_debs=
	for _cp in "$@"; do
		command -v "${_cp%%:*}" >/dev/null || _debs="$_debs ${_cp#*:}"
	done
	# shellcheck disable=SC2086
	[ -z "$_debs" ] || apt_install $_debs
	gone=
	for _cp in "$@"; do
		command -v "${_cp%%:*}" >/dev/null || gone="$gone ${_cp%%:*}"
	done
	[ -z "$gone" ]
}

# mailauth, the npm package: MAILAUTH_VERSION installed with npm into
# $NODE_PREFIX ($MTA_STSD_TEST_CACHE/node), where reruns find it.
MAILAUTH_VERSION=${MAILAUTH_VERSION:-4.13.3}
CACHE=${MTA_STSD_TEST_CACHE:-/var/cache/mta-stsd-test}
NODE_PREFIX=$CACHE/node

# have_mailauth: that version is there, with node to run it.
have_mailauth() {
	command -v node >/dev/null &&
	    [ -f "$NODE_PREFIX/node_modules/mailauth/lib/mta-sts.js" ] &&
	    [ "$(node -p "require('$NODE_PREFIX/node_modules/mailauth/package.json').version" 2>/dev/null)" = "$MAILAUTH_VERSION" ]
}

# mailauth_install: installs node and npm (Debian) and mailauth (npm)
# when missing and possible; what npm said in $tmp/npm.log.
mailauth_install() {
	command -v node >/dev/null || apt_install nodejs
	command -v npm >/dev/null || apt_install npm
	command -v npm >/dev/null && ! have_mailauth || return 0
	echo "$suite: installing mailauth $MAILAUTH_VERSION into $NODE_PREFIX"
	mkdir -p "$NODE_PREFIX"
	printf '{ "private": true, "dependencies": { "mailauth": "%s" } }\n' \
	    "$MAILAUTH_VERSION" >"$NODE_PREFIX/package.json"
	timeout 300 npm install --prefix "$NODE_PREFIX" \
	    --cache "$CACHE/npm-cache" --prefer-offline --no-audit --no-fund \
	    --omit=dev --loglevel=error >"$tmp/npm.log" 2>&1 ||
	    tail -5 "$tmp/npm.log"
}

# ---- a command's verdict ------------------------------------------------------

# After a command whose standard output is in $tmp/so, its standard error
# in $tmp/se and its exit status in $rc, described by $last:
# expect RC: it exited RC; out PATTERN..., err PATTERN...: each PATTERN
# (grep -E) is a line of its standard output, of its standard error.
expect() {
	if [ "$rc" = "$1" ]; then
		ok "$last: exit $1"
	else
		not_ok "$last: exit $rc, expected $1"
		show "$tmp/so"
		show "$tmp/se"
	fi
}

out() {
	for _p in "$@"; do
		if grep -Eq -- "$_p" "$tmp/so"; then
			ok "$last: '$_p'"
		else
			not_ok "$last: no line '$_p' on stdout"
			show "$tmp/so"
			show "$tmp/se"
		fi
	done
}

err() {
	for _p in "$@"; do
		if grep -Eq -- "$_p" "$tmp/se"; then
			ok "$last: '$_p' on stderr"
		else
			not_ok "$last: no line '$_p' on stderr"
			show "$tmp/se"
		fi
	done
}

# rec_id DOMAIN: the id recorded for DOMAIN in the policy directory $p.
rec_id() {
	sed -n 's/^id: //p' "$p/.ids/$1.id" 2>/dev/null
}

# ---- the suite: its directory, its processes, its end ----------------------

pids=
on_cleanup=
sigpipes=0

# suite_start NAME: sets $top (the tree), $d and $ctl (mta-stsd and
# mta-stsctl: $MTA_STSD and $MTA_STSCTL, relative to the tree, else the
# ones built in server/), and $tmp, a new directory
# /tmp/mta-stsd-NAME.XXXXXX (marked with $MTA_STSD_TEST_RUN for
# tests/run.sh).  At exit, and on SIGINT, SIGTERM or SIGHUP (which exit),
# suite_cleanup runs.  SIGPIPE is caught, so that a write to a client
# that went away fails instead of killing the suite before its cleanup
# (a shell killed by a signal runs no EXIT trap); the programs it starts
# get the default action back.
suite_start() {
	suite=$1
	top=$PWD
	d=${MTA_STSD:-server/mta-stsd}
	ctl=${MTA_STSCTL:-server/mta-stsctl}
	case $d in /*) ;; *) d=$top/$d ;; esac
	case $ctl in /*) ;; *) ctl=$top/$ctl ;; esac
	tmp=$(mktemp -d "/tmp/mta-stsd-$suite.XXXXXX") || exit 1
	[ -z "${MTA_STSD_TEST_RUN:-}" ] ||
	    printf '%s\n' "$MTA_STSD_TEST_RUN" >"$tmp/.mta-stsd-test-run"
	trap suite_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 129' HUP
	trap 'exit 143' TERM
	trap 'sigpipes=$((sigpipes + 1))' PIPE
}

# at_cleanup COMMAND: a shell command for suite_cleanup to run before the
# suite's processes are stopped and its directory goes.
at_cleanup() {
	on_cleanup="$on_cleanup${on_cleanup:+; }$1"
}

# suite_cleanup: runs the at_cleanup commands, stops every process
# tracked, removes $tmp (kept, and named, when KEEP_TMP is set).
suite_cleanup() {
	[ -z "$on_cleanup" ] || eval "$on_cleanup"
	stop_all
	[ -n "${tmp:-}" ] && [ -d "$tmp" ] || return 0
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "# kept $tmp"
	else
		rm -rf "$tmp"
	fi
}

# track PID...: processes this suite started, stopped at its end.
track() {
	pids="$pids $*"
}

# reap PID: waits for a process this suite started that ends by itself,
# and takes it off $pids; returns its exit status.
reap() {
	wait "$1"
	_src=$?
	untrack "$1"
	return $_src
}

# untrack PID: the suite waited for PID itself (its number may be reused).
untrack() {
	_rest=
	for _p in $pids; do
		[ "$_p" = "$1" ] || _rest="$_rest $_p"
	done
	pids=$_rest
}

# alive PID: the process runs (kill -0 also succeeds on a zombie).
alive() {
	case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in
	"" | Z*) return 1 ;;
	esac
	return 0
}

# stop_pid PID [SECONDS]: stops one process this suite started: SIGTERM,
# SIGKILL after SECONDS (default 5); waits for it and takes it off $pids.
# Returns its exit status.  Nothing is left behind (no watchdog process).
stop_pid() {
	kill "$1" 2>/dev/null
	_n=0
	while alive "$1" && [ $_n -lt $((${2:-5} * 10)) ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	alive "$1" && kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	_src=$?
	untrack "$1"
	return $_src
}

# stop_all: stops every process in $pids, together, within 5 s.
stop_all() {
	[ -n "$(echo $pids)" ] || return 0
	# shellcheck disable=SC2086
	kill $pids 2>/dev/null
	_n=0
	while [ $_n -lt 50 ]; do
		_up=
		for _p in $pids; do alive "$_p" && _up=1; done
		[ -n "$_up" ] || break
		sleep 0.1
		_n=$((_n + 1))
	done
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null
	# shellcheck disable=SC2086
	wait $pids 2>/dev/null
	pids=
}

# after SECONDS COMMAND...: runs COMMAND in SECONDS unless $after_pid is
# killed first (its sleep goes with it: nothing is left behind); tracked,
# so stopped at the end.
after() {
	_s=$1
	shift
	(
		trap 'kill "$_sl" 2>/dev/null; exit 0' TERM
		sleep "$_s" &
		_sl=$!
		wait "$_sl" && "$@" 2>/dev/null
	) >/dev/null 2>&1 &
	after_pid=$!
	track "$after_pid"
}

# time_limit SECONDS: the whole suite is bounded: after SECONDS it stops
# with a failure "SUITE: stopped after SECONDS s (time limit)" and its
# summary (every command of the suite should have a shorter timeout of
# its own, so that the TERM trap runs promptly).
time_limit() {
	limit=$1
	# The trap may run inside a redirected command: it writes to fd 3,
	# the suite's standard output.
	exec 3>&1
	trap '{ not_ok "$suite: stopped after ${limit} s (time limit)"; summary; } >&3 2>&1; exit 1' TERM
	after "$limit" kill -TERM $$
}

# ---- certificates ----------------------------------------------------------

# mkcert DIR ARGS...: certs/mkcert.sh DIR ARGS, its output in
# $tmp/mkcert.log; a failure ends the suite.
mkcert() {
	if ! sh certs/mkcert.sh "$@" >>"$tmp/mkcert.log" 2>&1; then
		not_ok "mkcert.sh $*: $(tail -3 "$tmp/mkcert.log")"
		summary
		exit 1
	fi
}

# suite_ca: a CA of the suite's own in $tmp/ca (ca.pem, ca.key); clients
# trust it as $tmp/ca.pem.  Its key stays out of every cert_dir.
suite_ca() {
	mkcert "$tmp/ca" ca
	cp "$tmp/ca/ca.pem" "$tmp/ca.pem"
}

# cert DIR NAME TYPE DAYS HOST...: a certificate from the suite's CA for
# the HOSTs, as DIR/NAME.pem (leaf, then the CA) and DIR/NAME.key (TYPE
# and DAYS as certs/mkcert.sh takes them).
cert() {
	_dir=$1
	shift
	mkcert "$tmp/ca" cert "$@"
	mkdir -p "$_dir"
	[ "$_dir" = "$tmp/ca" ] || mv "$tmp/ca/$1.pem" "$tmp/ca/$1.key" "$_dir/"
}

# ---- the server ------------------------------------------------------------

# free_port: prints a loopback TCP port free at this moment.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# server_conf FILE [LINE...]: a configuration: [server], listening on
# $listen (default 127.0.0.1:$port), serving the policies in $p with the
# certificates in $c as nobody, then each LINE as it is.
server_conf() {
	_f=$1
	shift
	{
		printf '[server]\nlisten = %s\n' "${listen:-127.0.0.1:$port}"
		printf 'policy_dir = %s\ncert_dir = %s\nuser = nobody\n' "$p" "$c"
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} >"$_f"
}

# server_start CONF [NAME]: starts $d -d -f CONF, standard error appended
# to $log (default $tmp/log); its PID in $pid, tracked.  Returns 0 once
# it answers https://mta-sts.NAME:$port/ (default a.test) trusting
# $tmp/ca.pem, 1 when it died or did not answer within 10 s.
server_start() {
	log=${log:-$tmp/log}
	"$d" -d -f "$1" 2>>"$log" &
	pid=$!
	track "$pid"
	_i=0
	while ! curl -s -o /dev/null --max-time 5 --cacert "$tmp/ca.pem" \
	    --resolve "mta-sts.${2:-a.test}:$port:127.0.0.1" \
	    "https://mta-sts.${2:-a.test}:$port/"; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] || ! alive "$pid" && return 1
		sleep 0.1
	done
	return 0
}

# server_up CONF [NAME]: server_start, or the suite ends as failed with
# the end of the log.
server_up() {
	server_start "$@" && return 0
	not_ok "server did not start: $(tail -20 "$log")"
	summary
	exit 1
}

# server_stop [SECONDS]: SIGTERM to $pid (SIGKILL after SECONDS, default
# 5); returns its exit status.
server_stop() {
	[ -n "${pid:-}" ] || return 0
	stop_pid "$pid" "${1:-5}"
	_rc=$?
	pid=
	return $_rc
}

# server_reload: SIGHUP to $pid, then waits (10 s at most) for the line
# that ends a reload in $log ("reload: N domains served" or "reload:
# failed; still serving the previous state"; log_level info or debug);
# the new state is published right after it.  Returns 1 if none came.
server_reload() {
	_n=$(reloads_ended)
	kill -HUP "$pid" || return 1
	reload_after "$_n"
}

# reloads_ended: how many reloads $log says have ended, either way.
reloads_ended() {
	grep -c 'reload: [0-9]* domains served\|reload: failed; still serving' "$log"
}

# reload_after N: waits (10 s at most) until more than N reloads have
# ended (a signal's or the watch's).  Returns 1 if none came.
reload_after() {
	_i=0
	while [ "$(reloads_ended)" -le "$1" ]; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		sleep 0.1
	done
	sleep 0.1
	return 0
}

# fetch NAME [CURL ARGS...]: GET https://mta-sts.NAME:$port/.well-known/
# mta-sts.txt on 127.0.0.1, trusting $tmp/ca.pem only, within 10 s; the
# words of $fetch_opts are added to the curl arguments.
fetch() {
	_h=mta-sts.$1
	shift
	# shellcheck disable=SC2086
	curl -sS --max-time 10 ${fetch_opts:-} --cacert "$tmp/ca.pem" \
	    --resolve "$_h:$port:127.0.0.1" "$@" \
	    "https://$_h:$port/.well-known/mta-sts.txt"
}
