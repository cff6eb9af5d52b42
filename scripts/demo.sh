#!/usr/bin/env bash
# The demo: one container on the built-in busybox bundle, showing what it can and cannot see.
set -euo pipefail
bundle=${1:?usage: demo.sh BUNDLE}
repo=$(cd "$(dirname "$0")/.." && pwd)
moat=$repo/bin/moat-runtime
script='
echo "hostname:      $(hostname)"
echo "my pid:        $$ (pid 1 of a new pid namespace)"
echo "my ids:        $(id)"
grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status | sed "s/^/capabilities:  /"
echo "processes I can see:"; ps -o pid,user,comm
echo "network interfaces: $(ls /sys/class/net | tr "\n" " ")"
echo "mounts:"; cut -d" " -f5,9 /proc/self/mountinfo | sed "s/^/  /"
touch /probe 2>/dev/null && echo "root filesystem: writable" || echo "root filesystem: read-only"
'
jq --arg s "$script" '.process.args = ["sh", "-c", $s] | .hostname = "moat-demo"' "$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
echo "host: $(hostname), $(ls /proc | grep -c '^[0-9]') processes, interfaces: $(ls /sys/class/net | tr '\n' ' ')"
echo "--- inside the container ---"
"$moat" run --bundle "$bundle" "moat-demo-$$"
# The same busybox root filesystem as an image in a store of the demo's own: imported, listed,
# saved as a docker archive and loaded back into a second store, as docker and podman users do.
store=$repo/.build/demo-store
rm -rf "$store" "$store-loaded"
echo "--- the root filesystem as an image ---"
tar -C "$bundle/rootfs" -czf "$repo/.build/demo-rootfs.tar.gz" .
"$repo/bin/moat" --root "$store" import -q --change 'CMD ["/bin/sh"]' "$repo/.build/demo-rootfs.tar.gz" moat-demo:latest >/dev/null
"$repo/bin/moat" --root "$store" images
"$repo/bin/moat" --root "$store" save -o "$repo/.build/demo-image.tar" moat-demo:latest
"$repo/bin/moat" --root "$store-loaded" load -i "$repo/.build/demo-image.tar"
