#!/usr/bin/env bash
# Pull benchmark (issue 15): pulling a ~200 MB, 10-layer image from a local registry with
#   moat pull                                     (fetch, verify, unpack into snapshots, catalogue)
#   skopeo copy docker://... oci:DIR + umoci unpack (the same work in two tools)
#   podman pull                                   (containers/storage, overlay driver)
# Each round pulls into an empty store (the store is removed before every run, outside the timing),
# the three tools in turn (A B C A B C ...), so a drift of the machine's speed hits all of them.
# Prints the median wall time of each and the ratios to moat, as Markdown.
#
#   sudo bench/pull.sh                 # 5 rounds
#   sudo BENCH_ROUNDS=9 bench/pull.sh
#
# Needs root (podman's and moat's stores as root, unpacking with owners). It starts its own
# docker-registry on 127.0.0.1 and removes everything it made on exit, also on failure.
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
MOAT=${MOAT:-$REPO/bin/moat}
ROUNDS=${BENCH_ROUNDS:-5}
LAYERS=${BENCH_LAYERS:-10}
LAYER_MB=${BENCH_LAYER_MB:-20}
[ "$(id -u)" = 0 ] || { echo "bench/pull.sh: run as root" >&2; exit 1; }
for tool in docker-registry skopeo umoci podman; do
  command -v "$tool" >/dev/null || { echo "bench/pull.sh: $tool is missing (make deps installs it)" >&2; exit 1; }
done
[ -x "$MOAT" ] || { echo "bench/pull.sh: $MOAT is missing (make build)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/moat-pull-bench.XXXXXX)
registry_pid=
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  umount -R "$TMP/podman" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$TMP/registry.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $TMP/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done

# The image: LAYERS layers of LAYER_MB each, made of real files (programs and libraries from /usr),
# so gzip works as hard as on a real image. Built with umoci, pushed with skopeo.
echo "bench/pull.sh: building a ${LAYERS}-layer image of about $((LAYERS * LAYER_MB)) MB" >&2
mapfile -t sources < <(find /usr/lib /usr/share /usr/bin -xdev -type f -size +20k 2>/dev/null | sort)
umoci init --layout "$TMP/layout"
umoci new --image "$TMP/layout:bench"
next=0
for layer in $(seq 1 "$LAYERS"); do
  umoci unpack --image "$TMP/layout:bench" "$TMP/work" >/dev/null
  mkdir -p "$TMP/work/rootfs/data/$layer"
  bytes=0
  while [ "$bytes" -lt $((LAYER_MB * 1000000)) ] && [ "$next" -lt ${#sources[@]} ]; do
    f=${sources[$next]}; next=$((next + 1))
    cp "$f" "$TMP/work/rootfs/data/$layer/$next" 2>/dev/null || continue
    bytes=$((bytes + $(stat -c %s "$f")))
  done
  umoci repack --image "$TMP/layout:bench" "$TMP/work" >/dev/null
  rm -rf "$TMP/work"
done
skopeo copy -q --dest-tls-verify=false "oci:$TMP/layout:bench" "docker://127.0.0.1:$port/bench:latest"
size=$(du -sm "$TMP/registry" | cut -f1)
echo "bench/pull.sh: image pushed ($size MB in the registry); $ROUNDS rounds" >&2

REF=127.0.0.1:$port/bench:latest
run_moat()   { "$MOAT" --root "$TMP/moat" pull -q --tls-verify=false "$REF" >/dev/null; }
run_skopeo() { skopeo copy -q --src-tls-verify=false "docker://$REF" "oci:$TMP/skopeo:bench" && umoci unpack --image "$TMP/skopeo:bench" "$TMP/skopeo/bundle" >/dev/null; }
run_podman() { podman --root "$TMP/podman" --runroot "$TMP/podman-run" --storage-driver overlay pull -q --tls-verify=false "$REF" >/dev/null; }
reset() {
  case $1 in
    moat) rm -rf "$TMP/moat" ;;
    skopeo) rm -rf "$TMP/skopeo" ;;
    podman) umount -R "$TMP/podman" 2>/dev/null || true; rm -rf "$TMP/podman" "$TMP/podman-run" ;;
  esac
  sync
}
tools=(moat skopeo podman)
for round in $(seq 0 "$ROUNDS"); do
  for tool in "${tools[@]}"; do
    reset "$tool"
    start=$(date +%s%N)
    "run_$tool" || { echo "bench/pull.sh: $tool failed" >&2; exit 1; }
    end=$(date +%s%N)
    # Round 0 warms the registry's and the page cache's side; it is not counted.
    [ "$round" = 0 ] || echo $(((end - start) / 1000000)) >>"$TMP/samples.$tool"
  done
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
moat_ms=$(median "$TMP/samples.moat")
echo "Pull of a $LAYERS-layer, ${size} MB image from docker-registry on 127.0.0.1, $ROUNDS rounds, $(date -u +%F), $(nproc) cores:"
echo
echo "| tool | median (ms) | moat / tool |"
echo "|---|---|---|"
for tool in "${tools[@]}"; do
  ms=$(median "$TMP/samples.$tool")
  echo "| $tool | $ms | $(awk -v a="$moat_ms" -v b="$ms" 'BEGIN {printf "%.2f", a / b}') |"
done
