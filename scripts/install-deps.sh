#!/usr/bin/env bash
# Installs what building, the demo and the tests need on Debian 12, as root. Idempotent: installs
# only what is missing, so a prepared machine pays nothing.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: run as root (it installs Debian packages; containers need root too)" >&2
  exit 1
fi
# install_missing [--no-install-recommends] PACKAGE...: installs those not installed yet (apt-get update
# only if the install fails, so a machine with a fresh index pays nothing).
install_missing() {
  local flags=()
  if [ "$1" = --no-install-recommends ]; then flags=(--no-install-recommends); shift; fi
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${flags[@]}" "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq "${flags[@]}" "${missing[@]}"; }
}
install_missing busybox-static jq gcc libc6-dev make runc time procps libseccomp2 libseccomp-dev bsdutils file uidmap passt passwd iproute2 nftables libnftables1
# The cgroup v2 lane's virtual machine (scripts/lanes/cgroup-v2-vm.sh): qemu, without its
# recommends (graphics and audio stacks nothing here uses).
install_missing --no-install-recommends qemu-system-x86
# tests/Moat.Tests.Engines: real engines driving moat; each test starts its own daemon on private
# paths. Without recommends: nothing the tests use (and no AppArmor tools, which this kernel lacks).
install_missing --no-install-recommends podman conmon containerd docker.io tar util-linux
# Images (src/Moat.Images, tests/Moat.Tests.Images): SQLite and zstd through the system's libraries, a real
# registry the tests start on 127.0.0.1, skopeo and umoci as the peers that write and read images,
# htpasswd and openssl for the registry's basic auth and TLS.
install_missing --no-install-recommends libsqlite3-0 libzstd1 zstd docker-registry skopeo umoci apache2-utils openssl ca-certificates
# tests/Moat.Tests.Scan builds a Debian image from real packages (`apt-get download`), which needs the
# package index even where every package above was already installed.
if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
  echo "install-deps: fetching the apt package index"
  apt-get update -qq
fi
# Debian starts the registry as a service on install; the tests start their own on private ports.
if command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then systemctl stop docker-registry || true; fi
if ! command -v dotnet >/dev/null; then
  echo "install-deps: installing the .NET SDK"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq dotnet-sdk-10.0 >/dev/null 2>&1 || {
    echo "install-deps: no .NET SDK available from apt; install the .NET 10 SDK (https://dot.net) and rerun" >&2
    exit 1
  }
fi
