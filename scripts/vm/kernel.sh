#!/usr/bin/env bash
# Fetches Debian's stock amd64 kernel package with apt (not installed: unpacked with dpkg-deb) and
# prints the unpacked tree's directory. The one guest kernel of a checkout: the cgroup v2 lane, the
# vm tier's tests and bench/vm.sh all boot it. It is unpacked where the vm tier itself looks with
# MOAT_VM_DIR=.build/vm/data (data/kernel/PACKAGE/boot/vmlinuz-*), so the tier finds it without
# MOAT_VM_KERNEL and never fetches a second one. The .deb is cached in .build/vm, so a second run
# costs nothing and works offline; a lock makes callers running at once share one download. Exits
# non-zero with a clear message when no kernel package can be had; callers must treat that as a
# failure, never as a skip.
# Usage: kernel.sh   (MOAT_VM_KERNEL_PACKAGE=linux-image-6.1.0-NN-amd64 picks one)
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=$PWD/.build/vm
kernels=$cache/data/kernel
mkdir -p "$cache" "$kernels"
exec 9>"$cache/kernel.lock"
flock 9

say() { echo "vm/kernel: $*" >&2; }

# The ABI-versioned package that the linux-image-amd64 metapackage currently points at.
package=${MOAT_VM_KERNEL_PACKAGE:-}
if [ -z "$package" ]; then
  depends() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1; }
  package=$(depends)
  if [ -z "$package" ]; then
    say "apt knows no linux-image-amd64 package; running apt-get update"
    apt-get update -qq >&2 || true
    package=$(depends)
  fi
fi
deb=$(ls -1 "$cache"/"${package:-linux-image-*-amd64}"_*_amd64.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ] && [ -n "$package" ]; then
  say "downloading $package"
  # apt drops privileges to _apt for downloads; a directory it cannot write to only costs a warning.
  if ! (cd "$cache" && apt-get download -q "$package" >&2 2>"$cache/download.log") \
     && ! { apt-get update -qq >&2 && (cd "$cache" && apt-get download -q "$package" >&2 2>"$cache/download.log"); }; then
    say "apt-get download $package failed:"
    sed 's/^/  /' "$cache/download.log" >&2 || true
  fi
  deb=$(ls -1 "$cache"/"$package"_*_amd64.deb 2>/dev/null | tail -1 || true)
  # Older kernels are not needed any more: keep one .deb (70 MB) in the cache.
  if [ -n "$deb" ]; then
    for old in "$cache"/linux-image-*_amd64.deb; do [ "$old" = "$deb" ] || rm -f "$old"; done
  fi
fi
if [ -z "$deb" ]; then
  say "FAILED: no Debian kernel package (${package:-linux-image-amd64 has no dependency}) could be fetched, and none is cached in $cache"
  exit 1
fi
# The tier's layout names the tree after the package (linux-image-VERSION-amd64).
tree=$kernels/$(basename "$deb" | cut -d_ -f1)
if [ ! -d "$tree/boot" ]; then
  # One kernel: the tier boots the newest tree it finds, which must be this one. (.build/vm/kernel
  # is where an older kernel.sh unpacked.)
  rm -rf "$cache/kernel" "$kernels"/linux-image-* "$tree.tmp"
  mkdir -p "$tree.tmp"
  dpkg-deb -x "$deb" "$tree.tmp"
  mv "$tree.tmp" "$tree"
fi
ls "$tree"/boot/vmlinuz-* >/dev/null 2>&1 || { say "FAILED: $deb has no boot/vmlinuz-*"; exit 1; }
echo "$tree"
