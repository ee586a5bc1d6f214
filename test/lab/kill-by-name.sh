#!/bin/sh
# /bin/kill of the lab's `minimal` units (BusyBox userland): BusyBox's kill, plus util-linux's way of
# taking process names, as the real box's /bin/kill does (`/bin/kill -s SIGUSR2 box1_mailgw`).
# A name matches a process whose name (/proc/PID/comm, cut by Linux to 15 characters) is exactly it,
# like util-linux; BusyBox's own `pidof` matches differently (see docs/lab.md). Run by BusyBox ash.
# Usage: kill [-s SIG | -SIG | -n NUM] (PID | NAME)...   kill -l [SIG]
sig=
while [ $# -gt 0 ]; do
  case $1 in
    -s | --signal | -n)
      [ $# -ge 2 ] || { echo "kill: option $1 needs a signal" >&2; exit 1; }
      sig=$2
      shift 2
      ;;
    -l | -L | --list | --table) shift; exec kill -l "$@" ;;
    --) shift; break ;;
    -[0-9]* | -[A-Za-z]*) sig=${1#-}; shift ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "kill: not enough arguments" >&2; exit 1; }
rc=0
for a in "$@"; do
  case $a in
    '' | *[!0-9]*)
      pids=
      for d in /proc/[0-9]*; do
        c=
        read -r c < "$d/comm" 2> /dev/null || continue
        [ "$c" = "$a" ] && pids="$pids ${d#/proc/}"
      done
      if [ -z "$pids" ]; then
        echo "kill: cannot find process \"$a\"" >&2
        rc=1
        continue
      fi
      # shellcheck disable=SC2086 # one word per PID
      kill ${sig:+-s "$sig"} $pids || rc=1
      ;;
    *) kill ${sig:+-s "$sig"} "$a" || rc=1 ;;
  esac
done
exit $rc
