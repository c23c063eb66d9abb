#!/bin/bash
# it_build.sh [BIN]: the build needs a C compiler, make and the libraries'
# headers, and no package manager. In a scratch copy of the tree, with a PATH
# where dpkg, dpkg-query, apt-get and apt do not exist (a directory of links
# to every other program of this machine):
#   make_without_dpkg        make builds ./hermit
#   install_without_dpkg     make install DESTDIR= PREFIX=/usr puts the binary,
#                            the manual page and the systemd units in place
#   unit_fuzz_without_dpkg   make unit and make fuzz-build would not run the
#                            package step (make -n: nothing is compiled)
#   missing_library_named    with neither pkg-config nor the headers finding
#                            the libraries, make fails before compiling and
#                            names libseccomp-dev, libssl-dev and libnghttp2-dev
# BIN is not used (the build is the subject). Build only: about 30 s.
# Ends with "build: N passed, N failed".
set -u
# Run by `make check SANITIZE=1`, this script would pass that make's
# command-line variables to every make it starts (MAKEFLAGS): the scratch
# builds here are plain ones.
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0
WORK=$(mktemp -d /tmp/hermit-build-XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT INT TERM

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
	[ -f "$WORK/log" ] && tail -n 15 "$WORK/log" | sed 's/^/    /'
	return 0
}

# the tree as it is (what a clone or a release tarball holds), without builds
mkdir "$WORK/src"
tar -C . --exclude=./.git --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
	--exclude=./hermit --exclude=./debian/hermit -cf - . | tar -C "$WORK/src" -xf -

# every program of this machine but the package manager's
mkdir "$WORK/bin"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
	[ -d "$d" ] || continue
	for f in "$d"/*; do
		n=${f##*/}
		case $n in dpkg | dpkg-* | apt | apt-* | aptitude) continue ;; esac
		[ -x "$f" ] && [ ! -e "$WORK/bin/$n" ] && ln -s "$f" "$WORK/bin/$n"
	done
done
NOPM=$WORK/bin
in_tree() { (cd "$WORK/src" && env PATH="$NOPM" timeout 300 "$@") >"$WORK/log" 2>&1; }

if PATH=$NOPM command -v dpkg-query >/dev/null || PATH=$NOPM command -v apt-get >/dev/null; then
	fail setup "dpkg-query or apt-get still on the test's PATH"
fi

if in_tree make -j2 && [ -x "$WORK/src/hermit" ] && "$WORK/src/hermit" --help >/dev/null 2>&1; then
	ok make_without_dpkg
else
	fail make_without_dpkg "make failed with no dpkg/apt on PATH"
fi

DEST=$WORK/dest
if in_tree make install DESTDIR="$DEST" PREFIX=/usr &&
	[ -x "$DEST/usr/sbin/hermit" ] && [ -f "$DEST/usr/share/man/man8/hermit.8" ] &&
	[ -f "$DEST/usr/lib/systemd/system/hermit.socket" ] &&
	grep -q '^ExecStart=/usr/sbin/hermit ' "$DEST/usr/lib/systemd/system/hermit.service"; then
	ok install_without_dpkg
else
	fail install_without_dpkg "make install failed or left out a file"
fi

if in_tree make -n unit fuzz-build && ! grep -qE 'deps\.sh (build|test|deb)' "$WORK/log"; then
	ok unit_fuzz_without_dpkg
else
	fail unit_fuzz_without_dpkg "make -n unit fuzz-build failed or runs the package step"
fi

# pkg-config knows neither library, and the compiler looks in no system path
printf '#!/bin/sh\nexit 1\n' >"$WORK/pkg-config"
chmod 755 "$WORK/pkg-config"
rm -f "$NOPM/pkg-config" && ln -s "$WORK/pkg-config" "$NOPM/pkg-config"
in_tree make clean
if in_tree make CC="cc -nostdinc"; then
	fail missing_library_named "make succeeded without the libraries' headers"
elif grep -q 'needs libseccomp:.* install libseccomp-dev' "$WORK/log" &&
	grep -q 'needs OpenSSL 3:.* install libssl-dev' "$WORK/log" &&
	grep -q 'needs libnghttp2:.* install libnghttp2-dev' "$WORK/log" &&
	! grep -q '\.o ' "$WORK/log"; then
	ok missing_library_named
else
	fail missing_library_named "make failed without naming libseccomp-dev, libssl-dev and libnghttp2-dev first"
fi

echo "build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
