#!/bin/bash
# valgrind.sh [BIN]: memcheck over a representative part of the integration
# suites: every hermit the suites start runs under valgrind, and each
# process's report must show no invalid access, no use of uninitialised
# memory and no leak ("definitely lost").
#
# valgrind 3.19 (Debian 12) cannot run hermit fully confined, so this run
# checks memory, not confinement (that is the audit's and the sanitizer
# runs' job, see docs/SECURITY-TESTING.md):
#   - openat2 (syscall 437) is unknown to it and answers ENOSYS: hermit
#     opens content by its walking fallback (resolve.c), as it does under
#     seccomp filters that do not know openat2;
#   - seccomp would apply to valgrind's own system calls, and it does not
#     know the seccomp syscall (317), through which libseccomp asks what the
#     kernel supports: hermit runs with --seccomp-debug (so the filter is
#     built without the kill action) and a preloaded shim makes
#     seccomp_attr_set() and seccomp_load() succeed without loading anything;
#   - Landlock's syscalls (444-446) are unknown to it: hermit finds Landlock
#     unavailable and goes on without it (it is not --require'd).
# The HTTP/2 tests chosen run h2c only: the key process of an HTTPS
# listener cannot confine itself under valgrind.
# One report is suppressed: a valgrind false positive (its capget wrapper
# marks only the first of the two structs _LINUX_CAPABILITY_VERSION_3 fills
# as written). hermit frees its server, workers, buffer pools and file
# caches before it exits, so any block "definitely lost" at exit (a
# connection, a buffer, a table) was lost while serving and fails the run.
#
# VALGRIND_TESTS="suite.py:test ..." overrides the selection.
# Ends with "valgrind: N passed, N failed[, N skipped]"; exits 1 on failure.
set -u
BIN=$(realpath "${1:-./hermit}")
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0 skipped=0
WORK=$(mktemp -d /tmp/hermit-valgrind-XXXXXX)
chmod 755 "$WORK"
trap '[ -n "${VALGRIND_KEEP:-}" ] || rm -rf "$WORK"' EXIT

summary() {
	if [ $skipped -gt 0 ]; then
		echo "valgrind: $passed passed, $failed failed, $skipped skipped"
	else
		echo "valgrind: $passed passed, $failed failed"
	fi
	[ $failed -eq 0 ]
	exit
}

if ! command -v valgrind >/dev/null || ! command -v cc >/dev/null; then
	echo "SKIP valgrind: valgrind or a C compiler missing (apt-get install valgrind gcc)"
	skipped=1
	summary
fi

cat >"$WORK/shim.c" <<'C'
/* Lets hermit run under valgrind 3.19: see tests/valgrind.sh. */
int seccomp_attr_set(void *ctx, int attr, unsigned long value);
int seccomp_load(const void *ctx);

/* libseccomp asks the kernel, through the seccomp syscall valgrind lacks,
 * whether it supports an attribute: say yes, nothing is loaded anyway. */
int
seccomp_attr_set(void *ctx, int attr, unsigned long value)
{
	(void)ctx;
	(void)attr;
	(void)value;
	return 0;
}

int
seccomp_load(const void *ctx)
{
	(void)ctx;
	return 0;
}
C
if ! cc -shared -fPIC -O2 -o "$WORK/shim.so" "$WORK/shim.c" 2>"$WORK/cc.log"; then
	echo "FAIL valgrind: cannot build the shim: $(cat "$WORK/cc.log")"
	failed=1
	summary
fi

cat >"$WORK/hermit.supp" <<'S'
{
   capget-v3-writes-two-structs
   Memcheck:Cond
   ...
   fun:drop_caps
}
{
   capget-v3-writes-two-structs-value
   Memcheck:Value8
   ...
   fun:drop_caps
}
S

mkdir -p "$WORK/logs"
chmod 777 "$WORK/logs"	# the server drops to nobody before it exits
cat >"$WORK/hermit" <<SH
#!/bin/sh
LD_PRELOAD="$WORK/shim.so" exec valgrind --tool=memcheck --leak-check=full \\
	--show-leak-kinds=definite --errors-for-leak-kinds=definite \\
	--vgdb=no --suppressions="$WORK/hermit.supp" --log-file="$WORK/logs/vg.%p.log" \\
	"$BIN" --seccomp-debug "\$@"
SH
chmod 755 "$WORK/hermit"

# Tests that depend neither on the confinement lines nor on tight timing,
# nor on following symlinks inside the root (the walking fallback does not),
# and run with chroot (without it, hermit refuses to run when Landlock is
# missing, as it is under valgrind).
DEFAULT_TESTS="
it_http.py:get_serves_file it_http.py:head_same_headers_without_body
it_http.py:known_methods_405_with_allow it_http.py:unknown_methods_501
it_http.py:http10_closes_by_default it_http.py:http11_keep_alive_by_default
it_http.py:pipelined_20_answered_in_order it_http.py:pipelined_split_across_writes
it_http.py:absolute_form_target it_http.py:content_types_builtin_table
it_http.py:directory_without_slash_301
it_http.py:not_world_readable_404 it_http.py:dotfiles_404 it_http.py:well_known_served
it_http.py:vhost_lowercased
it_http.py:vhost_invalid_host_400 it_http.py:vhost_cannot_reach_other_site
it_http.py:if_none_match_304 it_http.py:if_modified_since_dates it_http.py:range_first_last
it_http.py:range_suffix it_http.py:range_unsatisfiable_416 it_http.py:if_range_etag
it_http.py:big_file_integrity it_http.py:precompressed_chosen_per_accept_encoding
it_http.py:oversized_request_line_414 it_http.py:oversized_headers_431
it_http.py:too_many_fields_431 it_http.py:bare_lf_400 it_http.py:obs_fold_400
it_http.py:nul_400 it_http.py:smuggling_cl_te_400 it_http.py:after_bad_requests_others_served
it_log.py:clf_line_per_request it_log.py:quotes_and_backslashes_escaped
it_log.py:control_characters_never_reach_the_log it_log.py:long_fields_keep_lines_whole
it_hostile.py:malformed_and_smuggling_requests_get_the_right_error
it_hostile.py:smuggled_request_in_a_body_is_never_answered
it_hostile.py:invalid_utf8_and_encoded_junk_in_paths_404
it_hostile.py:absurd_ranges_never_overflow_or_amplify
it_hostile.py:traversal_in_every_encoding_never_leaves_root
it_hostile.py:hostile_host_headers_with_vhosts
it_hostile.py:resets_mid_response_leave_nothing_behind
it_hostile.py:half_close_gets_answers_then_close it_hostile.py:hundreds_pipelined_then_close
it_h2.py:vhosts_by_authority it_h2.py:custom_404_page_rules_and_redirects
it_h2.py:many_rule_headers_as_http11 it_h2.py:access_log_line_per_stream
it_h2.py:streams_beyond_the_limit_refused it_h2.py:max_requests_then_goaway
it_h2.py:abandoned_downloads_release_everything
"
TESTS=${VALGRIND_TESTS:-$DEFAULT_TESTS}

# The suites, each once with its selected tests; their own verdicts count too.
for suite in $(for t in $TESTS; do echo "${t%%:*}"; done | sort -u); do
	names=$(for t in $TESTS; do [ "${t%%:*}" = "$suite" ] && echo "${t#*:}"; done)
	# shellcheck disable=SC2086
	out=$(timeout 1200 python3 "tests/$suite" "$WORK/hermit" $names 2>&1)
	line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $suite under valgrind: no summary: $(echo "$out" | tail -n 5)"
		failed=$((failed + 1))
		continue
	fi
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ "$f" -ne 0 ]; then
		echo "$out" | grep -E '^(FAIL|SKIP)'
		echo "FAIL $suite under valgrind: $line"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done

# Every process's report.
n=0
for log in "$WORK"/logs/vg.*.log; do
	[ -f "$log" ] || continue
	n=$((n + 1))
	cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$log" | head -n 1)
	errors=$(sed -nE 's/^==[0-9]+== ERROR SUMMARY: ([0-9]+) errors.*/\1/p' "$log" | tail -n 1)
	if [ -z "$errors" ]; then
		echo "FAIL valgrind report without a summary (killed?): $cmd"
		tail -n 5 "$log"
		failed=$((failed + 1))
	elif [ "$errors" -ne 0 ]; then
		echo "FAIL valgrind: $errors errors in: $cmd"
		grep -E '^==[0-9]+== ([A-Z].*|   (at|by) .*)$' "$log" | grep -v -E 'Copyright|Using Valgrind|Command:|Parent PID|HEAP SUMMARY|in use at exit|total heap usage|LEAK SUMMARY|lost:|reachable:|suppressed:|Reachable blocks|rerun with|For lists|To see them|ERROR SUMMARY|Memcheck, a memory' | head -n 30
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
if [ $n -eq 0 ]; then
	echo "FAIL valgrind: no report written"
	failed=$((failed + 1))
fi
[ -n "${HERMIT_TEST_VERBOSE:-}" ] && echo "valgrind: $n server processes checked"
summary
