#!/usr/bin/env bash
# What a brokered open cannot go below on this machine, for reading bench/sandbox.sh's figures.
# Not a test: nothing is asserted. Two small C programs, run interleaved; medians of RUNS runs (the
# supervisor is bench/sandbox-model.c, which bench/sandbox-spin.sh runs in more modes):
#   pipe:       a byte ping-ponged between two processes through two pipes (two wake-ups and two
#               context switches per round trip: the kernel's cost of any request and answer)
#   minimal:    the least a seccomp supervisor can do for a trapped open: a child loops open+close of
#               /etc/passwd under a filter that notifies openat; a supervisor process answers each with
#               RECV, its own openat, ADDFD with SEND, close (synchronous wake-up flag on). Run twice:
#               supervisor at nice -10 (SCHED_OTHER) and SCHED_BATCH nice 0, as the sandbox's threads
#               were before and are now (docs/sandbox.md); with perf, context switches per open too.
# Usage: bench/sandbox-floor.sh [RUNS]   (root not needed; gcc; perf optional)
set -euo pipefail
runs=${1:-7}
work=$(mktemp -d /tmp/moat-sandbox-floor.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/pipe.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(int argc, char **argv) {
    long n = atol(argv[1]); int a[2], b[2]; char c = 'x';
    if (pipe(a) || pipe(b)) return 1;
    if (fork() == 0) { for (long i = 0; i < n; i++) { if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1) _exit(1); } _exit(0); }
    double s = now();
    for (long i = 0; i < n; i++) { if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1) return 1; }
    printf("%.0f\n", (now() - s) / n);
    return 0;
}
C
gcc -O2 -o "$work/pipe" "$work/pipe.c"
gcc -O2 -o "$work/minimal" "$(dirname "$(readlink -f "$0")")/sandbox-model.c"
have_perf=0
command -v perf >/dev/null && perf stat -e context-switches true >/dev/null 2>&1 && have_perf=1
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A per switches
n=50000
# Context switches per open: perf counts the supervisor and its child (inherited), over the whole run.
measure() { # name, command...
  local name=$1; shift
  if [ $have_perf = 1 ]; then
    local out; out=$(perf stat -x, -e context-switches -o "$work/stat" "$@")
    per[$name]+="${out%% *} "
    switches[$name]+="$(awk -F, -v n=$n '/context-switches/ {printf "%.2f", $1/n}' "$work/stat") "
  else
    local out; out=$("$@")
    per[$name]+="${out%% *} "
  fi
}
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r); $runs runs each, interleaved; medians (min-max)"
echo "# load at start:$(uptime | sed 's/.*load average//')"
for i in $(seq "$runs"); do
  measure pipe "$work/pipe" $n
  measure nice-10 "$work/minimal" $n nice 0
  measure batch "$work/minimal" $n batch 0
done
for name in pipe nice-10 batch; do
  values=$(echo ${per[$name]} | tr ' ' '\n')
  printf '%-8s %s ns (%s-%s)' "$name" "$(echo "$values" | median)" "$(echo "$values" | sort -n | head -1)" "$(echo "$values" | sort -n | tail -1)"
  [ $have_perf = 1 ] && printf ', %s context switches per round trip' "$(echo ${switches[$name]} | tr ' ' '\n' | median)"
  echo
done
echo "  pipe: one round trip between two processes; nice-10 and batch: one brokered open+close by the minimal supervisor"
echo "# load at end:$(uptime | sed 's/.*load average//')"
