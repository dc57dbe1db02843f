# tests/pebble.sh: Debian's pebble, a real ACME server (RFC 8555), in the
# suite's network namespace, for the suites that obtain certificates
# through mta-stsd's [acme] listener (acme, cert).  Sourced after
# tests/lib.sh, suite_start and tests/netns.sh.
#
# pebble validates for real: it resolves each name through the
# namespace's DNS (dnsmasq on 127.0.0.1:53, which the suite starts) and
# fetches http://NAME:80/.well-known/acme-challenge/TOKEN.  Its API is
# HTTPS on 127.0.0.1:14000 (the directory) and :15000 (management: its
# roots), with a certificate from a throw-away CA ($api_ca) that the
# clients trust for the API only.  A new root at each start.
#
# PEBBLE_WFE_NONCEREJECT=0 only stops pebble from refusing 5% of good
# nonces at random (a client-robustness test that is not ours);
# PEBBLE_AUTHZREUSE=0 makes every order validate again instead of
# reusing an earlier authorization half the time.

# pebble_setup HOST [VALIDITY]: pebble's files in $tmp: its API
# certificate for HOST (which the suite's DNS points at 127.0.0.1), its
# configuration; VALIDITY, in seconds, of the certificates it issues
# (default pebble's own, five years).  Sets pebble_host, dir_url (the
# ACME directory), mgmt and api_ca.
pebble_setup() {
	pebble_host=$1
	dir_url=https://$pebble_host:14000/dir
	mgmt=https://$pebble_host:15000
	mkcert "$tmp/api" ca
	mkcert "$tmp/api" cert pebble ec256 2 "$pebble_host"
	api_ca=$tmp/api/ca.pem
	chmod 0700 "$tmp/api"
	cat >"$tmp/pebble.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:14000",
    "managementListenAddress": "127.0.0.1:15000",
    "certificate": "$tmp/api/pebble.pem",
    "privateKey": "$tmp/api/pebble.key",
    "httpPort": 80,
    "tlsPort": 5001,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false${2:+,
    \"certificateValidityPeriod\": $2}
  }
}
EOF
}

# pebble_up [ENV...]: starts pebble in the namespace (tracked; log in
# $tmp/pebble.log), with the variables ENV (NAME=VALUE) besides those
# above; waits (10 s at most) for its directory, then fetches its root
# ($tmp/root.pem, subject in $root_subj) and intermediate
# ($tmp/inter.pem, $inter_subj).  Says ok; or when any of that failed,
# ends the suite with a failure, pebble's log and curl's errors.
pebble_up() {
	if pebble_start "$@"; then
		ok "pebble runs; its root: $root_subj"
		return 0
	fi
	not_ok "pebble did not start, or gave no root"
	show "$tmp/pebble.log"
	show "$tmp/e"
	summary
	exit 1
}

# pebble_start [ENV...]: pebble_up's work, without the verdict: 0 or 1.
pebble_start() {
	bg "$tmp/pebble.log" env PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
	    "$@" pebble -config "$tmp/pebble.json" -dnsserver 127.0.0.1:53
	wait_for 10 nsx -t 3 curl -sf -o /dev/null --cacert "$api_ca" \
	    "$dir_url" &&
	    nsx curl -sSf --max-time 5 --cacert "$api_ca" -o "$tmp/root.pem" \
	    "$mgmt/roots/0" 2>"$tmp/e" &&
	    nsx curl -sSf --max-time 5 --cacert "$api_ca" -o "$tmp/inter.pem" \
	    "$mgmt/intermediates/0" 2>>"$tmp/e" &&
	    openssl x509 -noout -in "$tmp/root.pem" 2>/dev/null &&
	    openssl x509 -noout -in "$tmp/inter.pem" 2>/dev/null || return 1
	root_subj=$(openssl x509 -noout -subject -nameopt RFC2253 -in "$tmp/root.pem")
	root_subj=${root_subj#subject=}
	inter_subj=$(openssl x509 -noout -subject -nameopt RFC2253 -in "$tmp/inter.pem")
	inter_subj=${inter_subj#subject=}
}

# pebble_validations LOG: how many challenges the mta-stsd whose log is
# LOG answered (200; log_level info or debug): distinct tokens, as pebble
# fetches each from several perspectives.
pebble_validations() {
	sed -n 's|.*acme: [0-9.]* "GET /.well-known/acme-challenge/\([A-Za-z0-9_-]\{20,\}\)" 200$|\1|p' \
	    "$1" | sort -u | wc -l
}
