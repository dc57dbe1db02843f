# tests/bind.sh: BIND 9 (named, Debian's bind9) as the authoritative
# servers of test zones, in the suite's network namespace: a primary that
# takes dynamic updates signed with a key made by tsig-keygen, and a
# secondary fed by NOTIFY and zone transfers, whose copy can be made to
# lag on purpose.  Sourced after tests/lib.sh, suite_start and
# tests/netns.sh (netns_up with 127.0.0.2 and 127.0.0.3); nothing is read
# from or written to /etc/bind (every named and rndc is given its files
# under $tmp/bind).
#
#	bind_keys
#	bind_zone ZONE [UPDATE-POLICY] <<EOF	(records after SOA and NS)
#	...
#	EOF
#	bind_start
#
# Addresses: the primary ns1.ZONE answers on 127.0.0.2 and ::1, the
# secondary ns2.ZONE on 127.0.0.3 (both port 53; rndc on port 953).  The
# zones' NS records name both, with their addresses.  Keys, in $bk:
# mta-sts.key (the one the update policies grant), wrong-secret.key (the
# same name, another secret: BADSIG), unknown.key (a name the servers do
# not know: BADKEY).  The processes run in the foreground (named -g) and
# are tracked (tests/lib.sh): stopped by PID at the end of the suite.

bk=$tmp/bind

# bind_keys: the keys, and the rndc configuration.
bind_keys() {
	mkdir -p "$bk/primary" "$bk/secondary" || return 1
	tsig-keygen -a hmac-sha256 mta-sts-key >"$bk/mta-sts.key" &&
	    tsig-keygen -a hmac-sha256 mta-sts-key >"$bk/wrong-secret.key" &&
	    tsig-keygen -a hmac-sha256 unknown-key >"$bk/unknown.key" &&
	    tsig-keygen -a hmac-sha256 rndc-key >"$bk/rndc.key" || return 1
	printf 'include "%s/rndc.key";\noptions { default-key "rndc-key"; default-port 953; };\n' \
	    "$bk" >"$bk/rndc.conf"
	: >"$bk/primary.zones"
	: >"$bk/secondary.zones"
	bind_zones=
}

# bind_zone ZONE [POLICY]: a zone whose records (after its SOA and NS,
# which bind_zone writes) come from standard input; POLICY is its
# update-policy (default: the key may change the TXT records of
# _mta-sts.ZONE and _smtp._tls.ZONE, nothing else).
bind_zone() {
	_z=$1
	_pol=${2:-"grant mta-sts-key name _mta-sts.$_z. TXT; grant mta-sts-key name _smtp._tls.$_z. TXT;"}
	{
		printf '$TTL 300\n'
		printf '@ IN SOA ns1.%s. hostmaster.%s. 1 3600 600 604800 300\n' "$_z" "$_z"
		printf '@ IN NS ns1.%s.\n@ IN NS ns2.%s.\n' "$_z" "$_z"
		printf 'ns1 IN A 127.0.0.2\nns1 IN AAAA ::1\nns2 IN A 127.0.0.3\n'
		cat
	} >"$bk/primary/$_z.zone"
	cat >>"$bk/primary.zones" <<EOF
zone "$_z" {
	type primary;
	file "$bk/primary/$_z.zone";
	update-policy { $_pol };
	allow-transfer { 127.0.0.3; };
};
EOF
	cat >>"$bk/secondary.zones" <<EOF
zone "$_z" {
	type secondary;
	file "$bk/secondary/$_z.bk";
	primaries { 127.0.0.2; };
	notify no;
};
EOF
	bind_zones="$bind_zones $_z"
}

# bind_options ROLE V4 V6 NOTIFY: the options both servers share.
bind_options() {
	cat <<EOF
include "$bk/mta-sts.key";
include "$bk/rndc.key";
options {
	directory "$bk/$1";
	pid-file "$bk/$1/named.pid";
	session-keyfile "$bk/$1/session.key";
	managed-keys-directory "$bk/$1";
	dump-file "$bk/$1/cache_dump.db";
	statistics-file "$bk/$1/named.stats";
	listen-on port 53 { $2; };
	listen-on-v6 port 53 { $3; };
	recursion no;
	dnssec-validation no;
	notify $4;
	notify-delay 0;
	notify-source $2;
	transfer-source $2;
	minimal-responses no;
};
controls { inet $2 port 953 allow { any; } keys { "rndc-key"; }; };
EOF
}

# bind_write_conf NOTIFY: both configurations (NOTIFY yes or no: the
# primary tells the secondary of each change, or not).
bind_write_conf() {
	{ bind_options primary 127.0.0.2 ::1 "$1"; cat "$bk/primary.zones"; } \
	    >"$bk/primary/named.conf"
	{ bind_options secondary 127.0.0.3 none no; cat "$bk/secondary.zones"; } \
	    >"$bk/secondary/named.conf"
}

# bind_serial ADDRESS ZONE: the zone's serial as the server at ADDRESS
# answers it (nothing when it does not answer, or not with authority).
bind_serial() {
	nsx -t 5 dig +norec +tries=1 +time=1 @"$1" "$2" SOA 2>/dev/null |
	    awk '$4 == "SOA" && $7 ~ /^[0-9]+$/ { print $7 }' |
	    head -1
}

# bind_has ADDRESS ZONE: the server at ADDRESS answers ZONE's SOA.
bind_has() {
	test -n "$(bind_serial "$1" "$2")"
}

# bind_same ZONE: the secondary has the primary's serial of ZONE.
bind_same() {
	_s=$(bind_serial 127.0.0.2 "$1")
	test -n "$_s" && test "$(bind_serial 127.0.0.3 "$1")" = "$_s"
}

# bind_start: checks the configurations and zones, starts the primary,
# then the secondary, and returns once both answer every zone (20 s at
# most); the primary's log in $bk/primary.log, the secondary's in
# $bk/secondary.log.
bind_start() {
	bind_write_conf yes
	named-checkconf "$bk/primary/named.conf" &&
	    named-checkconf "$bk/secondary/named.conf" || return 1
	for _z in $bind_zones; do
		named-checkzone -q "$_z" "$bk/primary/$_z.zone" || return 1
	done
	bg "$bk/primary.log" named -g -c "$bk/primary/named.conf"
	bind_primary=${pids##* }
	for _z in $bind_zones; do
		wait_for 20 bind_has 127.0.0.2 "$_z" || return 1
	done
	bg "$bk/secondary.log" named -g -c "$bk/secondary/named.conf"
	bind_secondary=${pids##* }
	for _z in $bind_zones; do
		wait_for 20 bind_has 127.0.0.3 "$_z" || return 1
	done
}

# bind_rndc SERVER COMMAND...: rndc to the primary (127.0.0.2) or the
# secondary (127.0.0.3).
bind_rndc() {
	_s=$1
	shift
	nsx -t 10 rndc -c "$bk/rndc.conf" -s "$_s" "$@" >/dev/null
}

# bind_lag on|off: on, the primary stops sending NOTIFY, so the secondary
# keeps answering its old copy (with authority) until bind_sync; off,
# NOTIFY again (from the next change on).
bind_lag() {
	case $1 in on) bind_write_conf no ;; *) bind_write_conf yes ;; esac
	bind_rndc 127.0.0.2 reconfig
}

# bind_sync: the secondary fetches every zone now; returns once its
# serials are the primary's (10 s at most).
bind_sync() {
	for _z in $bind_zones; do
		bind_rndc 127.0.0.3 refresh "$_z" || return 1
	done
	for _z in $bind_zones; do
		wait_for 10 bind_same "$_z" || return 1
	done
}

# bind_txt ADDRESS NAME: NAME's TXT records as the server at ADDRESS
# answers them, without recursion, one a line, sorted.
bind_txt() {
	nsx -t 5 dig +short +norec +tries=1 +time=2 @"$1" "$2" TXT 2>/dev/null |
	    LC_ALL=C sort
}

# bind_nsupdate KEY COMMANDS: nsupdate, signed with KEY, to the primary
# (the COMMANDS without "server" and "send").
bind_nsupdate() {
	printf 'server 127.0.0.2\n%s\nsend\n' "$2" |
	    nsx -t 10 nsupdate -k "$1" >/dev/null
}
