#!/bin/sh
# Removes what flannelctl lab runs left behind (namespaces, processes in them, root-namespace links,
# subnet locks). Usage: scripts/lab-cleanup.sh [PREFIX]   (default "flab": every lab run's prefix).
# Only names starting with PREFIX are touched.
set -u
prefix="${1:-flab}"
case "$prefix" in
  flab*) ;;
  *) echo "lab-cleanup: prefix must start with 'flab' (got '$prefix')" >&2; exit 2 ;;
esac
case "$prefix" in
  *[!a-z0-9-]*) echo "lab-cleanup: prefix may only contain a-z, 0-9 and '-'" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "lab-cleanup: must run as root" >&2
  exit 1
fi

# Labs of live processes (their subnet lock names the owner PID and prefix) are kept unless named.
live=""
if [ -z "${1:-}" ]; then
  for lock in /run/flannelctl-lab/*.lock; do
    [ -e "$lock" ] || continue
    read -r pid owner < "$lock" || continue
    if kill -0 "$pid" 2>/dev/null; then live="$live $owner"; fi
  done
fi
mine() {
  for owner in $live; do
    case "$1" in "$owner"*) return 1 ;; esac
  done
  return 0
}

removed=0
for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix" || true); do
  mine "$ns" || continue
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
done
# Namespaces after their processes are gone; pods and nodes before switches, as teardown does.
for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix" | sort -r || true); do
  mine "$ns" || continue
  ip netns del "$ns" && removed=$((removed + 1))
done
for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$prefix" || true); do
  mine "$link" || continue
  ip link del "$link" 2>/dev/null && removed=$((removed + 1))
done
# Subnet locks whose owner is gone.
for lock in /run/flannelctl-lab/*.lock; do
  [ -e "$lock" ] || continue
  pid=$(cut -d' ' -f1 "$lock")
  if ! kill -0 "$pid" 2>/dev/null; then rm -f "$lock"; fi
done
echo "lab-cleanup: removed $removed namespace(s)/link(s) with prefix '$prefix'"
