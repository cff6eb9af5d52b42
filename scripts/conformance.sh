#!/usr/bin/env bash
# Runs the OCI runtime-tools validation suite against a runtime and prints, per test program,
# its TAP counts, then one line "N passed, N failed" over all of them (docs/conformance.md).
#
#   RUNTIME=/path/to/runtime scripts/conformance.sh SUITE_DIR [TEST...]
#
# SUITE_DIR (or $RUNTIME_TOOLS) is a runtime-tools checkout whose runtimetest and
# validation/*/*.t are already built; the suite is not part of this repository and this script
# does not build it. RUNTIME defaults to this repository's bin/moat-runtime. TEST names select programs
# (e.g. "hooks linux_sysctl"); none means all. Must run as root.
#
# Counting, per TAP test point as prove and tap count: an "ok" line (skips included) is a pass, a
# "not ok" line a failure. A program that reports no test point counts once: the *_fail programs
# check that the runtime refuses a bad config and print nothing when it does, and a "1..0" plan
# means nothing was wrong, so exit 0 with no "error" diagnostic is a pass; anything else (an exit
# status, an "error" diagnostic, silence from any other program) is a failure. A program that
# exits non-zero without any "not ok" also counts one failure. The last lines also count whole
# programs: one passes when it reports no failure.
#
# Each program runs with TMPDIR set to a scratch directory and the runtime with a --root of its
# own; after each, the containers it left are force-deleted, its bundles removed and the cgroups
# the suite creates ("cgrouptest", "testdir") removed, so leftovers cannot fail the next test.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
suite=${1:-${RUNTIME_TOOLS:-}}
[ $# -gt 0 ] && shift
runtime=${RUNTIME:-$repo/bin/moat-runtime}
per_test_timeout=${CONFORMANCE_TIMEOUT:-300}

die() { echo "conformance: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root (the suite creates real containers)"
[ -n "$suite" ] || die "usage: RUNTIME=/path/to/runtime $0 RUNTIME_TOOLS_DIR [TEST...]"
suite=$(cd "$suite" && pwd) || die "no such directory: $suite"
runtime=$(command -v "$runtime") && runtime=$(readlink -f "$runtime") || die "runtime not found: ${RUNTIME:-$repo/bin/moat-runtime}"
[ -x "$suite/runtimetest" ] && [ -f "$suite/rootfs-amd64.tar.gz" ] ||
  die "$suite has no built runtimetest: build the suite first (see its README and docs/conformance.md)"

if [ $# -gt 0 ]; then
  tests=()
  for name in "$@"; do tests+=("validation/$name/$name.t"); done
else
  mapfile -t tests < <(cd "$suite" && ls validation/*/*.t 2>/dev/null | sort)
fi
[ ${#tests[@]} -gt 0 ] || die "no validation/*/*.t in $suite: build the suite first"

logs=${CONFORMANCE_LOGS:-$repo/.build/conformance/$(basename "$runtime")}
rm -rf "$logs" && mkdir -p "$logs"
scratch=$(mktemp -d /tmp/moat-conformance.XXXXXX)
# Traversable: the user-namespace tests map container root to host uid 1000.
chmod 711 "$scratch"
trap 'cleanup; rm -rf "$scratch"' EXIT

# The suite calls $RUNTIME with runc's command line only; a wrapper gives the runtime a state root
# of its own, so that cleaning up cannot touch containers someone else runs on this host.
state="$scratch/state"
wrapper="$scratch/runtime"
mkdir -p "$state" "$scratch/tmp"
chmod 711 "$scratch/tmp"
printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$runtime" "$state" > "$wrapper"
chmod +x "$wrapper"

cleanup() {
  local id
  for id in $("$wrapper" list -q 2>/dev/null); do
    "$wrapper" delete -f "$id" >/dev/null 2>&1 || true
  done
  # Bundles; a mount a failed container left on one is detached first.
  grep -o " $scratch/tmp/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "${scratch:?}"/tmp/* 2>/dev/null || true
  # The suite's cgroups tests use cgroupsPath /cgrouptest and testdir/cgrouptest/container; a
  # runtime puts the relative one under a parent of its own (moat: moat/), and delete removes
  # only the container's directory.
  find /sys/fs/cgroup -maxdepth 3 -type d \( -name cgrouptest -o -name testdir \) 2>/dev/null |
    while read -r top; do find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
}

total_pass=0; total_fail=0; programs_pass=0; programs_fail=0
printf '%-48s %6s %6s %6s\n' test passed failed skipped
for t in "${tests[@]}"; do
  name=$(basename "$t" .t)
  log="$logs/$name.tap"
  if [ ! -x "$suite/$t" ]; then
    echo "$name: not built" > "$log"; rc=127
  else
    (cd "$suite" && RUNTIME="$wrapper" TMPDIR="$scratch/tmp" timeout -k 10 "$per_test_timeout" "./$t") \
      > "$log" 2> "$logs/$name.stderr"
    rc=$?
  fi
  ok=$(grep -c '^ok ' "$log")
  notok=$(grep -c '^not ok ' "$log")
  skip=$(grep -cE '^ok [0-9]+ # (SKIP|skip)' "$log")
  note=""
  if [ $((ok + notok)) = 0 ]; then
    if [ "$rc" = 0 ] && ! grep -q '"error":' "$log" &&
      { grep -qx '1\.\.0' "$log" || { [[ $name == *_fail ]] && [ ! -s "$log" ]; }; }; then
      ok=1; note=" (no test point: passes)"
    else
      notok=1; note=" (no test point: exit $rc$(grep -q '"error":' "$log" && echo ', error diagnostic'))"
    fi
  elif [ "$rc" != 0 ] && [ "$notok" = 0 ]; then
    notok=1; note=" (exit $rc)"
  fi
  printf '%-48s %6d %6d %6d%s\n' "$name" "$ok" "$notok" "$skip" "$note"
  total_pass=$((total_pass + ok)); total_fail=$((total_fail + notok))
  if [ "$notok" = 0 ]; then programs_pass=$((programs_pass + 1)); else programs_fail=$((programs_fail + 1)); fi
  cleanup
done
echo "runtime: $runtime; TAP output in $logs"
echo "programs: $programs_pass passed, $programs_fail failed"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
