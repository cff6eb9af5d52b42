#!/usr/bin/env bash
# What a SCHED_IDLE serving thread would do to a brokered open in the real sandbox (a lead of issue
# 20; bench/sandbox-spin.sh has the C model). Not a test: nothing is asserted, and nothing of the
# build is changed: a sandboxed container loops open+close of /etc/passwd (batches of 5,000, ns per
# open), and while it runs this script switches its supervisor's serving thread (the one SCHED_BATCH
# thread) from outside, in phases of PHASE seconds, rounds of:
#   batch      as built
#   idle       the thread SCHED_IDLE (chrt --idle)
#   idle+cg    SCHED_IDLE and the thread moved into the container's cpu cgroup (cgroup v1 tasks file)
#   batch+cg   SCHED_BATCH in the container's cpu cgroup
# and prints the median and mean of the batches that ran wholly inside each phase (the mean and the
# count of batches show stalls that the median hides).
# Usage: bench/sandbox-idle.sh [ROUNDS]   (root; gcc with a static libc, busybox-static, cgroup v1 cpu)
#   BIN=DIR    the build's bin/ (default: this tree's)
#   PHASE=S    seconds per phase (default 3)
#   LOAD=N     N busy loops (nice 0) outside the container throughout
#   INSIDE=N   N busy processes inside the container beside the loop (the container busy itself)
set -euo pipefail
rounds=${1:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$repo/bin}
phase=${PHASE:-3}
work=$(mktemp -d /tmp/moat-sandbox-idle.XXXXXX)
chmod 755 "$work"
burners=()
id=idle$$
trap 'for b in "${burners[@]}"; do kill "$b" 2>/dev/null || true; done; "$bin/moat-runtime" --root "$work/state" delete --force $id >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
MOAT=$bin/moat-runtime "$repo/scripts/make-bundle.sh" "$work/bundle" true >/dev/null
cat > "$work/loop.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
// loop BATCHES N BUSY: BUSY processes spin beside it; each batch of N open+close prints ns per open
int main(int argc, char **argv) {
    long batches = atol(argv[1]), n = atol(argv[2]), busy = atol(argv[3]);
    for (long i = 0; i < busy; i++) if (fork() == 0) for (;;) ;
    for (long b = 0; b < batches; b++) {
        double s = now();
        for (long i = 0; i < n; i++) { int fd = open("/etc/passwd", O_RDONLY); if (fd < 0) { perror("open"); return 1; } close(fd); }
        printf("%.0f\n", (now() - s) / n); fflush(stdout);
    }
    return 0;
}
C
gcc -static -O2 -o "$work/bundle/rootfs/bin/loop" "$work/loop.c"
jq --arg busy "${INSIDE:-0}" '.root.readonly = false | .process.args = ["/bin/loop", "1000000", "5000", $busy]' "$work/bundle/config.json" > "$work/c" && mv "$work/c" "$work/bundle/config.json"
for i in $(seq "${LOAD:-0}"); do (exec sh -c 'while :; do :; done') & burners+=($!); done
"$bin/moat-runtime" --root "$work/state" --isolation sandbox run --bundle "$work/bundle" $id > "$work/out" 2>&1 &
for i in $(seq 100); do [ -s "$work/out" ] && break; sleep 0.1; done
supervisor=$(pgrep -f "sandbox-supervise --root $work/state --id $id")
serving=$(ps -L -o tid=,cls= -p "$supervisor" | awk '$2 == "B" {print $1}' | head -1)
caller=$(pgrep -f "/bin/loop 1000000" | head -1)
cpu_cgroup=/sys/fs/cgroup/cpu$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}' /proc/$caller/cgroup)
[ -n "$serving" ] && [ -f "$cpu_cgroup/tasks" ] || { echo "bench: no SCHED_BATCH serving thread or no cgroup v1 cpu hierarchy ($cpu_cgroup)" >&2; exit 1; }
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r); $(basename "$(dirname "$bin")")'s build; $rounds rounds of ${phase}s phases${LOAD:+; $LOAD busy loops outside}${INSIDE:+; $INSIDE busy processes inside}"
echo "# load at start:$(uptime | sed 's/.*load average//')"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A figures
for r in $(seq "$rounds"); do
  for p in batch idle idle+cg batch+cg; do
    case $p in
      batch) echo "$serving" > /sys/fs/cgroup/cpu/tasks; chrt -b -p 0 "$serving" ;;
      idle) chrt -i -p 0 "$serving" ;;
      idle+cg) echo "$serving" > "$cpu_cgroup/tasks" ;;
      batch+cg) chrt -b -p 0 "$serving" ;;
    esac
    from=$(wc -l < "$work/out")
    sleep "$phase"
    # The first batch of a phase began before it.
    figures[$p]+="$(sed -n "$((from + 2)),\$p" "$work/out" | tr '\n' ' ')"
  done
done
echo "$serving" > /sys/fs/cgroup/cpu/tasks 2>/dev/null || true
for p in batch idle idle+cg batch+cg; do
  v=$(echo ${figures[$p]} | tr ' ' '\n' | grep .)
  printf '%-9s median %s ns per open (%s-%s), mean %s, %s batches\n' "$p" "$(echo "$v" | median)" "$(echo "$v" | sort -n | head -1)" "$(echo "$v" | sort -n | tail -1)" "$(echo "$v" | awk '{s+=$1} END {printf "%.0f", s/NR}')" "$(echo "$v" | wc -l)"
done
echo "# load at end:$(uptime | sed 's/.*load average//')"
