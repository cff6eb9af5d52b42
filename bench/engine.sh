#!/usr/bin/env bash
# What a container costs through the engine a user types at: `moat run --rm IMAGE /bin/true` beside
# `podman run --rm IMAGE /bin/true` with crun as podman's runtime, on the same busybox image,
# interleaved; then `moat ps` with 100 running containers. Prints medians and ratios.
#
#   sudo bench/engine.sh                         # 20 measured iterations (+2 warm-up), 100 containers for ps
#   sudo BENCH_ENGINE_ITERATIONS=5 BENCH_PS_CONTAINERS=20 bench/engine.sh
#
# Everything lives in a temporary directory (both stores, podman's state and containers.conf) removed
# on exit; the host's podman and /var/lib/moat are untouched. crun 1.8 refuses this host's hybrid
# cgroup layout, so, as bench/podman.sh does, the loop runs in a private mount namespace where
# /sys/fs/cgroup/unified is covered by an empty tmpfs (moat runs in the same namespace).
# Both engines run their containers without a network: podman's containers.conf below says netns="none",
# and moat gets --network none (its default, the bridge, would add a veth pair, addresses and the host's
# `inet moat` nftables table to every run, which podman is not asked to do here; BENCH_MOAT_NETWORK=bridge
# measures that instead).
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
MOAT=${MOAT:-$REPO/bin/moat}
N=${BENCH_ENGINE_ITERATIONS:-20}
WARMUP=${BENCH_ENGINE_WARMUP:-2}
PS_CONTAINERS=${BENCH_PS_CONTAINERS:-100}
MOAT_NETWORK=${BENCH_MOAT_NETWORK:-none}

die() { printf 'bench/engine: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$MOAT" ] || die "$MOAT not found (make build)"
need=()
for p in podman conmon crun busybox-static util-linux; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; }
fi

if [ "${1:-}" != --inner ]; then
  DIR=$(mktemp -d /tmp/moat-bench-engine.XXXXXX)
  cleanup() {
    "$MOAT" --root "$DIR/moat" rm -f $("$MOAT" --root "$DIR/moat" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    CONTAINERS_CONF=$DIR/containers.conf podman --root "$DIR/storage" --runroot "$DIR/runroot" --storage-driver vfs rm --all --force --time 0 >/dev/null 2>&1 || true
    pkill -9 -f "$DIR" 2>/dev/null || true
    grep -o " $DIR[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$DIR"
  }
  trap cleanup EXIT
  mkdir -p "$DIR/tmp" "$DIR/rootfs/bin" "$DIR/rootfs/etc"
  cat >"$DIR/containers.conf" <<EOF
[containers]
# podman asks for a higher RLIMIT_NOFILE than this host allows (crun then fails setrlimit).
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

[network]
network_config_dir = "$DIR/networks"
EOF
  busybox=$(command -v busybox || echo /bin/busybox)
  cp "$busybox" "$DIR/rootfs/bin/busybox"
  for applet in sh true sleep; do ln -s busybox "$DIR/rootfs/bin/$applet"; done
  echo "root:x:0:0:root:/root:/bin/sh" >"$DIR/rootfs/etc/passwd"
  tar -C "$DIR/rootfs" --owner=0 --group=0 --numeric-owner -cf "$DIR/rootfs.tar" .
  export DIR MOAT N WARMUP PS_CONTAINERS MOAT_NETWORK
  unshare -m --propagation private "$(readlink -f "$0")" --inner
  exit
fi

# ---- inside a private mount namespace ----
mount -t tmpfs none /sys/fs/cgroup/unified
# CPU time: this shell goes into a cgroup of its own, so every process a command starts (moat's monitor and
# the runtime, podman's conmon and crun, detached or not) is counted in its cpuacct.usage; the delta around
# one command is that command's CPU, whatever else loads the machine (wall times move with the load).
CPU_GROUP=/sys/fs/cgroup/cpuacct/moat-bench-$$
if [ -d /sys/fs/cgroup/cpuacct ] && mkdir "$CPU_GROUP" 2>/dev/null; then
  echo $$ >"$CPU_GROUP/cgroup.procs"
  cpu_ns() { cat "$CPU_GROUP/cpuacct.usage"; }
  trap 'echo $$ >/sys/fs/cgroup/cpuacct/cgroup.procs; rmdir "$CPU_GROUP" 2>/dev/null || true' EXIT
else
  cpu_ns() { echo 0; }
fi
podman_cmd() { CONTAINERS_CONF=$DIR/containers.conf TMPDIR=$DIR/tmp podman --root "$DIR/storage" --runroot "$DIR/runroot" --storage-driver overlay "$@"; }
moat_cmd() { "$MOAT" --root "$DIR/moat" "$@"; }
podman_cmd import "$DIR/rootfs.tar" localhost/bench-busybox >/dev/null
moat_cmd import -q "$DIR/rootfs.tar" localhost/bench-busybox >/dev/null
: >"$DIR/samples.moat"; : >"$DIR/samples.podman"; : >"$DIR/cpu.moat"; : >"$DIR/cpu.podman"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((i = 0; i < WARMUP + N; i++)); do
  c0=$(cpu_ns); t0=$EPOCHREALTIME
  moat_cmd run --rm --network "$MOAT_NETWORK" localhost/bench-busybox /bin/true >/dev/null 2>"$DIR/err" || die "moat run failed: $(tail -n 1 "$DIR/err")"
  t1=$EPOCHREALTIME; c1=$(cpu_ns)
  podman_cmd --runtime crun run --rm localhost/bench-busybox /bin/true >/dev/null 2>"$DIR/err" || die "podman run failed: $(tail -n 1 "$DIR/err")"
  t2=$EPOCHREALTIME; c2=$(cpu_ns)
  if ((i >= WARMUP)); then
    echo "$((${t1/./} - ${t0/./}))" >>"$DIR/samples.moat"
    echo "$((${t2/./} - ${t1/./}))" >>"$DIR/samples.podman"
    echo "$(((c1 - c0) / 1000))" >>"$DIR/cpu.moat"
    echo "$(((c2 - c1) / 1000))" >>"$DIR/cpu.podman"
  fi
  printf '.' >&2
done
echo >&2
median() { sort -n "$1" | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
m=$(median "$DIR/samples.moat"); p=$(median "$DIR/samples.podman")
mc=$(median "$DIR/cpu.moat"); pc=$(median "$DIR/cpu.podman")
echo "run --rm IMAGE /bin/true (moat: --network $MOAT_NETWORK; podman: netns none), $N interleaved iterations (ms, medians; CPU: every process the command started, from a cpuacct cgroup):"
echo
echo "| command | wall | CPU | moat / podman (wall) | moat / podman (CPU) |"
echo "|---------|-----:|----:|------:|------:|"
printf '| moat run --rm | %s | %s | %s | %s |\n' "$m" "$mc" "$(ratio "$m" "$p")" "$(ratio "$mc" "$pc")"
printf '| podman run --rm (crun) | %s | %s | 1.00 | 1.00 |\n' "$p" "$pc"
echo
echo "load average (1, 5, 15 min) before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# moat ps with PS_CONTAINERS running containers
for ((i = 0; i < PS_CONTAINERS; i++)); do
  moat_cmd run -d --network "$MOAT_NETWORK" localhost/bench-busybox sleep 600 >/dev/null || die "moat run -d failed"
done
count=$(moat_cmd ps -q | wc -l)
[ "$count" = "$PS_CONTAINERS" ] || die "moat ps shows $count containers, not $PS_CONTAINERS"
: >"$DIR/samples.ps"; : >"$DIR/cpu.ps"
for ((i = 0; i < 2 + N; i++)); do
  c0=$(cpu_ns); t0=$EPOCHREALTIME
  moat_cmd ps >/dev/null
  t1=$EPOCHREALTIME; c1=$(cpu_ns)
  ((i < 2)) || { echo "$((${t1/./} - ${t0/./}))" >>"$DIR/samples.ps"; echo "$(((c1 - c0) / 1000))" >>"$DIR/cpu.ps"; }
done
echo "moat ps with $PS_CONTAINERS running containers: median $(median "$DIR/samples.ps") ms wall, $(median "$DIR/cpu.ps") ms CPU over $N runs (target: under 50 ms)"
moat_cmd rm -f $(moat_cmd ps -aq) >/dev/null
