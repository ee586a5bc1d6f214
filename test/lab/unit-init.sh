#!/bin/bash
# PID 1 of a lab unit, run by `unshare --mount --uts --pid --fork --kill-child --mount-proc --propagation private`.
# Gives the unit real /var/phion, /root and account files of its own, starts its sshd and then only
# reaps children: a gateway simulator started later (nsenter + setsid -f) is re-parented to this
# process, and bash reaps it when it exits, so `pgrep -x` never finds a zombie simulator.
# Usage: unit-init.sh UNIT_DIR UNIT_NAME   (UNIT_DIR absolute; see test/lab/unit.ts for its layout)
# UNIT_DIR/init.conf (written by the lab for the unit's box profile) says which SSH server to start
# (ssh_server=openssh|dropbear, listen=ADDR:PORT, host_key=FILE) and which BusyBox layer, if any, to
# stack over /usr/bin (busybox_layer=DIR, the minimal profile).
set -euo pipefail
unit_dir=$1
cd /
ssh_server=openssh listen= host_key= busybox_layer=
# shellcheck source=/dev/null
[ -f "$unit_dir/init.conf" ] && . "$unit_dir/init.conf"
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
# /opt of its own: where the box keeps its control (/opt/phion/run/server.ctrl, /opt/phion/bin/phionctrl);
# empty unless a test gives the unit one (Lab.setBoxControl).
mount --bind "$unit_dir/opt" /opt
for f in passwd shadow group; do
  mount --bind "$unit_dir/etc/$f" "/etc/$f"
done
mkdir -p /run/sshd

# minimal: BusyBox's tools over /usr/bin (= /bin), read-only: the layer (applet links, the name-taking
# kill, whiteouts for tools BusyBox lacks) above the host's /usr/bin, which keeps everything else.
if [ -n "$busybox_layer" ]; then
  mount -t overlay lab-busybox -o "lowerdir=$busybox_layer:/usr/bin" /usr/bin
  echo "init: BusyBox layer $busybox_layer over /usr/bin"
fi

case $ssh_server in
  openssh)
    /usr/sbin/sshd -D -f "$unit_dir/sshd_config" -E "$unit_dir/sshd.log" &
    echo "init: sshd started (pid $!)"
    ;;
  dropbear)
    # -F foreground, -E log to stderr, -m no motd, -g no password login for root (key only; mgwadmin
    # keeps password login), -P pid file in the unit folder. SFTP: Dropbear runs /usr/lib/sftp-server.
    [ -x /usr/lib/sftp-server ] || echo "init: WARNING: /usr/lib/sftp-server (Dropbear's SFTP server) is missing: install openssh-sftp-server"
    /usr/sbin/dropbear -F -E -m -g -p "$listen" -r "$host_key" -P "$unit_dir/dropbear.pid" 2>> "$unit_dir/sshd.log" &
    echo "init: dropbear started (pid $!)"
    ;;
  *)
    echo "init: unknown ssh_server $ssh_server" >&2
    exit 2
    ;;
esac

set +e
# `wait` returns when the sleep ends; while it waits, bash's SIGCHLD handling reaps any child,
# including re-parented ones it never started.
while :; do
  sleep 3600 &
  wait $!
done
