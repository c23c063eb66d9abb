#!/bin/bash
# it_deb.sh [BIN]: the Debian package (debian/), built and used for real.
#
#   bash tests/it_deb.sh            (from the top of the repository, as root)
#   HERMIT_DEB=build/deb/hermit_0.1.0_amd64.deb bash tests/it_deb.sh
#                                   (the package make deb made: no build)
#
# Builds the package with dpkg-buildpackage -us -uc -b in a scratch copy of
# the tree; lintian finds no error or warning; it holds the binary, hermit(8),
# every unit contrib/systemd/units.mk installs, the run scripts and nothing in
# /srv. Then, in a systemd-nspawn container under systemd (the one of
# tests/it_systemd.sh: tests/systemd/harness.sh):
#   - apt-get installs it; no unit is enabled or started, nothing listens;
#   - with a page in /srv/www, systemctl enable --now hermit.socket; GET of
#     the page over 127.0.0.1 starts hermit.service, which systemctl status
#     shows running;
#   - apt-get purge hermit stops it and leaves nothing: the files of the
#     container are those it had before the install, but /srv/www (the
#     administrator's); no unit file, no unit, no enablement link.
# BIN is not used (the package builds its own). Not root, or debhelper,
# lintian, systemd-container, debootstrap not installable: SKIP, never silent.
# Bounded: 15 minutes. Ends with "deb: N passed, N failed, N skipped".

set -uo pipefail
# Run by `make check SANITIZE=1`, this script would pass that make's
# command-line variables to every make it starts (MAKEFLAGS): the scratch
# builds here are plain ones.
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE
cd "$(dirname "$0")/.." || exit 1
SUITE=deb
. tests/suite.sh

((EUID == 0)) || skip_all "needs root (dpkg-buildpackage is fine, the container is not)"
if [[ -z ${HERMIT_DEB:-} ]] && ! command -v dh >/dev/null || ! command -v lintian >/dev/null; then
	./tests/deps.sh deb >/dev/null 2>&1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lintian >/dev/null 2>&1
	command -v dh >/dev/null && command -v lintian >/dev/null ||
		skip_all "debhelper and lintian not installable"
fi
. tests/systemd/harness.sh
sd_need_packages || skip_all "$SD_WHY"

# named as the harness names its own, so that a killed run's is reaped later
WORK=$(mktemp -d "/tmp/hermit-systemd.$$.XXXXXX") || exit 1
trap 'trap - EXIT INT TERM HUP; kill "$SD_WATCHDOG" 2>/dev/null
	[[ -n $SD_NSPAWN_PID ]] && sd_teardown; rm -rf --one-file-system "$WORK"' EXIT
for sig in INT:130 TERM:143 HUP:129; do trap "exit ${sig#*:}" "${sig%:*}"; done
sd_watchdog 900 deb	# a first run also builds the container tree

# ---- the package -------------------------------------------------------------
if [[ -n ${HERMIT_DEB:-} ]]; then
	DEB=$(realpath "$HERMIT_DEB")
	CHANGES=${DEB%.deb}.changes
	[[ -f $CHANGES ]] || CHANGES=$DEB	# lintian takes either
else
	mkdir -p "$WORK/src/hermit"
	tar --exclude=./.git --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
		--exclude=./hermit --exclude=./debian/hermit --exclude=./debian/.debhelper \
		-cf - . | tar -C "$WORK/src/hermit" -xf -
	if ! (cd "$WORK/src/hermit" && timeout 300 dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1; then
		fail "build: dpkg-buildpackage -us -uc -b" "$(tail -n 30 "$WORK/build.log")"
		summary
	fi
	ok "build: dpkg-buildpackage -us -uc -b"
	DEB=$(ls "$WORK"/src/hermit_*.deb)
	CHANGES=$(ls "$WORK"/src/hermit_*.changes)
fi
[[ -f $DEB ]] || { fail "package: no $DEB"; summary; }

t_lintian() {
	local out
	out=$(lintian "$CHANGES" 2>&1 | grep -E '^[EW]: ')
	[[ -z $out ]] || { echo "$out"; return 1; }
}
check "lintian: no error, no warning" t_lintian

# every unit units.mk installs (contrib/systemd may gain some: they must follow)
mapfile -t UNITS < <(make -s -f contrib/systemd/units.mk -pn BIN=/dev/null 2>/dev/null |
	sed -n 's/^UNITS = //p' | tr ' ' '\n' | grep .)
t_contents() {
	local list f missing=
	list=$(dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|')
	((${#UNITS[@]} > 0)) || { echo "no UNITS in contrib/systemd/units.mk"; return 1; }
	for f in /usr/sbin/hermit /usr/share/man/man8/hermit.8.gz /usr/share/doc/hermit/copyright \
		/usr/share/doc/hermit/contrib/daemontools/run /usr/share/doc/hermit/contrib/runit/run \
		/usr/share/doc/hermit/contrib/s6/run "${UNITS[@]/#//lib/systemd/system/}"; do
		grep -qxF "$f" <<<"$list" || missing+=" $f"
	done
	[[ -z $missing ]] || { echo "missing:$missing"; return 1; }
	! grep -q '^/srv' <<<"$list" || { echo "installs into /srv:"; grep '^/srv' <<<"$list"; return 1; }
}
check "contents: binary, manual page, ${#UNITS[@]} units, run scripts, nothing in /srv" t_contents

# ---- installed under systemd -------------------------------------------------
sd_prepare_tree || skip_all "container: $SD_WHY"
sd_can_boot || skip_all "container: $SD_WHY"
sd_boot || { fail "container: $SD_WHY"; summary; }

sctl() { timeout 60 nsenter -t "$SD_LEADER" -a systemctl "$@"; }
curl_in() { sd_net curl -sS --max-time 10 "$@"; }
listening() {
	sd_net cat /proc/net/tcp /proc/net/tcp6 | awk '$2 ~ /:0050$/ && $4 == "0A" { f = 1 } END { exit !f }'
}
# the container's files, but for logs, caches, state of apt, dpkg and logind,
# and the API file systems (other mounts: -xdev)
files() {
	sd_exec find / -xdev \( -path /tmp -o -path /var/tmp -o -path /var/log -o -path /var/cache \
		-o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/lib/systemd/random-seed \
		-o -path /var/lib/systemd/linger \) \
		-prune -o -print | sort
}

files >"$WORK/before"
sd_put "$DEB" /tmp/hermit.deb
if ! out=$(sd_exec env DEBIAN_FRONTEND=noninteractive timeout 120 apt-get install -y -q /tmp/hermit.deb 2>&1); then
	fail "install: apt-get install hermit.deb" "$out"
	summary
fi
ok "install: apt-get install hermit.deb (offline: its dependencies are in the tree)"
sd_exec dpkg -L hermit >"$WORK/list"

t_quiet() {
	local u state bad=
	for u in "${UNITS[@]}"; do
		[[ $u == *@.service ]] && continue
		state=$(sctl is-enabled "$u" 2>&1)
		[[ $state == disabled || $state == static || $state == indirect ]] || bad+=" $u is $state;"
		state=$(sctl is-active "$u" 2>&1)
		[[ $state == inactive ]] || bad+=" $u is $state;"
	done
	! listening || bad+=" something listens on port 80;"
	[[ -z $bad ]] || { echo "$bad"; return 1; }
}
check "install: no unit enabled or started, nothing on port 80" t_quiet

t_serve() {
	local body
	sd_exec mkdir -p /srv/www || return 1
	printf 'served from the package\n' | sd_exec sh -c 'cat >/srv/www/index.html' || return 1
	sctl enable --now hermit.socket || return 1
	body=$(curl_in http://127.0.0.1/) || return 1
	[[ $body == "served from the package" ]] || { echo "GET /: '$body'"; return 1; }
	sctl status --no-pager hermit.service >"$WORK/status" 2>&1 ||
		{ echo "systemctl status hermit.service: exit $?"; cat "$WORK/status"; return 1; }
	grep -q 'Active: active (running)' "$WORK/status" || { cat "$WORK/status"; return 1; }
}
check "serve: enable --now hermit.socket, GET / over 127.0.0.1, hermit.service running" t_serve

if ! out=$(sd_exec env DEBIAN_FRONTEND=noninteractive timeout 120 apt-get purge -y -q hermit 2>&1); then
	fail "purge: apt-get purge hermit" "$out"
	summary
fi
ok "purge: apt-get purge hermit"
files >"$WORK/after"

t_nothing_left() {
	local left
	# only what the administrator put there stays
	left=$(comm -13 "$WORK/before" "$WORK/after" | grep -vxE '/srv/www|/srv/www/index.html')
	[[ -z $left ]] || { echo "left behind:"; echo "$left"; return 1; }
	# a path of the package that is still there (through /lib -> usr/lib, say)
	# is one that was there before
	left=$(sd_exec sh -c 'while read -r f; do [ -e "$f" ] && realpath "$f"; done' <"$WORK/list" |
		sort -u | comm -13 "$WORK/before" -)
	[[ -z $left ]] || { echo "files of the package still there:"; echo "$left"; return 1; }
	left=$(sd_exec sh -c 'ls /var/lib/dpkg/info/hermit.* 2>/dev/null')
	[[ -z $left ]] || { echo "dpkg still has: $left"; return 1; }
	sd_exec test -f /srv/www/index.html || { echo "the administrator's /srv/www/index.html is gone"; return 1; }
}
check "purge: no file of the package left, /srv/www and its page kept" t_nothing_left

t_no_unit() {
	local out
	out=$(sctl list-unit-files --no-legend 'hermit*'; sctl list-units --all --no-legend 'hermit*')
	[[ -z $out ]] || { echo "$out"; return 1; }
	! listening || { echo "something still listens on port 80"; return 1; }
}
check "purge: no unit file, no unit, nothing on port 80" t_no_unit
summary
