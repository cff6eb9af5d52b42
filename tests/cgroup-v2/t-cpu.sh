# CPU: weight, bandwidth (cpu.max, cpu.max.burst), cpuset, and throttling in cpu.stat. No timings.

test_cpu_weight_quota_and_cpuset_are_written() {
  bundle cpu 'sleep 1000'
  cfg cpu '.linux.resources.cpu = {shares: 512, quota: 20000, period: 50000, burst: 1000, cpus: "1", mems: "0"}'
  run_detached cpu
  # shares 2..262144 map onto weight 1..10000: 1 + (512 - 2) * 9999 / 262142 = 20.
  file_eq "$(cgdir cpu)/cpu.weight" 20
  file_eq "$(cgdir cpu)/cpu.max" "20000 50000"
  file_eq "$(cgdir cpu)/cpu.max.burst" 1000
  file_eq "$(cgdir cpu)/cpuset.cpus" 1
  file_eq "$(cgdir cpu)/cpuset.mems" 0
  pid=$(init_pid cpu)
  eq "$(sed -n 's/^Cpus_allowed_list:\t*//p' /proc/$pid/status)" 1 "Cpus_allowed_list of the init"
}

test_cpu_quota_throttles_a_busy_loop() {
  bundle spin 'while :; do :; done'
  cfg spin '.linux.resources.cpu = {quota: 10000, period: 100000}'
  run_detached spin
  file_eq "$(cgdir spin)/cpu.max" "10000 100000"
  throttled() { [ "$(key "$(cgdir spin)/cpu.stat" nr_throttled)" -gt 0 ]; }
  wait_for 60 "cpu.stat to count throttled periods" throttled
  [ "$(key "$(cgdir spin)/cpu.stat" throttled_usec)" -gt 0 ] || fail "throttled_usec is 0: $(cat "$(cgdir spin)/cpu.stat")"
}

# cpu.idle: the kernel refuses a cpu.weight while the group is idle, so the order of the two
# writes matters both ways.
test_cpu_idle_with_a_weight() {
  bundle idle 'sleep 1000'
  cfg idle '.linux.resources.cpu = {idle: 1, shares: 512}'
  run_detached idle
  file_eq "$(cgdir idle)/cpu.idle" 1
  echo '{"cpu": {"idle": 0, "shares": 1024}}' | m update --resources - idle
  file_eq "$(cgdir idle)/cpu.idle" 0
  # 1 + (1024 - 2) * 9999 / 262142 = 39
  file_eq "$(cgdir idle)/cpu.weight" 39
}
