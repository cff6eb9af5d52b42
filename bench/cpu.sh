#!/usr/bin/env bash
# CPU time and page faults per runtime call, for a machine too busy for wall-clock medians.
# The same bundle and phases as bench/run.sh (run; create, start, delete), every runtime in turn
# per iteration (order rotated), each call under `perf stat -e task-clock,page-faults`. Counts
# cover the runtime process and the children that exited before it did (for `run`, the container's
# init and program; for `create`, not the init, which waits for `start`).
#
#   sudo bench/cpu.sh                     # 30 iterations, moat and crun
#   sudo BENCH_CPU_ITERATIONS=10 BENCH_CPU_RUNTIMES="moat crun runc" bench/cpu.sh
#   sudo MOAT=/path/to/moat-runtime bench/cpu.sh
#
# It runs in a private mount namespace with /sys/fs/cgroup/unified covered by a tmpfs (crun 1.8
# refuses this host's hybrid cgroup layout otherwise; bench/run.sh does the same). Everything it
# makes lives under one temporary directory and is removed on exit.
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
die() { printf 'bench/cpu: error: %s\n' "$*" >&2; exit 1; }

if [ "${1:-}" != --inner ]; then
  [ "$(id -u)" = 0 ] || die "run as root"
  export MOAT=${MOAT:-$REPO/bin/moat-runtime} N=${BENCH_CPU_ITERATIONS:-30} RTS=${BENCH_CPU_RUNTIMES:-moat crun}
  [[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_CPU_ITERATIONS must be a positive number"
  [ -x "$MOAT" ] || die "$MOAT not found (make build)"
  command -v perf >/dev/null || die "perf is not installed (apt-get install linux-perf)"
  command -v jq >/dev/null || die "jq is not installed"
  DIR=$(mktemp -d /tmp/moat-bench-cpu.XXXXXX)
  export DIR
  cleanup() {
    local rt bin d
    for rt in $RTS; do
      case $rt in moat) bin=$MOAT ;; *) bin=$(command -v "$rt") ;; esac
      for d in "$DIR/root-$rt"/*; do
        [ -e "$d" ] && unshare -m --propagation private sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified; "$0" --root "$1" delete -f "$2"' \
          "$bin" "$DIR/root-$rt" "$(basename "$d")" >/dev/null 2>&1 || true
      done
    done
    rm -rf "$DIR"
  }
  trap cleanup EXIT
  MOAT=$MOAT "$REPO/scripts/make-bundle.sh" "$DIR/bundle" /bin/true >/dev/null
  # crun 1.8 accepts only "1.0.x" specs; moat and runc accept 1.0.2 too (as in bench/run.sh).
  jq '.ociVersion = "1.0.2"' "$DIR/bundle/config.json" >"$DIR/config.json" && mv "$DIR/config.json" "$DIR/bundle/config.json"
  unshare -m --propagation private "$(readlink -f "$0")" --inner
  exit
fi

# ---- inside a private mount namespace ----
mount -t tmpfs none /sys/fs/cgroup/unified
read -r -a rts <<<"$RTS"
bin_of() { case $1 in moat) echo "$MOAT" ;; *) command -v "$1" ;; esac; }
mkdir -p "$DIR/samples"
call() { # rt phase args...: one call under perf stat; appends "task-clock-ms page-faults"
  local rt=$1 phase=$2 bin
  shift 2
  bin=$(bin_of "$rt")
  perf stat -x, -e task-clock,page-faults -o "$DIR/stat" "$bin" --root "$DIR/root-$rt" "$@" </dev/null >/dev/null 2>"$DIR/err" ||
    die "$rt $phase failed: $(tail -n 1 "$DIR/err")"
  awk -F, '/task-clock/ { t = $1 } /page-faults/ { f = $1 } END { print t, f }' "$DIR/stat" >>"$DIR/samples/$rt.$phase"
}
wait_stopped() { # rt id
  local i bin
  bin=$(bin_of "$1")
  for ((i = 0; i < 2000; i++)); do
    "$bin" --root "$DIR/root-$1" state "$2" 2>/dev/null | grep -q '"status": *"stopped"' && return 0
    sleep 0.005
  done
  die "$1: container $2 did not stop within 10 s"
}
n=${#rts[@]}
for ((i = 0; i < N + 1; i++)); do # iteration 0 warms caches and is not counted
  for ((j = 0; j < n; j++)); do
    rt=${rts[(i + j) % n]}
    call "$rt" run run --bundle "$DIR/bundle" "r$i"
    "$(bin_of "$rt")" --root "$DIR/root-$rt" delete -f "r$i" >/dev/null 2>&1 || true
    call "$rt" create create --bundle "$DIR/bundle" "c$i"
    call "$rt" start start "c$i"
    wait_stopped "$rt" "c$i"
    call "$rt" delete delete "c$i"
  done
  if ((i == 0)); then rm -f "$DIR"/samples/*; fi
  printf '.' >&2
done
echo >&2
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "CPU time (task-clock) and page faults per call, medians of $N interleaved iterations; $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '| phase  |'; for rt in "${rts[@]}"; do printf ' %s ms | %s faults |' "$rt" "$rt"; done
[ "${rts[0]}" = moat ] && [ "$n" -gt 1 ] && printf ' moat/%s CPU |' "${rts[1]}"
echo
printf '|--------|'; for rt in "${rts[@]}"; do printf -- '-----:|-----:|'; done
[ "${rts[0]}" = moat ] && [ "$n" -gt 1 ] && printf -- '-----:|'
echo
for phase in run create start delete; do
  printf '| %-6s |' "$phase"
  declare -A cpu=()
  for rt in "${rts[@]}"; do
    cpu[$rt]=$(cut -d' ' -f1 "$DIR/samples/$rt.$phase" | median)
    printf ' %s | %s |' "${cpu[$rt]}" "$(cut -d' ' -f2 "$DIR/samples/$rt.$phase" | median)"
  done
  [ "${rts[0]}" = moat ] && [ "$n" -gt 1 ] && printf ' %s |' "$(awk -v a="${cpu[moat]}" -v b="${cpu[${rts[1]}]}" 'BEGIN { printf "%.2fx", a / b }')"
  echo
done
