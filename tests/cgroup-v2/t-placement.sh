# Where the container's processes live: CLONE_INTO_CGROUP puts the init in its cgroup at birth.

# The init is in /moat/ID, and it is the cgroup's only process.
test_init_is_in_its_cgroup() {
  bundle p1 'sleep 1000'
  create p1
  pid=$(init_pid p1)
  eq "$(cat /proc/$pid/cgroup)" "0::/moat/p1" "/proc/$pid/cgroup"
  eq "$(cat "$(cgdir p1)/cgroup.procs")" "$pid" "cgroup.procs of /moat/p1"
  m start p1
  eq "$(cat /proc/$pid/cgroup)" "0::/moat/p1" "/proc/$pid/cgroup after start"
}

# Proof that nothing moved the init there afterwards: in a cgroup made beforehand whose
# cgroup.procs is covered by a plain file, a write would land in that file and leave the process
# outside. With CLONE_INTO_CGROUP the file stays empty and the process is inside anyway.
test_init_is_born_in_its_cgroup() {
  dir=$CG/test/born
  mkdir -p "$dir"
  : > /tmp/procs-trap
  mount --bind /tmp/procs-trap "$dir/cgroup.procs"
  bundle p2 'sleep 1000'
  cfg p2 '.linux.cgroupsPath = "/test/born"'
  create p2
  pid=$(init_pid p2)
  umount "$dir/cgroup.procs"
  eq "$(cat /tmp/procs-trap)" "" "what moat wrote to cgroup.procs"
  eq "$(cat /proc/$pid/cgroup)" "0::/test/born" "/proc/$pid/cgroup"
  m delete --force p2
}

# exec joins the container's cgroup too (clone3 into it, like the init).
test_exec_runs_in_the_containers_cgroup() {
  bundle px 'sleep 1000'
  run_detached px
  eq "$(moat-runtime exec px cat /proc/self/cgroup)" "0::/" "the exec'd process's own view (cgroup namespace)"
  moat-runtime exec --detach --pid-file /tmp/px.pid px sleep 1000 || fail "exec --detach failed"
  eq "$(cat /proc/$(cat /tmp/px.pid)/cgroup)" "0::/moat/px" "/proc/PID/cgroup of the exec'd process"
}

# A nested relative cgroupsPath: every new level gets the controllers its limits need.
test_nested_path_enables_controllers_on_every_level() {
  bundle nest 'sleep 1000'
  cfg nest '.linux.cgroupsPath = "tenant/app/nest" | .linux.resources.pids = {limit: 9} | .linux.resources.memory = {limit: 33554432}'
  run_detached nest
  for level in "$CG/moat" "$CG/moat/tenant" "$CG/moat/tenant/app"; do
    grep -qw pids "$level/cgroup.subtree_control" || fail "pids not enabled in $level: $(cat "$level/cgroup.subtree_control")"
    grep -qw memory "$level/cgroup.subtree_control" || fail "memory not enabled in $level"
  done
  file_eq "$CG/moat/tenant/app/nest/pids.max" 9
  file_eq "$CG/moat/tenant/app/nest/memory.max" 33554432
  eq "$(cat /proc/$(init_pid nest)/cgroup)" "0::/moat/tenant/app/nest" "/proc/PID/cgroup"
  m delete --force nest
  [ ! -d "$CG/moat/tenant/app/nest" ] || fail "the container's cgroup is still there after delete"
}
