#!/bin/sh
# tests/mutate/mutate.sh [NAME...]: make mutate.  Plants each bug of
# tests/mutate/list (or the NAMEs given) in a copy of the tree, one at a
# time, builds it, and runs the suite that must catch it.  Prints
# "caught NAME (SUITE)" or "survived NAME (SUITE)" for each, and
# "stale" or "broken" for a mutation that no longer changes its file or
# no longer builds (either tests nothing: mend the list).  Exit status 1
# when any survived, is stale or broken.  Not part of make test.
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
list=tests/mutate/list
secs=${MUTATE_SECONDS:-900}

work=$(mktemp -d /tmp/mta-stsd-mutate.XXXXXX) || exit 1
child=
# A suite runs in a session of its own: stopping make mutate stops it and
# everything it started.
stop_child() {
	[ -n "$child" ] && kill -TERM -- "-$child" 2>/dev/null
	child=
}
trap 'stop_child; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# The tree as it is, committed or not, without what the build makes.
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work" \
    2>/dev/null
cd "$work" || exit 1
echo "mutate: building the unmutated tree in $work"
if ! make -s progs-test >"$work/build.log" 2>&1; then
	tail -20 "$work/build.log"
	echo "mutate: the tree itself does not build"
	exit 1
fi

# run_suite SUITE: runs it in a session of its own; its status.
run_suite() {
	setsid timeout "$secs" sh tests/run.sh "$1" >"$work/run.log" 2>&1 &
	child=$!
	wait "$child"
	_rc=$?
	child=
	return $_rc
}

# Every suite the list names must pass on the tree as it is: a suite
# that fails anyway would report every mutation caught.
# wanted NAME: is the mutation NAME among those to plant?
wanted() {
	[ -z "$names" ] && return 0
	case " $names " in *" $1 "*) return 0 ;; esac
	return 1
}
names="$*"
suites=$(while IFS='	' read -r n s _; do
	case $n in ''|'#'*) continue ;; esac
	wanted "$n" && echo "$s"
done <"$list" | sort -u)
case $suites in *san*) make -s progs-san >"$work/build.log" 2>&1 ;; esac
for suite in $suites; do
	if ! run_suite "$suite"; then
		grep 'FAIL\|^== ' "$work/run.log" | head -10
		echo "mutate: $suite fails on the unmutated tree: mend it first"
		exit 1
	fi
	echo "mutate: $suite passes unmutated"
done

caught=0 survived=0 bad=0
while IFS='	' read -r name suite file sedexp; do
	case $name in ''|'#'*) continue ;; esac
	# Tabs between the first fields; the expression is the rest.
	sedexp=$(printf '%s' "$sedexp" | sed 's/^	*//')
	wanted "$name" || continue
	cp "$file" "$work/orig" || { echo "broken $name: no $file"; bad=$((bad + 1)); continue; }
	if ! sed -e "$sedexp" "$work/orig" >"$file" 2>"$work/sed.err" ||
	    cmp -s "$work/orig" "$file"; then
		cp "$work/orig" "$file"
		echo "stale $name: the expression no longer changes $file $(cat "$work/sed.err")"
		bad=$((bad + 1))
		continue
	fi
	targets=progs-test
	case $suite in san*) targets="progs-test progs-san" ;; esac
	if ! make -s $targets >"$work/build.log" 2>&1; then
		echo "broken $name: does not build:"
		grep -m 3 'error' "$work/build.log"
		bad=$((bad + 1))
	else
		if run_suite "$suite"; then
			echo "survived $name ($suite): $(tail -1 "$work/run.log")"
			survived=$((survived + 1))
		else
			echo "caught $name ($suite): $(grep -m 1 'FAIL' \
			    "$work/run.log" | cut -c1-120)"
			caught=$((caught + 1))
		fi
	fi
	# Back as it was, and newer than its objects: the next build
	# compiles it again.
	cp "$work/orig" "$file"
	touch "$file"
done <"$work/$list"
echo "mutate: $caught caught, $survived survived, $bad stale or broken"
[ "$survived" -eq 0 ] && [ "$bad" -eq 0 ]
