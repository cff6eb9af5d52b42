#!/usr/bin/env bash
# The sandbox tier beside the container tier and gVisor (runsc --platform=ptrace, when installed),
# measured side by side in one run, interleaved; medians and ratios. Not a test: nothing is asserted.
#   start:     `run` of a /bin/true container (create+start+wait+delete), wall time
#   brokered:  100,000 open+close of a file inside the container (every open goes to the supervisor)
#   direct:    200,000 getppid() inside (on the allow-list: straight to the kernel)
# Usage: bench/sandbox.sh [RUNS]   (root; needs gcc with a static libc and busybox-static)
#   LOOPS=N      runs of each loop (default 3; medians); KINDS="open 100000" runs only that loop
#   RAW=1        also prints every loop run's figure
#   CPUS=0       every container confined to CPU 0 (a cpuset), for the case of a workload that cannot move
#   BASELINE=DIR a bin/ directory of another build (e.g. a copy of main's): its sandbox tier runs as one
#                more tier, "sandbox-base", interleaved with this one's, for an A/B on a noisy machine
set -euo pipefail
runs=${1:-15}
repo=$(cd "$(dirname "$0")/.." && pwd)
moat=$repo/bin/moat-runtime
work=$(mktemp -d /tmp/moat-sandbox-bench.XXXXXX)
# The sandbox's container root is an unprivileged host id: it must be able to reach the bundle.
chmod 755 "$work"
[ -n "${KEEP:-}" ] || trap 'for id in $(ls $work/state 2>/dev/null); do $moat --root $work/state delete --force $id >/dev/null 2>&1 || true; done; for id in $(ls $work/state-base 2>/dev/null); do "$BASELINE/moat-runtime" --root $work/state-base delete --force $id >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
"$repo/scripts/make-bundle.sh" "$work/bundle" true >/dev/null
cat > "$work/loop.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(int argc, char **argv) {
    long n = atol(argv[2]);
    double start = now();
    if (strcmp(argv[1], "open") == 0) {
        for (long i = 0; i < n; i++) { int fd = open("/etc/passwd", O_RDONLY); if (fd < 0) { perror("open"); return 1; } close(fd); }
    } else {
        for (long i = 0; i < n; i++) getppid();
    }
    printf("%.0f\n", (now() - start) / n);
    return 0;
}
C
gcc -static -O2 -o "$work/bundle/rootfs/bin/loop" "$work/loop.c"
jq '.root.readonly = false' "$work/bundle/config.json" > "$work/c" && mv "$work/c" "$work/bundle/config.json"
# CPUS=LIST: every tier's container confined to those CPUs (linux.resources.cpu.cpus).
if [ -n "${CPUS:-}" ]; then jq --arg c "$CPUS" '.linux.resources.cpu.cpus = $c' "$work/bundle/config.json" > "$work/c" && mv "$work/c" "$work/bundle/config.json"; fi
have_runsc=0
command -v runsc >/dev/null && have_runsc=1

set_args() { jq --argjson a "$1" '.process.args = $a' "$work/bundle/config.json" > "$work/c" && mv "$work/c" "$work/bundle/config.json"; }
# Microseconds of one run; a failed run stops the benchmark with its error (a failure is not a figure).
ms() { local s=$(date +%s%N); if ! "$@" >/dev/null 2>"$work/last-error"; then echo "bench: $* failed: $(cat "$work/last-error")" >&2; kill $$; fi; echo $(( ($(date +%s%N) - s) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run_in() { # tier, then the container's output (ids unique: this runs in subshells)
  local n="$BASHPID-$RANDOM"
  case $1 in
    container) $moat --root "$work/state" run --bundle "$work/bundle" "b$n" ;;
    sandbox) $moat --root "$work/state" --isolation sandbox run --bundle "$work/bundle" "b$n" ;;
    sandbox-base) "$BASELINE/moat-runtime" --root "$work/state-base" --isolation sandbox run --bundle "$work/bundle" "b$n" ;;
    runsc) runsc --root "$work/runsc" --platform=ptrace --network=none run --bundle "$work/bundle" "b$n" ;;
  esac
}
tiers="container sandbox"
[ -n "${BASELINE:-}" ] && tiers="$tiers sandbox-base"
[ $have_runsc = 1 ] && tiers="$tiers runsc"

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r); $runs runs each, interleaved; medians"
echo "# load at start:$(uptime | sed 's/.*load average//')${CPUS:+; containers confined to CPUs $CPUS}"
set_args '["/bin/true"]'
declare -A start
for i in $(seq "$runs"); do for t in $tiers; do start[$t]+="$(ms run_in $t) "; done; done
declare -A med
for t in $tiers; do med[$t]=$(echo ${start[$t]} | tr ' ' '\n' | median); done
printf 'start of /bin/true (us): container %s, sandbox %s' "${med[container]}" "${med[sandbox]}"
[ -n "${BASELINE:-}" ] && printf ', sandbox-base %s' "${med[sandbox-base]}"
[ $have_runsc = 1 ] && printf ', runsc-ptrace %s' "${med[runsc]}"
echo
awk -v s="${med[sandbox]}" -v c="${med[container]}" 'BEGIN { printf "  sandbox/container = %.2f\n", s/c }'
[ $have_runsc = 1 ] && awk -v s="${med[sandbox]}" -v r="${med[runsc]}" 'BEGIN { printf "  sandbox/runsc     = %.2f\n", s/r }'

# KINDS: the loops, comma-separated "NAME COUNT" pairs.
IFS=, read -ra kinds <<< "${KINDS:-open 100000,getppid 200000}"
for kind in "${kinds[@]}"; do
  set -- $kind
  set_args "[\"/bin/loop\", \"$1\", \"$2\"]"
  declare -A per=()
  for i in $(seq "${LOOPS:-3}"); do for t in $tiers; do per[$t]+="$(run_in $t 2>>"$work/errors" | tail -1 || true) "; done; done
  for t in $tiers; do med[$t]=$(echo ${per[$t]} | tr ' ' '\n' | median); done
  printf '%s x %s (ns per call): container %s, sandbox %s' "$1" "$2" "${med[container]}" "${med[sandbox]}"
  [ -n "${BASELINE:-}" ] && printf ', sandbox-base %s' "${med[sandbox-base]}"
  [ $have_runsc = 1 ] && printf ', runsc-ptrace %s' "${med[runsc]}"
  echo
  awk -v s="${med[sandbox]}" -v c="${med[container]}" 'BEGIN { printf "  sandbox/container = %.2f\n", s/c }'
  [ $have_runsc = 1 ] && awk -v s="${med[sandbox]}" -v r="${med[runsc]}" 'BEGIN { printf "  runsc/sandbox     = %.2f\n", r/s }'
  if [ -n "${BASELINE:-}" ]; then awk -v s="${med[sandbox]}" -v b="${med[sandbox-base]}" 'BEGIN { printf "  sandbox-base/sandbox = %.2f\n", b/s }'; fi
  if [ -n "${RAW:-}" ]; then for t in $tiers; do echo "  raw $t: ${per[$t]}"; done; fi
done
if [ -s "$work/errors" ]; then echo "# errors:"; sort "$work/errors" | uniq -c | head; fi
echo "# load at end:$(uptime | sed 's/.*load average//')"
