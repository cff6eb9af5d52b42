#!/usr/bin/env bash
# Runs every test: unit tests (no root needed) and integration tests (real containers, as root).
# Prints one closing line "N passed, N failed" summed over all suites; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
results=.build/test-results
rm -rf "$results"
mkdir -p "$results"
status=0
# The .NET suites: unit first (fast, no root), then every other test project in name order.
projects="tests/Moat.Tests.Unit $(ls -d tests/Moat.Tests.*/ | sed 's#/$##' | grep -v '^tests/Moat.Tests.Unit$' | sort)"
for project in $projects; do
  name=$(basename "$project")
  echo "=== $name"
  dotnet test "$project" -c Release --nologo -v quiet \
    --logger "trx;LogFileName=$PWD/$results/$name.trx" --logger "console;verbosity=normal" 2>&1 \
    | grep -E "^\s*(Failed|Passed!|Failed!|Total tests|Error Message|  Assert|Expected|Actual)|error" | grep -vE "^\s*Passed " || true
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  if [ ! -f "$results/$name.trx" ]; then
    echo "$name: no results (the build or the test host failed)"
    status=1
  fi
done
# Lanes that are not .NET test projects (e.g. the cgroup v2 virtual machine): each script under
# scripts/lanes/ runs on its own, prints its results, and writes "PASSED FAILED" to
# $MOAT_TEST_RESULTS/<lane>.counts. A lane that exits non-zero or writes no counts fails the run.
export MOAT_TEST_RESULTS="$PWD/$results"
for lane in scripts/lanes/*.sh; do
  [ -x "$lane" ] || continue
  name=$(basename "$lane" .sh)
  echo "=== lane $name"
  "$lane" || status=1
  if [ ! -f "$results/$name.counts" ]; then
    echo "lane $name: no results"
    status=1
  fi
done
passed=0; failed=0
for counts in "$results"/*.counts; do
  [ -f "$counts" ] || continue
  read -r p f < "$counts"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
[ "$failed" = 0 ] || status=1
[ "$passed" -gt 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
