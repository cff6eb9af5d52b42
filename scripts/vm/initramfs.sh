#!/usr/bin/env bash
# Builds the cgroup v2 lane's initramfs (a gzipped newc cpio): busybox-static, bin/moat-runtime with every
# shared library it links or opens at run time, procps' ps (moat ps runs it) and jq (the tests edit
# config.json with it) with theirs, the virtio block modules of the unpacked kernel, a busybox OCI
# bundle, the tests of tests/cgroup-v2/ and their init. Nothing here is installed on the host.
# Usage: initramfs.sh KERNEL_TREE OUT.cpio.gz
set -euo pipefail
tree=${1:?usage: initramfs.sh KERNEL_TREE OUT.cpio.gz}
out=${2:?usage: initramfs.sh KERNEL_TREE OUT.cpio.gz}
cd "$(dirname "$0")/../.."
repo=$PWD
moat=${MOAT:-$repo/bin/moat-runtime}
busybox=$(command -v busybox)
file -L "$busybox" 2>/dev/null | grep -q "statically linked" || busybox=/bin/busybox
[ -x "$moat" ] || { echo "vm/initramfs: $moat is missing (make build)" >&2; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/moat-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,etc,proc,sys,dev,run,tmp,newroot,lib/modules,tests}
chmod 1777 "$root/tmp"
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3

# busybox in /bin with every applet; the real programs go to /usr/bin, first in PATH.
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done

# A program and the libraries ldd resolves for it, at the paths the loader looks them up.
copy_with_libs() {
  local program=$1 dest=$2 lib
  cp -L "$program" "$root$dest"
  for lib in $(ldd "$program" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
  done
}
copy_with_libs "$moat" /usr/bin/moat-runtime
copy_with_libs "$(command -v jq)" /usr/bin/jq
copy_with_libs "$(command -v ps)" /usr/bin/ps
# moat opens libseccomp.so.2 with dlopen (src/Moat.Interop/Libseccomp.cs): ldd cannot see it.
seccomp=$(ldconfig -p | sed -n 's/^\s*libseccomp\.so\.2 (libc6,x86-64) => //p' | head -1)
[ -n "$seccomp" ] || { echo "vm/initramfs: libseccomp.so.2 not found (apt-get install libseccomp2)" >&2; exit 1; }
copy_with_libs "$seccomp" "$seccomp"
# The loader finds dlopen'ed libraries through ld.so.cache.
printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' > "$root/etc/ld.so.conf"
ldconfig -r "$root"

echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

# virtio-mmio and virtio-blk are modules in Debian's kernel: the io tests need a block device.
kver=$(basename "$(ls -d "$tree"/lib/modules/*/ | head -1)")
for m in drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko drivers/virtio/virtio_mmio.ko drivers/block/virtio_blk.ko; do
  cp "$tree/lib/modules/$kver/kernel/$m" "$root/lib/modules/"
done

# The bundle: moat spec's config.json (tests adjust copies of it) and a busybox rootfs.
MOAT=$moat "$repo/scripts/make-bundle.sh" "$root/bundle" >/dev/null

cp "$repo"/tests/cgroup-v2/*.sh "$root/tests/"
cp "$repo/tests/cgroup-v2/init" "$root/init"
chmod +x "$root/init"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -mindepth 1 | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -1 > "$out.new"
mv "$out.new" "$out"
