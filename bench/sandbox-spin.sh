#!/usr/bin/env bash
# Whether a serving thread that does not go straight back to sleep makes a brokered open cheaper on
# this machine (issue 20). Not a test: nothing is asserted. The C model of the supervisor in
# bench/sandbox-model.c (RECV, openat, ADDFD with SEND, close; SCHED_BATCH nice 0 as the sandbox's
# serving threads are), its serving loop run in these modes, interleaved, medians of RUNS:
#   batch      as the sandbox today: back into the blocking RECV after each answer
#   spinN      after each answer, poll the listener without sleeping (poll timeout 0, a `pause`
#              between polls) for up to N µs; RECV at once when a call is pending, block after the bound
#   idle       the serving thread SCHED_IDLE: a woken caller is placed on the CPU the thread runs on
#              (a CPU running only SCHED_IDLE work counts as idle), so the pair stays on one CPU
#   adapt      idle, but every 4 answers it reads its own run delay (/proc/thread-self/schedstat);
#              more than 20 µs a call waiting for a CPU: SCHED_BATCH for 50 ms, doubling to 5 s
# Two loops: "tight" (a caller looping open+close: ns per open, CPU per open (getrusage) of the caller and of
# the supervisor, and for spin, how many answers were followed by a call during the spin) and
# "sparse" (one open every ms, 2,000 of them: the supervisor's CPU per open, what a spin costs a
# workload that cannot profit from it).
# Usage: bench/sandbox-spin.sh [RUNS]   (root not needed; gcc)
#   MODES="batch spin20 ..."  the modes (default: batch spin20 spin50 spin100 idle adapt)
#   LOAD=N                    N busy loops (nice 0) run throughout, for a loaded machine
#   N=20000                   opens per tight run
set -euo pipefail
runs=${1:-5}
modes=${MODES:-batch spin20 spin50 spin100 idle adapt}
n=${N:-20000}
work=$(mktemp -d /tmp/moat-sandbox-spin.XXXXXX)
burners=()
trap 'for b in "${burners[@]}"; do kill "$b" 2>/dev/null || true; done; rm -rf "$work"' EXIT
gcc -O2 -o "$work/model" "$(dirname "$(readlink -f "$0")")/sandbox-model.c"
for i in $(seq "${LOAD:-0}"); do (exec sh -c 'while :; do :; done') & burners+=($!); done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r); $runs runs each, interleaved; medians (min-max)${LOAD:+; $LOAD busy loops}"
echo "# load at start:$(uptime | sed 's/.*load average//')"
declare -A tight sparse
for i in $(seq "$runs"); do
  for m in $modes; do
    tight[$m]+="$("$work/model" "$n" "$m" 0 | tr ' ' ,) "
    sparse[$m]+="$("$work/model" 2000 "$m" 1000 | tr ' ' ,) "
  done
done
col() { tr ' ' '\n' | grep . | cut -d, -f"$1"; }
stat() { local v; v=$(col "$1"); printf '%s (%s-%s)' "$(echo "$v" | median)" "$(echo "$v" | sort -n | head -1)" "$(echo "$v" | sort -n | tail -1)"; }
for m in $modes; do
  printf '%-8s tight: %s ns/open, CPU/open caller %s supervisor %s ns' "$m" "$(echo ${tight[$m]} | stat 1)" "$(echo ${tight[$m]} | stat 2 | cut -d' ' -f1)" "$(echo ${tight[$m]} | stat 3 | cut -d' ' -f1)"
  case $m in spin*) printf ', answers followed by a call within the spin %s of %s' "$(echo ${tight[$m]} | col 4 | median)" "$n";; esac
  printf '; sparse: %s ns/open, supervisor CPU/open %s ns\n' "$(echo ${sparse[$m]} | stat 1 | cut -d' ' -f1)" "$(echo ${sparse[$m]} | stat 3)"
done
echo "# load at end:$(uptime | sed 's/.*load average//')"
