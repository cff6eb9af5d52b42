# Helpers for the cgroup v2 tests (sourced by harness.sh before a t-*.sh file). Each helper
# fails the case (exit 1, with a message) when something is not as expected.

CG=/sys/fs/cgroup

fail() { echo "FAIL: $*"; failed=1; exit 1; }

# A command that fails under set -e ends the case silently: say so (the harness traps EXIT).
on_exit() {
  rc=$?
  [ "$rc" = 0 ] || [ -n "${failed:-}" ] || echo "FAIL: a command exited with status $rc (set -e)"
}

# The cgroup directory of a container (moat's default cgroupsPath, /moat/ID).
cgdir() { echo "$CG/moat/$1"; }

# A bundle for container ID: a copy of /bundle/config.json on the shared busybox rootfs, running
# the given shell command. Adjust it with cfg.
bundle() {
  local id=$1 cmd=$2
  mkdir -p "/tmp/bundles/$id"
  jq --arg cmd "$cmd" '.root.path = "/bundle/rootfs" | .process.args = ["sh", "-c", $cmd]' /bundle/config.json > "/tmp/bundles/$id/config.json"
}

# cfg ID JQ-FILTER: edits the bundle's config.json.
cfg() {
  local f="/tmp/bundles/$1/config.json"
  jq "$2" "$f" > "$f.new" && mv "$f.new" "$f" || fail "jq '$2' failed"
}

# moat with the command line echoed on failure.
m() {
  moat-runtime "$@" || fail "moat $* exited with $?"
}

create() { m create --bundle "/tmp/bundles/$1" "$1"; }
run_detached() { create "$1" && m start "$1"; }

status() { moat-runtime state "$1" | jq -r .status; }
init_pid() { moat-runtime state "$1" | jq -r .pid; }

# wait_for SECONDS WHAT COMMAND...: polls every 0.1 s until the command succeeds.
wait_for() {
  local seconds=$1 what=$2 i=0
  shift 2
  while ! "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -le $((seconds * 10)) ] || fail "timed out after ${seconds}s waiting for $what"
    sleep 0.1
  done
}

# eq ACTUAL EXPECTED WHAT
eq() { [ "$1" = "$2" ] || fail "$3: expected \"$2\", got \"$1\""; }

# file_eq FILE EXPECTED: the first line of a kernel file.
file_eq() { eq "$(head -n1 "$1" 2>/dev/null)" "$2" "$1"; }

# key FILE KEY: the value of "KEY VALUE" in a flat-keyed file (cpu.stat, memory.events).
key() { sed -n "s/^$2 //p" "$1"; }

# Removes every container and every cgroup a case made (the harness calls it after each case).
cleanup_all() {
  # A case that failed halfway may have left a file bound over a cgroup file (t-kill, t-placement).
  for mnt in $(awk -v cg="$CG/" 'index($2, cg) == 1 { print $2 }' /proc/mounts | sort -r); do umount "$mnt"; done
  for id in $(moat-runtime list -q 2>/dev/null); do moat-runtime delete --force "$id" >/dev/null 2>&1; done
  for d in $(find "$CG/moat" "$CG/test" -mindepth 1 -type d 2>/dev/null | sort -r); do rmdir "$d" 2>/dev/null; done
  rm -rf /tmp/bundles
  true
}
