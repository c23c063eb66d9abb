#!/bin/bash
# suite.sh - the tally of a shell test suite, sourced after setting SUITE
# (its name in the summary line check.sh reads):
#   ok NAME, fail NAME [DETAILS] (at most 30 lines of them, indented),
#   skip NAME, skip_all WHY (the whole suite: prints the summary and exits),
#   check NAME FUNCTION ARGS... (FUNCTION returns 0, or prints why not),
#   summary: "SUITE: N passed, N failed, N skipped", exit 1 on any failure.
PASSED=0 FAILED=0 SKIPPED=0

summary() {
	echo "$SUITE: $PASSED passed, $FAILED failed, $SKIPPED skipped"
	exit $((FAILED > 0))
}
ok() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $1"
	[[ -z ${2:-} ]] || head -n 30 <<<"$2" | sed 's/^/    /'
}
skip() { SKIPPED=$((SKIPPED + 1)); echo "SKIP $1"; }
skip_all() { skip "$SUITE: $1"; summary; }
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$out"; fi
}
