#!/bin/bash
# harness.sh - a real systemd (PID 1 of a throw-away systemd-nspawn container)
# for the unit tests of tests/it_systemd.sh, on machines whose own PID 1 is not
# systemd (containers, CI runners).
#
# Sourced by tests/it_systemd.sh; run directly it only builds the cached tree:
#   bash tests/systemd/harness.sh --prepare     # as root; a few minutes, once
#
# The container's / is a minimal Debian tree (debootstrap, minbase + systemd),
# built once per machine into $HERMIT_TEST_CACHE (/var/cache/hermit-test) and
# only ever read afterwards: every boot puts a tmpfs overlay over it
# (--volatile=overlay), so a run leaves nothing behind but that cache.
#
# Functions (each prints "systemd: ..." notes on stderr):
#   sd_need_packages          apt-get install systemd-container debootstrap if missing
#   sd_prepare_tree           build or reuse the cached tree; sets SD_TREE
#   sd_can_boot               whether this machine can run a container at all
#   sd_boot                   boot the container (own network namespace, only lo);
#                             sets SD_LEADER (host PID of its PID 1)
#   sd_exec CMD...            run CMD as root inside (not as a unit: outside every sandbox)
#   sd_net CMD...             run CMD on the host inside the container's network namespace
#   sd_put SRC DEST [MODE]    copy a host file into the container
#   sd_teardown               halt the container, remove what sd_boot made
#   sd_watchdog SECONDS NAME  print "FAIL NAME: ..." and TERM this script (whose
#                             traps tear down) after SECONDS; sets SD_WATCHDOG
#
# Traps this avoids (each one found the hard way):
# - without a host systemd, nspawn needs --register=no --keep-unit, and there is
#   no machined: commands enter the container with nsenter, not machinectl;
# - nspawn's own seccomp filter denies landlock_* (and bpf) to the whole
#   container, so a self-confining service fails inside unless
#   --system-call-filter allows them;
# - nspawn keeps state in /run/systemd/nspawn; on hosts whose /run is not a
#   tmpfs it cannot clean it up: it gets a private tmpfs in its own mount namespace;
# - each run gets its own child cgroup, so parallel runs do not share nspawn's
#   payload/supervisor cgroups;
# - under cgroup v1 controllers (hybrid hosts) TasksMax=/MemoryMax= are not
#   enforced inside: the tests do not rely on them;
# - a host binary bind-mounted in turns into a deleted inode when it is rebuilt
#   during a run: files are copied in.

SD_CACHE=${HERMIT_TEST_CACHE:-/var/cache/hermit-test}
SD_PACKAGES=systemd,systemd-sysv,dbus,libnss-systemd,libseccomp2,libnghttp2-14
SD_LEADER= SD_NSPAWN_PID= SD_WORK= SD_CGROUPS=() SD_WATCHDOG=

sd_note() { printf 'systemd: %s\n' "$*" >&2; }
sd_now() { date +%s.%N; }
sd_since() { awk -v a="$1" -v b="$(sd_now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Installs the host packages the harness needs; returns 1 (with a reason in
# SD_WHY) when they are missing and cannot be installed.
sd_need_packages() {
	local need=()
	command -v systemd-nspawn >/dev/null || need+=(systemd-container)
	command -v debootstrap >/dev/null || need+=(debootstrap)
	command -v nsenter >/dev/null || need+=(util-linux)
	command -v curl >/dev/null || need+=(curl)
	((${#need[@]})) || return 0
	sd_note "installing ${need[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2; then
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2 || {
			SD_WHY="cannot install ${need[*]}"
			return 1
		}
	fi
}

# The Debian mirror this machine's apt already uses (not the security one).
sd_mirror() {
	local m
	m=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
	[[ -n $m ]] || m=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
	echo "${m:-http://deb.debian.org/debian}"
}

# Sets SD_TREE to a ready tree, building it when needed (one builder at a time).
sd_prepare_tree() {
	local suite key tmp t
	suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	suite=${suite:-bookworm}
	key=$suite-$(printf '%s' "$SD_PACKAGES" | md5sum | cut -c1-8)
	SD_TREE=$SD_CACHE/$key
	mkdir -p "$SD_CACHE" || { SD_WHY="cannot create $SD_CACHE"; return 1; }
	exec {lock}>"$SD_CACHE/.lock"
	flock -w 900 "$lock" || { SD_WHY="another tree build held the lock for 15 min"; return 1; }
	if [[ ! -f $SD_TREE/.ready ]]; then
		tmp=$SD_CACHE/.build-$key
		rm -rf --one-file-system "$tmp"
		t=$(sd_now)
		sd_note "building the container tree ($suite, minbase + $SD_PACKAGES) in $SD_TREE, once ..."
		if ! debootstrap --variant=minbase --include="$SD_PACKAGES" "$suite" "$tmp" \
			"$(sd_mirror)" >"$tmp.log" 2>&1; then
			tail -n 20 "$tmp.log" >&2
			exec {lock}>&-
			SD_WHY="debootstrap failed (log: $tmp.log)"
			return 1
		fi
		# smaller and quicker to boot: no package lists, no gettys, no timers
		rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
		echo hermit-test >"$tmp/etc/hostname"
		systemctl --root="$tmp" --quiet mask console-getty.service getty@tty1.service \
			apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
			e2scrub_all.timer fstrim.timer 2>/dev/null
		touch "$tmp/.ready"
		mv "$tmp" "$SD_TREE" && rm -f "$tmp.log" || {
			exec {lock}>&-
			SD_WHY="cannot move the tree into $SD_TREE"
			return 1
		}
		sd_note "tree built in $(sd_since "$t"), $(du -sh "$SD_TREE" | cut -f1)"
	fi
	exec {lock}>&-
}

# The cgroup directories this run's nspawn goes into: a child of our own cgroup
# in the unified hierarchy and in name=systemd (hybrid hosts), so that parallel
# runs do not share nspawn's payload/supervisor groups.
sd_cgroup_dirs() {
	local line path unified=
	if [[ $(stat -fc %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]; then
		unified=/sys/fs/cgroup
	elif [[ $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
		unified=/sys/fs/cgroup/unified
	fi
	while IFS= read -r line; do
		case $line in
		0::*) path=${line#0::}
			[[ -n $unified ]] && echo "$unified${path%/}/$1" ;;
		*:name=systemd:*) path=${line#*:name=systemd:}
			echo "/sys/fs/cgroup/systemd${path%/}/$1" ;;
		esac
	done </proc/self/cgroup
}

# Removes what runs killed outright (SIGKILL) left: work dirs and cgroups of
# runs whose script PID is gone.
sd_reap_stale() {
	local d pid
	for d in /tmp/hermit-systemd.*; do
		[[ -d $d ]] || continue
		pid=${d#/tmp/hermit-systemd.}; pid=${pid%%.*}
		[[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && rm -rf --one-file-system "$d"
	done
	for d in $(sd_cgroup_dirs x); do
		for d in "${d%/x}"/hermit-test-*; do
			[[ -d $d ]] || continue
			pid=${d##*/hermit-test-}
			kill -0 "$pid" 2>/dev/null || find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
}

# The container's PID 1 as a host PID: the child of nspawn that is PID 1 in its
# own PID namespace.
sd_find_leader() {
	local c
	for c in $(cat "/proc/$SD_NSPAWN_PID/task/$SD_NSPAWN_PID/children" 2>/dev/null); do
		grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$c/status" 2>/dev/null && { echo "$c"; return 0; }
	done
	return 1
}

sd_exec() { nsenter -t "$SD_LEADER" -a "$@"; }
sd_net() { nsenter -t "$SD_LEADER" -n "$@"; }
sd_put() { sd_exec install -D -m "${3:-0644}" /dev/stdin "$2" <"$1"; }

# Whether this machine lets us run a container at all (a root without
# CAP_SYS_ADMIN, or a read-only cgroup file system, as in some CI containers,
# does not); returns 1 with SD_WHY set when not.
sd_can_boot() {
	local d probe=hermit-test-probe-$$
	unshare --mount --propagation private true 2>/dev/null ||
		{ SD_WHY="cannot create a mount namespace (no CAP_SYS_ADMIN?)"; return 1; }
	for d in $(sd_cgroup_dirs "$probe"); do
		mkdir "$d" 2>/dev/null || { SD_WHY="cannot create a cgroup under ${d%/*}"; return 1; }
		rmdir "$d"
	done
}

# Boots systemd in a container over a tmpfs overlay of SD_TREE; returns 1 with
# SD_WHY set when it does not come up.
sd_boot() {
	local t i state name=hermit-test-$$
	sd_reap_stale
	SD_WORK=$(mktemp -d "/tmp/hermit-systemd.$$.XXXXXX") || { SD_WHY="mktemp failed"; return 1; }
	mapfile -t SD_CGROUPS < <(sd_cgroup_dirs "$name")
	t=$(sd_now)
	(
		for d in "${SD_CGROUPS[@]}"; do
			mkdir -p "$d" && echo "$BASHPID" >"$d/cgroup.procs" || exit 1
		done
		# nspawn's state directory on a private tmpfs (the host's /run is left
		# alone); nspawn halts the container should this script die
		exec setpriv --pdeathsig TERM -- unshare --mount --propagation private -- /bin/sh -c '
			mkdir -p /run/systemd/nspawn &&
			mount -t tmpfs -o mode=0755 hermit-test /run/systemd/nspawn && exec "$@"' sh \
			systemd-nspawn --quiet --register=no --keep-unit --settings=no \
			--machine="$name" --directory="$SD_TREE" --volatile=overlay \
			--boot --console=read-only --private-network \
			--system-call-filter="landlock_create_ruleset landlock_add_rule landlock_restrict_self bpf" \
			systemd.unit=basic.target
	) </dev/null >"$SD_WORK/console.log" 2>&1 &
	SD_NSPAWN_PID=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$SD_NSPAWN_PID" 2>/dev/null || { SD_WHY="systemd-nspawn exited during boot"; sd_console; return 1; }
		SD_LEADER=$(sd_find_leader) && sd_exec test -S /run/systemd/private 2>/dev/null && break
		SD_LEADER=
		sleep 0.1
	done
	[[ -n $SD_LEADER ]] || { SD_WHY="the container did not come up in 60 s"; sd_console; return 1; }
	state=$(timeout 60 nsenter -t "$SD_LEADER" -a systemctl is-system-running --wait 2>&1)
	case $state in
	running) ;;
	degraded) sd_note "container degraded: $(sd_exec systemctl --failed --no-legend --plain | tr '\n' ' ')" ;;
	*) SD_WHY="the container's boot did not finish: $state"; sd_console; return 1 ;;
	esac
	sd_note "booted $(sd_exec systemctl --version | head -n 1) as PID 1 of a container in $(sd_since "$t")"
}

sd_watchdog() {
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep "$1" &
		s=$!
		wait "$s"
		echo "FAIL $2: still running after $1 s"
		kill -TERM $$
	) &
	SD_WATCHDOG=$!
}

sd_console() { [[ -f $SD_WORK/console.log ]] && sed 's/^/  console| /' "$SD_WORK/console.log" >&2; }

# Halts the container and removes what sd_boot made; the cached tree stays.
sd_teardown() {
	local i d t
	t=$(sd_now)
	if [[ -n $SD_NSPAWN_PID ]] && kill -0 "$SD_NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$SD_NSPAWN_PID"	# nspawn asks the container's systemd to power off
		for ((i = 0; i < 200; i++)); do kill -0 "$SD_NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$SD_NSPAWN_PID" 2>/dev/null; then
			sd_note "the container did not halt in 20 s; killing it"
			[[ -n $SD_LEADER ]] && kill -KILL "$SD_LEADER" 2>/dev/null
			kill -KILL "$SD_NSPAWN_PID" 2>/dev/null
		fi
		wait "$SD_NSPAWN_PID" 2>/dev/null
		sd_note "container halted in $(sd_since "$t")"
	fi
	SD_NSPAWN_PID= SD_LEADER=
	for d in "${SD_CGROUPS[@]}"; do
		for ((i = 0; i < 20; i++)); do
			[[ -d $d ]] || break
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[[ -d $d ]] && sleep 0.1
		done
		[[ -d $d ]] && sd_note "warning: could not remove cgroup $d"
	done
	SD_CGROUPS=()
	[[ -n $SD_WORK ]] && rm -rf --one-file-system "$SD_WORK"
	SD_WORK=
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -uo pipefail
	case ${1:-} in
	--prepare)
		((EUID == 0)) || { sd_note "needs root"; exit 1; }
		sd_need_packages || { sd_note "$SD_WHY"; exit 1; }
		sd_prepare_tree || { sd_note "$SD_WHY"; exit 1; }
		sd_note "tree ready: $SD_TREE"
		;;
	--boot-test)
		# boots, runs a trivial transient unit, halts
		((EUID == 0)) || { sd_note "needs root"; exit 1; }
		sd_prepare_tree || { sd_note "$SD_WHY"; exit 1; }
		trap sd_teardown EXIT
		sd_boot || { sd_note "$SD_WHY"; exit 1; }
		sd_exec systemd-run --quiet --wait --pipe --collect -p DynamicUser=yes id
		;;
	*)
		sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"
		exit 2
		;;
	esac
fi
