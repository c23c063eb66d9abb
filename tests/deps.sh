#!/bin/sh
# deps.sh build|deb|test: makes sure the Debian packages hermit needs are
# installed (make deps, make run, make check; never the build itself). As root
# it installs the missing ones with apt-get; otherwise it prints the exact
# command to run and fails. Without dpkg (not Debian) it says what to install
# and leaves it to the build.
# deps.sh libs CC...: whether the compiler finds the libraries' headers (with
# pkg-config, or without it in the default paths); names each missing -dev
# package. Needs no dpkg: the build runs it.
set -eu
build="gcc make pkg-config libseccomp-dev libssl-dev libnghttp2-dev"
deb="$build debhelper dpkg-dev"
test="$deb lintian python3 curl openssl wrk ucspi-tcp daemontools runit s6 util-linux procps iproute2 clang libclang-rt-14-dev valgrind systemd-container debootstrap slowhttptest pebble certbot testssl.sh sslscan haproxy hugo podman runc slirp4netns python3-yaml nghttp2-client python3-h2"

# pkg-config name, a header, the Debian package, the library's name elsewhere
libs() {
	bad=0
	while read -r pc header pkg what; do
		pkg-config --exists "$pc" 2>/dev/null && continue
		# no pkg-config, or no .pc file: the header in the compiler's paths will do
		printf '#include <%s>\n' "$header" | "$@" -E -x c - >/dev/null 2>&1 && continue
		echo "hermit needs $what: neither pkg-config $pc nor <$header> found;" \
			"install $pkg (Debian, Ubuntu), or your system's $what development package" >&2
		bad=1
	done <<-LIBS
	libseccomp seccomp.h libseccomp-dev libseccomp
	libssl openssl/ssl.h libssl-dev OpenSSL 3
	libnghttp2 nghttp2/nghttp2.h libnghttp2-dev libnghttp2
	LIBS
	return $bad
}

case ${1:-build} in
build) want=$build ;;
deb) want=$deb ;;
test) want=$test ;;
libs) shift; libs "${@:-cc}"; exit ;;
*) echo "usage: deps.sh build|deb|test, deps.sh libs CC" >&2; exit 2 ;;
esac
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: no dpkg here: install the equivalents of:" $want >&2
	exit 0
fi
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
