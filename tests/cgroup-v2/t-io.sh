# io: io.max and io.weight for the VM's virtio disk (/dev/vda, a 64 MiB disk that reads zeroes).

vda() {
  [ -e /sys/block/vda/dev ] || fail "the VM has no /dev/vda (virtio_blk not loaded?)"
  cat /sys/block/vda/dev
}

test_io_max_and_weight_are_written() {
  dev=$(vda)
  major=${dev%:*} minor=${dev#*:}
  bundle io 'sleep 1000'
  cfg io ".linux.resources.blockIO = {weight: 500,
    throttleReadBpsDevice: [{major: $major, minor: $minor, rate: 1048576}],
    throttleWriteIOPSDevice: [{major: $major, minor: $minor, rate: 100}]}"
  run_detached io
  file_eq "$(cgdir io)/io.max" "$dev rbps=1048576 wbps=max riops=max wiops=100"
  # blkio weight 10..1000 maps onto io.weight 1..10000: 1 + (500 - 10) * 9999 / 990 = 4950.
  file_eq "$(cgdir io)/io.weight" "default 4950"
}

# A per-device weight needs the kernel's io cost controller on that device, which is off until
# io.cost.qos enables it: the error says so. (Runs before the next case, which enables it.)
test_io_weight_per_device_without_iocost_is_refused_clearly() {
  dev=$(vda)
  grep -q "^$dev enable=1" "$CG/io.cost.qos" && fail "io cost is already enabled for $dev"
  bundle iox 'sleep 1000'
  cfg iox ".linux.resources.blockIO = {weightDevice: [{major: ${dev%:*}, minor: ${dev#*:}, weight: 100}]}"
  out=$(moat-runtime create --bundle /tmp/bundles/iox iox 2>&1) && fail "create succeeded: $(cat "$(cgdir iox)/io.weight")"
  echo "$out"
  echo "$out" | grep -q "blockIO.weightDevice\[0\].weight: cannot set io.weight = $dev 910 .*io.cost.qos" || fail "unclear error"
  [ ! -d "$(cgdir iox)" ] || fail "a failed create left $(cgdir iox) behind"
}

test_io_weight_per_device_is_written() {
  dev=$(vda)
  major=${dev%:*} minor=${dev#*:}
  echo "$dev enable=1" > "$CG/io.cost.qos"
  bundle iow 'sleep 1000'
  cfg iow ".linux.resources.blockIO = {weightDevice: [{major: $major, minor: $minor, weight: 100}]}"
  run_detached iow
  # 1 + (100 - 10) * 9999 / 990 = 910
  grep -qx "$dev 910" "$(cgdir iow)/io.weight" || fail "io.weight has no \"$dev 910\": $(cat "$(cgdir iow)/io.weight")"
}
