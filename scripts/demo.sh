#!/usr/bin/env bash
# The demo (`make demo`): builds a busybox image on this machine, loads it into Moat's store and runs
# a container from it with `moat run --rm`, showing what the container sees and which of Moat's
# defaults protect the host from it. Then try `moat run -it moat-demo/busybox sh` yourself.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# MOAT_DEMO_ROOT: a store of its own instead of Moat's default (the tests use it).
moat=("$repo/bin/moat" ${MOAT_DEMO_ROOT:+--root "$MOAT_DEMO_ROOT"})
image=moat-demo/busybox:latest
work=${MOAT_DEMO_WORK:-$repo/.build/demo}
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q "statically linked" || busybox=/bin/busybox
[ -x "$busybox" ] || { echo "demo: busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }

# 1. The image: a busybox root filesystem as a tar, imported as an image (what `docker import` does).
rm -rf "$work" && mkdir -p "$work/rootfs"/{bin,etc,proc,sys,dev,tmp,root}
cp "$busybox" "$work/rootfs/bin/busybox"
for applet in $("$busybox" --list); do [ "$applet" = busybox ] || ln -sf busybox "$work/rootfs/bin/$applet"; done
echo "root:x:0:0:root:/root:/bin/sh" > "$work/rootfs/etc/passwd"
echo "root:x:0:" > "$work/rootfs/etc/group"
chmod 1777 "$work/rootfs/tmp"
tar -C "$work/rootfs" --owner=0 --group=0 --numeric-owner -cf "$work/busybox.tar" .
echo "\$ moat import --change 'CMD [\"/bin/sh\"]' busybox.tar $image"
"${moat[@]}" import -q --change 'CMD ["/bin/sh"]' "$work/busybox.tar" "$image"
"${moat[@]}" images "$image"

# 2. A container from it, as `docker run --rm` would start it: nothing but the image and a command.
script='
echo "hostname:          $(hostname)"
echo "my pid:            $$ (pid 1 of its own pid namespace)"
echo "my ids:            $(id)"
echo "processes I see:   $(ls -d /proc/[0-9]* | wc -l) (this shell and its helpers; none of the host'"'"'s)"
echo "network:           $(ls /sys/class/net | tr "\n" " ")(a network namespace of its own)"
caps=$(sed -n "s/^CapEff:[[:space:]]*//p" /proc/self/status); n=0; v=$((0x$caps)); while [ $v -ne 0 ]; do n=$((n + (v & 1))); v=$((v >> 1)); done
if [ $(( (0x$caps >> 13) & 1 )) = 1 ]; then raw="with CAP_NET_RAW"; else raw="less CAP_NET_RAW, dropped on a Moat network"; fi
echo "capabilities:      $n of 41 (Docker'"'"'s default set $raw; no CAP_SYS_ADMIN or CAP_SYS_PTRACE)"
echo "seccomp:           mode $(sed -n "s/^Seccomp:[[:space:]]*//p" /proc/self/status) (a filter: the default profile refuses ~100 calls)"
echo "no_new_privs:      $(sed -n "s/^NoNewPrivs:[[:space:]]*//p" /proc/self/status) (setuid programs cannot gain privileges)"
pids=$(cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo "?")
echo "pids limit:        $pids (a fork bomb stops there)"
[ -s /proc/kcore ] && echo "/proc/kcore:       readable" || echo "/proc/kcore:       masked (empty)"
{ echo 1 > /proc/sys/vm/drop_caches; } 2>/dev/null && echo "/proc/sys:         writable" || echo "/proc/sys:         read-only"
mount -t tmpfs none /mnt 2>/dev/null && echo "mount:             allowed" || echo "mount:             refused"
unshare -U true 2>/dev/null && echo "new user namespace: allowed" || echo "new user namespace: refused (seccomp)"
'
echo
echo "\$ moat run --rm $image sh -c '...what do I see?...'"
"${moat[@]}" run --rm --hostname moat-demo "$image" sh -c "$script"
echo
echo "Next: moat run -it $image sh    (a shell in a container; exit to leave)"
echo "      moat audit --host          (what this machine lacks for containers)"
