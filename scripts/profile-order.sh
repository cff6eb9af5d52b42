#!/usr/bin/env bash
# Writes src/Moat.Runtime.Cli/hot-methods.txt: the managed methods that the hot verbs (create, the init,
# start, state, exec, ps, kill, delete, run) execute, in the order they first run. The NativeAOT
# compiler lays these out first and together (IlcOrderFile in Moat.Runtime.Cli.csproj), so a process start
# maps a few hundred KB of code instead of 64 KB fault-around windows spread over all 3 MB of it
# (docs/performance.md, "Code layout").
#
#   make build && scripts/profile-order.sh [OUT]     # as root; needs python3
#
# How: the workload below runs under scripts/trace-methods.py, which follows every process it
# starts and puts a one-shot breakpoint on each method of every moat image (the runtime, the init,
# exec's process): the list is exact, to the method. The method addresses come from the symbol
# file the build leaves beside the binary.
#
# Rerun it when the hot paths change: a method missing from the list still works, it only lands
# among the cold code and costs a page fault. Names that no longer exist are ignored by the
# compiler, so a stale list costs memory, never correctness.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

REPO=$PWD
BIN=$REPO/bin/moat-runtime
OUT=${1:-$REPO/src/Moat.Runtime.Cli/hot-methods.txt}

die() { printf 'profile-order: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (it runs containers)"
[ -x "$BIN" ] || die "no $BIN: run make build first"
command -v python3 >/dev/null || die "needs python3"
build_id() { readelf -n "$1" 2>/dev/null | awk '/Build ID/ { print $3 }'; }
# The symbol file the build left beside its output, the one whose build id is the binary's.
DBG=
for f in src/Moat.Runtime.Cli/bin/Release/net*/linux-x64/native/moat-runtime.dbg; do
  [ -f "$f" ] && [ "$(build_id "$f")" = "$(build_id "$BIN")" ] && DBG=$f
done
[ -n "$DBG" ] || die "no moat-runtime.dbg with the build id of $BIN beside the build output (rebuild)"

WORK=$(mktemp -d /tmp/moat-order.XXXXXX)
ROOT=$WORK/root
cleanup() {
  set +e
  for id in $("$BIN" --root "$ROOT" list -q 2>/dev/null); do "$BIN" --root "$ROOT" delete -f "$id" >/dev/null 2>&1; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. The methods: symbols inside __managedcode, one line per address (folded bodies share one).
read -r start size < <(readelf -SW "$DBG" 2>/dev/null | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == "__managedcode" { print $3, $5 }')
[ -n "${start:-}" ] || die "no __managedcode section in $DBG"
nm --defined-only -n "$DBG" | awk -v start="$start" -v size="$size" '
  function hex(h,   i, v) { v = 0; h = tolower(h); for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
  BEGIN { lo = hex(start); hi = lo + hex(size) }
  ($2 == "t" || $2 == "T") && $3 !~ /^__(start|stop)___managedcode$/ {
    a = hex($1); if (a < lo || a >= hi) next
    if (a == last) { line = line " " $3 } else { if (line != "") print line; line = $1 " " $3; last = a }
  }
  END { if (line != "") print line }' >"$WORK/methods"

# 2. The workload: what engines do with a container, on the bundle `moat spec` describes.
scripts/make-bundle.sh "$WORK/true" /bin/true >/dev/null
scripts/make-bundle.sh "$WORK/sleep" /bin/sleep 60 >/dev/null
mkdir -p "$ROOT"
cat >"$WORK/workload.sh" <<EOF
set -e
moat() { "$BIN" --root "$ROOT" "\$@"; }
moat create --bundle "$WORK/true" a >/dev/null
moat state a >/dev/null
moat start a
moat state a >/dev/null
moat delete a
moat run --bundle "$WORK/true" b >/dev/null
moat create --bundle "$WORK/sleep" c >/dev/null
moat start c
moat exec c /bin/true
moat ps c >/dev/null
moat list >/dev/null
moat kill c KILL
for _ in \$(seq 100); do [ "\$(moat state c | jq -r .status)" = stopped ] && break; sleep 0.05; done
moat delete c
moat state missing >/dev/null 2>&1 || true
EOF
rm -f "$WORK/order"
MOAT_BINARY=$BIN python3 scripts/trace-methods.py "$WORK/methods" "$WORK/order" -- bash "$WORK/workload.sh" ||
  die "the workload failed under the tracer"
cp "$WORK/order" "$OUT"
echo "profile-order: $(wc -l <"$WORK/order") of $(wc -l <"$WORK/methods") methods ran; list written to ${OUT#"$REPO"/}" >&2
