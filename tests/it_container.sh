#!/bin/bash
# it_container.sh [BIN]: the image of Containerfile, built and run with podman,
# and the Kubernetes example deploy/kubernetes.yaml.
#
#   bash tests/it_container.sh        (from the top of the repository, as root)
#
# - deploy/kubernetes.yaml parses as YAML: a Deployment and a Service whose
#   pod runs as 65534, runAsNonRoot, seccompProfile RuntimeDefault, without a
#   service account token, its container with readOnlyRootFilesystem,
#   allowPrivilegeEscalation false, every capability dropped, probes on /,
#   resources, the image's port;
# - podman builds the image from this tree, FROM a local builder image (a
#   debootstrap minbase tree with the build's packages, imported once: no
#   registry is used, and the build downloads nothing);
# - the image holds hermit and the libraries it loads, nothing else: no
#   shell (--entrypoint /bin/sh fails), user 65534:65534;
# - run with --read-only --cap-drop=ALL --security-opt no-new-privileges
#   --user 65534:65534, content from a read-only volume: a GET through the
#   port published on 127.0.0.1 returns the file's bytes; hermit's startup
#   line shows every layer applied (Landlock, seccomp, no_new_privs, no
#   capability, rlimits), and /proc of the host agrees; hermit --audit passes
#   inside the same container;
# - under a runtime seccomp profile without the Landlock system calls (an old
#   container runtime's default, answering ENOSYS or EPERM), hermit refuses
#   to start and says why.
# BIN is not used (the image builds its own). Not root, or podman not
# installable or unable to run a container here: SKIP with the reason.
# Caches: the builder's tree in $HERMIT_TEST_CACHE (as tests/systemd), the
# images in build/container/ (podman's own storage, vfs): a second run only
# rebuilds what changed. Bounded: 15 minutes (a first run debootstraps).
# Ends with "container: N passed, N failed, N skipped".

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
SUITE=container
. tests/suite.sh

# ---- the manifest (no cluster needed) ---------------------------------------
PY=python3
for p in python3 /usr/bin/python3; do
	"$p" -c 'import yaml' 2>/dev/null && { PY=$p; break; }
done
t_manifest() {
	"$PY" - deploy/kubernetes.yaml Containerfile <<-'EOF'
	import re, sys, yaml
	docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
	kinds = {d["kind"]: d for d in docs}
	bad = []
	def want(what, got, expected):
	    if got != expected:
	        bad.append(f"{what}: {got!r}, expected {expected!r}")
	want("kinds", sorted(kinds), ["ConfigMap", "Deployment", "Service"])
	dep, svc = kinds["Deployment"], kinds["Service"]
	pod = dep["spec"]["template"]["spec"]
	want("automountServiceAccountToken", pod.get("automountServiceAccountToken"), False)
	psc = pod.get("securityContext", {})
	want("pod runAsNonRoot", psc.get("runAsNonRoot"), True)
	want("pod runAsUser", psc.get("runAsUser"), 65534)
	want("pod runAsGroup", psc.get("runAsGroup"), 65534)
	want("pod seccompProfile", psc.get("seccompProfile"), {"type": "RuntimeDefault"})
	cs = pod["containers"]
	want("containers", len(cs), 1)
	c = cs[0]
	sc = c.get("securityContext", {})
	want("readOnlyRootFilesystem", sc.get("readOnlyRootFilesystem"), True)
	want("allowPrivilegeEscalation", sc.get("allowPrivilegeEscalation"), False)
	want("privileged", sc.get("privileged", False), False)
	want("capabilities", sc.get("capabilities"), {"drop": ["ALL"]})
	want("container runAsNonRoot", sc.get("runAsNonRoot", True), True)
	for k in ("limits", "requests"):
	    r = c.get("resources", {}).get(k, {})
	    if not ("cpu" in r and "memory" in r):
	        bad.append(f"resources.{k}: {r!r}, expected cpu and memory")
	# the image's port (Containerfile: EXPOSE, --listen :PORT)
	cf = open(sys.argv[2]).read()
	port = int(re.search(r"^EXPOSE (\d+)", cf, re.M).group(1))
	want("containerPort", [p["containerPort"] for p in c.get("ports", [])], [port])
	pname = c["ports"][0].get("name")
	for probe in ("readinessProbe", "livenessProbe"):
	    g = c.get(probe, {}).get("httpGet", {})
	    want(f"{probe} path", g.get("path"), "/")
	    if g.get("port") not in (port, pname):
	        bad.append(f"{probe} port: {g.get('port')!r}, expected {port} or {pname!r}")
	want("args listen", "--listen" in c.get("args", []) and f":{port}" in c["args"], True)
	mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
	want("content mounted read-only at /srv/www", mounts.get("/srv/www", {}).get("readOnly"), True)
	vols = {v["name"]: v for v in pod.get("volumes", [])}
	cm = vols.get(mounts.get("/srv/www", {}).get("name"), {}).get("configMap", {}).get("name")
	want("the site's ConfigMap", cm, kinds["ConfigMap"]["metadata"]["name"])
	want("the ConfigMap has the probes' index.html", "index.html" in kinds["ConfigMap"]["data"], True)
	sel = dep["spec"]["selector"]["matchLabels"]
	want("Service selector", svc["spec"]["selector"], sel)
	tl = dep["spec"]["template"]["metadata"]["labels"]
	want("template labels include the selector", {k: tl.get(k) for k in sel}, sel)
	tps = [p.get("targetPort") for p in svc["spec"]["ports"]]
	if not tps or any(t not in (port, pname) for t in tps):
	    bad.append(f"Service targetPort: {tps!r}, expected {port} or {pname!r}")
	print("\n".join(bad))
	sys.exit(1 if bad else 0)
	EOF
}
if "$PY" -c 'import yaml' 2>/dev/null; then
	check "manifest: ConfigMap, Deployment + Service, restrictive securityContext, probes, resources" t_manifest
else
	skip "manifest: no python3 with the yaml module (python3-yaml)"
fi

# ---- podman -----------------------------------------------------------------
((EUID == 0)) || skip_all "needs root (podman's storage, networks and runtime)"
if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
	./tests/deps.sh test >/dev/null 2>&1
	command -v podman >/dev/null && command -v debootstrap >/dev/null ||
		skip_all "podman and debootstrap not installable"
fi
. tests/systemd/harness.sh	# sd_mirror, sd_watchdog

STORE=$PWD/build/container
CACHE=${HERMIT_TEST_CACHE:-/var/cache/hermit-test}
mkdir -p "$STORE" "$CACHE" || skip_all "cannot create $STORE or $CACHE"
exec {lock}>"$STORE/.lock"
flock -w 900 "$lock" || skip_all "another run held $STORE/.lock for 15 min"
WORK=$(mktemp -d /tmp/hermit-container.XXXXXX) || exit 1
NAME=hermit-test-$$
RUNTIME=
pm() {
	timeout "${PM_TIMEOUT:-120}" podman --root "$STORE/storage" --runroot "$STORE/run" \
		--tmpdir "$STORE/tmp" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file ${RUNTIME:+--runtime "$RUNTIME"} "$@"
}
trap 'trap - EXIT INT TERM HUP; kill "$SD_WATCHDOG" 2>/dev/null
	pm rm -f -t 0 "$NAME-web" "$NAME-base" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
for sig in INT:130 TERM:143 HUP:129; do trap "exit ${sig#*:}" "${sig%:*}"; done
sd_watchdog 900 container
# A runtime that lacks CAP_SYS_RESOURCE (itself in a container) cannot raise
# rlimits, and podman asks for more than the defaults: ask for ours.
LIMITS=(--ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)" --ulimit "nproc=4096:4096")
# what every run of the image gets; the tests name a port and a volume
HARDENED=(--read-only --cap-drop=ALL --security-opt no-new-privileges --user 65534:65534)

# The builder: debootstrap minbase with the build's packages (those of
# tests/deps.sh build), imported as a local image; the tree is cached as a tar.
CODENAME=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
CODENAME=${CODENAME:-bookworm}
BUILD_PKGS=$(sed -n 's/^build="\(.*\)"$/\1/p' tests/deps.sh)
BPKGS=$(echo "$BUILD_PKGS libc6-dev" | tr ' ' ',')
KEY=$CODENAME-$(printf '%s' "$BPKGS" | md5sum | cut -c1-8)
BUILDER=localhost/hermit-builder:$KEY
IMAGE=localhost/hermit:test
make_builder_tar() {
	local tar=$CACHE/container-builder-$KEY.tar tmp=$CACHE/.build-container-$KEY t=$SECONDS
	[[ -f $tar ]] && return 0
	rm -rf --one-file-system "$tmp"
	echo "container: debootstrap $CODENAME minbase + $BPKGS into $tar, once ..." >&2
	timeout 600 debootstrap --variant=minbase --include="$BPKGS" "$CODENAME" "$tmp" "$(sd_mirror)" \
		>"$tmp.log" 2>&1 || { tail -n 20 "$tmp.log"; return 1; }
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
	tar -C "$tmp" --numeric-owner -cf "$tar.part" . && mv "$tar.part" "$tar" || return 1
	rm -rf --one-file-system "$tmp" "$tmp.log"
	echo "container: builder tree made in $((SECONDS - t)) s" >&2
}
if ! pm image exists "$BUILDER"; then
	exec {clock}>"$CACHE/.lock"	# one builder at a time, as tests/systemd's tree
	flock -w 900 "$clock" || skip_all "another tree build held $CACHE/.lock for 15 min"
	out=$(make_builder_tar 2>&1) || skip_all "cannot debootstrap the builder: $out"
	exec {clock}>&-
	out=$(pm import "$CACHE/container-builder-$KEY.tar" "$BUILDER" 2>&1) ||
		skip_all "podman import of the builder failed: $(tail -n 3 <<<"$out")"
fi

# The first OCI runtime that can run a container here (crun refuses hosts
# with cgroup v1 controllers next to cgroup v2 ones; runc does not).
why=
for rt in crun runc; do
	command -v "$rt" >/dev/null || continue
	if out=$(RUNTIME=$rt pm run --rm --network none "${LIMITS[@]}" "$BUILDER" true 2>&1); then
		RUNTIME=$rt
		break
	fi
	why+=" $rt: $(tail -n 1 <<<"$out");"
done
[[ -n $RUNTIME ]] || skip_all "podman cannot run a container here:${why:- no crun or runc}"
echo "container: runtime $RUNTIME, storage vfs in build/container"

# ---- the image ----------------------------------------------------------------
# The build stage is tagged too, so that pruning the untagged images (those
# of earlier sources) keeps the cache of these: an unchanged tree is not
# compiled again.
t=$SECONDS
for target in "--target build -t $IMAGE-build" "-t $IMAGE"; do
	# shellcheck disable=SC2086
	if ! out=$(PM_TIMEOUT=600 pm build --layers --pull=never --network none "${LIMITS[@]}" \
		--build-arg BUILDER="$BUILDER" -f Containerfile $target . 2>&1); then
		fail "build: podman build --build-arg BUILDER=(local debootstrap image)" "$(tail -n 30 <<<"$out")"
		summary
	fi
done
ok "build: podman build --build-arg BUILDER=(local debootstrap image), $((SECONDS - t)) s"
pm image prune -f >/dev/null 2>&1

t_contents() {
	local root files bad
	root=$(pm image mount "$IMAGE") || return 1
	files=$(cd "$root" && find . ! -type d | sed 's|^\.||' | sort)
	pm image unmount "$IMAGE" >/dev/null
	# hermit, the loader and the five libraries it names: nothing else
	bad=$(grep -vxE '/usr/sbin/hermit|/lib(64|/[^/]+)?/(ld-linux[^/]*|lib(c|seccomp|ssl|crypto|nghttp2)\.so\.[0-9]+)' <<<"$files")
	[[ -z $bad ]] || { echo "unexpected files:"; echo "$bad"; return 1; }
	grep -qx /usr/sbin/hermit <<<"$files" || { echo "no /usr/sbin/hermit:"; echo "$files"; return 1; }
}
check "image: hermit, the loader and its libraries, nothing else" t_contents

t_config() {
	local cfg
	cfg=$(pm image inspect --format '{{.Config.User}} {{json .Config.Entrypoint}}' "$IMAGE") || return 1
	[[ $cfg == '65534:65534 ["/usr/sbin/hermit"]' ]] || { echo "user, entrypoint: $cfg"; return 1; }
}
check "image: user 65534:65534 (numeric), entrypoint hermit" t_config

t_no_shell() {
	local out
	if out=$(pm run --rm --network none "${LIMITS[@]}" --entrypoint /bin/sh "$IMAGE" -c 'echo shell' 2>&1); then
		echo "--entrypoint /bin/sh ran: $out"
		return 1
	fi
	grep -qi 'no such file' <<<"$out" || { echo "failed, but not for want of a shell: $out"; return 1; }
}
check "image: no shell (--entrypoint /bin/sh fails: no such file)" t_no_shell

# ---- serving ------------------------------------------------------------------
mkdir -p "$WORK/site"
printf 'served from the image\n' >"$WORK/site/index.html"
head -c 200000 /dev/urandom >"$WORK/site/blob.bin"
# a ConfigMap volume's layout: each file a symlink through ..data
mkdir "$WORK/site/..2026_01_01_00_00_00.1"
printf 'from a ConfigMap\n' >"$WORK/site/..2026_01_01_00_00_00.1/cm.html"
ln -s ..2026_01_01_00_00_00.1 "$WORK/site/..data"
ln -s ..data/cm.html "$WORK/site/cm.html"
chmod -R go+rX "$WORK/site"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

if ! out=$(pm run -d --name "$NAME-web" "${HARDENED[@]}" "${LIMITS[@]}" --network slirp4netns \
	-p "127.0.0.1:$PORT:8080" -v "$WORK/site:/srv/www:ro" "$IMAGE" 2>&1); then
	fail "serve: podman run ${HARDENED[*]} -p 127.0.0.1:$PORT:8080" "$out"
	summary
fi
up=
for _ in $(seq 50); do
	pm logs "$NAME-web" 2>&1 | grep -q '^hermit: serving' && { up=1; break; }
	sleep 0.2
done
[[ -n $up ]] || { fail "serve: hermit up in the container" "$(pm logs "$NAME-web" 2>&1)"; summary; }

t_get() {
	curl -sS --max-time 10 -o "$WORK/got" "http://127.0.0.1:$PORT/blob.bin" || return 1
	cmp "$WORK/site/blob.bin" "$WORK/got" || return 1
	[[ $(curl -sS --max-time 10 "http://127.0.0.1:$PORT/") == "served from the image" ]] ||
		{ echo "GET / is not index.html"; return 1; }
	[[ $(curl -sS --max-time 10 "http://127.0.0.1:$PORT/cm.html") == "from a ConfigMap" ]] ||
		{ echo "GET /cm.html (symlink through ..data) is not its file"; return 1; }
}
check "serve: GET through 127.0.0.1:$PORT returns the file's bytes (200000 B, /, a ConfigMap's symlink)" t_get

# hermit's own account: every layer applied, as an unprivileged process can
t_confined() {
	local line f bad=
	line=$(pm logs "$NAME-web" 2>&1 | grep '^hermit: confined:')
	[[ -n $line ]] || { echo "no startup line:"; pm logs "$NAME-web" 2>&1; return 1; }
	for f in uid=65534 gid=65534 groups=none root=landlock:/srv/www 'landlock=abi[0-9]+' \
		seccomp=kill nnp=yes caps=none rlimits=yes; do
		grep -qE "(^| )$f( |$)" <<<"$line" || bad+=" $f"
	done
	[[ -z $bad ]] || { echo "missing:$bad in: $line"; return 1; }
}
check "confinement: the startup line shows Landlock, seccomp, nnp, no capability, rlimits" t_confined

# and the kernel's account of the running process, from the host. The
# runtime's own filter makes "Seccomp: 2" true of any process in the
# container: hermit's must stack more filters than a process that did not
# confine itself (sleep, in the builder image, started the same way).
filters() { sed -n 's/^Seccomp_filters:\s*//p' "/proc/$1/status"; }
t_proc() {
	local pid st want bad= base
	pid=$(pm inspect --format '{{.State.Pid}}' "$NAME-web") || return 1
	st=$(cat "/proc/$pid/status") || return 1
	grep -q '^Name:.*hermit' <<<"$st" || { echo "pid $pid is not hermit"; return 1; }
	for want in 'Uid:\s+65534\s+65534\s+65534\s+65534' 'Gid:\s+65534\s+65534\s+65534\s+65534' \
		'NoNewPrivs:\s+1' 'Seccomp:\s+2' 'CapEff:\s+0+$' 'CapPrm:\s+0+$' 'CapBnd:\s+0+$'; do
		grep -qP "^$want" <<<"$st" || bad+=" $want;"
	done
	[[ -z $bad ]] || { echo "/proc/$pid/status lacks:$bad"; grep -E '^(Uid|Gid|NoNewPrivs|Seccomp|Cap)' <<<"$st"; return 1; }
	pm run -d --name "$NAME-base" --network none "${HARDENED[@]}" "${LIMITS[@]}" "$BUILDER" sleep 60 >/dev/null || return 1
	base=$(filters "$(pm inspect --format '{{.State.Pid}}' "$NAME-base")")
	pm rm -f -t 0 "$NAME-base" >/dev/null 2>&1
	[[ -n $base ]] && (($(filters "$pid") > base)) ||
		{ echo "seccomp filters: hermit $(filters "$pid"), a process of the runtime alone ${base:-?}"; return 1; }
}
check "confinement: /proc of the host: uid 65534, no_new_privs, hermit's own seccomp filter, no capability" t_proc
pm rm -f -t 5 "$NAME-web" >/dev/null 2>&1

t_audit() {
	local out
	out=$(pm run --rm --network none "${HARDENED[@]}" "${LIMITS[@]}" -v "$WORK/site:/srv/www:ro" \
		"$IMAGE" --audit /srv/www 2>&1) || { echo "exit $?"; echo "$out"; return 1; }
	grep -q '^hermit: audit: passed' <<<"$out" || { echo "$out"; return 1; }
}
check "confinement: hermit --audit passes inside the hardened container" t_audit

# A runtime profile without landlock_* (an older runtime's default: podman's
# answers ENOSYS, Docker's used to answer EPERM): no chroot and no Landlock
# would leave ROOT unfenced, so hermit must refuse, and say so.
t_no_landlock() {	# $1: the errno the profile answers
	local prof=/usr/share/containers/seccomp.json out
	"$PY" - "$prof" "$WORK/no-landlock.json" "$1" <<-'EOF' || return 1
	import json, sys
	p = json.load(open(sys.argv[1]))
	p["defaultErrnoRet"] = int(sys.argv[3])
	for s in p["syscalls"]:
	    s["names"] = [n for n in s["names"] if not n.startswith("landlock_")]
	json.dump(p, open(sys.argv[2], "w"))
	EOF
	if out=$(pm run --rm --network none "${HARDENED[@]}" "${LIMITS[@]}" \
		--security-opt seccomp="$WORK/no-landlock.json" "$IMAGE" --audit /srv/www 2>&1); then
		echo "ran without Landlock:"; echo "$out"; return 1
	fi
	grep -qi landlock <<<"$out" || { echo "refused, but not naming Landlock: $out"; return 1; }
	echo "$out" | head -n 3 >"$WORK/no-landlock.out"
}
if [[ -f /usr/share/containers/seccomp.json ]]; then
	for e in ENOSYS:38 EPERM:1; do
		rm -f "$WORK/no-landlock.out"
		check "fail closed: a runtime profile answering ${e%:*} to Landlock's calls: hermit refuses to start" \
			t_no_landlock "${e#*:}"
		[[ -f $WORK/no-landlock.out ]] && sed 's/^/     | /' "$WORK/no-landlock.out"
	done
else
	skip "fail closed: no /usr/share/containers/seccomp.json to derive a profile from"
fi
summary
