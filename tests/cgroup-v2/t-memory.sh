# Memory: memory.max, memory.low, memory.swap.max, and an OOM kill seen by the kernel and by `moat-runtime events`.

test_memory_limits_are_written() {
  bundle mem 'sleep 1000'
  # swap is memory+swap in the spec; cgroup v2 limits swap alone: 32M - 32M = 0.
  cfg mem '.linux.resources.memory = {limit: 33554432, swap: 33554432, reservation: 16777216}'
  run_detached mem
  file_eq "$(cgdir mem)/memory.max" 33554432
  file_eq "$(cgdir mem)/memory.low" 16777216
  file_eq "$(cgdir mem)/memory.swap.max" 0
}

test_oom_kill_is_reported_by_events() {
  bundle oom 'x=$(head -c 134217728 /dev/zero | tr "\0" a); echo survived'
  cfg oom '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
  create oom
  # The stream runs until the container stops, and reports the OOM kill on the way.
  moat-runtime events --interval 1s oom > /tmp/oom-events 2>/tmp/oom-events.err &
  events=$!
  m start oom
  wait_for 90 "the hog to be killed" sh -c '[ "$(moat-runtime state oom | jq -r .status)" = stopped ]'
  wait "$events" || fail "moat-runtime events exited with $?: $(cat /tmp/oom-events.err)"
  kills=$(key "$(cgdir oom)/memory.events" oom_kill)
  [ "${kills:-0}" -gt 0 ] || fail "memory.events says oom_kill ${kills:-missing}: $(cat "$(cgdir oom)/memory.events")"
  # One JSON object a line: stats every second, and an oom line per kill.
  oom=$(jq -c 'select(.type != "stats")' /tmp/oom-events) || fail "moat-runtime events printed something that is not JSON: $(cat /tmp/oom-events)"
  echo "$oom" | grep -qx '{"type":"oom","id":"oom"}' || fail "no oom line from moat-runtime events, only: ${oom:-stats lines}"
}
