#!/bin/bash
# bench_rules.sh BIN: what _headers and _redirects at their limits cost.
# Serves a 1 KiB file over keep-alive (wrk -t1 -c50) from two sites, one
# without rule files and one with 2,000 static and 100 dynamic redirects
# and 100 header rules (one of which, /*, matches every request and adds a
# header), and prints the server's CPU time per request for each (user +
# system from /proc/PID/stat), twice, alternating. Bounded: DURATION
# seconds per run (default 5).
#
# bench_rules.sh --serve BIN PORT DOCROOT DIR: for a comparison harness
# that runs one server command: copies DOCROOT into DIR/site (hard links
# where it can), adds the same rule files, and runs BIN on 127.0.0.1:PORT
# in the foreground.
set -euo pipefail

# The rule files at Cloudflare's limits, into directory $1.
write_rules() {
	{
		for i in $(seq 0 1999); do echo "/static/page$i /target$i.html 301"; done
		for i in $(seq 0 99); do echo "/dyn$i/:id/* /t$i/:id/:splat 302"; done
	} >"$1/_redirects"
	{
		printf '/*\n  X-Frame-Options: DENY\n'
		for i in $(seq 1 99); do printf '/h%d/*\n  Cache-Control: max-age=%d\n' "$i" "$i"; done
	} >"$1/_headers"
}

if [ "${1:-}" = --serve ]; then
	[ $# = 5 ] || { echo "usage: bench_rules.sh --serve BIN PORT DOCROOT DIR" >&2; exit 2; }
	rm -rf "$5/site"
	cp -al "$4" "$5/site" 2>/dev/null || cp -a "$4" "$5/site"
	write_rules "$5/site"
	chmod a+rX "$5/site" "$5/site/_redirects" "$5/site/_headers"
	user=()
	[ "$(id -u)" = 0 ] && user=(--user nobody)
	exec "$2" --listen "127.0.0.1:$3" "${user[@]}" --access-log off "$5/site"
fi

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
mkdir -p "$dir/none" "$dir/rules"
head -c 1024 /dev/urandom >"$dir/none/1k.bin"
cp "$dir/none/1k.bin" "$dir/rules/1k.bin"
write_rules "$dir/rules"
chmod -R a+rX "$dir"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=()
[ "$(id -u)" = 0 ] && user=(--user nobody)
"$bin" --listen "127.0.0.1:$port" --vhosts "${user[@]}" --access-log off "$dir" 2>"$dir/.log" &
pid=$!
for _ in $(seq 50); do
	curl -fsS -o /dev/null -H "Host: none" "http://127.0.0.1:$port/1k.bin" 2>/dev/null && break
	sleep 0.1
done
curl -fsS -D - -o /dev/null -H "Host: rules" "http://127.0.0.1:$port/1k.bin" | grep -q X-Frame-Options ||
	{ echo "bench: the rules did not load" >&2; cat "$dir/.log" >&2; exit 1; }

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
run() {	# site
	local before after out reqs
	before=$(cpu_ticks)
	out=$(timeout $((duration + 10)) wrk -t1 -c50 -d"${duration}s" -H "Host: $1" \
	    "http://127.0.0.1:$port/1k.bin")
	after=$(cpu_ticks)
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	awk -v n="$1" -v r="$reqs" -v d="$duration" -v t=$((after - before)) -v hz="$hz" \
	    'BEGIN { printf "%-6s %10.0f req/s %7.2f us CPU/request\n", n, r / d, (r ? t / hz * 1e6 / r : 0) }'
}
echo "rules bench: 1 KiB keep-alive, wrk -t1 -c50, $duration s a run"
for _ in 1 2; do run none; run rules; done
