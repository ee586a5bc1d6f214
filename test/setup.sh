#!/usr/bin/env bash
# Installs what the tests and the lab need on a fresh Debian machine, and nothing twice:
# OpenSSH (the lab's units), rsync (benchmark baseline), Chromium and code-server (the VS Code host).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(openssh-server openssh-client rsync iproute2 procps util-linux chromium ripgrep libkrb5-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
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
