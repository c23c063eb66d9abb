#!/bin/sh
# deps.sh build|test: makes sure the Debian packages hermit needs are
# installed. As root it installs the missing ones with apt-get; otherwise it
# prints the exact command to run and fails.
set -eu
build="gcc make pkg-config libseccomp-dev libssl-dev"
test="$build python3 curl openssl wrk hugo ucspi-tcp daemontools runit s6 util-linux procps iproute2 clang libclang-rt-14-dev valgrind systemd-container debootstrap slowhttptest"
case ${1:-build} in
build) want=$build ;;
test) want=$test ;;
*) echo "usage: deps.sh build|test" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "hermit needs these packages:$missing" >&2
	echo "run: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true	# a stale list is better than none
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
