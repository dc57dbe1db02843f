#!/bin/sh
# tests/install/install.sh: make install into a DESTDIR gives the expected tree,
# the units (the server, the daily certificate renewal and its timer) pass
# systemd-analyze verify, the server's rates 2.0 or better in
# systemd-analyze security, and make uninstall removes what install put,
# keeping the configuration.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
suite_start install
dest=$tmp/root

make -s install DESTDIR="$dest" PREFIX=/usr >"$tmp/out" 2>&1 ||
    not_ok "make install: $(tail -5 "$tmp/out")"
for f in usr/sbin/mta-stsd usr/sbin/mta-stsctl; do
	check "install: $f executable" test -x "$dest/$f"
done
for f in usr/share/man/man8/mta-stsd.8 usr/share/man/man8/mta-stsctl.8 \
    usr/share/man/man5/mta-stsd.conf.5 usr/lib/systemd/system/mta-stsd.service \
    usr/share/mta-stsd/mta-stsd.rules.yml \
    usr/lib/systemd/system/mta-stsctl-renew.service \
    usr/lib/systemd/system/mta-stsctl-renew.timer \
    usr/lib/systemd/system/mta-stsctl-reports.service \
    usr/lib/systemd/system/mta-stsctl-reports.timer \
    etc/mta-stsd/mta-stsd.conf; do
	check "install: $f" test -f "$dest/$f"
done
check "install: policy and certificate directories" test -d "$dest/etc/mta-stsd/policies" -a -d "$dest/etc/mta-stsd/certs"
unit=$dest/usr/lib/systemd/system/mta-stsd.service
check "unit: ExecStart names the installed binary" grep -qx 'ExecStart=/usr/sbin/mta-stsd -d -f /etc/mta-stsd/mta-stsd.conf' "$unit"
check "unit: Type=notify" grep -qx 'Type=notify' "$unit"
check "unit: reload by SIGHUP" grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit"
renew=$dest/usr/lib/systemd/system/mta-stsctl-renew.service
check "renewal unit: ExecStart runs the installed mta-stsctl cert --renew" \
    grep -qx 'ExecStart=/usr/sbin/mta-stsctl -f /etc/mta-stsd/mta-stsd.conf cert --renew' "$renew"
check "renewal timer: daily" \
    grep -qx 'OnCalendar=daily' "$dest/usr/lib/systemd/system/mta-stsctl-renew.timer"
check "renewal timer: a random delay" \
    grep -qx 'RandomizedDelaySec=1h' "$dest/usr/lib/systemd/system/mta-stsctl-renew.timer"

rep=$dest/usr/lib/systemd/system/mta-stsctl-reports.service
check "reports unit: the installed mta-stsctl, alerts on failure rate and silence" grep -qx 'ExecStart=/usr/sbin/mta-stsctl -f /etc/mta-stsd/mta-stsd.conf reports --fail-rate 5 --stale 3' "$rep"
check "reports timer: off until enabled (nothing in timers.target.wants)" sh -c "[ -z \"\$(find '$dest' -name '*.wants')\" ] && grep -qx 'WantedBy=timers.target' '$dest/usr/lib/systemd/system/mta-stsctl-reports.timer'"

# The example configuration loads (its directories exist in the tree).
sed "s|/etc/mta-stsd|$dest/etc/mta-stsd|" "$dest/etc/mta-stsd/mta-stsd.conf" >"$tmp/conf"
out=$("$dest/usr/sbin/mta-stsd" -n -f "$tmp/conf" 2>&1)
case $out in *"0 domains served, 0 failed"*) ok "the example configuration loads" ;; *) not_ok "example configuration: $out" ;; esac

if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart and the man pages exist: a copy of
	# the unit made for the tree's paths, and man looking in the tree.
	mkdir -p "$tmp/unit"
	for u in mta-stsd mta-stsctl-renew mta-stsctl-reports; do
		sed "s|@SBINDIR@|$dest/usr/sbin|; s|@SYSCONFDIR@|$dest/etc|" \
		    "systemd/$u.service.in" >"$tmp/unit/$u.service"
	done
	cp systemd/mta-stsctl-renew.timer systemd/mta-stsctl-reports.timer \
	    "$tmp/unit/"
	for u in mta-stsd.service mta-stsctl-renew.service \
	    mta-stsctl-renew.timer mta-stsctl-reports.service \
	    mta-stsctl-reports.timer; do
		if out=$(MANPATH=$dest/usr/share/man systemd-analyze verify \
		    "$tmp/unit/$u" 2>&1) && [ -z "$out" ]; then
			ok "systemd-analyze verify $u"
		else
			not_ok "systemd-analyze verify $u: $out"
		fi
	done
	# The reports service runs the tool that was installed, as systemd
	# would, on an empty store: no alert, exit 0.
	mkdir -p "$tmp/rstore"
	printf '[server]\ntlsrpt_dir = %s\npolicy_dir = %s\n' "$tmp/rstore" \
	    "$dest/etc/mta-stsd/policies" >"$tmp/r.conf"
	cmd=$(sed -n 's/^ExecStart=//p' "$tmp/unit/mta-stsctl-reports.service" |
	    sed "s|$dest/etc/mta-stsd/mta-stsd.conf|$tmp/r.conf|")
	# shellcheck disable=SC2086
	check "reports service command: runs, exit 0 with nothing to say" sh -c "$cmd >/dev/null"
	for u in mta-stsd mta-stsctl-reports; do
		score=$(systemd-analyze security --offline=yes \
		    "$dest/usr/lib/systemd/system/$u.service" 2>/dev/null |
		    sed -n "s/.*Overall exposure level for $u.service: \([0-9.]*\).*/\1/p")
		if [ -n "$score" ] && awk "BEGIN { exit !($score <= 2.0) }"; then
			ok "systemd-analyze security $u: $score (2.0 or better)"
		else
			not_ok "systemd-analyze security $u: '$score'"
		fi
	done
else
	not_ok "systemd-analyze is missing"
fi

# A second install keeps an edited configuration.
echo '; edited' >>"$dest/etc/mta-stsd/mta-stsd.conf"
make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null 2>&1
check "install keeps an existing configuration" grep -q '^; edited' "$dest/etc/mta-stsd/mta-stsd.conf"

make -s uninstall DESTDIR="$dest" PREFIX=/usr >"$tmp/out" 2>&1 ||
    not_ok "make uninstall: $(tail -5 "$tmp/out")"
left=$(cd "$dest" && find . -type f | sort | tr '\n' ' ')
check "uninstall removes what install put, keeps the configuration" test "$left" = "./etc/mta-stsd/mta-stsd.conf "
summary
