#!/bin/bash
# bench.sh BIN: the project's own load test. Starts BIN on a free loopback
# port over a generated content tree, runs wrk for a few workloads, and
# prints requests/s and the server's CPU time per request (user + system,
# from /proc/PID/stat), which is the figure that compares across machines.
# Bounded: DURATION seconds per workload (default 5).
set -euo pipefail
bin=$(realpath "$1")
duration=${DURATION:-5}
command -v wrk >/dev/null || { echo "bench: wrk is missing: apt-get install -y wrk" >&2; exit 1; }

dir=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
chmod 755 "$dir"
head -c 1024 /dev/urandom >"$dir/1k.bin"
head -c 262144 /dev/urandom >"$dir/256k.bin"
mkdir "$dir/many"
for i in $(seq -w 0 399); do head -c $((512 + 10#$i * 9)) /dev/urandom >"$dir/many/f$i.html"; done
chmod -R a+rX "$dir"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=()
[ "$(id -u)" = 0 ] && user=(--user nobody)
"$bin" --listen "127.0.0.1:$port" "${user[@]}" --access-log off "$dir" 2>"$dir/.log" &
pid=$!
for _ in $(seq 50); do
	curl -fsS -o /dev/null "http://127.0.0.1:$port/1k.bin" 2>/dev/null && break
	sleep 0.1
done

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

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

run() {	# name conns path [wrk options]
	local name=$1 conns=$2 path=$3 before after reqs
	shift 3
	before=$(cpu_ticks)
	out=$(timeout $((duration + 10)) wrk -t1 -c"$conns" -d"${duration}s" "$@" "http://127.0.0.1:$port$path")
	after=$(cpu_ticks)
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	awk -v n="$name" -v r="$reqs" -v d="$duration" -v t=$((after - before)) -v hz="$hz" \
	    'BEGIN { printf "%-10s %12.0f req/s %8.1f us CPU/request\n", n, r / d, (r ? t / hz * 1e6 / r : 0) }'
	echo "$out" | grep -E "Non-2xx|Socket errors" || true
}

echo "hermit bench: $duration s per workload, wrk -t1, server CPU from /proc"
run 1k-ka 64 /1k.bin
run 1k-pipe 64 /1k.bin -s "$dir/pipe.lua"
run many-ka 64 / -s "$dir/many.lua"
run 256k-ka 32 /256k.bin
run 1k-close 32 /1k.bin -H "Connection: close"
