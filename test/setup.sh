#!/usr/bin/env bash
# Installs what the tests and the lab need on a fresh Debian machine, and nothing twice:
# OpenSSH (the lab's units), rsync (benchmark baseline), Chromium and code-server (the VS Code host);
# for the lab's box profiles (docs/lab.md): dropbear-bin (dropbear), busybox-static (minimal; Debian's
# dynamic `busybox` does as well, the two conflict), tzdata (box-log's local time on the units).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(openssh-server openssh-client openssh-sftp-server rsync iproute2 procps util-linux chromium ripgrep libkrb5-dev dropbear-bin busybox-static tzdata)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${pkgs[@]}"; do
  if [ "$p" = busybox-static ] && installed busybox; then continue; fi
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test/setup.sh: missing Debian packages: ${missing[*]}; install them as root (apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash test/host/install.sh
