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
