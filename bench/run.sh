#!/usr/bin/env bash
# Moat start-up benchmark: compares moat with runc and crun on one busybox bundle running
# /bin/true. Times `run` (create+start+wait+delete in one call) and the separate
# create / start / delete calls, then the peak RSS of `run`. See bench/README.md.
#
#   bench/run.sh                      # 50 measured iterations (+3 warm-up)
#   BENCH_ITERATIONS=10 bench/run.sh  # shorter
#
# Environment: BENCH_ITERATIONS (50), BENCH_WARMUP (3), BENCH_RSS_RUNS (5),
#              MOAT (path of the moat binary; default <repo>/bin/moat-runtime),
#              BENCH_MAX_ATTEMPTS (25), BENCH_COVER_MODE (auto, or tmpfs to force the
#              tmpfs cover; see README).
set -euo pipefail
export LC_ALL=C

SELF=$(readlink -f "$0")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)

# ---------------------------------------------------------------------------------------
# Helpers shared by the outer script and the inner (`--inner`) invocations that run inside
# a private mount namespace. All state is passed through exported BENCH_* variables.
# ---------------------------------------------------------------------------------------

say() { printf '%s\n' "$*"; }
warn() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

rt_bin() {
  case $1 in
    moat) printf '%s\n' "$BENCH_MOAT" ;;
    runc) command -v runc ;;
    crun) command -v crun ;;
  esac
}
rt_root() { printf '%s/root-%s\n' "$BENCH_TMP" "$1"; }

# Current time in microseconds. bash >= 5 has the builtin $EPOCHREALTIME (no fork);
# otherwise date(1). The same timer is used for every runtime.
if [ -n "${EPOCHREALTIME:-}" ]; then
  now_us() { local t=$EPOCHREALTIME; REPLY=${t/[.,]/}; }
else
  now_us() { REPLY=$(date +%s%6N); }
fi

# Hide the controllers of the cgroup2 mount at /sys/fs/cgroup/unified (crun 1.8 refuses
# "hybrid mode" when that mount has controllers). Called only inside a private mount
# namespace. Preferred cover: bind-mount an empty child cgroup of that hierarchy over it
# (its cgroup.controllers is empty, but it is still a real cgroup2 directory, so runtimes
# that use it, e.g. moat's clone3(CLONE_INTO_CGROUP), keep working). Fallback: a tmpfs.
cover_unified() {
  case ${BENCH_COVER:-none} in
    none) ;;
    bind) mount --bind "$BENCH_UNIFIED_CG" /sys/fs/cgroup/unified ;;
    tmpfs) mount -t tmpfs none /sys/fs/cgroup/unified ;;
    *) die "unknown BENCH_COVER=$BENCH_COVER" ;;
  esac
}

state_status() { # rt id -> prints status, or nothing if the container does not exist
  "$(rt_bin "$1")" --root "$(rt_root "$1")" state "$2" 2>/dev/null </dev/null | jq -r '.status // empty' 2>/dev/null || true
}

wait_stopped() { # rt id: 0 once stopped, 1 if the container vanished
  local i s
  for ((i = 0; i < 2000; i++)); do
    s=$(state_status "$1" "$2")
    [ "$s" = stopped ] && return 0
    [ -z "$s" ] && { echo "container vanished before it was deleted" >"$BENCH_TMP/err"; return 1; }
    sleep 0.005
  done
  die "$1: container $2 did not stop within 10 s (status: $s)"
}

# Deletes a container if the runtime still knows it (outside any timing). Returns 0 if
# something was left, 1 otherwise.
remove_leftover() { # rt id
  if "$(rt_bin "$1")" --root "$(rt_root "$1")" state "$2" >/dev/null 2>&1 </dev/null; then
    "$(rt_bin "$1")" --root "$(rt_root "$1")" delete -f "$2" >/dev/null 2>&1 </dev/null || true
    return 0
  fi
  return 1
}

# The one timed call used for every runtime and phase. Sets US to the elapsed
# microseconds; returns the command's exit status (its stderr is left in $BENCH_TMP/err).
timed() { # cmd...
  local t0 rc=0
  now_us; t0=$REPLY
  "$@" </dev/null >/dev/null 2>"$BENCH_TMP/err" || rc=$?
  now_us; US=$((REPLY - t0))
  return "$rc"
}

record() { # rt phase value
  [ "$RECORD" = 1 ] && printf '%s\n' "$3" >>"$BENCH_TMP/samples/$1.$2"
  return 0
}

# A failed attempt is recorded (with the runtime's last stderr line), its container is
# force-deleted, and the attempt is repeated; its timings are discarded. BENCH_MAX_ATTEMPTS
# (25) failures in a row abort the benchmark.
MAX_ATTEMPTS=${BENCH_MAX_ATTEMPTS:-25}
failed() { # rt phase id attempt
  local msg
  msg=$(grep -v '^[[:space:]]*$' "$BENCH_TMP/err" 2>/dev/null | tail -n 1 | cut -c1-160 || true)
  record "$1" failures "$2: ${msg:-exit status only}"
  remove_leftover "$1" "$3" || true
  if (($4 >= MAX_ATTEMPTS)); then
    warn "$1 $2 failed $MAX_ATTEMPTS times in a row; last error:"
    cat "$BENCH_TMP/err" >&2 || true
    exit 1
  fi
}

one_run() { # rt iteration
  local rt=$1 bin root id a
  bin=$(rt_bin "$rt"); root=$(rt_root "$rt")
  for ((a = 1; ; a++)); do
    id=$BENCH_PREFIX-$rt-run-$2-$a
    timed "$bin" --root "$root" run --bundle "$BENCH_BUNDLE" "$id" || { failed "$rt" run "$id" "$a"; continue; }
    record "$rt" run "$US"
    remove_leftover "$rt" "$id" && record "$rt" leftover 1
    return 0
  done
}

one_lifecycle() { # rt iteration
  local rt=$1 bin root id a c s
  bin=$(rt_bin "$rt"); root=$(rt_root "$rt")
  for ((a = 1; ; a++)); do
    id=$BENCH_PREFIX-$rt-cycle-$2-$a
    timed "$bin" --root "$root" create --bundle "$BENCH_BUNDLE" "$id" || { failed "$rt" create "$id" "$a"; continue; }
    c=$US
    timed "$bin" --root "$root" start "$id" || { failed "$rt" start "$id" "$a"; continue; }
    s=$US
    wait_stopped "$rt" "$id" || { failed "$rt" wait "$id" "$a"; continue; }
    timed "$bin" --root "$root" delete "$id" || { failed "$rt" delete "$id" "$a"; continue; }
    record "$rt" create "$c"; record "$rt" start "$s"; record "$rt" delete "$US"
    return 0
  done
}

# The measurement loop: iteration i runs every given runtime in turn, the order rotated by
# one each iteration, first the `run` phase for all of them, then create/start/delete.
measure_loop() { # rt...
  local rts=("$@") n=$# i j k total=$((BENCH_WARMUP + BENCH_ITERATIONS))
  cover_unified
  for ((i = 0; i < total; i++)); do
    if ((i < BENCH_WARMUP)); then RECORD=0; else RECORD=1; fi
    for ((j = 0; j < n; j++)); do k=$(((i + j) % n)); one_run "${rts[k]}" "$i"; done
    for ((j = 0; j < n; j++)); do k=$(((i + j) % n)); one_lifecycle "${rts[k]}" "$i"; done
  done
}

measure_rss() { # rt: peak RSS (KiB) of BENCH_RSS_RUNS separate `run` calls, one per line
  local rt=$1 bin root id i
  bin=$(rt_bin "$rt"); root=$(rt_root "$rt")
  cover_unified
  # Every binary's page cache is dropped first, so each is mapped as after a reboot or a package
  # install: a file just written by a build (or copied) sits in the cache in other folio sizes,
  # which alone moves the code part of RSS by up to 0.4 MB (docs/performance.md, 2026-12-02).
  dd if="$bin" iflag=nocache count=0 status=none 2>/dev/null || true
  for ((i = 0; i < BENCH_RSS_RUNS; i++)); do
    id=$BENCH_PREFIX-$rt-rss-$i
    /usr/bin/time -f %M -o "$BENCH_TMP/time.out" "$bin" --root "$root" run --bundle "$BENCH_BUNDLE" "$id" \
      </dev/null >/dev/null 2>>"$BENCH_TMP/stderr.$rt" || die "$rt: run under /usr/bin/time failed"
    tail -n 1 "$BENCH_TMP/time.out" >>"$BENCH_TMP/samples/$rt.rss"
    remove_leftover "$rt" "$id" || true
  done
}

# Sanity check of one runtime: `run` of the bundle must succeed (what it leaves behind is
# removed; the measurement loop counts leftovers).
check_runtime() { # rt
  local rt=$1 id=$BENCH_PREFIX-$1-check
  cover_unified
  if ! "$(rt_bin "$rt")" --root "$(rt_root "$rt")" run --bundle "$BENCH_BUNDLE" "$id" \
    </dev/null >/dev/null 2>"$BENCH_TMP/check.$rt"; then
    remove_leftover "$rt" "$id" || true
    return 1
  fi
  remove_leftover "$rt" "$id" || true
}

cleanup_runtime() { # rt: force-deletes every container left in the runtime's private root
  local rt=$1 root d
  root=$(rt_root "$rt")
  [ -d "$root" ] || return 0
  cover_unified
  for d in "$root"/*; do
    [ -e "$d" ] || continue
    "$(rt_bin "$rt")" --root "$root" delete -f "$(basename "$d")" </dev/null >/dev/null 2>&1 || true
  done
}

# Runs a helper function in the environment the runtime needs: directly, or inside a
# private mount namespace with /sys/fs/cgroup/unified covered (one unshare per call, so
# its cost is never inside a timed section). The namespaced shell runs in the background
# and is waited for, so that the outer script can still react to INT/TERM (see on_signal).
CHILD=
in_env() { # env function args...
  local env=$1 rc=0
  shift
  if [ "$env" = ns ]; then
    unshare -m --propagation private -- bash "$SELF" --inner "$@" &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=
    return "$rc"
  else
    BENCH_COVER=none "$@"
  fi
}

if [ "${1:-}" = --inner ]; then
  shift
  # On TERM (from on_signal), finish the runtime call under way, then stop.
  trap 'exit 143' TERM
  "$@"
  exit
fi

# ---------------------------------------------------------------------------------------
# Outer script
# ---------------------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "run as root (the runtimes create namespaces and cgroups)"

export BENCH_ITERATIONS=${BENCH_ITERATIONS:-50}
export BENCH_WARMUP=${BENCH_WARMUP:-3}
export BENCH_RSS_RUNS=${BENCH_RSS_RUNS:-5}
export BENCH_MAX_ATTEMPTS=${BENCH_MAX_ATTEMPTS:-25}
export BENCH_MOAT=${MOAT:-$REPO/bin/moat-runtime}
for v in BENCH_ITERATIONS BENCH_WARMUP BENCH_RSS_RUNS BENCH_MAX_ATTEMPTS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number"
done
((BENCH_ITERATIONS > 0 && BENCH_RSS_RUNS > 0 && BENCH_MAX_ATTEMPTS > 0)) ||
  die "BENCH_ITERATIONS, BENCH_RSS_RUNS and BENCH_MAX_ATTEMPTS must be > 0"
[ -x "$BENCH_MOAT" ] || die "moat binary not found at $BENCH_MOAT (build it with 'make build')"

# 1. Packages.
have_pkg() {
  case $1 in
    busybox-static)
      if command -v dpkg-query >/dev/null; then
        dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'
      else
        command -v busybox >/dev/null
      fi ;;
    time) [ -x /usr/bin/time ] ;;
    util-linux) command -v unshare >/dev/null ;;
    *) command -v "$1" >/dev/null ;;
  esac
}
missing=()
for p in runc crun busybox-static jq time util-linux; do have_pkg "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# 2. Temporary directory, bundle, private roots, cleanup.
BENCH_TMP=$(mktemp -d /tmp/moat-bench.XXXXXX)
export BENCH_TMP
export BENCH_PREFIX=moatbench-$$
export BENCH_BUNDLE=$BENCH_TMP/bundle
export BENCH_COVER=none BENCH_UNIFIED_CG=
declare -A RT_ENV=([moat]=host [runc]=host [crun]=host)
RUNTIMES=(moat runc crun)
mkdir -p "$BENCH_TMP/samples" "$(rt_root moat)" "$(rt_root runc)" "$(rt_root crun)"

cleanup() {
  local rc=$? rt d left=()
  trap - EXIT
  trap "" INT TERM
  for rt in "${RUNTIMES[@]}"; do
    in_env "${RT_ENV[$rt]}" cleanup_runtime "$rt" || true
  done
  # The cgroup2 directory used to cover /sys/fs/cgroup/unified (with what the runtimes
  # made in it), then cgroups named after the benchmark's containers (ids start with
  # $BENCH_PREFIX). Normally the runtimes have removed them all already.
  if [ -n "$BENCH_UNIFIED_CG" ] && [ -d "$BENCH_UNIFIED_CG" ]; then
    while IFS= read -r d; do rmdir "$d" 2>/dev/null || left+=("$d"); done \
      < <(find "$BENCH_UNIFIED_CG" -depth -type d 2>/dev/null)
  fi
  while IFS= read -r d; do rmdir "$d" 2>/dev/null || left+=("$d"); done \
    < <(find /sys/fs/cgroup -depth -type d -name "$BENCH_PREFIX*" 2>/dev/null)
  [ ${#left[@]} -eq 0 ] || warn "cgroups left behind: ${left[*]}"
  rm -rf "$BENCH_TMP"
  exit "$rc"
}
# INT/TERM: let the namespaced shell (if any) finish its runtime call and stop, then clean up.
on_signal() {
  warn "interrupted; stopping and cleaning up"
  trap '' INT TERM
  if [ -n "$CHILD" ]; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
    CHILD=
  fi
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

"$REPO/scripts/make-bundle.sh" "$BENCH_BUNDLE" /bin/true >/dev/null
# crun 1.8 accepts only "1.0.x" specs ("unknown version specified"); moat and runc accept
# 1.0.2 as well, so the one shared bundle declares it. Nothing else in the config changes.
jq '.ociVersion = "1.0.2"' "$BENCH_BUNDLE/config.json" >"$BENCH_BUNDLE/config.json.new"
mv "$BENCH_BUNDLE/config.json.new" "$BENCH_BUNDLE/config.json"

# 3. Which runtimes work, and where.
NOTES=()
check() { in_env "$2" check_runtime "$1"; } # rt env -> 0 if the runtime works there
skip() { warn "$1"; NOTES+=("$1"); }
errmsg() { tr '\n' ' ' <"$BENCH_TMP/check.$1" 2>/dev/null | cut -c1-200 | sed 's/ *$//'; }

check moat host || die "moat cannot run the bundle: $(errmsg moat)"
runc_ok=1
if ! check runc host; then
  skip "runc: SKIPPED, it cannot run the bundle on this host: $(errmsg runc)"
  runc_ok=0
fi

crun_ok=0
if check crun host; then
  crun_ok=1
elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
  host_err=$(errmsg crun)
  # Hybrid host: retry with the unified mount covered in a private mount namespace.
  BENCH_UNIFIED_CG=/sys/fs/cgroup/unified/$BENCH_PREFIX
  if [ "${BENCH_COVER_MODE:-auto}" != tmpfs ] && mkdir "$BENCH_UNIFIED_CG" 2>/dev/null &&
    [ -z "$(cat "$BENCH_UNIFIED_CG/cgroup.controllers")" ]; then
    BENCH_COVER=bind
  else
    rmdir "$BENCH_UNIFIED_CG" 2>/dev/null || true
    BENCH_UNIFIED_CG= BENCH_COVER=tmpfs
  fi
  if check crun ns; then
    crun_ok=1
    RT_ENV[crun]=ns
    if [ "$BENCH_COVER" = bind ]; then
      cover_desc="an empty child cgroup2 directory bind-mounted over /sys/fs/cgroup/unified"
    else
      cover_desc="a tmpfs mounted over /sys/fs/cgroup/unified"
    fi
    NOTES+=("crun refuses this hybrid cgroup host (\"$host_err\"), so it runs inside a private mount namespace (unshare -m, entered once per loop, not per call) with $cover_desc.")
  else
    skip "crun: SKIPPED, it cannot run the bundle, even with /sys/fs/cgroup/unified covered: $host_err / $(errmsg crun)"
  fi
else
  skip "crun: SKIPPED, it cannot run the bundle on this host: $(errmsg crun)"
fi

# Measure everything in one interleaved loop. If crun needs the namespace, the loop runs
# in it, provided moat and runc work there too; otherwise crun gets its own loop.
ACTIVE=(moat)
[ "$runc_ok" = 1 ] && ACTIVE+=(runc)
[ "$crun_ok" = 1 ] && ACTIVE+=(crun)
LOOPS=()
if [ "${RT_ENV[crun]}" = ns ] && [ "$crun_ok" = 1 ]; then
  ns_fail=()
  for rt in "${ACTIVE[@]}"; do
    [ "$rt" = crun ] && continue
    check "$rt" ns || ns_fail+=("$rt ($(errmsg "$rt"))")
  done
  if [ ${#ns_fail[@]} -eq 0 ]; then
    for rt in "${ACTIVE[@]}"; do RT_ENV[$rt]=ns; done
    LOOPS=("ns ${ACTIVE[*]}")
    if [ "$runc_ok" = 1 ]; then others="moat and runc work"; else others="moat works"; fi
    NOTES+=("$others in that namespace too, so all runtimes are measured there, in the one interleaved loop.")
  else
    host_rts=("${ACTIVE[@]/crun/}")
    LOOPS=("host ${host_rts[*]}" "ns crun")
    NOTES+=("FALLBACK: ${ns_fail[*]} failed inside that namespace, so crun was measured in a separate loop inside it, after the interleaved moat/runc loop on the host; crun's numbers are less comparable.")
  fi
else
  LOOPS=("host ${ACTIVE[*]}")
fi

# 4. Measurements.
say "measuring ${ACTIVE[*]}: $BENCH_ITERATIONS iterations (+$BENCH_WARMUP warm-up) ..." >&2
for loop in "${LOOPS[@]}"; do
  read -r env rts <<<"$loop"
  # shellcheck disable=SC2086
  in_env "$env" measure_loop $rts
done
say "measuring peak RSS: $BENCH_RSS_RUNS runs each ..." >&2
for rt in "${ACTIVE[@]}"; do in_env "${RT_ENV[$rt]}" measure_rss "$rt"; done

# 5. Report.
stats() { # file -> "median p10 p90" in ms (linear interpolation between closest ranks)
  sort -n "$1" | awk '
    { v[NR] = $1 }
    function q(p,   h, lo) { h = (NR - 1) * p + 1; lo = int(h); return lo >= NR ? v[NR] : v[lo] + (h - lo) * (v[lo + 1] - v[lo]) }
    END { printf "%.3f %.3f %.3f\n", q(0.5) / 1000, q(0.1) / 1000, q(0.9) / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

ver() {
  case $1 in
    moat) "$BENCH_MOAT" --version 2>/dev/null | head -n 1 | sed -E 's/\+([0-9a-f]{7})[0-9a-f]+/+\1/' ;;
    *) "$1" --version 2>/dev/null | head -n 1 | awk '{ print $NF }' ;;
  esac
}
cg_mode() {
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then echo "cgroup v2"
  elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then echo "hybrid (cgroup v1 + cgroup2 at /sys/fs/cgroup/unified)"
  else echo "cgroup v1"; fi
}

PHASES=(run create start delete)
declare -A MED=()
echo
say "## Moat benchmark: ${BENCH_ITERATIONS} iterations (+${BENCH_WARMUP} warm-up), container running /bin/true"
say
say "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(uname -r), $(nproc) CPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(cg_mode)"
say "- runtimes: moat $(ver moat) (git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))$( [ "$runc_ok" = 1 ] && printf ', runc %s' "$(ver runc)")$( [ "$crun_ok" = 1 ] && printf ', crun %s' "$(ver crun)")"
say "- bundle: busybox-static rootfs, config.json from 'moat spec' (terminal=false, args=[/bin/true], ociVersion 1.0.2), private --root per runtime"
say "- loop: per iteration, every runtime in turn (order rotated each iteration): 'run', then 'create', 'start', (wait for stopped, untimed), 'delete'"
for n in "${NOTES[@]}"; do say "- note: $n"; done
for rt in "${ACTIVE[@]}"; do
  f=$BENCH_TMP/samples/$rt.leftover
  [ -s "$f" ] && say "- note: $rt: 'run' left the container behind in $(wc -l <"$f") of $BENCH_ITERATIONS runs; removed with 'delete -f' (untimed)."
  f=$BENCH_TMP/samples/$rt.failures
  if [ -s "$f" ]; then
    nf=$(wc -l <"$f")
    say "- FAILURES: $rt: $nf failed attempt$( [ "$nf" = 1 ] || echo s) in the measured iterations, each repeated with a new container (the failed attempts' timings are discarded):"
    sort "$f" | uniq -c | sort -rn | while read -r count what; do say "    - ${count}x $what"; done
  fi
done
[ -n "$(cat "$BENCH_TMP"/samples/*.failures 2>/dev/null)" ] || say "- failures: none (every timed call succeeded at the first attempt)"
say
say "| phase  | runtime | median ms |   p10 ms |   p90 ms |"
say "|--------|---------|----------:|---------:|---------:|"
for ph in "${PHASES[@]}"; do
  for rt in "${ACTIVE[@]}"; do
    read -r med p10 p90 < <(stats "$BENCH_TMP/samples/$rt.$ph")
    MED[$rt.$ph]=$med
    printf '| %-6s | %-7s | %9s | %8s | %8s |\n' "$ph" "$rt" "$med" "$p10" "$p90"
  done
done
say
hdr="| phase  |"; sep="|--------|"
for rt in "${ACTIVE[@]}"; do [ "$rt" = moat ] || { hdr+=" moat/$rt |"; sep+="----------:|"; }; done
if [ ${#ACTIVE[@]} -gt 1 ]; then
  say "Median ratios (moat / other; below 1 means moat is faster):"
  say
  say "$hdr"; say "$sep"
  for ph in "${PHASES[@]}"; do
    line=$(printf '| %-6s |' "$ph")
    for rt in "${ACTIVE[@]}"; do
      [ "$rt" = moat ] || line+=$(printf ' %9s |' "$(ratio "${MED[moat.$ph]}" "${MED[$rt.$ph]}")")
    done
    say "$line"
  done
  say
fi
say "Peak RSS of 'run' (max of $BENCH_RSS_RUNS runs of /usr/bin/time -f %M; runtime process and its reaped children):"
say
say "| runtime | peak RSS MiB | moat / runtime |"
say "|---------|-------------:|---------------:|"
declare -A RSS=()
for rt in "${ACTIVE[@]}"; do RSS[$rt]=$(sort -n "$BENCH_TMP/samples/$rt.rss" | tail -n 1); done
for rt in "${ACTIVE[@]}"; do
  printf '| %-7s | %12s | %14s |\n' "$rt" "$(awk -v k="${RSS[$rt]}" 'BEGIN { printf "%.1f", k / 1024 }')" \
    "$(ratio "${RSS[moat]}" "${RSS[$rt]}")"
done
