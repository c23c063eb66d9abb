#!/bin/sh
# run.sh BUILD SECONDS TARGET...: runs each fuzz target BUILD/fuzz_TARGET for
# SECONDS seconds (0: only once over its corpus, as a regression test),
# starting from the seeds in fuzz/corpus/TARGET (fuzz_conn_walk shares
# fuzz_conn's) and what earlier runs kept in BUILD/corpus/TARGET. Prints
# one line per target with its executions and appends it to
# BUILD/fuzz-history; exits 1 when any target found a crash (the input is in
# BUILD/crashes/, the report in BUILD/TARGET.log).
set -u
build=$1
secs=$2
shift 2
failed=0
mkdir -p "$build/crashes"
for t in "$@"; do
	bin=$build/fuzz_$t
	work=$build/corpus/$t
	log=$build/$t.log
	seeds=fuzz/corpus/$t
	[ "$t" = conn_walk ] && seeds=fuzz/corpus/conn	# the same target, openat2 missing
	mkdir -p "$work"
	dict=fuzz/http.dict
	[ "$t" = h2 ] && dict=fuzz/h2.dict	# frames and HPACK, not HTTP/1.1 text
	set -- -dict=$dict -artifact_prefix="$build/crashes/$t-" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1
	case $t in
	conn* | tls | h2) set -- "$@" -close_fd_mask=2 -max_len=8192 ;;	# access lines: not on the terminal
	request) set -- "$@" -max_len=8192 ;;
	esac
	if [ "$secs" -eq 0 ]; then
		set -- "$@" -runs=0
	else
		set -- "$@" -max_total_time="$secs"
	fi
	start=$(date +%s)
	"$bin" "$@" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ $rc -ne 0 ]; then
		echo "FAIL fuzz_$t: exit $rc after ${runs:-?} runs; report in $log:"
		grep -E 'ERROR|invariant failed|SUMMARY|Test unit written' "$log" | head -n 8
		failed=1
	else
		echo "fuzz_$t: ${runs:-0} runs in ${took}s, no crash"
	fi
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) fuzz_$t seconds=$took runs=${runs:-0} exit=$rc" \
		>>"$build/fuzz-history"
done
exit $failed
