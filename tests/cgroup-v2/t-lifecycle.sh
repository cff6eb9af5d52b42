# The cgroup over the container's life: ps and stats while it runs, nothing left after delete.

test_ps_lists_the_containers_processes() {
  bundle ps 'sleep 1000 & sleep 1000 & wait'
  run_detached ps
  count() { [ "$(moat-runtime ps --format json ps | jq length)" = 3 ]; }
  wait_for 30 "three processes" count
  pids=$(moat-runtime ps --format json ps | jq -r '.[]' | sort -n)
  eq "$pids" "$(sort -n "$(cgdir ps)/cgroup.procs")" "moat-runtime ps pids vs cgroup.procs"
  table=$(moat-runtime ps ps) || fail "moat-runtime ps failed"
  echo "$table"
  echo "$table" | head -1 | grep -q PID || fail "no header"
  eq "$(echo "$table" | sed 1d | wc -l)" 3 "process lines in moat-runtime ps"
  for pid in $pids; do
    echo "$table" | sed 1d | awk '{print $2}' | grep -qx "$pid" || fail "pid $pid missing from moat-runtime ps"
  done
}

test_events_stats_report_the_cgroup() {
  bundle st 'sleep 1000'
  cfg st '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 50} | .linux.resources.cpu = {quota: 50000, period: 100000}'
  run_detached st
  moat-runtime events --stats st > /tmp/stats || fail "moat-runtime events --stats failed"
  cat /tmp/stats
  eq "$(jq -r .type /tmp/stats)" stats "type"
  eq "$(jq -r .id /tmp/stats)" st "id"
  eq "$(jq -r .data.memory.usage.limit /tmp/stats)" 67108864 "memory.usage.limit"
  jq -e '.data.memory.usage.usage > 0' /tmp/stats >/dev/null || fail "memory usage is 0"
  eq "$(jq -r .data.pids.limit /tmp/stats)" 50 "pids.limit"
  eq "$(jq -r .data.pids.current /tmp/stats)" 1 "pids.current"
  jq -e '.data.cpu.usage.total > 0' /tmp/stats >/dev/null || fail "cpu usage is 0"
}

test_delete_removes_the_cgroup() {
  bundle del 'true'
  run_detached del
  wait_for 30 "the container to stop" sh -c '[ "$(moat-runtime state del | jq -r .status)" = stopped ]'
  [ -d "$(cgdir del)" ] || fail "the cgroup went away before delete"
  m delete del
  [ ! -d "$(cgdir del)" ] || fail "$(cgdir del) is still there after delete"
  bundle del2 'sleep 1000 & sleep 1000'
  run_detached del2
  m delete --force del2
  [ ! -d "$(cgdir del2)" ] || fail "$(cgdir del2) is still there after delete --force"
  [ -z "$(moat-runtime list -q)" ] || fail "moat-runtime list still shows $(moat-runtime list -q)"
}
