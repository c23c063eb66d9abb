#!/bin/bash
# it_systemd.sh - hermit's systemd units (contrib/systemd) under a real systemd.
#
#   bash tests/it_systemd.sh ./hermit        (from the top of the repository, as root)
#
# Without a container: `systemd-analyze verify` must print nothing for the
# installed units, and `systemd-analyze security --offline=true` must score
# each service at or below its line in tests/systemd/scores.
# Then systemd 252 boots as PID 1 of a systemd-nspawn container (see
# tests/systemd/harness.sh), the units and the binary are installed in it as
# `make install-units` installs them, and for each variant:
#   - the socket listens and the first connection starts the service;
#   - GET of a file (over IPv4 and IPv6), a 404, HEAD and a range request
#     pass through it;
#   - its main process: uid neither 0 nor outside the dynamic range
#     (61184-65519; www-data for the classic unit), NoNewPrivs 1, Seccomp 2,
#     no capabilities; a private network namespace; its root is the empty
#     runtime root (the content, for the variants that chroot);
#   - hermit --audit, run by a copy of the unit with the same sandbox, finds
#     every must-block probe blocked;
#   - `systemctl restart` during a loop of 200 requests loses none of them.
# And for hermit-https.socket + hermit-https.service, with a certificate made
# here by openssl and installed as certbot installs one: without the files the
# service fails (243/CREDENTIALS) while hermit.socket serves on; the socket
# runs `modprobe -q tls` (a stub); then the checks above over HTTPS (curl
# --cacert), the credentials' owner and mode, and the private key found in
# hermit's key process and not in its serving process (tests/systemd/keyscan.py).
# Not root, or systemd-container/debootstrap not installable: SKIP, never silent.
# Ends with "systemd: N passed, N failed[, N skipped]"; exit 1 on any failure.
# HERMIT_TEST_VERBOSE=1 prints the journal of each variant.

set -uo pipefail
BIN=${1:-./hermit}
SCORES=tests/systemd/scores
PASSED=0 FAILED=0 SKIPPED=0
WORK=

ok() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $1${2:+: $2}"
	# the details, at most 40 lines of them
	[[ -n ${3:-} ]] && printf '%s\n' "$3" | sed -n '1,40s/^/    /p; 41{s/.*/    .../p; q}'
	return 0
}
skip() { SKIPPED=$((SKIPPED + 1)); echo "SKIP $1: $2"; }
summary() {
	echo "systemd: $PASSED passed, $FAILED failed, $SKIPPED skipped"
	exit $((FAILED > 0))
}

# check NAME FUNCTION ARGS...: FUNCTION returns 0 (pass) or prints why not.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
		[[ -n ${HERMIT_TEST_VERBOSE:-} && -n $out ]] && printf '%s\n' "$out" | sed 's/^/    /'
	else
		fail "$name" "" "$out"
	fi
	return 0
}

cleanup() {
	trap - EXIT INT TERM HUP
	[[ -n ${WATCHDOG:-} ]] && kill "$WATCHDOG" 2>/dev/null
	[[ -n ${SD_NSPAWN_PID:-} ]] && sd_teardown
	[[ -n $WORK ]] && rm -rf --one-file-system "$WORK"
}

if ((EUID != 0)); then
	skip systemd "needs root (systemd-nspawn, debootstrap, mount namespaces)"
	summary
fi
[[ -f $BIN && -x $BIN ]] || { fail systemd "binary $BIN not found"; summary; }
. tests/systemd/harness.sh
if ! sd_need_packages; then
	skip systemd "$SD_WHY"
	summary
fi
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# named as the harness names its own, so that a killed run's is reaped later
WORK=$(mktemp -d "/tmp/hermit-systemd.$$.XXXXXX") || exit 1
# the whole suite is bounded: 10 minutes (a first run builds the tree)
(
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	sleep 600 &
	s=$!
	wait "$s"
	echo "FAIL systemd: still running after 600 s"
	kill -TERM $$
) &
WATCHDOG=$!

# ---- the units, installed as `make install-units` installs them --------------
INST=$WORK/inst
UNITDIR=/usr/local/lib/systemd/system
if ! out=$(make -s -f contrib/systemd/units.mk install-units BIN="$BIN" \
	DESTDIR="$INST" PREFIX=/usr/local UNITDIR="$UNITDIR" 2>&1); then
	fail install-units "make install-units failed" "$out"
	summary
fi
install -D -m 0755 "$BIN" "$INST/usr/local/sbin/hermit"
mapfile -t UNIT_FILES < <(cd "$INST$UNITDIR" && ls)

# ---- without a container -----------------------------------------------------

# systemd-analyze verify wants the ExecStart= binary where the units say it is:
# it is put there in a private mount namespace (an overlay over its directory),
# so this machine's own files are not touched.
t_verify() {
	local out
	out=$(unshare --mount --propagation private /bin/bash -c '
		set -e
		stub=$(mktemp -d)
		mount -t tmpfs hermit-test "$stub"
		install -m 0755 "$1" "$stub/hermit"
		mkdir -p /usr/local/sbin
		mount -t overlay hermit-test -o "lowerdir=$stub:/usr/local/sbin" /usr/local/sbin
		cd "$2"
		shift 2
		systemd-analyze verify --man=no "$@"' verify "$INST/usr/local/sbin/hermit" \
		"$INST$UNITDIR" "${UNIT_FILES[@]/#/./}" 2>&1)
	[[ -z $out ]] || { echo "$out"; return 1; }
}
check "verify: systemd-analyze verify prints nothing for ${#UNIT_FILES[@]} units" t_verify

# exposure of one service, as systemd-analyze prints it (e.g. 0.1)
exposure() {
	systemd-analyze security --offline=true --no-pager "$1" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
t_score() {
	local unit=$1 limit=$2 score
	score=$(cd "$INST$UNITDIR" && exposure "./$unit")
	[[ -n $score ]] || { echo "no score from systemd-analyze security"; return 1; }
	if awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
		echo "scores $score, above the recorded $limit ($SCORES); what it finds exposed:"
		(cd "$INST$UNITDIR" && systemd-analyze security --offline=true --no-pager "./$unit" | grep '✗')
		return 1
	fi
	echo "$score" >"$WORK/score.$unit"
}
while read -r unit limit _; do
	[[ -z $unit || $unit == \#* ]] && continue
	if [[ ! -f $INST$UNITDIR/$unit ]]; then
		fail "security: $unit" "listed in $SCORES but not installed"
		continue
	fi
	if out=$(t_score "$unit" "$limit"); then
		ok "security: $unit scores $(cat "$WORK/score.$unit") (recorded: $limit)"
	else
		fail "security: $unit" "" "$out"
	fi
done <"$SCORES"
for unit in "${UNIT_FILES[@]}"; do
	[[ $unit == *.service ]] && ! grep -q "^$unit " "$SCORES" && fail "security: $unit" "no score recorded in $SCORES"
done

# ---- under systemd -----------------------------------------------------------
if ! sd_prepare_tree; then	# no mirror reachable, say: like a missing package
	skip "systemd: container" "$SD_WHY"
	summary
fi
if ! sd_can_boot; then
	skip "systemd: container" "$SD_WHY"
	summary
fi
if ! sd_boot; then
	fail container "$SD_WHY"
	summary
fi

# the content: a small site with deterministic bytes for the range check
WWW=$WORK/www
mkdir -p "$WWW/sub"
printf '<!doctype html>\n<title>hermit</title>\n<p>served under systemd\n' >"$WWW/index.html"
printf 'hello from hermit\n' >"$WWW/hello.txt"
seq 1 2000 >"$WWW/sub/numbers.txt"
chmod -R a+rX "$WWW"
tar -C "$INST" --owner=0 --group=0 -cf - . | sd_exec tar -C / --no-overwrite-dir -xf - &&
	sd_exec mkdir -p /srv/www &&
	tar -C "$WWW" --owner=0 --group=0 -cf - . | sd_exec tar -C /srv/www --no-overwrite-dir -xf - &&
	sd_exec systemctl daemon-reload || { fail container "installing units, binary and content failed"; summary; }
# libraries of the binary that the minimal tree lacks (a sanitizer build's runtime)
for lib in $(ldd "$BIN" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
	sd_exec test -e "$lib" || sd_put "$lib" "$lib" 0644 || { fail container "copying $lib failed"; summary; }
done
# LeakSanitizer's exit check needs /proc/PID/task and ptrace, which the units
# deny; the other suites check leaks
if ldd "$BIN" 2>/dev/null | grep -q libasan; then
	printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' |
		sd_exec sh -c 'mkdir -p /etc/systemd/system/service.d && cat >/etc/systemd/system/service.d/hermit-test-asan.conf'
	sd_exec systemctl daemon-reload
fi

sctl() { timeout 60 nsenter -t "$SD_LEADER" -a systemctl "$@"; }
mainpid() { sctl show -P MainPID "$1"; }
curl_in() { sd_net curl -sS --max-time 10 "$@"; }

# The port's (80, or $1) listening socket, seen from inside the container's
# network namespace.
t_listening() {
	local port=${1:-80}
	sd_net cat /proc/net/tcp /proc/net/tcp6 |
		awk -v p="$(printf ':%04X' "$port")" '$2 ~ p "$" && $4 == "0A" { found = 1 } END { exit !found }' ||
		{ echo "nothing listens on port $port"; return 1; }
}

# GET, 404, HEAD and Range over http://, or over https:// ($1) with the test
# certificate as the only one trusted (and HTTP/2, which curl asks for by
# ALPN and hermit offers).
t_http() {
	local code body hdr s=${1:-http} ca=() v='HTTP/1\.1'
	[[ $s == https ]] && ca=(--cacert "$WORK/tls/fullchain.pem") v='HTTP/2'
	hdr=$WORK/headers
	body=$(curl_in "${ca[@]}" -D "$hdr" $s://127.0.0.1/hello.txt) || return 1
	[[ $body == "hello from hermit" ]] || { echo "GET /hello.txt: body '$body'"; return 1; }
	grep -q "^$v 200 " "$hdr" || { echo "GET /hello.txt:"; cat "$hdr"; return 1; }
	code=$(curl_in "${ca[@]}" -o /dev/null -w '%{http_code}' $s://127.0.0.1/) || return 1
	[[ $code == 200 ]] || { echo "GET $s:/: $code"; return 1; }
	if sd_net grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then	# a kernel with IPv6
		body=$(curl_in "${ca[@]}" -g "$s://[::1]/hello.txt") || return 1
		[[ $body == "hello from hermit" ]] || { echo "GET $s://[::1]/hello.txt: body '$body'"; return 1; }
	fi
	code=$(curl_in "${ca[@]}" -o /dev/null -w '%{http_code}' $s://127.0.0.1/no/such/file) || return 1
	[[ $code == 404 ]] || { echo "GET /no/such/file: $code, not 404"; return 1; }
	body=$(curl_in "${ca[@]}" -I -D "$hdr" -o /dev/null -w '%{size_download}' $s://127.0.0.1/sub/numbers.txt) || return 1
	grep -q "^$v 200 " "$hdr" &&
		grep -qi "^content-length: $(stat -c %s "$WWW/sub/numbers.txt")"$'\r'"$" "$hdr" &&
		[[ $body == 0 ]] || { echo "HEAD /sub/numbers.txt: $body body bytes"; cat "$hdr"; return 1; }
	body=$(curl_in "${ca[@]}" -D "$hdr" -H 'Range: bytes=100-149' $s://127.0.0.1/sub/numbers.txt) || return 1
	grep -q "^$v 206 " "$hdr" &&
		grep -qi "^content-range: bytes 100-149/$(stat -c %s "$WWW/sub/numbers.txt")"$'\r'"$" "$hdr" &&
		[[ $body == "$(tail -c +101 "$WWW/sub/numbers.txt" | head -c 50)" ]] ||
		{ echo "Range: bytes=100-149:"; cat "$hdr"; echo "body: ${body:0:200}"; return 1; }
}

# /proc/PID/status of the serving process. $2: the uid it must have ("dynamic":
# within 61184-65519); $3: CapBnd it must have.
t_status() {
	local pid=$1 want_uid=$2 want_bnd=$3 st uid bad=
	st=$(sd_exec cat "/proc/$pid/status") || { echo "no /proc/$pid/status"; return 1; }
	read -r _ uid _ <<<"$(grep '^Uid:' <<<"$st")"
	grep -qE "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" <<<"$st" || bad+=" uids differ;"
	if [[ $want_uid == dynamic ]]; then
		((uid >= 61184 && uid <= 65519)) || bad+=" uid $uid not in the dynamic range;"
	else
		((uid == want_uid)) || bad+=" uid $uid, not $want_uid;"
	fi
	grep -qE '^NoNewPrivs:\s+1$' <<<"$st" || bad+=" NoNewPrivs not 1;"
	grep -qE '^Seccomp:\s+2$' <<<"$st" || bad+=" Seccomp not 2;"
	local f
	for f in CapInh CapPrm CapEff CapAmb; do
		grep -qE "^$f:\s+0+$" <<<"$st" || bad+=" $f not 0;"
	done
	grep -qE "^CapBnd:\s+$want_bnd$" <<<"$st" || bad+=" CapBnd not $want_bnd;"
	[[ -z $bad ]] || { echo "pid $pid:$bad"; grep -E '^(Uid|Gid|Groups|NoNewPrivs|Seccomp|Cap)' <<<"$st"; return 1; }
}

t_private_net() {
	local mine theirs
	mine=$(sd_exec readlink /proc/1/ns/net) && theirs=$(sd_exec readlink "/proc/$1/ns/net") || return 1
	[[ $mine != "$theirs" ]] || { echo "pid $1 shares the network namespace of the container's PID 1 ($mine)"; return 1; }
}

# An empty root: the binary, its libraries, the content, and the API file
# systems systemd mounts; no /etc, no shell; read-only.
t_empty_root() {
	local pid=$1 top extra
	sd_exec test -f "/proc/$pid/root/srv/www/hello.txt" || { echo "no /srv/www/hello.txt in its root"; return 1; }
	sd_exec test -f "/proc/$pid/root/usr/local/sbin/hermit" || { echo "no binary in its root"; return 1; }
	top=$(sd_exec ls -A "/proc/$pid/root/") || return 1
	# /etc stays empty, /root inaccessible (ProtectHome=); the rest are mount points
	extra=$(grep -vxE 'usr|lib|lib64|srv|dev|proc|tmp|var|run|sys|etc|root' <<<"$top")
	[[ -z $extra ]] || { echo "unexpected entries in its root:" $extra; return 1; }
	for f in etc/passwd etc/ld.so.cache bin/sh usr/bin lib/x86_64-linux-gnu/libsystemd-shared-252.so home; do
		sd_exec test -e "/proc/$pid/root/$f" && { echo "/$f exists in its root"; return 1; }
	done
	# writable: only the private /tmp and /var/tmp and kernel API mounts
	sd_exec awk '
		{ rw = 0; n = split($6, o, ","); for (i = 1; i <= n; i++) if (o[i] == "rw") rw = 1 }
		rw && $5 !~ "^/(tmp|var/tmp|proc|dev/pts|dev/mqueue|dev/hugepages)$" { print "writable: " $0; bad = 1 }
		$5 == "/" && rw { bad = 1 }
		END { exit bad }' "/proc/$pid/mountinfo" || return 1
}

t_chroot_root() {
	local root
	root=$(sd_exec readlink "/proc/$1/root") || return 1
	[[ $root == /srv/www ]] || { echo "its root is $root, not /srv/www"; return 1; }
	sd_exec test -f "/proc/$1/root/hello.txt" || { echo "no hello.txt at the top of its root"; return 1; }
}

# The startup line of hermit in the unit's journal shows its own layers.
t_confined_line() {
	local line i
	# journald takes the service's stderr asynchronously: the line may come
	# a moment after the process is seen serving.
	for i in $(seq 50); do
		line=$(sd_exec journalctl --no-pager -o cat -u "$1" | grep -m1 'hermit: confined:') &&
			break
		sleep 0.1
	done
	[[ -n $line ]] || { echo "no 'hermit: confined:' line in the journal of $1 (5 s)"; return 1; }
	for w in "landlock=abi" "seccomp=kill" "nnp=yes" "caps=none"; do
		[[ $line == *"$w"* ]] || { echo "no $w in: $line"; return 1; }
	done
}

# hermit --audit (which needs no socket) in a copy of UNIT: the same sandbox,
# with a runtime directory of its own.
t_audit() {
	local unit=$1 args=$2 name=hermit-audit-$3 out
	# the copy gets a runtime directory (and empty root) of its own
	local rtdir
	rtdir=$(sd_exec sed -n 's/^RuntimeDirectory=//p' "$UNITDIR/$unit")
	sd_exec sh -c "sed -e '/^Requires=/d; /^After=/d; /^Type=/d; /^Restart=/d; /^CollectMode=/d' \
		${rtdir:+-e 's|^RuntimeDirectory=.*|RuntimeDirectory=$name|; s|/run/$rtdir|/run/$name|g'} \
		$UNITDIR/$unit >/etc/systemd/system/$name.service" || return 1
	sd_exec sh -c "mkdir -p /etc/systemd/system/$name.service.d && cat >/etc/systemd/system/$name.service.d/audit.conf" <<-EOF
	[Service]
	Type=oneshot
	ExecStart=
	ExecStart=/usr/local/sbin/hermit --audit $args /srv/www
	StandardInput=null
	StandardOutput=journal
	StandardError=journal
	EOF
	sctl daemon-reload || return 1
	local rc=0
	sctl start "$name.service" 2>&1 || rc=1	# a oneshot: waits for hermit's exit
	out=$(sd_exec journalctl --no-pager -o cat -u "$name.service")
	[[ $(sctl show -P Result "$name.service") == success ]] || rc=1
	((rc == 0)) || echo "$name.service: $(sctl show -P Result "$name.service"), exit status $(sctl show -P ExecMainStatus "$name.service")"
	echo "$out"
	return "$rc"
}

# 4 clients making 50 requests each, one connection per request, 15 ms apart,
# while the service is restarted twice: every one of the 200 must get its 200.
# Over plain HTTP on port 80, or over HTTPS on port 443 ($2 https).
# (A connection accepted by the old process but never answered shows here as
# a reset or a connection closed without a response.)
t_restart() {
	local unit=$1 before after progress=$WORK/progress progress_at=0 i client rc
	: >"$progress"
	before=$(mainpid "$unit")
	sd_net python3 - "$progress" "${2:-http}" "$WORK/tls/fullchain.pem" >"$WORK/loop.out" 2>&1 <<-'EOF' &
	import http.client, ssl, sys, threading, time
	def connect():
	    if sys.argv[2] != "https":
	        return http.client.HTTPConnection("127.0.0.1", 80, timeout=10)
	    ctx = ssl.create_default_context(cafile=sys.argv[3])
	    return http.client.HTTPSConnection("127.0.0.1", 443, timeout=10, context=ctx)
	failed = []
	lock = threading.Lock()
	progress = open(sys.argv[1], "w")
	def client(k):
	    for i in range(50):
	        t = time.time()
	        try:
	            c = connect()
	            c.request("GET", "/hello.txt", headers={"Connection": "close"})
	            r = c.getresponse()
	            body = r.read()
	            if r.status != 200 or body != b"hello from hermit\n":
	                raise Exception("status %d, %d bytes" % (r.status, len(body)))
	            c.close()
	        except Exception as e:
	            with lock:
	                failed.append("client %d request %d sent at %.3f: %s" % (k, i, t, e))
	        with lock:
	            progress.write("%d %d\n" % (k, i))
	            progress.flush()
	        time.sleep(0.015)
	threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
	for t in threads:
	    t.start()
	for t in threads:
	    t.join()
	print("lost %d of 200 requests" % len(failed))
	for f in failed[:10]:
	    print(f)
	sys.exit(1 if failed else 0)
	EOF
	client=$!
	local times=()
	for i in 1 2; do
		sleep 0.25
		times+=("$(date +%s.%N | cut -c1-14)")
		sctl restart "$unit" || { echo "systemctl restart $unit failed"; wait "$client"; return 1; }
		times[-1]+="-$(date +%s.%N | cut -c1-14)"
		((i == 2)) && progress_at=$(wc -l <"$progress")
	done
	wait "$client"
	rc=$?
	after=$(mainpid "$unit")
	if ((rc != 0)); then cat "$WORK/loop.out"; echo "restarts (from-to): ${times[*]}"; return 1; fi
	((progress_at < 200)) || { echo "the loop ended before the second restart: not a test"; return 1; }
	[[ -n $after && $after != 0 && $after != "$before" ]] ||
		{ echo "MainPID $before before, $after after: no restart happened"; return 1; }
}

# The end of a unit's journal, and the system calls for which the kernel's
# seccomp killed a hermit process since the variant's checks began (from the
# kernel log; a hermit killed by a filter logs nothing itself).
journal_of() {
	sd_exec journalctl --no-pager -o short-monotonic -u "$1" |
		grep -vE '\] "[A-Z]+ [^"]* HTTP/1\.[01]" [0-9]{3} ' | tail -n 20 | sed 's/^/    | /'
	seccomp_kills | sed 's/^/    | /'
}
kernel_mark() { KMARK=$(dmesg 2>/dev/null | tail -n 1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'); }
seccomp_kills() {
	local nr name
	dmesg 2>/dev/null | awk -v m="${KMARK:-0}" '
		/type=1326/ && /comm="hermit"/ {
			t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t)
			if (t + 0 <= m + 0) next
			for (i = 1; i <= NF; i++) if ($i ~ /^(uid|syscall)=/) { split($i, kv, "="); f[kv[1]] = kv[2] }
			print f["uid"], f["syscall"]
		}' | sort -u | while read -r uid nr; do
		name=$(awk -v n="$nr" '$1 == "#define" && $3 == n { sub(/^__NR_/, "", $2); print $2; exit }' \
			/usr/include/x86_64-linux-gnu/asm/unistd_64.h 2>/dev/null)
		echo "kernel: seccomp killed hermit (uid $uid) in system call ${name:-$nr} ($nr)"
	done
}

# ---- the variants ------------------------------------------------------------
# hermit.socket + hermit.service, and hermit-chroot.socket + hermit-chroot.service
socket_variant() {
	local v=$1 socket=$1.socket service=$1.service pid root_check bnd
	kernel_mark
	case $v in
	hermit) root_check=t_empty_root bnd=0000000000000000 ;;
	hermit-chroot) root_check=t_chroot_root bnd=0000000000040000 ;;
	esac
	if ! sctl start "$socket"; then
		fail "$v: start $socket" "" "$(journal_of "$socket")"
		return
	fi
	check "$v: $socket listens on port 80" t_listening
	if [[ $(sctl is-active "$service") == active ]]; then
		fail "$v: $service is not started before the first connection"
	else
		ok "$v: $service is not started before the first connection"
	fi
	check "$v: GET, 404, HEAD and Range through the socket" t_http
	if [[ $(sctl is-active "$service") == active ]] && pid=$(mainpid "$service") && [[ $pid != 0 ]]; then
		ok "$v: the first connection started $service"
		check "$v: identity, no_new_privs, seccomp, capabilities of its process" t_status "$pid" dynamic "$bnd"
		check "$v: private network namespace" t_private_net "$pid"
		check "$v: its root ($root_check)" "$root_check" "$pid"
		check "$v: hermit's startup line in the journal" t_confined_line "$service"
		check "$v: systemctl restart during 200 requests loses none" t_restart "$service"
	else
		fail "$v: the first connection started $service" "$(sctl is-active "$service")" "$(journal_of "$service")"
	fi
	check "$v: hermit --audit under the same sandbox blocks every must-block probe" t_audit "$service" "" "$v"
	[[ -n ${HERMIT_TEST_VERBOSE:-} ]] && journal_of "$service"
	sctl stop "$socket" "$service"
	[[ $(sctl show -P Result "$service") == success ]] ||
		fail "$v: $service stopped cleanly" "$(sctl show -P Result "$service")" "$(journal_of "$service")"
}

# ---- HTTPS: hermit-https.socket + hermit-https.service -------------------------
# The test certificate: P-256, self-signed for localhost, 127.0.0.1 and ::1.
make_cert() {
	mkdir -p "$WORK/tls" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-keyout "$WORK/tls/privkey.pem" -out "$WORK/tls/fullchain.pem" -subj /CN=localhost \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" 2>&1
}

# In the container the files sit where certbot puts them (the key root's,
# 0600) and /etc/hermit/tls links to them, as hermit-https.service says.
install_cert() {
	local live=/etc/letsencrypt/live/hermit.test
	sd_put "$WORK/tls/fullchain.pem" $live/fullchain.pem 0644 &&
		sd_put "$WORK/tls/privkey.pem" $live/privkey.pem 0600 &&
		sd_exec mkdir -p /etc/hermit/tls &&
		sd_exec ln -sf $live/fullchain.pem $live/privkey.pem /etc/hermit/tls/
}

# Without the files: the first connection on 443 starts hermit-https.service,
# which fails before hermit runs (243/CREDENTIALS); hermit.socket still serves.
t_missing_credentials() {
	local i st
	sd_net curl -sS --max-time 3 --cacert "$WORK/tls/fullchain.pem" -o /dev/null https://127.0.0.1/ 2>/dev/null &&
		{ echo "served HTTPS without a certificate"; return 1; }
	for ((i = 0; i < 50; i++)); do
		st=$(sctl show -P ExecMainStatus hermit-https.service)
		[[ $st == 243 ]] && break
		sleep 0.1
	done
	[[ $st == 243 ]] || { echo "hermit-https.service: exit status $st, not 243 (CREDENTIALS)"; journal_of hermit-https.service; return 1; }
	t_http
}

# The credentials as hermit's dynamic user gets them: copies, 0400, its own,
# and the key's source file still root's.
t_credentials() {
	local pid=$1 uid f out
	uid=$(sd_exec awk '$1 == "Uid:" { print $2 }' "/proc/$pid/status") || return 1
	for f in fullchain.pem privkey.pem; do
		out=$(sd_exec stat -c '%a %u' "/run/credentials/hermit-https.service/$f") || return 1
		[[ $out == "400 $uid" ]] || { echo "$f: mode and owner '$out', not '400 $uid'"; return 1; }
	done
	out=$(sd_exec stat -L -c '%a %u' /etc/hermit/tls/privkey.pem) || return 1
	[[ $out == "600 0" ]] || { echo "/etc/hermit/tls/privkey.pem: '$out'"; return 1; }
}

# The host PID of the container's process $1.
host_pid() {
	local f h ns
	ns=$(readlink "/proc/$SD_LEADER/ns/pid")
	for f in $(grep -lE "^NSpid:\s+[0-9]+\s+$1$" /proc/[0-9]*/status 2>/dev/null); do
		h=${f#/proc/} h=${h%/status}
		[[ $(readlink "/proc/$h/ns/pid") == "$ns" ]] && { echo "$h"; return 0; }
	done
	return 1
}

# The private key is in hermit's key process (its one child) and nowhere in
# the serving process; finding it in the key process checks the search.
t_key_isolated() {
	local hpid kids out rc
	hpid=$(host_pid "$1") || { echo "no host PID for $1"; return 1; }
	kids=($(cat /proc/"$hpid"/task/*/children))
	((${#kids[@]} == 1)) || { echo "children of hermit: '${kids[*]}', not one key process"; return 1; }
	out=$(python3 tests/systemd/keyscan.py "$WORK/tls/privkey.pem" "${kids[0]}")
	rc=$?
	((rc == 0)) || { echo "key process: $out: the search is broken"; return 1; }
	out=$(python3 tests/systemd/keyscan.py "$WORK/tls/privkey.pem" "$hpid")
	rc=$?
	((rc == 1)) || { echo "serving process: $out"; return 1; }
	echo "serving process: key $out"
}

https_variant() {
	local v=hermit-https pid out stub=$WORK/modprobe
	kernel_mark
	out=$(make_cert) || { fail "$v: a test certificate" "openssl req failed" "$out"; return; }
	# a modprobe that notes its arguments and fails, as without the module
	printf '#!/bin/sh\necho "$*" >/run/hermit-test-modprobe\nexit 1\n' >"$stub"
	sd_put "$stub" /usr/sbin/modprobe 0755 || { fail "$v: a modprobe stub" "sd_put failed"; return; }
	if ! sctl start hermit.socket hermit-https.socket; then
		fail "$v: start hermit.socket and hermit-https.socket" "" "$(journal_of hermit-https.socket)"
		return
	fi
	check "$v: hermit-https.service without its credential files fails (243/CREDENTIALS), hermit.socket still serves" \
		t_missing_credentials
	sctl stop hermit-https.socket hermit-https.service
	sctl reset-failed hermit-https.socket hermit-https.service
	sd_exec rm -f /run/hermit-test-modprobe
	install_cert || { fail "$v: installing the certificate in the container"; return; }
	if ! sctl start hermit-https.socket; then
		fail "$v: start hermit-https.socket" "" "$(journal_of hermit-https.socket)"
		return
	fi
	out=$(sd_exec cat /run/hermit-test-modprobe 2>&1)
	[[ $out == "-q tls" ]] && ok "$v: hermit-https.socket ran modprobe -q tls (and started though it failed)" ||
		fail "$v: hermit-https.socket ran modprobe -q tls" "arguments: '$out'"
	check "$v: hermit-https.socket listens on port 443" t_listening 443
	[[ $(sctl is-active hermit-https.service) == active ]] &&
		fail "$v: hermit-https.service is not started before the first connection" ||
		ok "$v: hermit-https.service is not started before the first connection"
	check "$v: GET, 404, HEAD and Range over HTTPS (curl --cacert)" t_http https
	if [[ $(sctl is-active hermit-https.service) == active ]] && pid=$(mainpid hermit-https.service) && [[ $pid != 0 ]]; then
		ok "$v: the first connection started hermit-https.service"
		check "$v: identity, no_new_privs, seccomp, capabilities of its process" t_status "$pid" dynamic 0000000000000000
		check "$v: private network namespace" t_private_net "$pid"
		check "$v: its root (t_empty_root)" t_empty_root "$pid"
		check "$v: hermit's startup line in the journal" t_confined_line hermit-https.service
		check "$v: the certificate and key as credentials of its dynamic user" t_credentials "$pid"
		check "$v: the private key in the key process, not in the serving process" t_key_isolated "$pid"
		check "$v: plain HTTP on port 80 alongside (hermit.service)" t_http
		check "$v: systemctl restart during 200 HTTPS requests loses none" t_restart hermit-https.service https
	else
		fail "$v: the first connection started hermit-https.service" "$(sctl is-active hermit-https.service)" \
			"$(journal_of hermit-https.service)"
	fi
	check "$v: hermit --audit under the same sandbox blocks every must-block probe" t_audit hermit-https.service "" "$v"
	[[ -n ${HERMIT_TEST_VERBOSE:-} ]] && journal_of hermit-https.service
	sctl stop hermit-https.socket hermit-https.service hermit.socket hermit.service
	[[ $(sctl show -P Result hermit-https.service) == success ]] && ok "$v: hermit-https.service stopped cleanly" ||
		fail "$v: hermit-https.service stopped cleanly" "$(sctl show -P Result hermit-https.service)" \
			"$(journal_of hermit-https.service)"
}

# hermit-inetd.socket + hermit-inetd@.service: one process per connection
t_inetd_loop() {
	sd_net python3 - <<-'EOF'
	import http.client, sys
	lost = 0
	for i in range(100):
	    try:
	        c = http.client.HTTPConnection("127.0.0.1", 80, timeout=10)
	        c.request("GET", "/hello.txt")
	        r = c.getresponse()
	        ok = r.status == 200 and r.read() == b"hello from hermit\n"
	        c.request("GET", "/sub/numbers.txt", headers={"Connection": "close"})
	        r = c.getresponse()
	        ok = ok and r.status == 200 and len(r.read()) > 0
	        lost += not ok
	        c.close()
	    except Exception as e:
	        lost += 1
	        print("%d: %s" % (i, e))
	print("lost %d of 100" % lost)
	sys.exit(1 if lost else 0)
	EOF
}

inetd_variant() {
	local v=hermit-inetd pid unit hold
	kernel_mark
	if ! sctl start hermit-inetd.socket; then
		fail "$v: start hermit-inetd.socket" "" "$(journal_of hermit-inetd.socket)"
		return
	fi
	check "$v: hermit-inetd.socket listens on port 80" t_listening
	check "$v: GET, 404, HEAD and Range, a process for each connection" t_http
	check "$v: 100 keep-alive connections of 2 requests, none lost" t_inetd_loop
	# a connection held open (no request yet) keeps its instance alive for inspection
	sd_net python3 -c 'import socket, time; s = socket.create_connection(("127.0.0.1", 80)); time.sleep(8)' &
	hold=$!
	for ((i = 0; i < 50; i++)); do
		unit=$(sctl list-units --no-legend --plain --state=running 'hermit-inetd@*.service' | awk 'NR == 1 { print $1 }')
		# running as soon as systemd forked: wait for the sandbox to be set up and hermit executed
		[[ -n $unit ]] && pid=$(mainpid "$unit") && [[ $pid != 0 ]] &&
			[[ $(sd_exec cat "/proc/$pid/comm" 2>/dev/null) == hermit ]] && break
		unit= pid=
		sleep 0.1
	done
	if [[ -n $unit ]]; then
		ok "$v: a connection runs in its own $unit"
		check "$v: identity, no_new_privs, seccomp, capabilities of its process" t_status "$pid" dynamic 0000000000000000
		check "$v: private network namespace" t_private_net "$pid"
		check "$v: its root (t_empty_root)" t_empty_root "$pid"
	else
		fail "$v: a connection runs in its own hermit-inetd@ instance" "" "$(journal_of 'hermit-inetd@*')"
	fi
	kill "$hold" 2>/dev/null
	wait "$hold" 2>/dev/null
	check "$v: hermit --audit under the same sandbox blocks every must-block probe" t_audit hermit-inetd@.service "" "$v"
	sctl stop hermit-inetd.socket
	# failed instances are collected at once (CollectMode=): ask the journal
	local failed
	failed=$(sd_exec journalctl --no-pager -o cat | grep -E '^hermit-inetd@.*: (Failed with result|Main process exited, code=(killed|dumped))')
	[[ -z $failed ]] && ok "$v: no instance failed" || fail "$v: no instance failed" "" "$failed"
}

# hermit-classic.service: started as root, binds port 80 itself, drops itself
classic_variant() {
	local v=hermit-classic pid uid
	kernel_mark
	if ! sctl start hermit-classic.service; then
		fail "$v: start hermit-classic.service" "" "$(journal_of hermit-classic.service)"
		return
	fi
	for ((i = 0; i < 50; i++)); do t_listening >/dev/null && break; sleep 0.1; done
	check "$v: hermit listens on port 80" t_listening
	check "$v: GET, 404, HEAD and Range" t_http
	pid=$(mainpid hermit-classic.service)
	uid=$(sd_exec id -u www-data)
	check "$v: dropped to www-data, no_new_privs, seccomp, no capabilities" t_status "$pid" "$uid" 0000000000000000
	check "$v: its root (t_chroot_root)" t_chroot_root "$pid"
	check "$v: hermit's startup line in the journal" t_confined_line hermit-classic.service
	check "$v: hermit --audit (as root, --user www-data) blocks every must-block probe" \
		t_audit hermit-classic.service "--user www-data" "$v"
	[[ -n ${HERMIT_TEST_VERBOSE:-} ]] && journal_of hermit-classic.service
	sctl stop hermit-classic.service
	[[ $(sctl show -P Result hermit-classic.service) == success ]] && ok "$v: stopped cleanly" ||
		fail "$v: stopped cleanly" "$(sctl show -P Result hermit-classic.service)" "$(journal_of hermit-classic.service)"
}

socket_variant hermit
https_variant
socket_variant hermit-chroot
inetd_variant
classic_variant
summary
