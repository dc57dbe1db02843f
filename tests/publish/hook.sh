#!/bin/sh
# tests/publish/hook.sh: the [dns] hook of tests/publish/publish.sh, a DNS
# provider's API played by nsupdate against the test primary (127.0.0.2),
# as mta-stsctl(8) describes the contract:
#
#	hook.sh publish NAME TTL VALUE
#	hook.sh remove NAME TAG
#
# $HOOK_DIR holds the key (mta-sts.key), the log of every call (hook.log:
# the arguments, then MTA_STS_DOMAIN, MTA_STS_ID, MTA_STS_MODE) and, in
# the file "behaviour", what to do: "ok" (default), "fail" (a message on
# standard error, exit 4), "hang" (never finish by itself).
set -u
printf '%s | %s %s %s\n' "$*" "${MTA_STS_DOMAIN-}" "${MTA_STS_ID-}" \
    "${MTA_STS_MODE-}" >>"$HOOK_DIR/hook.log"
case $(cat "$HOOK_DIR/behaviour" 2>/dev/null) in
fail)
	echo "hook: the provider refused the change (quota exceeded)" >&2
	exit 4 ;;
hang)
	sleep 30
	exit 0 ;;
esac
op=$1 name=$2
case $op in
publish) value=$4 tag=${4%%;*} ;;
remove) tag=$3 ;;
*) echo "hook: unknown operation $op" >&2; exit 2 ;;
esac
{
	echo "server 127.0.0.2"
	# The records that start with the tag go; the others stay.
	dig +short +norec @127.0.0.2 "$name" TXT | while IFS= read -r rec; do
		case $rec in "\"$tag"*) echo "update delete $name TXT $rec" ;; esac
	done
	[ "$op" = publish ] && echo "update add $name $3 TXT \"$value\""
	echo send
} | nsupdate -k "$HOOK_DIR/mta-sts.key"
