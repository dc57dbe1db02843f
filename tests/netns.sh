# tests/netns.sh: a network namespace of the test's own, and the processes
# it runs there.  Sourced by suites after tests/lib.sh and suite_start;
# they set $ns (the namespace's name, unique per run: mta-stsd-SUITE-$$)
# first.  Sourcing it adds netns_cleanup to the suite's cleanup.
#
# ip netns exec bind-mounts /etc/netns/$ns/resolv.conf and hosts: the
# host's network and resolv.conf are never touched.  Every process started
# with bg is tracked and stopped by PID (lib.sh: stop_pid, stop_all);
# netns_cleanup removes the namespace.  Needs root.

netns_made=

netns_cleanup() {
	stop_all
	if [ -n "$netns_made" ]; then
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	fi
}

# netns_up [ADDRESS...]: makes $ns with loopback up, the namespace's
# resolver at 127.0.0.1, and the extra loopback ADDRESSes (127.0.0.2 also
# makes getaddrinfo() with AI_ADDRCONFIG resolve names at all: glibc
# counts IPv4 as configured only for an address other than 127.0.0.1).
netns_up() {
	mkdir -p "/etc/netns/$ns" || return 1
	netns_made=1
	printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' \
	    >"/etc/netns/$ns/resolv.conf"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"/etc/netns/$ns/hosts"
	ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || return 1
	for _a in "$@"; do
		ip netns exec "$ns" ip addr add "$_a/8" dev lo || return 1
	done
}

# nsx [-t SECONDS] COMMAND...: runs COMMAND in the namespace, at most
# SECONDS (default $NSX_TIMEOUT, else 30).
nsx() {
	_t=${NSX_TIMEOUT:-30}
	if [ "$1" = -t ]; then
		_t=$2
		shift 2
	fi
	timeout "$_t" ip netns exec "$ns" "$@"
}

# bg LOG COMMAND...: runs COMMAND in the namespace in the background (ip
# netns exec execs it: $! is its PID).
bg() {
	_log=$1
	shift
	ip netns exec "$ns" "$@" >"$_log" 2>&1 &
	track $!
}

# wait_for SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
	_n=$(($1 * 5))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		_n=$((_n - 1))
	done
	return 1
}

# dnsmasq_args: the options every test DNS server shares (then the
# suite's records): foreground, no upstream, no /etc/hosts, on 127.0.0.1
# port 53 in the namespace, records with TTL 0 (no resolver keeps an old
# id), queries logged to stdout.
dnsmasq_args() {
	echo "--keep-in-foreground --conf-file=/dev/null --no-resolv" \
	    "--no-hosts --listen-address=127.0.0.1 --bind-interfaces" \
	    "--port=53 --user=nobody --group=nogroup" \
	    "--pid-file=$tmp/dnsmasq.pid --log-facility=- --log-queries" \
	    "--local-ttl=0"
}

at_cleanup netns_cleanup
