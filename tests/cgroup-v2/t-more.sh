# The rest of linux.resources on v2: hugetlb, the unified map, memory.checkBeforeUpdate.

test_hugetlb_limits_are_written() {
  bundle huge 'sleep 1000'
  cfg huge '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 4194304}]'
  run_detached huge
  file_eq "$(cgdir huge)/hugetlb.2MB.max" 4194304
  # Reservation accounting (Linux 5.7) gets the same limit.
  file_eq "$(cgdir huge)/hugetlb.2MB.rsvd.max" 4194304
}

test_unified_keys_are_written() {
  bundle uni 'sleep 1000'
  cfg uni '.linux.resources.unified = {"memory.high": "50331648", "pids.max": "42"}'
  run_detached uni
  file_eq "$(cgdir uni)/memory.high" 50331648
  file_eq "$(cgdir uni)/pids.max" 42
}

test_check_before_update_refuses_a_limit_below_usage() {
  bundle chk 'x=$(head -c 8388608 /dev/zero | tr "\0" a); echo ready; sleep 1000'
  run_detached chk
  used() { [ "$(cat "$(cgdir chk)/memory.current")" -gt 4194304 ]; }
  wait_for 60 "the container to use 4 MiB" used
  echo '{"memory": {"limit": 1048576, "checkBeforeUpdate": true}}' | moat-runtime update --resources - chk 2>/tmp/chk.err \
    && fail "an update below memory.current succeeded"
  grep -q "checkBeforeUpdate" /tmp/chk.err || fail "unclear error: $(cat /tmp/chk.err)"
  file_eq "$(cgdir chk)/memory.max" max
  eq "$(status chk)" running "status after the refused update"
}
