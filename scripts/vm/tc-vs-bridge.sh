#!/usr/bin/env bash
# How the vm tier's guest should meet the container's veth (docs/vm.md, Networks): tc mirred
# redirection between the veth and the tap, or a bridge inside the container's namespace. A veth
# stands in for the tap (its far end plays the guest, in a namespace of its own), so only the
# namespace's data path is measured, not QEMU. Everything lives in three namespaces this script
# makes and deletes (vbP peer, vbB container, vbG guest). Prints seconds to send 2 GiB over TCP
# and ping's average, alternating the two ways, ROUNDS times (default 4). Needs root, python3, busybox.
set -euo pipefail
rounds=${ROUNDS:-4}
python=$(command -v python3) || { echo "python3 is needed" >&2; exit 1; }
work=$(mktemp -d)
cat > "$work/tx.py" <<'PY'
import socket, sys
if sys.argv[1] == "recv":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 5000)); s.listen(1)
    c, _ = s.accept(); n = 0
    while True:
        b = c.recv(1 << 20)
        if not b: break
        n += len(b)
    print(n)
else:
    c = socket.create_connection(("10.9.0.2", 5000)); buf = b"\0" * (1 << 20)
    for _ in range(2048): c.sendall(buf)
    c.close()
PY
teardown() { for n in vbP vbB vbG; do ip netns del $n 2>/dev/null || true; done; }
trap 'teardown; rm -rf "$work"' EXIT
setup() {
  for n in vbP vbB vbG; do ip netns add $n; ip -n $n link set lo up; done
  ip -n vbP link add pa type veth peer name eth0 netns vbB
  ip -n vbG link add ga type veth peer name tap0 netns vbB
  ip -n vbP addr add 10.9.0.1/24 dev pa; ip -n vbP link set pa up
  ip -n vbG addr add 10.9.0.2/24 dev ga; ip -n vbG link set ga up
  ip -n vbB link set eth0 up; ip -n vbB link set tap0 up
  if [ "$1" = tc ]; then
    for pair in "eth0 tap0" "tap0 eth0"; do
      set -- $pair
      ip netns exec vbB tc qdisc add dev "$1" ingress
      ip netns exec vbB tc filter add dev "$1" parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev "$2"
    done
  else
    ip -n vbB link add br0 type bridge
    ip -n vbB link set eth0 master br0; ip -n vbB link set tap0 master br0; ip -n vbB link set br0 up
  fi
}
measure() {
  ip netns exec vbG "$python" "$work/tx.py" recv > "$work/count" &
  local server=$! start end
  sleep 0.3
  start=$(date +%s.%N)
  timeout 120 ip netns exec vbP "$python" "$work/tx.py" send
  wait $server
  end=$(date +%s.%N)
  printf '%-6s %s bytes in %.2f s, ping avg %s ms\n' "$1" "$(cat "$work/count")" "$(echo "$end - $start" | bc)" \
    "$(ip netns exec vbP busybox ping -c 20 -q 10.9.0.2 | sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p')"
}
for _ in $(seq "$rounds"); do
  for way in tc bridge; do teardown; setup $way; measure $way; done
done
