#!/usr/bin/env bash
# What a network costs: `moat run --rm --network bridge IMAGE true` beside `--network none` (target: at
# most 1.5x), and `podman run --rm` on its default network (netavark) where podman's network works here,
# interleaved, medians and ratios in one run.
#
#   sudo bench/network.sh                  # 20 measured iterations (+2 warm-up)
#   sudo BENCH_NETWORK_ITERATIONS=5 bench/network.sh
#
# Everything happens in a network namespace of its own (its bridges, its nftables table) and a temporary
# directory, both removed on exit: the machine's interfaces and ruleset are untouched.
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
MOAT=${MOAT:-$REPO/bin/moat}
N=${BENCH_NETWORK_ITERATIONS:-20}
WARMUP=${BENCH_NETWORK_WARMUP:-2}

die() { printf 'bench/network: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$MOAT" ] || die "$MOAT not found (make build)"

if [ "${1:-}" != --inner ]; then
  DIR=$(mktemp -d /tmp/moat-bench-net.XXXXXX)
  NS=moatbench-$$
  cleanup() {
    ip netns exec "$NS" true 2>/dev/null && nsenter --net=/run/netns/"$NS" "$MOAT" --root "$DIR/moat" rm -f $(nsenter --net=/run/netns/"$NS" "$MOAT" --root "$DIR/moat" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    pkill -9 -f "$DIR" 2>/dev/null || true
    { grep -o " $DIR[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$DIR"
  }
  trap cleanup EXIT
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  mkdir -p "$DIR/tmp" "$DIR/rootfs/bin" "$DIR/rootfs/etc"
  cp "$(command -v busybox || echo /bin/busybox)" "$DIR/rootfs/bin/busybox"
  for applet in sh true sleep; do ln -s busybox "$DIR/rootfs/bin/$applet"; done
  echo "root:x:0:0:root:/root:/bin/sh" >"$DIR/rootfs/etc/passwd"
  tar -C "$DIR/rootfs" --owner=0 --group=0 --numeric-owner -cf "$DIR/rootfs.tar" .
  # podman asks for a higher RLIMIT_NOFILE than this host allows (crun then fails setrlimit); its network stays the default.
  printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' >"$DIR/containers.conf"
  export DIR MOAT N WARMUP
  # A private mount namespace too (podman's and moat's mounts go with it); the network namespace is the test host's.
  nsenter --net=/run/netns/"$NS" unshare -m --propagation private "$(readlink -f "$0")" --inner
  exit
fi

# ---- inside the namespaces ----
mountpoint -q /sys/fs/cgroup/unified 2>/dev/null && mount -t tmpfs none /sys/fs/cgroup/unified
moat_cmd() { "$MOAT" --root "$DIR/moat" "$@"; }
moat_cmd import -q "$DIR/rootfs.tar" localhost/bench-busybox >/dev/null
podman_ok=0
podman_cmd() { CONTAINERS_CONF=$DIR/containers.conf TMPDIR=$DIR/tmp podman --root "$DIR/storage" --runroot "$DIR/runroot" --storage-driver overlay --cgroup-manager cgroupfs --events-backend file "$@"; }
if command -v podman >/dev/null && podman_cmd import "$DIR/rootfs.tar" localhost/bench-busybox >/dev/null 2>&1 \
  && podman_cmd --runtime crun run --rm localhost/bench-busybox /bin/true >/dev/null 2>"$DIR/podman-err"; then
  podman_ok=1
fi
: >"$DIR/samples.bridge"; : >"$DIR/samples.none"; : >"$DIR/samples.podman"
for ((i = 0; i < WARMUP + N; i++)); do
  t0=$EPOCHREALTIME
  moat_cmd run --rm --network bridge localhost/bench-busybox /bin/true >/dev/null 2>"$DIR/err" || die "moat run --network bridge failed: $(tail -n 1 "$DIR/err")"
  t1=$EPOCHREALTIME
  moat_cmd run --rm --network none localhost/bench-busybox /bin/true >/dev/null 2>"$DIR/err" || die "moat run --network none failed: $(tail -n 1 "$DIR/err")"
  t2=$EPOCHREALTIME
  if ((podman_ok)); then podman_cmd --runtime crun run --rm localhost/bench-busybox /bin/true >/dev/null 2>&1 || die "podman run failed"; fi
  t3=$EPOCHREALTIME
  if ((i >= WARMUP)); then
    echo "$((${t1/./} - ${t0/./}))" >>"$DIR/samples.bridge"
    echo "$((${t2/./} - ${t1/./}))" >>"$DIR/samples.none"
    echo "$((${t3/./} - ${t2/./}))" >>"$DIR/samples.podman"
  fi
  printf '.' >&2
done
echo >&2
median() { sort -n "$1" | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'; }
b=$(median "$DIR/samples.bridge"); n=$(median "$DIR/samples.none")
echo "run --rm IMAGE /bin/true, $N interleaved iterations (ms, medians):"
echo
echo "| command | median | / --network none |"
echo "|---------|-------:|-----------------:|"
printf '| moat run --rm --network bridge | %s | %s |\n' "$b" "$(awk -v a="$b" -v b="$n" 'BEGIN {printf "%.2f", a / b}')"
printf '| moat run --rm --network none | %s | 1.00 |\n' "$n"
if ((podman_ok)); then
  p=$(median "$DIR/samples.podman")
  printf '| podman run --rm (netavark, crun) | %s | %s |\n' "$p" "$(awk -v a="$p" -v b="$n" 'BEGIN {printf "%.2f", a / b}')"
  echo
  echo "moat bridge / podman: $(awk -v a="$b" -v b="$p" 'BEGIN {printf "%.2f", a / b}')"
else
  echo
  echo "podman's default network does not work here: $(tail -n 1 "$DIR/podman-err" 2>/dev/null || echo 'podman is not installed')"
fi
