#!/bin/sh
# Runs every test case of tests/cgroup-v2/t-*.sh: each function named test_* is one case, run in a
# fresh shell (with lib.sh) under a time limit. Prints "ok N - NAME" or "not ok N - NAME" followed
# by the case's output as "# " lines, and closes with "N passed, N failed".
# Usage: harness.sh [REGEX]   (only the cases whose name matches the extended regular expression)
cd "$(dirname "$0")"
filter=$1
limit=${MOAT_TEST_TIMEOUT:-120}
n=0 passed=0 failed=0
for file in t-*.sh; do
  for name in $(sed -n 's/^\(test_[a-z0-9_]*\)() *{.*/\1/p' "$file"); do
    echo "$name" | grep -qE -- "${filter:-.}" || continue
    n=$((n + 1))
    log=/tmp/harness-$name.log
    start=$(cut -d' ' -f1 /proc/uptime)
    if timeout -s KILL "$limit" sh -c ". ./lib.sh && . ./$file && trap on_exit EXIT && set -e && $name" >"$log" 2>&1; then
      status=0
    else
      status=$?
      [ "$status" = 137 ] && echo "timed out after ${limit}s" >>"$log"
    fi
    end=$(cut -d' ' -f1 /proc/uptime)
    # A case leaves nothing behind for the next one, whatever it did.
    sh -c '. ./lib.sh && cleanup_all' >>"$log" 2>&1
    took=$(awk "BEGIN { printf \"%.1f\", $end - $start }")
    if [ "$status" = 0 ]; then
      passed=$((passed + 1))
      echo "ok $n - $name (${took}s)"
    else
      failed=$((failed + 1))
      echo "not ok $n - $name (${took}s)"
      # The kernel's messages of the case (an OOM kill, a segfault) often say why.
      dmesg | sed -n 's/^\[ *\([0-9.]*\)\] /\1 /p' | awk -v s="$start" '$1 >= s { $1 = "kernel:"; print }' | tail -n 15 >>"$log"
      sed 's/^/# /' "$log"
    fi
  done
done
[ "$n" -gt 0 ] || { echo "not ok 1 - no test matches \"$filter\""; failed=1; }
echo "$passed passed, $failed failed"
