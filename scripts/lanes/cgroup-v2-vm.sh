#!/usr/bin/env bash
# The cgroup v2 lane: boots Debian's stock kernel under qemu's microvm machine with an initramfs
# holding bin/moat-runtime, busybox and tests/cgroup-v2/, and runs those tests on a pure cgroup v2
# hierarchy (this host is a v1 hybrid). KVM when it can boot the kernel, TCG otherwise.
# Prints the tests' results, writes "PASSED FAILED" to $MOAT_TEST_RESULTS/cgroup-v2-vm.counts and
# exits non-zero on any failure, including a kernel that cannot be fetched or a VM that does not
# finish: that is one failed test, never a skip. See docs/cgroup-v2-lane.md.
# Environment: MOAT_TEST_RESULTS (default .build/test-results), MOAT_V2_TESTS=PATTERN (a subset),
# MOAT_VM_ACCEL=kvm|tcg (skip the probe), MOAT_VM_TIMEOUT=seconds (whole VM, default 600).
set -euo pipefail
cd "$(dirname "$0")/../.."
lane=cgroup-v2-vm
results=${MOAT_TEST_RESULTS:-$PWD/.build/test-results}
work=$PWD/.build/vm
mkdir -p "$results" "$work"
counts=$results/$lane.counts
rm -f "$counts"
started=$(date +%s)

say() { echo "$lane: $*"; }
# Every way out before the tests report counts as one failed test.
broken() {
  say "FAILED: $*"
  echo "0 1" > "$counts"
  exit 1
}

./scripts/install-deps.sh || broken "scripts/install-deps.sh failed"
for tool in qemu-system-x86_64 jq busybox dpkg-deb; do
  command -v "$tool" >/dev/null || broken "$tool is not installed"
done
[ -x bin/moat-runtime ] || make build || broken "make build failed"

kernel_tree=$(./scripts/vm/kernel.sh) || broken "no Debian kernel: see the vm/kernel lines above"
vmlinuz=$(ls "$kernel_tree"/boot/vmlinuz-* | head -1)
initramfs=$work/cgroup-v2.cpio.gz
./scripts/vm/initramfs.sh "$kernel_tree" "$initramfs" || broken "the initramfs could not be built"

# tsc_early_khz: TCG's TSC cannot be calibrated reliably. quiet keeps the kernel's own messages
# (OOM reports among them) off the console; panic=-1 with -no-reboot ends qemu on a panic.
append="console=ttyS0 quiet loglevel=3 panic=-1 tsc_early_khz=2000000 cgroup_no_v1=all"
[ -z "${MOAT_V2_TESTS:-}" ] || append+=" moat.tests=$MOAT_V2_TESTS"
qemu() {
  local accel=$1 seconds=$2 log=$3 init_append=$4
  # microvm with ACPI (poweroff -f ends the machine), an isa serial console, no network, and a
  # 64 MiB virtio disk that reads zeroes (null-co: no image file), for the io controller's tests.
  timeout -s KILL "$seconds" qemu-system-x86_64 \
    -M microvm,acpi=on,rtc=on -accel "$accel" -cpu max -smp 2 -m 1024 \
    -nodefaults -no-user-config -display none -no-reboot \
    -serial "file:$log" -monitor none -nic none \
    -blockdev driver=null-co,node-name=disk0,size=67108864,read-zeroes=on \
    -device virtio-blk-device,drive=disk0 \
    -kernel "$vmlinuz" -initrd "$initramfs" -append "$append $init_append" </dev/null
}

# /dev/kvm may be there and still unable to boot a stock kernel (it is here): a short boot that
# only has to reach the init decides. Its cost under KVM is a second.
accel=${MOAT_VM_ACCEL:-}
if [ -z "$accel" ]; then
  accel=tcg
  if [ -w /dev/kvm ]; then
    probe=$work/kvm-probe.log
    rm -f "$probe"
    qemu kvm 20 "$probe" "moat.tests=no-such-test" >/dev/null 2>&1 || true
    if grep -q "moat-vm: booted" "$probe" 2>/dev/null; then accel=kvm; fi
    say "/dev/kvm $([ "$accel" = kvm ] && echo "boots the kernel: using KVM" || echo "cannot boot the kernel: using TCG")"
  fi
fi

log=$work/$lane.log
rm -f "$log"
say "booting $(basename "$vmlinuz") under qemu microvm ($accel)"
boot_start=$(date +%s)
qemu_status=0
vm_timeout=${MOAT_VM_TIMEOUT:-600}
qemu "$accel" "$vm_timeout" "$log" "" 2>"$work/qemu.stderr" || qemu_status=$?
[ "$qemu_status" != 137 ] || echo "qemu was killed at the ${vm_timeout}s time limit" >> "$work/qemu.stderr"
elapsed=$(( $(date +%s) - boot_start ))
tr -d '\r' < "$log" > "$log.txt"
grep -E "^moat-vm: |^(not )?ok [0-9]|^# |^[0-9]+ passed, [0-9]+ failed$" "$log.txt" || true

summary=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$log.txt" | tail -1 || true)
if [ -z "$summary" ]; then
  tail -n 30 "$log.txt" | sed 's/^/  console: /'
  sed 's/^/  qemu: /' "$work/qemu.stderr"
  passed=$(grep -c "^ok [0-9]" "$log.txt" || true)
  failed=$(( $(grep -c "^not ok [0-9]" "$log.txt" || true) + 1 ))
  echo "$passed $failed" > "$counts"
  say "FAILED: the virtual machine did not finish the tests (qemu exit $qemu_status after ${elapsed}s; console in $log.txt)"
  exit 1
fi
read -r passed _ failed _ <<<"$summary"
echo "$passed $failed" > "$counts"
say "$passed passed, $failed failed (VM ${elapsed}s under $accel, lane $(( $(date +%s) - started ))s)"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
