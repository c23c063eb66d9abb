#!/bin/sh
# check.sh BUILD BIN: runs every unit test binary in BUILD and every
# integration suite (tests/it_*.py, tests/it_*.sh) against BIN, then prints
# the totals as "N passed, N failed, N skipped" and exits 1 on any failure.
# A suite that crashes or prints no summary line counts as one failure.
set -u
build=$1
bin=$2
passed=0 failed=0 skipped=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

tally() {	# $1: the suite's name; reads its output in $out
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "check: $1: no summary line (crashed?)"
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	s=$(echo "$line" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+' || true)
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "check: $1 exited $2 with no failed test"
		failed=$((failed + 1))
	fi
}

for t in "$build"/test_*; do
	[ -x "$t" ] || continue
	"$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	tally "$(basename "$t")" $rc
done

for t in tests/it_*.py tests/it_*.sh; do
	[ -f "$t" ] || continue
	case $t in
	*.py) python3 "$t" "$bin" >"$out" 2>&1 ;;
	*.sh) bash "$t" "$bin" >"$out" 2>&1 ;;
	esac
	rc=$?
	cat "$out"
	tally "$t" $rc
done

echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
