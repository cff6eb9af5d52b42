#!/usr/bin/env bash
# The demo: one container on the built-in busybox bundle, showing what it can and cannot see.
set -euo pipefail
bundle=${1:?usage: demo.sh BUNDLE}
moat=$(cd "$(dirname "$0")/.." && pwd)/bin/moat-runtime
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
