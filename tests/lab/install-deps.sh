#!/usr/bin/env bash
# Install the host packages the lab needs (Debian/Ubuntu, as root), and refresh the
# package lists fetch-kernel.sh resolves kernels from. For CI (.ci/run) and new machines.
set -euo pipefail
pkgs=(qemu-system-x86 busybox-static kmod cpio xz-utils iproute2 iputils-ping util-linux
      snmpd snmptrapd snmp strongswan-charon strongswan-swanctl
      libstrongswan-standard-plugins)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
echo "lab host packages installed: ${pkgs[*]}"
