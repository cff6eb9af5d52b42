#!/usr/bin/env bash
# Runs every test: unit tests (no root needed) and integration tests (real containers, as root).
# Prints one closing line "N passed, N failed" summed over all suites; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
results=.build/test-results
rm -rf "$results"
mkdir -p "$results"
status=0
for project in tests/Moat.Tests.Unit tests/Moat.Tests.Integration; do
  name=$(basename "$project")
  echo "=== $name"
  dotnet test "$project" -c Release --nologo -v quiet \
    --logger "trx;LogFileName=$PWD/$results/$name.trx" --logger "console;verbosity=normal" 2>&1 \
    | grep -E "^\s*(Failed|Passed!|Failed!|Total tests|Error Message|  Assert|Expected|Actual)|error" || true
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  if [ ! -f "$results/$name.trx" ]; then
    echo "$name: no results (the build or the test host failed)"
    status=1
  fi
done
passed=0; failed=0
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
