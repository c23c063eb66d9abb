#!/bin/bash
# bench.sh BIN [BENCH_HANDSHAKE [KEY_IN_WORKER_BIN]]: the project's own load test. Starts BIN
# on two free loopback ports (HTTP, and HTTPS with a fresh ECDSA P-256
# certificate) over a generated content tree, runs wrk for a few workloads,
# and prints requests/s and the server's CPU time per request (user +
# system, from /proc/PID/stat, the key process's included), which is the
# figure that compares across machines. Then BENCH_HANDSHAKE (make bench
# builds it) measures what keeping the key in the key process costs per
# full handshake, in memory; and with KEY_IN_WORKER_BIN (the same hermit
# with its keys in its workers, which make bench builds and never
# installs) the same cost under load: full handshakes from openssl s_time.
# Bounded: DURATION seconds per workload (default 5).
set -euo pipefail
bin=$(realpath "$1")
handshake_bench=${2:-}
key_in_worker=${3:+$(realpath "$3")}
duration=${DURATION:-5}
for tool in wrk openssl; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing: apt-get install -y $tool" >&2; exit 1; }
done

dir=$(mktemp -d)
keydir=
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir" ${keydir:+"$keydir"}
}
trap cleanup EXIT INT TERM
chmod 755 "$dir"
head -c 1024 /dev/urandom >"$dir/1k.bin"
head -c 262144 /dev/urandom >"$dir/256k.bin"
head -c 10485760 /dev/urandom >"$dir/10m.bin"
mkdir "$dir/many"
for i in $(seq -w 0 399); do head -c $((512 + 10#$i * 9)) /dev/urandom >"$dir/many/f$i.html"; done
chmod -R a+rX "$dir"

# The certificate and key live outside the served tree.
tls=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$tls/privkey.pem" -out "$tls/fullchain.pem" 2>/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
tport=$(free_port)
user=()
[ "$(id -u)" = 0 ] && user=(--user nobody)
"$bin" --listen "127.0.0.1:$port" --listen-tls "127.0.0.1:$tport" \
    --cert "$tls/fullchain.pem" --key "$tls/privkey.pem" \
    "${user[@]}" --access-log off "$dir" 2>"$dir/.log" &
pid=$!
wait_up() {	# url: until it answers, 5 s at most
	for _ in $(seq 50); do
		curl -kfsS -o /dev/null "$1" 2>/dev/null && return
		sleep 0.1
	done
}
wait_up "http://127.0.0.1:$port/1k.bin"
rm -rf "$tls"	# read at start; not needed any more

hz=$(getconf CLK_TCK)
# hermit and its key process (signatures are part of a handshake's cost).
cpu_ticks() {
	local p t=0
	for p in $pid $(pgrep -P "$pid"); do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo $t
}

cat >"$dir/many.lua" <<'LUA'
local i = 0
request = function()
	i = (i + 1) % 400
	return wrk.format("GET", string.format("/many/f%03d.html", i))
end
LUA
cat >"$dir/pipe.lua" <<'LUA'
init = function()
	local r = {}
	for i = 1, 16 do r[i] = wrk.format("GET", "/1k.bin") end
	req = table.concat(r)
end
request = function() return req end
LUA

run() {	# name conns url [wrk options]
	local name=$1 conns=$2 url=$3 before after reqs
	shift 3
	before=$(cpu_ticks)
	out=$(timeout $((duration + 10)) wrk -t1 -c"$conns" -d"${duration}s" "$@" "$url")
	after=$(cpu_ticks)
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	awk -v n="$name" -v r="$reqs" -v d="$duration" -v t=$((after - before)) -v hz="$hz" \
	    'BEGIN { printf "%-10s %12.0f req/s %8.1f us CPU/request\n", n, r / d, (r ? t / hz * 1e6 / r : 0) }'
	echo "$out" | grep -E "Non-2xx|Socket errors" || true
}

echo "hermit bench: $duration s per workload, wrk -t1, server CPU from /proc"
http=http://127.0.0.1:$port https=https://127.0.0.1:$tport
run 1k-ka 64 $http/1k.bin
run 1k-pipe 64 $http/1k.bin -s "$dir/pipe.lua"
run many-ka 64 $http/ -s "$dir/many.lua"
run 256k-ka 32 $http/256k.bin
run 10m-ka 8 $http/10m.bin
run 1k-close 32 $http/1k.bin -H "Connection: close"
echo "over TLS (ECDSA P-256; wrk offers no session: a close is a full handshake)"
run tls-1k-ka 64 $https/1k.bin
run tls-256k 32 $https/256k.bin
run tls-10m 8 $https/10m.bin
run tls-fullhs 32 $https/1k.bin -H "Connection: close"

# Resumed handshakes: openssl s_time offers the previous session each time.
before=$(cpu_ticks)
out=$(timeout $((duration + 10)) openssl s_time -connect "127.0.0.1:$tport" -reuse \
    -time "$duration" -www /1k.bin 2>&1 | grep -E 'connections in [0-9]+ real seconds' | tail -n 1)
after=$(cpu_ticks)
awk -v n=tls-resumed -v c="$(echo "$out" | awk '{print $1}')" -v s="$(echo "$out" | awk '{print $4}')" \
    -v t=$((after - before)) -v hz="$hz" \
    'BEGIN { printf "%-10s %12.0f conn/s %7.1f us CPU/connection (openssl s_time -reuse: one client, resumed)\n", n, (s ? c / s : 0), (c ? t / hz * 1e6 / c : 0) }'

if [ -n "$handshake_bench" ]; then
	echo
	echo "the key process's cost (in memory, no sockets):"
	"$handshake_bench" 1000 5
fi

kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
pid=
[ -n "$key_in_worker" ] || exit 0

# The same cost under load: one worker pinned to CPU 0 (its key process
# runs there too, as it inherits the pinning) and eight openssl s_time
# clients on CPU 1, each a new connection, a full handshake and a GET of
# 1 KiB at a time. Rounds alternate between BIN and KEY_IN_WORKER_BIN; the
# cost is the median of the rounds' differences, which holds when the
# machine's speed drifts between rounds.
if [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null; then
	echo "the key process's cost under load: needs two CPUs and taskset, skipped"
	exit 0
fi
keydir=$(mktemp -d)	# outside the served tree
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -keyout "$keydir/privkey.pem" -out "$keydir/fullchain.pem" 2>/dev/null
handshake_cost() {	# bin: prints server CPU us per full handshake
	local b=$1 p n before after clients
	p=$(free_port)
	taskset -c 0 "$b" --workers 1 --listen-tls "127.0.0.1:$p" --cert "$keydir/fullchain.pem" \
	    --key "$keydir/privkey.pem" "${user[@]}" --access-log off "$dir" 2>>"$keydir/log" &
	pid=$!
	wait_up "https://127.0.0.1:$p/1k.bin"
	before=$(cpu_ticks)
	clients=()
	for i in 1 2 3 4 5 6 7 8; do
		timeout $((duration + 10)) taskset -c 1 openssl s_time -connect "127.0.0.1:$p" \
		    -new -time "$duration" -www /1k.bin >"$keydir/st$i" 2>&1 &
		clients+=($!)
	done
	wait "${clients[@]}" || true
	after=$(cpu_ticks)
	kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	pid=
	n=$(cat "$keydir"/st? | awk '/connections in [0-9]+ real seconds/ {c += $1} END {print c + 0}')
	awk -v t=$((after - before)) -v n="$n" -v hz="$hz" 'BEGIN { printf "%.1f\n", n ? t / hz * 1e6 / n : 0 }'
}
echo
echo "the key process's cost under load (ECDSA P-256, full handshakes, 5 rounds):"
costs=() ins=() outs=()
for r in 1 2 3 4 5; do
	with=$(handshake_cost "$bin")
	without=$(handshake_cost "$key_in_worker")
	ins+=("$without") outs+=("$with")
	costs+=("$(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.1f", a - b }')")
	echo "  round $r: $with us with the key process, $without us with the key in the worker"
done
median() { printf '%s\n' "$@" | sort -g | sed -n 3p; }
awk -v c="$(median "${costs[@]}")" -v w="$(median "${outs[@]}")" -v k="$(median "${ins[@]}")" \
    -v lo="$(printf '%s\n' "${costs[@]}" | sort -g | head -n 1)" \
    -v hi="$(printf '%s\n' "${costs[@]}" | sort -g | tail -n 1)" \
    'BEGIN { printf "  cost %+.1f us per full handshake (rounds %+.1f to %+.1f): %.1f%% of %.1f us with the key process (%.1f us with the key in the worker)\n", c, lo, hi, 100 * c / w, w, k }'
