# Device rules on cgroup v2 are an eBPF program: what it refuses, what it allows.

devices() {
  dev=$(cat /sys/block/vda/dev 2>/dev/null) || fail "the VM has no /dev/vda"
  cfg "$1" ".linux.devices = [
    {type: \"c\", path: \"/dev/kmsg\", major: 1, minor: 11, fileMode: 438},
    {type: \"b\", path: \"/dev/vda\", major: ${dev%:*}, minor: ${dev#*:}, fileMode: 438}]"
}

test_devices_outside_the_rules_are_refused() {
  bundle dev1 'echo x > /dev/null && echo null-allowed; head -c 1 /dev/kmsg; dd if=/dev/vda of=/dev/null count=1'
  devices dev1
  # The container exits with dd's failure: its status is not the point.
  out=$(moat-runtime run --bundle /tmp/bundles/dev1 dev1 2>&1) || true
  echo "$out"
  echo "$out" | grep -qx null-allowed || fail "writing /dev/null was refused"
  echo "$out" | grep -q "/dev/kmsg.*Operation not permitted" || fail "/dev/kmsg (c 1:11) was not refused"
  echo "$out" | grep -q "/dev/vda.*Operation not permitted" || fail "/dev/vda was not refused"
}

test_a_device_rule_allows_its_access_only() {
  bundle dev2 'dd if=/dev/vda of=/dev/null bs=512 count=1 2>&1 && echo read-allowed; echo x 2>&1 > /dev/vda'
  devices dev2
  dev=$(cat /sys/block/vda/dev)
  cfg dev2 ".linux.resources.devices += [{allow: true, type: \"b\", major: ${dev%:*}, minor: ${dev#*:}, access: \"r\"}]"
  out=$(moat-runtime run --bundle /tmp/bundles/dev2 dev2 2>&1) || true
  echo "$out"
  echo "$out" | grep -qx read-allowed || fail "reading /dev/vda was refused although a rule allows r"
  echo "$out" | grep -q "/dev/vda.*Operation not permitted" || fail "writing /dev/vda was not refused (the rule allows r only)"
}
