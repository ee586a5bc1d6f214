#!/bin/bash
# PID 1 of a lab unit, run by `unshare --mount --uts --pid --fork --kill-child --mount-proc --propagation private`.
# Gives the unit real /var/phion, /root and account files of its own, starts its sshd and then only
# reaps children: a gateway simulator started later (nsenter + setsid -f) is re-parented to this
# process, and bash reaps it when it exits, so `pgrep -x` never finds a zombie simulator.
# Usage: unit-init.sh UNIT_DIR UNIT_NAME   (UNIT_DIR absolute; see test/lab/unit.ts for its layout)
set -euo pipefail
unit_dir=$1
cd /
hostname "$2"   # own UTS namespace: `hostname` on a unit says fw-a / fw-b

# /var/phion without creating anything on the host: an overlay over /var whose upper layer lives in
# the unit directory. Where overlayfs is not available, fall back to a (host) /var/phion mountpoint.
if mount -t overlay lab-var -o "lowerdir=/var,upperdir=$unit_dir/var-upper,workdir=$unit_dir/var-work" /var; then
  echo "init: overlay on /var"
else
  echo "init: overlayfs unavailable, using /var/phion on the host as mountpoint"
fi
mkdir -p /var/phion
mount --bind "$unit_dir/phion" /var/phion
mount --bind "$unit_dir/root" /root
for f in passwd shadow group; do
  mount --bind "$unit_dir/etc/$f" "/etc/$f"
done
mkdir -p /run/sshd

/usr/sbin/sshd -D -f "$unit_dir/sshd_config" -E "$unit_dir/sshd.log" &
echo "init: sshd started (pid $!)"

set +e
# `wait` returns when the sleep ends; while it waits, bash's SIGCHLD handling reaps any child,
# including re-parented ones it never started.
while :; do
  sleep 3600 &
  wait $!
done
