#!/usr/bin/env bash
# Mount or unmount one USB stick for the kiosk (run by mutual-aid-kiosk-usb@<dev>.service).
#   kiosk-usb-mount add sda1      mount /dev/sda1 at /media/kiosk/<label>
#   kiosk-usb-mount remove sda1   unmount it and remove the empty folder
#   kiosk-usb-mount tidy          remove empty folders no stick is mounted on (left by a
#                                 power cut with a stick in; run when the kiosk service starts)
# FAT, exFAT and NTFS sticks get uid/gid of the kiosk user and umask 077: only the kiosk
# service can read and write them. Never the device that holds / or /boot/firmware.
set -euo pipefail

action=${1:-}
dev=${2:-}
base=${KIOSK_USB_BASE:-/media/kiosk}
state=/run/mutual-aid-kiosk/usb
user=kiosk

tidy() {  # folders left behind by sticks that were pulled out would look like sticks to the app
  local old
  for old in "$base"/*/; do
    [ -d "$old" ] || continue
    mountpoint -q "$old" || rmdir "$old" 2>/dev/null || true
  done
}

if [ "$action" = tidy ]; then
  tidy
  exit 0
fi

case "$dev" in
  ""|*/*|.*) echo "kiosk-usb-mount: give a device name like sda1" >&2; exit 2 ;;
esac
node=/dev/$dev

parent_disk() {  # the whole disk behind a device node (sda for /dev/sda1)
  local name
  name=$(lsblk -no PKNAME "$1" 2>/dev/null | head -n1 || true)
  [ -n "$name" ] || name=$(basename "$1")
  echo "$name"
}

case "$action" in
  add)
    # Never the boot or root device.
    for mnt in / /boot/firmware /boot; do
      src=$(findmnt -n -o SOURCE "$mnt" 2>/dev/null || true)
      if [ -z "$src" ] || [ ! -b "$src" ]; then continue; fi
      if [ "$(parent_disk "$src")" = "$(parent_disk "$node")" ]; then
        echo "kiosk-usb-mount: $node is on the system disk ($mnt): not mounting it"
        exit 0
      fi
    done
    if findmnt -n -S "$node" >/dev/null 2>&1; then
      echo "kiosk-usb-mount: $node is already mounted"
      exit 0
    fi
    fstype=$(blkid -o value -s TYPE "$node" || true)
    label=$(blkid -o value -s LABEL "$node" || true)
    label=$(printf '%s' "$label" | tr -c 'A-Za-z0-9._-' '_' | sed 's/^[._]*//' | cut -c1-40)
    [ -n "$label" ] || label="usb-$dev"
    uid=$(id -u "$user")
    gid=$(id -g "$user")
    mkdir -p "$base" "$state"
    tidy
    target="$base/$label"
    if mountpoint -q "$target" || [ -e "$target" ]; then
      target="$base/$label-$dev"
    fi
    common="nodev,nosuid,noexec,noatime"
    case "$fstype" in
      vfat) opts="$common,uid=$uid,gid=$gid,umask=077,flush,utf8" ;;
      exfat) opts="$common,uid=$uid,gid=$gid,umask=077" ;;
      ntfs|ntfs3) fstype=ntfs3; opts="$common,uid=$uid,gid=$gid,umask=077" ;;
      "") echo "kiosk-usb-mount: no file system found on $node"; exit 0 ;;
      *) opts="$common" ;;  # ext4 and friends keep their own owners
    esac
    mkdir -p "$target"
    echo "kiosk-usb-mount: mounting $node ($fstype) at $target"
    if ! mount -t "$fstype" -o "$opts" "$node" "$target"; then
      rmdir "$target" 2>/dev/null || true
      exit 1
    fi
    printf '%s\n' "$target" > "$state/$dev"
    ;;
  remove)
    target=$(cat "$state/$dev" 2>/dev/null || true)
    rm -f "$state/$dev"
    [ -n "$target" ] || exit 0
    if mountpoint -q "$target"; then
      echo "kiosk-usb-mount: unmounting $target"
      umount "$target" 2>/dev/null || umount -l "$target"
    fi
    rmdir "$target" 2>/dev/null || true
    ;;
  *)
    echo "kiosk-usb-mount: use add or remove" >&2
    exit 2
    ;;
esac
