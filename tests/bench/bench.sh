#!/bin/bash
# tests/bench/bench.sh: mta-stsd against nginx on loopback (make bench).
#
# Both servers serve the same body with the same certificate (ECDSA P-256),
# TLS 1.2, the same ECDHE+AEAD suites in the same order, one worker, and
# are measured in the same run, interleaved (ours, nginx, ours, nginx ...),
# the servers on CPU 0, the clients on CPU 1.  The figure that counts is
# the servers' CPU time per operation, read from /proc/PID/stat of every
# process of the server: on two cores the client is often the bottleneck,
# so requests per second are printed but not judged.
#
# Groups (BENCH_ONLY, default all):
#   ka       keep-alive, wrk -c50: CPU per request, p99 latency
#   full     full handshakes (wrk + wrkshim.so, no resumption): CPU per
#            connection, against BearSSL's own in-memory handshake
#   resumed  resumed handshakes (wrk, Connection: close): CPU per connection
#   mem      RSS idle, and per connection with 1,000 held after a GET
#   scale    BENCH_DOMAINS domains (10,000), each with its own certificate:
#            start-up, SIGHUP reload, PSS, PSS after 3 reloads, full
#            handshake CPU against the one-domain figure
#   metrics  the hot path with [metrics] counting and without: keep-alive
#            and full-handshake CPU, interleaved
#   big      BENCH_BIG_DOMAINS domains (100,000): start-up, PSS, and a
#            client fetching steadily (tests/bench/steady.py) while 5
#            SIGHUP reloads run: each reload's time, the client's p99 and
#            failures; the server has both CPUs
#   workers  requests per second with workers = 1 and 2 (when supported)
# Knobs: BENCH_SECONDS (10) per run, BENCH_REPS (3) runs per server.
# mta-stsd runs with a [metrics] listener (BENCH_METRICS=no: without).
#
# Prints one line per metric, "name ours reference ratio target met guard
# verdict", writes every raw figure to tests/bench/results/bench-DATE.txt,
# and exits 1 when a guard fails or a run is invalid (errors, non-2xx
# answers, or handshakes of the wrong kind).  A target is what a figure
# is meant to reach ("met" or "missed", whatever the machine's load); a
# guard is the line a figure must not cross unless something regressed,
# set above the target by the run-to-run spread of this shared machine.
# Every client is bounded by timeout; only the processes started here
# are stopped, by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
B=$top/tests/bench
D=${MTA_STSD:-$top/server/mta-stsd}
SECS=${BENCH_SECONDS:-10}
REPS=${BENCH_REPS:-3}
NDOM=${BENCH_DOMAINS:-10000}
NBIG=${BENCH_BIG_DOMAINS:-100000}
METRICS=${BENCH_METRICS:-yes}
ONLY=" ${BENCH_ONLY:-ka full resumed mem scale metrics big workers} "
NAME=mta-sts.example.com
URLPATH=/.well-known/mta-sts.txt
SHIM=$B/wrkshim.so
CERT=$top/certs/dev/example.com-ec.pem
KEY=$top/certs/dev/example.com-ec.key
CA=$top/certs/dev/ca.pem
HOLD=1000
HZ=$(getconf CLK_TCK)
# Debian's, which has python3-cryptography, before any other on PATH
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

for f in "$D" "$B/handshake" "$SHIM" "$CERT" "$KEY"; do
	[ -e "$f" ] || { echo "bench: $f missing: run make bench" >&2; exit 1; }
done
for c in nginx wrk curl openssl python3 taskset pgrep; do
	command -v $c >/dev/null || { echo "bench: needs $c" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
	echo "bench: needs two CPUs (server on 0, client on 1)" >&2
	exit 1
fi

mkdir -p "$B/results"
RAW=$B/results/bench-$(date -u +%Y%m%d-%H%M%S).txt
tmp=$(mktemp -d /tmp/mta-stsd-bench.XXXXXX) || exit 1
started=" "		# " PID PID ... "
failed=0

# Stops what we started: each PID, TERM then KILL.
stop() {
	local pid=$1 i
	started=${started/ $pid / }
	if kill "$pid" 2>/dev/null; then
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

cleanup() {
	local pid
	for pid in $started; do
		stop "$pid"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(id -u)" = 0 ]; then
	RUNAS=nobody
	NGINX_USER="user nobody nogroup;"
	chmod 0750 "$tmp"
	chgrp nogroup "$tmp"
else
	RUNAS=$(id -un)
	NGINX_USER=
fi

raw() {
	printf '%s\n' "$*" >>"$RAW"
}

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# tree PID: the PID and all its descendants.
tree() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do
		tree "$c"
	done
}

# jiffies PID: user + system CPU time of the process tree, in clock ticks
# (fields 14 and 15 of stat; the name in parentheses may hold spaces).
jiffies() {
	local p t=0 v
	for p in $(tree "$1"); do
		v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null |
		    awk '{print $12 + $13}')
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# memsum PID FILE FIELD: FIELD (kB) of /proc/P/FILE summed over the tree.
memsum() {
	local p t=0 v
	for p in $(tree "$1"); do
		v=$(awk -v f="$3:" '$1 == f {print $2}' "/proc/$p/$2" \
		    2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

median() {
	printf '%s\n' "$@" | grep -v '^NA$' | sort -g | awk '
	    { a[NR] = $1 }
	    END { if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2];
		else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# row NAME OURS REFERENCE TARGET GUARD: one line of the table.  TARGET
# and GUARD are "<=R" or "<R" on the ratio OURS/REFERENCE, or "-": a
# target is met or missed, a guard passes or fails (exit status 1); a
# missing figure (NA) fails its guard.
row() {
	local line
	line=$(awk -v n="$1" -v o="$2" -v r="$3" -v t="$4" -v g="$5" '
	function within(x, lim) {
		if (x == "NA") return 0
		l = lim; sub(/^[<=]+/, "", l)
		return lim ~ /^<=/ ? x + 0 <= l + 0 : x + 0 < l + 0
	}
	BEGIN {
		if (o == "NA" || r == "NA" || r + 0 == 0) ratio = "NA"
		else ratio = sprintf("%.3f", o / r)
		tv = t == "-" ? "" : within(ratio, t) ? "met" : "missed"
		gv = g == "-" ? "info" : within(ratio, g) ? "PASS" : "FAIL"
		printf "%-32s %12s %12s %8s %7s %-6s %7s  %s", n, o, r, ratio,
		    t, tv, g, gv }')
	echo "$line"
	raw "row: $line"
	case $line in *FAIL) failed=1 ;; esac
}

invalid() {
	echo "bench: INVALID: $*"
	raw "INVALID: $*"
	failed=1
}

# ------------------------------------------------------------------
# Servers

# conf_ours FILE PORT POLICY_DIR CERT_DIR [EXTRA...]: an mta-stsd config,
# with a [metrics] listener unless METRICS is no (or EXTRA says
# "nometrics").
conf_ours() {
	local f=$1 port=$2 pdir=$3 cdir=$4 m=$METRICS x
	shift 4
	{
		printf '[server]\nlisten = 127.0.0.1:%s\npolicy_dir = %s\n' \
		    "$port" "$pdir"
		printf 'cert_dir = %s\nuser = %s\nlog_level = warn\n' \
		    "$cdir" "$RUNAS"
		for x in "$@"; do
			[ "$x" = nometrics ] && m=no && continue
			printf '%s\n' "$x"
		done
		[ "$m" = no ] ||
		    printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$(free_port)"
	} >"$f"
}

# The one-domain set: the example.com policy and only the EC certificate.
setup_small() {
	mkdir -p "$tmp/small/policies" "$tmp/small/certs"
	cp "$top/policies/example.com.txt" "$tmp/small/policies/"
	cp "$CERT" "$KEY" "$tmp/small/certs/"
	[ "$RUNAS" = nobody ] && chgrp -R nogroup "$tmp/small" &&
	    chmod -R g+rX,o-rwx "$tmp/small"
	WORKERS_OK=no
	conf_ours "$tmp/probe.conf" 443 "$tmp/small/policies" \
	    "$tmp/small/certs" "workers = 2"
	"$D" -n -f "$tmp/probe.conf" >/dev/null 2>&1 && WORKERS_OK=yes
	W1=
	[ $WORKERS_OK = yes ] && W1="workers = 1"
}

# poll_start PORT HOST CAFILE SECONDS [CHAIN]: starts poll.py, which
# waits for a 200 from HOST (over the first certificate of CHAIN), and
# gives it time to start; poll_end waits for it and sets AT, the time of
# the answer in ms, or NA.
poll_start() {
	timeout $(($4 + 10)) "$PY" "$B/poll.py" "$@" >"$tmp/poll.out" &
	POLL_PID=$!
	started="$started$POLL_PID "
	sleep 0.5
}

poll_end() {
	wait "$POLL_PID"
	started=${started/ $POLL_PID / }
	AT=$(cat "$tmp/poll.out")
	AT=${AT:-NA}
}

# wait_200 PORT HOST CAFILE SECONDS: until HOST answers 200; 0 or 1.
wait_200() {
	timeout $(($4 + 10)) "$PY" "$B/poll.py" "$@" >/dev/null
}

# start_ours NAME CONF PORT [CPU]: starts mta-stsd, sets PID_<NAME>.
start_ours() {
	local ts=
	[ -n "${4:-}" ] && ts="taskset -c $4"
	$ts "$D" -d -f "$2" 2>>"$tmp/$1.log" &
	eval "PID_$1=$!"
	started="$started$! "
}

# start_nginx NAME CONF [CPU]: starts nginx (master in the foreground).
start_nginx() {
	local ts=
	[ -n "${3:-}" ] && ts="taskset -c $3"
	$ts nginx -p "$tmp/$1/" -c "$2" -e "$tmp/$1.log" -g 'daemon off;' \
	    2>>"$tmp/$1.log" &
	eval "PID_$1=$!"
	started="$started$! "
}

# conf_nginx FILE: writes the nginx config around the server blocks read
# from standard input.
conf_nginx() {
	mkdir -p "$(dirname "$1")"
	cat >"$1" <<EOF
$NGINX_USER
worker_processes 1;
worker_rlimit_nofile 65536;
pid $(dirname "$1")/nginx.pid;
events { worker_connections 20000; }
http {
	access_log off;
	default_type text/plain;
	keepalive_requests 1000000000;
	server_names_hash_max_size 65536;
	server_names_hash_bucket_size 128;
	ssl_protocols TLSv1.2;
	ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305;
	ssl_prefer_server_ciphers on;
	ssl_ecdh_curve X25519:prime256v1;
	ssl_session_cache shared:SSL:10m;
	ssl_session_tickets off;
$(cat)
}
EOF
}

# nginx_server NAME CHAIN KEY BODY PORT: one server block; the body is
# escaped for an nginx string (CR, LF, quote, backslash).
nginx_server() {
	printf '\tserver {\n\t\tlisten 127.0.0.1:%s ssl;\n' "$5"
	printf '\t\tserver_name %s;\n\t\tssl_certificate %s;\n' "$1" "$2"
	printf '\t\tssl_certificate_key %s;\n' "$3"
	printf '\t\tlocation = %s { return 200 "%s"; }\n\t}\n' "$URLPATH" "$4"
}

escape_body() {
	sed 's/\\/\\\\/g; s/"/\\"/g; s/\r$/\\r/' | awk '{printf "%s\\n", $0}'
}

# The small pair: mta-stsd and nginx on CPU 0, one domain each.
start_pair() {
	P_ours=$(free_port)
	conf_ours "$tmp/ours.conf" "$P_ours" "$tmp/small/policies" \
	    "$tmp/small/certs" ${W1:+"$W1"}
	start_ours ours "$tmp/ours.conf" "$P_ours" 0
	wait_200 "$P_ours" $NAME "$CA" 20 ||
	    { echo "bench: mta-stsd does not answer" >&2; cat "$tmp/ours.log"; exit 1; }
	P_nginx=$(free_port)
	curl -s --cacert "$CA" --resolve "$NAME:$P_ours:127.0.0.1" \
	    "https://$NAME:$P_ours$URLPATH" >"$tmp/body"
	nginx_server $NAME "$CERT" "$KEY" "$(escape_body <"$tmp/body")" \
	    "$P_nginx" | conf_nginx "$tmp/nginx/nginx.conf"
	start_nginx nginx "$tmp/nginx/nginx.conf" 0
	wait_200 "$P_nginx" $NAME "$CA" 20 ||
	    { echo "bench: nginx does not answer" >&2; cat "$tmp/nginx.log"; exit 1; }
	curl -s --cacert "$CA" --resolve "$NAME:$P_nginx:127.0.0.1" \
	    "https://$NAME:$P_nginx$URLPATH" | cmp -s - "$tmp/body" ||
	    invalid "nginx does not serve mta-stsd's body byte for byte"
}

stop_pair() {
	stop "$PID_ours"
	stop "$PID_nginx"
}

# ------------------------------------------------------------------
# Clients

# wrk_run LABEL PID PORT MODE [HOST]: one wrk run against the server PID;
# sets RPS, P99 (us), US (server CPU us per request) and appends the raw
# output.  MODE: ka, full, resumed, workers.  An invalid run sets NA.
wrk_run() {
	local label=$1 pid=$2 port=$3 mode=$4 host=${5:-$NAME}
	local conns=50 threads=1 ts="taskset -c 1" j0 j1 out reqs st hs re
	local env=(LD_PRELOAD="$SHIM" WRKSHIM_SNI="$host"
	    WRKSHIM_STATS="$tmp/shim.stats") hdr=()
	case $mode in
	full)	env+=(WRKSHIM_NORESUME=1); hdr=(-H "Connection: close") ;;
	resumed) hdr=(-H "Connection: close") ;;
	workers) conns=100; threads=2; ts= ;;
	esac
	rm -f "$tmp/shim.stats"
	j0=$(jiffies "$pid")
	out=$(timeout $((SECS + 30)) $ts env "${env[@]}" wrk -t$threads \
	    -c$conns -d"${SECS}s" --latency -H "Host: $host" "${hdr[@]}" \
	    "https://127.0.0.1:$port$URLPATH" 2>&1)
	j1=$(jiffies "$pid")
	st=$(cat "$tmp/shim.stats" 2>/dev/null)
	raw "=== $label ($mode) port $port: server ticks $j0 -> $j1, shim: $st"
	raw "$out"
	RPS=NA P99=NA US=NA
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	hs=$(echo "$st" | awk '{print $2}')
	re=$(echo "$st" | awk '{print $4}')
	if [ -z "$reqs" ] || [ "$reqs" -eq 0 ]; then
		invalid "$label: wrk failed: $(echo "$out" | tail -2)"
		return
	fi
	if echo "$out" | grep -q -E 'Non-2xx|Socket errors'; then
		invalid "$label: $(echo "$out" | grep -E 'Non-2xx|Socket errors' |
		    tr -s ' \n' ' ')"
		return
	fi
	case $mode in
	full)	[ "${re:-1}" = 0 ] && [ "${hs:-0}" -ge "$reqs" ] ||
		    { invalid "$label: not all full: $st, $reqs requests"; return; } ;;
	resumed) [ $((${re:-0} * 10)) -ge $((${hs:-0} * 9)) ] &&
		    [ "${hs:-0}" -ge "$reqs" ] ||
		    { invalid "$label: not resumed: $st, $reqs requests"; return; } ;;
	esac
	RPS=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	P99=$(echo "$out" | awk '$1 == "99%" {
		v = $2; m = 1
		if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000
		else if (v ~ /s$/) m = 1000000
		sub(/[a-z]+$/, "", v); print v * m }')
	US=$(awk -v a="$j0" -v b="$j1" -v hz="$HZ" -v n="$reqs" \
	    'BEGIN {printf "%.1f", (b - a) / hz * 1e6 / n}')
	raw "=> rps $RPS p99_us $P99 server_us_per_req $US"
}

# reused PORT HOST: how many of s_client's 5 reconnects resumed.
reused() {
	echo | timeout 20 openssl s_client -connect "127.0.0.1:$1" \
	    -servername "$2" -tls1_2 -reconnect 2>/dev/null | grep -c '^Reused'
}

# interleave MODE [PID_A PORT_A PID_B PORT_B]: REPS runs per server, A
# then B (default ours then nginx); sets the medians O_RPS O_P99 O_US
# (A) and N_RPS N_P99 N_US (B).
interleave() {
	local i o_rps=() o_p99=() o_us=() n_rps=() n_p99=() n_us=()
	local pa=${2:-$PID_ours} qa=${3:-$P_ours} pb=${4:-$PID_nginx}
	local qb=${5:-$P_nginx}
	for i in $(seq "$REPS"); do
		wrk_run "A $1 $i" "$pa" "$qa" "$1"
		o_rps+=("$RPS"); o_p99+=("$P99"); o_us+=("$US")
		wrk_run "B $1 $i" "$pb" "$qb" "$1"
		n_rps+=("$RPS"); n_p99+=("$P99"); n_us+=("$US")
	done
	O_RPS=$(median "${o_rps[@]}"); O_P99=$(median "${o_p99[@]}")
	O_US=$(median "${o_us[@]}")
	N_RPS=$(median "${n_rps[@]}"); N_P99=$(median "${n_p99[@]}")
	N_US=$(median "${n_us[@]}")
	raw "$1 A: rps ${o_rps[*]} p99 ${o_p99[*]} us ${o_us[*]}"
	raw "$1 B: rps ${n_rps[*]} p99 ${n_p99[*]} us ${n_us[*]}"
}

# ------------------------------------------------------------------
# Groups

group_ka() {
	interleave ka
	row ka_cpu_us_per_req "$O_US" "$N_US" - "<=1.25"
	row ka_p99_us_c50 "$O_P99" "$N_P99" - "<=1.5"
	row ka_rps "$O_RPS" "$N_RPS" - -
}

# BearSSL's own cost, in memory, on the server's CPU.
bearssl_limit() {
	local out
	out=$(timeout 300 taskset -c 0 "$B/handshake" "$CERT" "$KEY" 2000 2>&1)
	raw "=== handshake (in-memory BearSSL, 2000 handshakes)"
	raw "$out"
	LIMIT=$(echo "$out" | awk '$1 == "server_us_per_handshake" {print $2}')
	LIMIT=${LIMIT:-NA}
	[ "$LIMIT" = NA ] && invalid "handshake: $out"
}

group_full() {
	bearssl_limit
	interleave full
	ONE_DOMAIN_FULL=$O_US
	row full_cpu_us_per_conn "$O_US" "$LIMIT" "<=1.1" "<=1.3"
	row full_cpu_vs_nginx "$O_US" "$N_US" - -
	row full_rps "$O_RPS" "$N_RPS" - -
}

group_resumed() {
	local ro rn
	ro=$(reused "$P_ours" $NAME)
	rn=$(reused "$P_nginx" $NAME)
	raw "s_client -reconnect: Reused lines: ours $ro nginx $rn"
	[ "$ro" -ge 5 ] || invalid "mta-stsd does not resume (s_client: $ro)"
	[ "$rn" -ge 5 ] || invalid "nginx does not resume (s_client: $rn)"
	interleave resumed
	row resumed_cpu_us_per_conn "$O_US" "$N_US" "<=1.15" "<=1.5"
	row resumed_rps "$O_RPS" "$N_RPS" - -
}

# hold_rss NAME PID PORT: sets IDLE (kB, after one request) and PER
# (bytes per held connection).
hold_rss() {
	local out=$tmp/hold.$1 hp i with
	IDLE=$(memsum "$2" status VmRSS)
	timeout 200 taskset -c 1 "$PY" "$B/hold.py" 127.0.0.1 "$3" $HOLD \
	    $NAME 120 >"$out" 2>&1 &
	hp=$!
	started="$started$hp "
	for i in $(seq 1500); do
		grep -q -E '^(held|failed)' "$out" 2>/dev/null && break
		kill -0 $hp 2>/dev/null || break
		sleep 0.1
	done
	# Held idle: both servers settle (mta-stsd gives back an idle
	# connection's HTTP side and buffer pages after a second).
	sleep 3
	with=$(memsum "$2" status VmRSS)
	stop $hp
	raw "=== hold $1: idle ${IDLE} kB, with $HOLD: $with kB; $(cat "$out")"
	PER=NA
	if grep -q "^held $HOLD" "$out"; then
		PER=$(( (with - IDLE) * 1024 / HOLD ))
	else
		invalid "hold $1: $(cat "$out")"
	fi
}

group_mem() {
	local oi op
	stop_pair
	start_pair
	hold_rss ours "$PID_ours" "$P_ours"
	oi=$IDLE op=$PER
	hold_rss nginx "$PID_nginx" "$P_nginx"
	row mem_rss_per_conn_bytes "$op" "$PER" "<=1.0" "<=1.2"
	row mem_idle_rss_kb "$oi" "$IDLE" "<=0.35" "<=0.5"
}

# body DOMAIN PORT: the policy served for DOMAIN.
body() {
	curl -s --max-time 5 --cacert "$tmp/scale/ca.pem" \
	    --resolve "mta-sts.$1:$2:127.0.0.1" \
	    "https://mta-sts.$1:$2$URLPATH"
}

# reload NAME PID PORT [DIR]: a new certificate for the first domain,
# SIGHUP, and the time until it is served; sets MS.  DIR: the domains'
# (default $tmp/scale).
reload() {
	local s t0 dom=d00001.example dir=${4:-$tmp/scale}
	s=$("$PY" "$B/mkdomains.py" --reissue "$dir" $dom \
	    "$dir/certs/$dom.pem")
	[ "$RUNAS" = nobody ] && chgrp nogroup "$dir/certs/$dom.pem" &&
	    chmod 0640 "$dir/certs/$dom.pem"
	poll_start "$3" "mta-sts.$dom" "$dir/ca.pem" 120 \
	    "$dir/certs/$dom.pem"
	t0=$(now_ms)
	kill -HUP "$2"
	poll_end
	MS=NA
	[ "$AT" != NA ] && MS=$((AT - t0))
	raw "reload $1: serial $s served after $MS ms"
	[ "$MS" = NA ] && invalid "reload $1: new certificate not served"
}

# scale_server NAME KIND CONF PORT: start-up, PSS, 3 reloads, PSS; sets
# START, RELOAD (median), PSS0, PSS3.
scale_server() {
	local t0 i ms=() last
	last=mta-sts.d$(printf %05d "$NDOM").example
	poll_start "$4" "$last" "$tmp/scale/ca.pem" 120
	t0=$(now_ms)
	if [ "$2" = ours ]; then
		start_ours "$1" "$3" "$4" 0
	else
		start_nginx "$1" "$3" 0
	fi
	poll_end
	START=NA
	[ "$AT" != NA ] && START=$((AT - t0))
	[ "$START" = NA ] && invalid "$1: $last never answered"
	raw "start $1: $START ms"
	eval "pid=\$PID_$1"
	sleep 1
	PSS0=$(memsum "$pid" smaps_rollup Pss)
	for i in 1 2 3; do
		reload "$1" "$pid" "$4"
		ms+=("$MS")
		# nginx: the old worker finishes before memory is read
		for _ in $(seq 100); do
			[ "$(pgrep -c -P "$pid")" -le 1 ] && break
			sleep 0.1
		done
	done
	sleep 1
	PSS3=$(memsum "$pid" smaps_rollup Pss)
	RELOAD=$(median "${ms[@]}")
	raw "$1: start $START ms, reload ${ms[*]} ms, PSS $PSS0 -> $PSS3 kB"
}

group_scale() {
	local work=$B/work/domains-$NDOM dom i o_us=() s_us=() ps os orl out
	local o0 o3
	if ! out=$("$PY" "$B/mkdomains.py" "$work" "$NDOM" 2>&1); then
		invalid "mkdomains: $out"
		return
	fi
	echo "$out" | tee -a "$RAW"
	cp -r "$work" "$tmp/scale"
	[ "$RUNAS" = nobody ] && chgrp -R nogroup "$tmp/scale" &&
	    chmod -R g+rX,o-rwx "$tmp/scale"

	# mta-stsd: certificates changed only by the SIGHUP measured
	ps=$(free_port)
	conf_ours "$tmp/scale.conf" "$ps" "$tmp/scale/policies" \
	    "$tmp/scale/certs" ${W1:+"$W1"} "watch_certs = no"
	scale_server scale_ours ours "$tmp/scale.conf" "$ps"
	os=$START orl=$RELOAD o0=$PSS0 o3=$PSS3
	body d00001.example "$ps" >"$tmp/scale.body"

	# full handshakes, one domain of many and the one-domain server,
	# interleaved
	dom=mta-sts.d$(printf %05d $((NDOM / 2))).example
	for i in $(seq "$REPS"); do
		wrk_run "scale full $i" "$PID_scale_ours" "$ps" full "$dom"
		s_us+=("$US")
		wrk_run "one-domain full $i" "$PID_ours" "$P_ours" full
		o_us+=("$US")
	done
	stop "$PID_scale_ours"

	# nginx: one server block per domain
	P_scale=$(free_port)
	for i in $(seq "$NDOM"); do
		printf 'd%05d.example\n' "$i"
	done | awk -v port="$P_scale" -v dir="$tmp/scale" -v path=$URLPATH '{
		printf "\tserver {\n\t\tlisten 127.0.0.1:%s ssl;\n", port
		printf "\t\tserver_name mta-sts.%s;\n", $1
		printf "\t\tssl_certificate %s/certs/%s.pem;\n", dir, $1
		printf "\t\tssl_certificate_key %s/certs/%s.key;\n", dir, $1
		printf "\t\tlocation = %s { return 200 \"version: STSv1\\r\\n" \
		    "mode: enforce\\r\\nmx: mail.%s\\r\\nmax_age: 86400\\r\\n\"; }\n\t}\n",
		    path, $1 }' | conf_nginx "$tmp/scale_nginx/nginx.conf"
	scale_server scale_nginx nginx "$tmp/scale_nginx/nginx.conf" "$P_scale"
	body d00001.example "$P_scale" | cmp -s - "$tmp/scale.body" ||
	    invalid "nginx does not serve mta-stsd's body for d00001.example"
	stop "$PID_scale_nginx"

	row scale_start_ms "$os" 1000 "<1.0" "<2.0"
	row scale_reload_ms "$orl" 1000 "<1.0" "<2.0"
	row scale_pss_kb "$o0" "$PSS0" "<=0.1" "<=0.15"
	row scale_pss_3_reloads_vs_start "$o3" "$o0" "<=1.1" "<=1.2"
	row scale_full_cpu_vs_one_domain "$(median "${s_us[@]}")" \
	    "$(median "${o_us[@]}")" "<=1.05" "<=1.25"
	row nginx_scale_start_ms "$START" 1000 - -
	row nginx_scale_reload_ms "$RELOAD" 1000 - -
	row nginx_scale_pss_3_reloads "$PSS3" "$PSS0" - -
}

# The hot path with [metrics] counting against the same without: two
# mta-stsd on CPU 0, interleaved.
group_metrics() {
	local pm po
	pm=$(free_port)
	po=$(free_port)
	METRICS=yes conf_ours "$tmp/m_on.conf" "$pm" "$tmp/small/policies" \
	    "$tmp/small/certs" ${W1:+"$W1"}
	conf_ours "$tmp/m_off.conf" "$po" "$tmp/small/policies" \
	    "$tmp/small/certs" ${W1:+"$W1"} nometrics
	start_ours m_on "$tmp/m_on.conf" "$pm" 0
	start_ours m_off "$tmp/m_off.conf" "$po" 0
	wait_200 "$pm" $NAME "$CA" 20 && wait_200 "$po" $NAME "$CA" 20 ||
	    { invalid "metrics: a server does not answer"; return; }
	interleave ka "$PID_m_on" "$pm" "$PID_m_off" "$po"
	row metrics_ka_cpu_on_vs_off "$O_US" "$N_US" - "<=1.1"
	interleave full "$PID_m_on" "$pm" "$PID_m_off" "$po"
	row metrics_full_cpu_on_vs_off "$O_US" "$N_US" - "<=1.1"
	stop "$PID_m_on"
	stop "$PID_m_off"
}

# 100,000 domains: start-up, memory, and 5 reloads while a client
# fetches steadily.  The server is not pinned: the loader takes the
# other CPU while the event loop serves.
group_big() {
	local work=$B/work/domains-$NBIG dir=$tmp/big pb out i ms=() t0 last
	local pss0 pss5 st n nf p99
	if ! out=$("$PY" "$B/mkdomains.py" "$work" "$NBIG" 2>&1); then
		invalid "mkdomains: $out"
		return
	fi
	echo "$out" | tee -a "$RAW"
	# Hard links: at once, and reissued files replace theirs (rename).
	cp -al "$work" "$dir"
	pb=$(free_port)
	conf_ours "$tmp/big.conf" "$pb" "$dir/policies" "$dir/certs" \
	    ${W1:+"$W1"} "watch_certs = no" "watch_policies = no"
	last=mta-sts.d$(printf %05d "$NBIG").example
	# Every file read once first: the start measured is the server's
	# work, not the disk's (a cold start read 7.8 to 25 s here, warm 3).
	find "$dir" -type f -exec cat {} + >/dev/null
	poll_start "$pb" "$last" "$dir/ca.pem" 120
	t0=$(now_ms)
	start_ours big "$tmp/big.conf" "$pb"
	poll_end
	st=NA
	[ "$AT" != NA ] && st=$((AT - t0))
	[ "$st" = NA ] && invalid "big: $last never answered"
	sleep 1
	pss0=$(memsum "$PID_big" smaps_rollup Pss)
	rm -f "$tmp/steady.stop"
	timeout 900 "$PY" "$B/steady.py" "$pb" "$dir/ca.pem" "$NBIG" 600 \
	    "$tmp/steady.stop" >"$tmp/steady.out" 2>&1 &
	STEADY=$!
	started="$started$STEADY "
	sleep 2
	for i in 1 2 3 4 5; do
		reload big "$PID_big" "$pb" "$dir"
		ms+=("$MS")
		sleep 1
	done
	touch "$tmp/steady.stop"
	wait "$STEADY"
	started=${started/ $STEADY / }
	raw "steady: $(cat "$tmp/steady.out")"
	n=$(awk '$1 == "n" {print $2}' "$tmp/steady.out")
	nf=$(awk '$1 == "n" {print $4}' "$tmp/steady.out")
	p99=$(awk '$1 == "n" {print $8}' "$tmp/steady.out")
	[ -n "$n" ] && [ "$n" -gt 0 ] || { invalid "big: steady client: $(cat "$tmp/steady.out")"; n=NA; }
	sleep 1
	pss5=$(memsum "$PID_big" smaps_rollup Pss)
	raw "big: start $st ms, reloads ${ms[*]} ms, PSS $pss0 -> $pss5 kB, steady $n requests, $nf failed, p99 $p99 ms"
	stop "$PID_big"
	rm -rf "$dir"
	row big_start_ms "$st" 5000 "<1.0" "<2.0"
	row big_reload_ms "$(median "${ms[@]}")" 2000 "<1.0" "<2.0"
	row big_reload_max_ms "$(printf '%s\n' "${ms[@]}" | sort -g | tail -1)" 2000 - -
	row big_pss_kb "$pss0" 256000 "<1.0" "<1.25"
	row big_pss_after_5_reloads_kb "$pss5" "$pss0" "<=1.1" "<=1.2"
	row big_p99_ms_during_reloads "${p99:-NA}" 50 "<1.0" "<1.0"
	row big_failed_requests "${nf:-NA}" 1 "<1.0" "<1.0"
	row big_steady_requests "${n:-NA}" 1 - -
}

group_workers() {
	local n pw rps=()
	if [ $WORKERS_OK != yes ]; then
		echo "workers: not supported by this build"
		raw "workers: not supported by this build"
		return
	fi
	for n in 1 2; do
		pw=$(free_port)
		conf_ours "$tmp/w$n.conf" "$pw" "$tmp/small/policies" \
		    "$tmp/small/certs" "workers = $n"
		start_ours w$n "$tmp/w$n.conf" "$pw"
		wait_200 "$pw" $NAME "$CA" 20 || invalid "workers = $n: no answer"
		eval "pid=\$PID_w$n"
		wrk_run "workers $n" "$pid" "$pw" workers
		rps+=("$RPS")
		stop "$pid"
	done
	row workers_2_vs_1_rps "${rps[1]}" "${rps[0]}" - -
}

# ------------------------------------------------------------------

t_start=$(date +%s)
{
	echo "# make bench, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "# cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)," \
	    "$(nproc) CPUs; kernel $(uname -r)"
	echo "# $("$D" -v 2>&1); $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1 |
	    awk '{print $1, $2}'); BearSSL $(dpkg-query -W -f='${Version}' \
	    libbearssl0 2>/dev/null); $(openssl version | awk '{print $1, $2}')"
	echo "# BENCH_SECONDS=$SECS BENCH_REPS=$REPS BENCH_DOMAINS=$NDOM" \
	    "BENCH_ONLY=\"${ONLY# }\""
} | tee "$RAW"
setup_small
[ $WORKERS_OK = yes ] || echo "# workers: not supported by this build" |
    tee -a "$RAW"
start_pair
printf '%-32s %12s %12s %8s %7s %-6s %7s  %s\n' metric ours reference ratio \
    target met guard verdict | tee -a "$RAW"
for g in ka full resumed mem scale metrics big workers; do
	case $ONLY in *" $g "*) "group_$g" ;; esac
done
stop_pair
t=$(($(date +%s) - t_start))
echo "# $t s; raw figures: ${RAW#"$top"/}" | tee -a "$RAW"
if [ $failed = 1 ]; then
	echo "bench: a guard failed or a run was invalid"
	exit 1
fi
exit 0
