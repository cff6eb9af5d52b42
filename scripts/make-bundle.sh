#!/usr/bin/env bash
# Builds a small OCI bundle: a busybox-static rootfs and the config.json `moat spec --host-root` writes
# (runc spec's: no user namespace, as the benchmarks' peers and the test fixtures expect), adjusted to
# run without a terminal. Usage: make-bundle.sh DIR [ARGS...]
set -euo pipefail
dir=${1:?usage: make-bundle.sh DIR [ARGS...]}
shift || true
moat=${MOAT:-$(cd "$(dirname "$0")/.." && pwd)/bin/moat-runtime}
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q "statically linked" || busybox=/bin/busybox
if ! [ -x "$busybox" ]; then
  echo "make-bundle: busybox-static is not installed (apt-get install busybox-static)" >&2
  exit 1
fi
rm -rf "$dir"
mkdir -p "$dir/rootfs"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin}
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$dir/rootfs/etc/passwd"
echo "root:x:0:" > "$dir/rootfs/etc/group"
chmod 1777 "$dir/rootfs/tmp"
"$moat" spec --host-root --bundle "$dir"
# Non-interactive by default; the process arguments come from the caller when given.
args_json='["sh"]'
if [ $# -gt 0 ]; then
  args_json=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
fi
jq --argjson args "$args_json" '.process.terminal = false | .process.args = $args' \
  "$dir/config.json" > "$dir/config.json.new"
mv "$dir/config.json.new" "$dir/config.json"
