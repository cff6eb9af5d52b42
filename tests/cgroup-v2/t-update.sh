# moat-runtime update changes memory, pids and cpu of a running container.

test_update_changes_memory_pids_and_cpu() {
  bundle upd 'sleep 1000'
  run_detached upd
  m update --memory 64m --pids-limit 20 --cpu-quota 50000 --cpu-period 100000 --cpu-share 2048 upd
  file_eq "$(cgdir upd)/memory.max" 67108864
  file_eq "$(cgdir upd)/pids.max" 20
  file_eq "$(cgdir upd)/cpu.max" "50000 100000"
  # 1 + (2048 - 2) * 9999 / 262142 = 79
  file_eq "$(cgdir upd)/cpu.weight" 79
  # A quota alone keeps the period.
  m update --cpu-quota 25000 upd
  file_eq "$(cgdir upd)/cpu.max" "25000 100000"
  echo '{"memory": {"limit": 33554432}, "pids": {"limit": 7}}' | m update --resources - upd
  file_eq "$(cgdir upd)/memory.max" 33554432
  file_eq "$(cgdir upd)/pids.max" 7
  # A bad value changes nothing.
  moat-runtime update --memory 12x upd 2>/dev/null && fail "update --memory 12x succeeded"
  file_eq "$(cgdir upd)/pids.max" 7
  # The stats report the new limits.
  eq "$(moat-runtime events --stats upd | jq -r .data.pids.limit)" 7 "events --stats pids.limit"
}
