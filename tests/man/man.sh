#!/bin/sh
# tests/man/man.sh: every man page under server/ is clean under mandoc
# -Tlint, and every command and option that mta-stsctl --help lists is
# documented in mta-stsctl.8.  The pages are found wherever they are in
# server/ (find), not at fixed paths.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

pages=$(find server -name '*.[1-8]' -type f | LC_ALL=C sort)
check "man pages found under server/ ($(echo $pages))" test -n "$pages"
for m in $pages; do
	if out=$(mandoc -Tlint -Wwarning "$m" 2>&1) && [ -z "$out" ]; then
		ok "mandoc -Tlint $m"
	else
		not_ok "mandoc -Tlint $m: $out"
	fi
done
for want in mta-stsd.8 mta-stsctl.8 mta-stsd.conf.5; do
	case " $(echo $pages) " in
	*/$want" "*) ok "$want is among them" ;;
	*) not_ok "no $want under server/" ;;
	esac
done

ctl=${MTA_STSCTL:-server/mta-stsctl}
page=$(printf '%s\n' $pages | grep '/mta-stsctl\.8$' | head -1)
[ -n "$page" ] || page=/dev/null
for cmd in $("$ctl" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
	if grep -q "^\.It Cm $cmd" "$page"; then
		ok "mta-stsctl.8 documents $cmd"
	else
		not_ok "mta-stsctl.8 lacks command $cmd"
	fi
	for opt in $("$ctl" "$cmd" --help | sed -n 's/.*--\([a-z-]*\).*/\1/p'); do
		if grep -q "Fl \\\\-$opt\|Fl -$opt" "$page"; then
			ok "mta-stsctl.8 documents $cmd --$opt"
		else
			not_ok "mta-stsctl.8 lacks $cmd --$opt"
		fi
	done
done
summary
