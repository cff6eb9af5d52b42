#!/usr/bin/env bash
# The vm tier's costs (docs/vm.md, "Performance"): the time from `moat-runtime run` to the
# workload's first instruction (its first byte of stdout reaching the host: the workload's first
# act is to print it), and the resident memory of QEMU for a 128 MiB guest, both under whatever
# accelerator the tier picks (TCG on a machine without /dev/kvm). Not a test: prints figures.
#
#   bench/vm.sh                    # 5 boots
#   BENCH_ITERATIONS=3 bench/vm.sh
#
# Environment: BENCH_ITERATIONS (5), MOAT (default <repo>/bin/moat-runtime), MOAT_VM_KERNEL
# (default: scripts/vm/kernel.sh's Debian kernel), MOAT_VM_DIR (default <repo>/.build/vm/data).
set -euo pipefail
export LC_ALL=C
repo=$(cd "$(dirname "$0")/.." && pwd)
moat=${MOAT:-$repo/bin/moat-runtime}
iterations=${BENCH_ITERATIONS:-5}
[ -x "$moat" ] || { echo "bench/vm: $moat is missing (make build)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench/vm: run as root" >&2; exit 1; }
if [ -z "${MOAT_VM_KERNEL:-}" ]; then
  tree=$("$repo/scripts/vm/kernel.sh")
  MOAT_VM_KERNEL=$(ls "$tree"/boot/vmlinuz-* | head -1)
fi
export MOAT_VM_KERNEL MOAT_VM_DIR=${MOAT_VM_DIR:-$repo/.build/vm/data}
# A 128 MiB guest: the memory of a config without a limit.
export MOAT_VM_MEMORY=128

work=$(mktemp -d /tmp/moat-bench-vm.XXXXXX)
trap '"$moat" --root "$work/state" delete --force rss-$$ >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
MOAT="$moat" "$repo/scripts/make-bundle.sh" "$work/bundle" >/dev/null
config=$work/bundle/config.json
jq '.process.args = ["sh", "-c", "echo up; exec sleep 100000"]' "$config" > "$config.new" && mv "$config.new" "$config"

# One boot: `run` in the background, its stdout a fifo; the time is taken when the workload's
# first bytes come out of it; then the container is deleted (the run ends with it).
boot() {
  local id=$1 fifo=$work/out-$1
  mkfifo "$fifo"
  "$moat" --root "$work/state" --isolation vm run --bundle "$work/bundle" "$id" >"$fifo" 2>/dev/null &
  local run=$!
  head -c 3 "$fifo" >/dev/null
  date +%s%N > "$work/first"
  # QEMU's CPU time (user + system) up to the first output: the boot's cost, which the load on a
  # shared machine stretches in wall time but not in CPU time.
  local qemu
  qemu=$(cut -d' ' -f1 "$work/state/$id/qemu")
  awk -v tck="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / tck) }' "/proc/$qemu/stat" > "$work/cpu"
  "$moat" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
  wait "$run" 2>/dev/null || true
  rm -f "$fifo"
}

# The initramfs is built on first use: do that once before measuring.
boot warm-$$

echo "vm tier: time from run to the workload's first output, $iterations boots ($(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg))"
times=()
cpus=()
for i in $(seq "$iterations"); do
  id=boot-$$-$i
  start=$(date +%s%N)
  boot "$id"
  end=$(cat "$work/first")
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  cpus+=("$(cat "$work/cpu")")
  echo "  boot $i: ${ms} ms (QEMU's CPU time until then: $(cat "$work/cpu") ms)"
done
median() { local sorted=($(printf '%s\n' "$@" | sort -n)); echo "${sorted[$(( ${#sorted[@]} / 2 ))]}"; }
echo "  median: $(median "${times[@]}") ms (QEMU's CPU time: $(median "${cpus[@]}") ms)"

# QEMU's resident memory once the workload runs.
"$moat" --root "$work/state" --isolation vm create --bundle "$work/bundle" rss-$$ </dev/null >"$work/rss.out" 2>/dev/null
"$moat" --root "$work/state" start rss-$$
for _ in $(seq 600); do grep -q up "$work/rss.out" && break; sleep 0.1; done
# state's pid is the shim's (QEMU is its child): QEMU's own pid is in the state directory's `qemu` file.
qemu=$(cut -d' ' -f1 "$work/state/rss-$$/qemu")
grep -q qemu-system "/proc/$qemu/cmdline" || { echo "bench/vm: $qemu is not QEMU" >&2; exit 1; }
echo "QEMU resident memory, 128 MiB guest, workload running: $(awk '/VmRSS/ {print $2, $3}' /proc/$qemu/status)"
shim=$(cut -d' ' -f1 "$work/state/rss-$$/shim")
echo "the shim's resident memory: $(awk '/VmRSS/ {print $2, $3}' /proc/$shim/status)"
# Kata's footprint metric is the PSS of the runtime's processes (hypervisor and shim) per container: the same here.
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
echo "PSS of QEMU and the shim (Kata's memory-footprint measure): $(( $(pss "$qemu") + $(pss "$shim") )) kB"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
