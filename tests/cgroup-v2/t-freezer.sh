# pause and resume: cgroup.freeze, and the kernel's own word in cgroup.events.

test_pause_freezes_and_resume_thaws() {
  bundle frz 'while :; do sleep 0.05; done'
  run_detached frz
  m pause frz
  file_eq "$(cgdir frz)/cgroup.freeze" 1
  grep -qx "frozen 1" "$(cgdir frz)/cgroup.events" || fail "cgroup.events: $(cat "$(cgdir frz)/cgroup.events")"
  eq "$(status frz)" paused "status after pause"
  moat-runtime exec frz true 2>/dev/null && fail "exec into a paused container succeeded"
  m resume frz
  file_eq "$(cgdir frz)/cgroup.freeze" 0
  grep -qx "frozen 0" "$(cgdir frz)/cgroup.events" || fail "cgroup.events: $(cat "$(cgdir frz)/cgroup.events")"
  eq "$(status frz)" running "status after resume"
  m exec frz true
  # A paused container can be force-deleted: it is thawed so that SIGKILL acts.
  m pause frz
  m delete --force frz
  [ ! -d "$(cgdir frz)" ] || fail "$(cgdir frz) is still there after delete --force"
}
