# pids.max holds against a real fork bomb, and the machine can still start processes.

test_pids_limit_stops_a_fork_bomb() {
  bundle pids 'bomb() { bomb | bomb & }; bomb; sleep 1000'
  cfg pids '.linux.resources.pids = {limit: 10}'
  run_detached pids
  file_eq "$(cgdir pids)/pids.max" 10
  refused() { [ "$(key "$(cgdir pids)/pids.events" max)" -gt 0 ]; }
  wait_for 60 "pids.events to count refused forks" refused
  current=$(cat "$(cgdir pids)/pids.current")
  [ "$current" -le 10 ] || fail "pids.current is $current, above pids.max 10"
  /bin/true || fail "the machine cannot start a process"
  # The bomb goes on forking while it is deleted: cgroup.kill, then rmdir, must win anyway.
  m delete --force pids
  [ ! -d "$(cgdir pids)" ] || fail "$(cgdir pids) is still there after delete"
}
