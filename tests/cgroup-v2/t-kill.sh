# kill --all KILL on cgroup v2 is one write to cgroup.kill.

# Proof that moat writes cgroup.kill (and does not signal pid by pid): with the file covered by a
# plain one, the write lands there and every process survives.
test_kill_all_writes_cgroup_kill() {
  bundle k1 'sleep 1000 & sleep 1000 & wait'
  run_detached k1
  : > /tmp/kill-trap
  mount --bind /tmp/kill-trap "$(cgdir k1)/cgroup.kill"
  moat-runtime kill --all k1 KILL
  rc=$?
  umount "$(cgdir k1)/cgroup.kill"
  eq "$rc" 0 "moat-runtime kill --all exit status"
  eq "$(cat /tmp/kill-trap)" 1 "what moat wrote to cgroup.kill"
  eq "$(status k1)" running "status (nothing was signalled by pid)"
}

test_kill_all_empties_a_forking_container() {
  # Forks for as long as the test lasts: busybox sh exits when a fork fails, so a bomb that hit
  # its pids limit would empty the cgroup by itself before the kill (ten forks a second stay far
  # below this limit for the 30 s the test can wait).
  bundle k2 'while :; do sleep 1000 & sleep 0.1; done'
  cfg k2 '.linux.resources.pids = {limit: 1000}'
  run_detached k2
  wait_for 30 "processes to fork" sh -c "[ \$(wc -l < $(cgdir k2)/cgroup.procs) -ge 5 ]"
  m kill --all k2 KILL
  wait_for 30 "the cgroup to be empty" grep -qx "populated 0" "$(cgdir k2)/cgroup.events"
  eq "$(status k2)" stopped "status after kill --all"
}
