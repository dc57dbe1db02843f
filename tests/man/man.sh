#!/bin/sh
# tests/man/man.sh: every man page is clean under mandoc -Tlint, and every
# command and option that --help lists is documented in the page.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

for m in server/*.[58]; do
	if out=$(mandoc -Tlint -Wwarning "$m" 2>&1) && [ -z "$out" ]; then
		ok "mandoc -Tlint $m"
	else
		not_ok "mandoc -Tlint $m: $out"
	fi
done

ctl=${MTA_STSCTL:-server/mta-stsctl}
for cmd in $("$ctl" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
	if grep -q "^\.It Cm $cmd" server/mta-stsctl.8; then
		ok "mta-stsctl.8 documents $cmd"
	else
		not_ok "mta-stsctl.8 lacks command $cmd"
	fi
	for opt in $("$ctl" "$cmd" --help | sed -n 's/.*--\([a-z-]*\).*/\1/p'); do
		if grep -q "Fl \\\\-$opt\|Fl -$opt" server/mta-stsctl.8; then
			ok "mta-stsctl.8 documents $cmd --$opt"
		else
			not_ok "mta-stsctl.8 lacks $cmd --$opt"
		fi
	done
done
summary
