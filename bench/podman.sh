#!/usr/bin/env bash
# What a container costs through an engine: `podman run --rm IMAGE /bin/true` with moat, runc and
# crun as podman's OCI runtime, interleaved, on one private podman instance. Podman's own time
# (about 190 ms here) is the same for all three; the differences between the medians are the
# runtimes' (podman calls the runtime for create, start, state and delete).
#
#   sudo bench/podman.sh                       # 20 measured iterations per runtime (+2 warm-up)
#   sudo BENCH_PODMAN_ITERATIONS=5 bench/podman.sh
#
# Everything lives in a temporary directory (storage, state, containers.conf) that is removed on
# exit, and the containers run under a cgroup parent of their own; the host's podman is untouched.
# crun 1.8 refuses this host's hybrid cgroup layout, so, as bench/run.sh does, the loop runs in a
# private mount namespace where /sys/fs/cgroup/unified is covered by an empty tmpfs.
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
MOAT=${MOAT:-$REPO/bin/moat-runtime}
N=${BENCH_PODMAN_ITERATIONS:-20}
WARMUP=${BENCH_PODMAN_WARMUP:-2}

die() { printf 'bench/podman: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$MOAT" ] || die "$MOAT not found (make build)"
need=()
for p in podman conmon runc crun busybox-static util-linux; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; }
fi

if [ "${1:-}" != --inner ]; then
  DIR=$(mktemp -d /tmp/moat-bench-podman.XXXXXX)
  CGROUP_PARENT=/moat-bench-podman-$$
  cleanup() {
    podman_cmd() { CONTAINERS_CONF=$DIR/containers.conf TMPDIR=$DIR/tmp podman --root "$DIR/storage" --runroot "$DIR/runroot" --storage-driver vfs "$@"; }
    podman_cmd rm --all --force --time 0 >/dev/null 2>&1 || true
    # conmon or a container that podman could not stop
    pkill -9 -f "$DIR" 2>/dev/null || true
    for h in /sys/fs/cgroup/*/; do
      [ -d "$h$CGROUP_PARENT" ] && find "$h$CGROUP_PARENT" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
    umount -R "$DIR/storage" 2>/dev/null || true
    rm -rf "$DIR"
  }
  trap cleanup EXIT
  mkdir -p "$DIR/tmp" "$DIR/rootfs/bin"
  cat >"$DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$DIR/events.log"
static_dir = "$DIR/libpod"
tmp_dir = "$DIR/libpod-tmp"
volume_path = "$DIR/volumes"

[engine.runtimes]
moat = ["$MOAT"]
runc = ["$(command -v runc)"]
crun = ["$(command -v crun)"]

[network]
network_config_dir = "$DIR/networks"
EOF
  busybox=$(command -v busybox || echo /bin/busybox)
  cp "$busybox" "$DIR/rootfs/bin/busybox"
  for applet in sh true; do ln -s busybox "$DIR/rootfs/bin/$applet"; done
  tar -C "$DIR/rootfs" --owner=0 --group=0 --numeric-owner -cf "$DIR/rootfs.tar" .
  export DIR CGROUP_PARENT MOAT N WARMUP
  unshare -m --propagation private "$(readlink -f "$0")" --inner
  exit
fi

# ---- inside a private mount namespace ----
mount -t tmpfs none /sys/fs/cgroup/unified
podman_cmd() { CONTAINERS_CONF=$DIR/containers.conf TMPDIR=$DIR/tmp podman --root "$DIR/storage" --runroot "$DIR/runroot" --storage-driver vfs "$@"; }
podman_cmd import "$DIR/rootfs.tar" localhost/moat-bench-busybox >/dev/null
runtimes=(moat runc crun)
for rt in "${runtimes[@]}"; do : >"$DIR/samples.$rt"; done
for ((i = 0; i < WARMUP + N; i++)); do
  # The order rotates each iteration, so that no runtime always follows the same one.
  for ((j = 0; j < ${#runtimes[@]}; j++)); do
    rt=${runtimes[(i + j) % ${#runtimes[@]}]}
    t0=$EPOCHREALTIME
    if ! podman_cmd --runtime "$rt" run --rm --cgroup-parent "$CGROUP_PARENT" localhost/moat-bench-busybox /bin/true >/dev/null 2>"$DIR/err"; then
      printf 'bench/podman: %s failed: %s\n' "$rt" "$(tail -n 1 "$DIR/err")" >&2
      exit 1
    fi
    t1=$EPOCHREALTIME
    ((i < WARMUP)) || echo "$(((${t1/./} - ${t0/./})))" >>"$DIR/samples.$rt"
  done
  printf '.' >&2
done
echo >&2
median() { sort -n "$1" | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'; }
declare -A med
echo "podman run --rm ... /bin/true, $N interleaved iterations per runtime (order rotated), $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg) (ms):"
echo
echo "| runtime | median | difference to moat |"
echo "|---------|-------:|-------------------:|"
for rt in "${runtimes[@]}"; do med[$rt]=$(median "$DIR/samples.$rt"); done
for rt in "${runtimes[@]}"; do
  printf '| %-7s | %6s | %18s |\n' "$rt" "${med[$rt]}" "$(awk -v a="${med[$rt]}" -v b="${med[moat]}" 'BEGIN {printf "%+.1f", a - b}')"
done
