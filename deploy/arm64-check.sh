#!/usr/bin/env bash
# Check the kiosk on the Raspberry Pi's own architecture, without a Pi: an arm64 Debian 12
# (bookworm) root, run under QEMU's user-mode emulation (qemu-user-static and binfmt_misc).
#   sudo bash deploy/arm64-check.sh [--cache DIR] [--mirror URL] [--fresh]
# It builds (or reuses) a minimal arm64 root, copies this checkout in and runs deploy/install.sh
# there as root would on a Pi, with stand-ins for what a chroot cannot do (systemd, the Wi-Fi,
# udev, raspi-config: deploy/arm64/stand-ins). Then it runs install.sh again (that run must
# change nothing) and "boots" (deploy/arm64/inside.sh): the services start from their units as
# the kiosk user, a visitor posts a need over HTTP at http://aid.lan/ and opens the ticket, the
# board, the post and its QR code, and kiosk doctor, kiosk export --full and kiosk import --merge
# run as deploy/README.md says. Last, a rough speed line: inside against outside.
# Prints each step; exits 1 at the first failure, naming the step, and 3 when this machine
# cannot run arm64 programs (binfmt_misc cannot be mounted). Emulation is several times slower
# than a real Pi: this checks correctness, not speed.
#
# Options:
#   --cache DIR   the arm64 root and apt's downloads (default: /var/cache/mutual-aid-kiosk-arm64)
#   --mirror URL  the Debian mirror                    (default: http://deb.debian.org/debian)
#   --fresh       build the arm64 root again instead of reusing the cached one
#   --can-run     only say whether this machine can run arm64 programs here (exit 0) or not (exit 3)
# shellcheck disable=SC2317  # the functions run through trap, in the one block below
set -euo pipefail
# The whole script is one block, read before it runs: this file edited during the check's
# minutes (an editor saving in place) cannot change the lines bash reads next.
{
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$SRC/deploy/arm64
# shellcheck disable=SC1091  # deploy/arm64/roots.sh, checked on its own
. "$HERE/roots.sh"
CACHE=/var/cache/mutual-aid-kiosk-arm64
MIRROR=http://deb.debian.org/debian
FRESH=no
CAN_RUN=no
# As on Raspberry Pi OS Lite: Python, the certificates, sudo and systemd are there from the start.
INCLUDE=python3,ca-certificates,sudo,systemd
PASS_ON=(http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST)

while [ $# -gt 0 ]; do
  case "$1" in
    --cache|--mirror)
      [ $# -ge 2 ] || { echo "arm64-check: $1 needs a value" >&2; exit 2; }
      if [ "$1" = --cache ]; then CACHE=$2; else MIRROR=$2; fi
      shift 2 ;;
    --fresh) FRESH=yes; shift ;;
    --can-run) CAN_RUN=yes; shift ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "arm64-check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

[[ $MIRROR =~ ^https?://[A-Za-z0-9.:/_-]+$ ]] || { echo "arm64-check: --mirror must be an http(s) address, got $MIRROR" >&2; exit 2; }
[ -n "$CACHE" ] || { echo "arm64-check: --cache needs a folder" >&2; exit 2; }
CACHE=$(realpath -m "$CACHE")
case "$CACHE" in
  /|/bin|/boot|/dev|/etc|/home|/lib|/opt|/proc|/root|/run|/sbin|/srv|/sys|/tmp|/usr|/var|/var/cache|/var/lib)
    echo "arm64-check: --cache $CACHE is a system folder: give a folder of its own" >&2; exit 2 ;;
esac

number=0
current="starting"
began=$SECONDS
step_began=$SECONDS
step() {
  [ "$number" -eq 0 ] || printf '    (%ss)\n' "$((SECONDS - step_began))"
  number=$((number + 1)); current=$1; step_began=$SECONDS
  printf '\n==> Step %s: %s\n' "$number" "$1"
}
finish() {
  local status=$?
  # Stopped (Ctrl-C, kill, a CI's cancel): what runs now would carry on without this script.
  # Its own children end here; the long commands (ORPHAN_DIES) end with it, however it ends.
  pkill -TERM -P $$ 2>/dev/null || true
  if [ "$status" -ge 128 ] && [ "$number" -gt 0 ]; then
    echo "arm64-check: interrupted at step $number ($current); the next check starts over" >&2
  elif [ "$status" -ne 0 ] && [ "$status" -ne 3 ] && [ "$number" -gt 0 ]; then
    echo "arm64-check: FAILED at step $number ($current)" >&2
  fi
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT  # at once: run_logged waits on its command in a way a signal interrupts
trap 'exit 143' TERM
trap 'exit 129' HUP
# ORPHAN_DIES COMMAND...: COMMAND is killed when this script ends, however it ends (even killed
# itself): an unshare --kill-child under it then takes every process it started with it.
ORPHAN_DIES=(setpriv --pdeathsig KILL)
# show LOG: what a long command printed, less apt's and pip's lines (the whole log is kept).
show() { grep -E '^(==>|    |  |-->|SPEED|visit:|arm64-check)' "$1" || true; }
# run_logged LOG COMMAND...: on failure, the end of its log. COMMAND (a program, not a function:
# this script is its parent) runs in the background and is waited for: Ctrl-C or a kill reach
# this script at once, not when the step ends (unshare --fork ignores them, and so does the
# root's first process).
run_logged() {
  local log=$1; shift
  "$@" > "$log" 2>&1 &
  if ! wait $!; then
    show "$log"; echo "--- the last lines of $log:" >&2; tail -n 40 "$log" >&2
    return 1
  fi
  show "$log"
}

# ---------------------------------------------------------------- the machine

[ "$(id -u)" -eq 0 ] || { echo "arm64-check: run it as root (sudo): it mounts and chroots" >&2; exit 2; }

binfmt_ready() {
  [ -d /proc/sys/fs/binfmt_misc ] || return 1
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null
}
if [ "$(uname -m)" != aarch64 ] && ! binfmt_ready; then
  echo "arm64-check: this machine cannot mount binfmt_misc, so it cannot run arm64 programs (a container without that right)" >&2
  exit 3
fi
[ "$CAN_RUN" = no ] || { echo "arm64-check: this machine can run arm64 programs (binfmt_misc)"; exit 0; }
mkdir -p "$CACHE"
# Root chroots into what the cache holds and runs it: no other user may be able to change it.
if ! why=$(python3 "$HERE/rootfiles.py" safe "$CACHE" "${SUDO_UID:-}"); then
  echo "arm64-check: --cache $CACHE is not safe for root to run from: $why" >&2
  exit 2
fi
# A folder of its own: a full one (--cache /opt, --cache ~) would get two gigabytes of roots and
# logs among its files. An earlier check's cache holds its lock file.
if [ ! -e "$CACHE/.lock" ] && [ -n "$(ls -A "$CACHE")" ]; then
  echo "arm64-check: --cache $CACHE already holds other files: give an empty or new folder of its own" >&2
  exit 2
fi

BASE=$CACHE/base-bookworm-arm64
ROOT=$CACHE/root
LOGS=$CACHE/logs
recipe="debootstrap --arch=arm64 --variant=minbase --include=$INCLUDE bookworm $MIRROR; user pi; host aidkiosk"
mkdir -p "$LOGS" "$CACHE/apt-archives" "$CACHE/pip"
# One check at a time per cache: a second one would delete the root the first is running in.
exec 9> "$CACHE/.lock"
if ! flock -n 9; then
  echo "arm64-check: another check is running with $CACHE (or a killed one's processes are still ending):" >&2
  exec 9>&-  # not this one: the processes that hold the lock
  for fd in /proc/[0-9]*/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" != "$CACHE/.lock" ] || ps -o pid=,args= -p "$(cut -d/ -f3 <<< "$fd")" >&2 || true
  done | sort -u
  exit 1
fi
# The check's own mounts live in namespaces that end with it. One under the cache is someone
# else's (or an older check's), and deleting a root through it would reach this machine's files.
if ! python3 "$HERE/rootfiles.py" mounts "$CACHE" >&2; then
  echo "arm64-check: the folders above are mounted under $CACHE: unmount them (umount -R FOLDER) and run it again" >&2
  exit 1
fi

step "this machine runs arm64 programs (qemu-user-static, binfmt_misc) and has what the check uses"
needed=()
for pair in debootstrap:debootstrap qemu-aarch64-static:qemu-user-static unshare:util-linux ip:iproute2; do
  command -v "${pair%%:*}" >/dev/null || needed+=("${pair#*:}")
done
if [ ${#needed[@]} -gt 0 ]; then
  echo "    installing ${needed[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${needed[@]}" >/dev/null
fi
if [ "$(uname -m)" != aarch64 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  # Debian's own rule (the F flag: the emulator is opened now, so it works inside the chroot).
  cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register
fi
[ "$(uname -m)" = aarch64 ] || grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64
echo "    $(uname -m) machine; arm64 programs run through $(sed -n 's/^interpreter //p' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || echo 'the processor itself')"

# ---------------------------------------------------------------- the arm64 root

# in_root NET COMMAND...: sets IN_ROOT, the command line that runs COMMAND inside the root, in
# mount and process namespaces of its own (every mount and every process it leaves ends with
# it), and its own host name. NET=host: this machine's network (apt, pip); NET=own: a network
# of its own with aid.lan's address on loopback, and a stand-in USB stick (a tmpfs owned by the
# kiosk user) at /media/kiosk/KIOSKCHECK.
in_root() {
  local net=$1; shift
  local flags=(--mount --pid --uts --fork --kill-child --propagation private) pass=()
  [ "$net" = own ] && flags+=(--net)
  for name in "${PASS_ON[@]}"; do
    [ -z "${!name:-}" ] || [[ ${!name} == *file:* ]] || pass+=("$name=${!name}")
  done
  # shellcheck disable=SC2016  # the script's variables are its own
  IN_ROOT=("${ORPHAN_DIES[@]}" unshare "${flags[@]}" bash -euc '
    root=$1 net=$2 cache=$3; shift 3
    mount --bind "$root" "$root"  # its / a mount, as on a machine: a service gets a sandbox of its own
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=0755 tmpfs "$root/run"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    mkdir -p "$root/var/cache/apt/archives" "$root/root/.cache/pip"
    mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
    mount --bind "$cache/pip" "$root/root/.cache/pip"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    hostname "$(cat "$root/etc/hostname")"
    if [ "$net" = own ]; then
      ip link set lo up
      ip addr add 10.42.0.1/24 dev lo
      uid=$(awk -F: "\$1 == \"kiosk\" {print \$3}" "$root/etc/passwd")
      mkdir -p "$root/media/kiosk/KIOSKCHECK"
      mount -t tmpfs -o "size=64m,uid=$uid,gid=$uid,mode=0700" tmpfs "$root/media/kiosk/KIOSKCHECK"
    fi
    exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
      PATH=/opt/arm64-check/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
  ' _ "$ROOT" "$net" "$CACHE" "${pass[@]}" "$@")
}

step "a minimal arm64 Debian 12 root, as a Raspberry Pi OS Lite starts ($BASE)"
if [ -e "$BASE" ] && [ ! -f "$BASE/.recipe" ]; then
  echo "arm64-check: $BASE is not a root this check made: not deleting it (move it away, or --cache elsewhere)" >&2
  exit 1
fi
# A build or a swap cut short: only ever these two names, never trusted, so deleted.
rm -rf --one-file-system "$BASE.new" "$BASE.old"
if [ "$FRESH" = yes ] || [ ! -f "$BASE/.recipe" ] || [ "$(cat "$BASE/.recipe")" != "$recipe" ]; then
  echo "    building it with debootstrap (a few minutes; kept for the next check)"
  # In mount and process namespaces of its own: the /proc and /sys it mounts in the new root,
  # and every process it starts, end with it, however it ends (even killed).
  run_logged "$LOGS/debootstrap.log" "${ORPHAN_DIES[@]}" unshare --mount --pid --fork --kill-child --propagation private \
    debootstrap --arch=arm64 --variant=minbase --include="$INCLUDE" bookworm "$BASE.new" "$MIRROR"
  security=""
  [[ $MIRROR != */debian ]] || security="deb ${MIRROR}-security bookworm-security main"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n%s\n' "$MIRROR" "$MIRROR" "$security" \
    > "$BASE.new/etc/apt/sources.list"
  # The desktop user a Pi is set up with: uid 1000, sudo without a password (as Raspberry Pi OS).
  chroot "$BASE.new" useradd --create-home --uid 1000 --shell /bin/bash --groups sudo pi
  echo "pi ALL=(ALL) NOPASSWD: ALL" > "$BASE.new/etc/sudoers.d/010_pi-nopasswd"
  chmod 0440 "$BASE.new/etc/sudoers.d/010_pi-nopasswd"
  # Its own name, known to itself (sudo looks it up), as Raspberry Pi OS writes them.
  echo aidkiosk > "$BASE.new/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\taidkiosk\n' > "$BASE.new/etc/hosts"
  printf '%s\n' "$recipe" > "$BASE.new/.recipe"
  # The old root (another recipe, or --fresh) gives way only to a complete new one.
  [ ! -e "$BASE" ] || mv "$BASE" "$BASE.old"
  mv "$BASE.new" "$BASE"
  drop "$BASE.old"
else
  echo "    reusing it (--fresh builds it again)"
fi
# shellcheck disable=SC1091  # the root's os-release
echo "    $(chroot "$BASE" /usr/bin/uname -m), $(. "$BASE/etc/os-release" && echo "$PRETTY_NAME"), Python $(chroot "$BASE" /usr/bin/python3 -c 'import platform; print(platform.python_version())')"

step "a fresh copy of it, with this checkout in /home/pi/mutual-aid-kiosk and the stand-ins"
# Only a root this check made (it carries the recipe) is ever deleted.
if [ -e "$ROOT" ] && [ ! -f "$ROOT/.recipe" ]; then
  echo "arm64-check: $ROOT is not a root this check made: not deleting it (move it away, or --cache elsewhere)" >&2
  exit 1
fi
fresh_copy "$BASE" "$ROOT"
# This machine's own certificate authorities (a proxy's, say): pip inside checks PyPI with them.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  chroot "$ROOT" /usr/sbin/update-ca-certificates > "$LOGS/certificates.log" 2>&1
fi
mkdir -p "$ROOT/home/pi/mutual-aid-kiosk" "$ROOT/opt/arm64-check/bin" "$ROOT/var/lib/arm64-check"
checkout_files "$SRC" | tar -C "$SRC" --null --no-recursion -T - -cf - | tar -C "$ROOT/home/pi/mutual-aid-kiosk" -xf -
chroot "$ROOT" /usr/bin/chown -R pi:pi /home/pi/mutual-aid-kiosk
cp "$HERE"/stand-ins/* "$ROOT/opt/arm64-check/bin/"
cp "$HERE/inside.sh" "$HERE/visit.py" "$HERE/speed.py" "$ROOT/opt/arm64-check/"
# sudo keeps the stand-ins first on PATH (sudo -u kiosk ... kiosk doctor asks systemctl).
printf 'Defaults secure_path="/opt/arm64-check/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n' \
  > "$ROOT/etc/sudoers.d/arm64-check"
chmod 0440 "$ROOT/etc/sudoers.d/arm64-check"
echo "    $(du -sh "$ROOT" | cut -f1) in $ROOT"

# install.sh as `sudo bash deploy/install.sh` from the desktop user pi would run it.
in_root host /usr/bin/env SUDO_USER=pi SUDO_UID=1000 SUDO_GID=1000 bash -c \
  'cd /home/pi/mutual-aid-kiosk && bash deploy/install.sh --name "Arm Check" --ssid ArmCheck --password arm64check'
install=("${IN_ROOT[@]}")

step "deploy/install.sh in the root: Debian's packages for arm64, the user, the app and its Python environment"
run_logged "$LOGS/install-1.log" "${install[@]}"

step "every compiled Python package in the app's environment is for arm64 (a wheel for aarch64, or built here)"
python3 "$HERE/rootfiles.py" wheels "$(echo "$ROOT"/opt/mutual-aid-kiosk/venv/lib/python3*/site-packages)"

step "deploy/install.sh a second time changes nothing"
python3 "$HERE/rootfiles.py" snapshot "$ROOT" "$LOGS/before.json"
run_logged "$LOGS/install-2.log" "${install[@]}" > /dev/null
python3 "$HERE/rootfiles.py" snapshot "$ROOT" "$LOGS/after.json"
if grep -nE '^    (wrote |copied |created |linked |added |set the mode|running: .*(apt|pip install|useradd|venv))|Creating the Wi-Fi' \
     "$LOGS/install-2.log"; then
  echo "    the second run did the lines above again" >&2
  exit 1
fi
python3 "$HERE/rootfiles.py" compare "$LOGS/before.json" "$LOGS/after.json"
echo "    no file changed; it said: $(grep -c '^    unchanged' "$LOGS/install-2.log") times \"unchanged\""

step "boot: the services, a visitor's post, doctor, export --full and import --merge (deploy/arm64/inside.sh)"
in_root own bash /opt/arm64-check/inside.sh
run_logged "$LOGS/inside.log" "${IN_ROOT[@]}"

step "the post's QR code, read by zbar outside, opens the post at http://aid.lan/"
post_id=$(sed -n 's/^POST-ID //p' "$ROOT/var/lib/arm64-check/visit.txt")
if command -v rsvg-convert >/dev/null && command -v zbarimg >/dev/null; then
  rsvg-convert --zoom 4 "$ROOT/var/lib/arm64-check/post-qr.svg" -o "$LOGS/post-qr.png"
  read_back=$(zbarimg --quiet --raw "$LOGS/post-qr.png" 2>/dev/null)
  [ "$read_back" = "http://aid.lan/p/$post_id" ] || { echo "    the QR code says $read_back" >&2; exit 1; }
  echo "    $read_back"
else
  echo "    (not read: rsvg-convert and zbarimg are missing; bash deploy/bootstrap.sh --test installs them)"
fi

step "speed: the same checks outside the emulation, on this $(uname -m) machine"
outside_scrypt=$(python3 "$HERE/speed.py")
outside_post="(not timed: no .venv in this checkout; bash deploy/bootstrap.sh makes one)"
if [ -x "$SRC/.venv/bin/kiosk" ]; then
  # The checkout's own kiosk on loopback, in a network of its own like the one inside, and
  # processes of its own: stopped or killed, the server ends with it.
  rm -rf "$CACHE/outside-data"
  # (Not in a $(...): a subshell between would outlive this script killed.)
  # shellcheck disable=SC2016  # the script's variables are its own
  "${ORPHAN_DIES[@]}" unshare --net --pid --fork --kill-child bash -c '
    ip link set lo up
    KIOSK_NETWORK=0 KIOSK_PUBLIC_URL=http://aid.lan "$1/.venv/bin/kiosk" serve --host 127.0.0.1 --port 8080 --data "$3" >/dev/null 2>&1 &
    python3 "$2/visit.py" http://127.0.0.1:8080 --rounds 5 --wait 120' _ "$SRC" "$HERE" "$CACHE/outside-data" \
    > "$LOGS/outside.log" 2>&1 &
  if wait $!; then
    outside_post=$(tail -n 1 "$LOGS/outside.log")
  else
    outside_post="(not timed: this checkout's own .venv kiosk did not serve the visit: $LOGS/outside.log)"
  fi
  rm -rf "$CACHE/outside-data"
fi
inside_scrypt=$(sed -n 's/^SPEED inside scrypt/scrypt/p' "$LOGS/inside.log")
inside_post=$(sed -n 's/^SPEED inside posting/posting/p' "$LOGS/inside.log")
printf '    inside (arm64 under QEMU): %s; %s\n' "$inside_scrypt" "$inside_post"
printf '    outside:                   %s; %s\n' "$outside_scrypt" "$outside_post"
echo "    QEMU translates every arm64 instruction, so the inside line is slower than this machine's own;"
echo "    a real Pi's speed is neither line (not measured here): a check of correctness, not of speed."

printf '    (%ss)\n' "$((SECONDS - step_began))"
current="done"
echo
echo "arm64-check: passed in $(( (SECONDS - began) / 60 )) min $(( (SECONDS - began) % 60 )) s (logs in $LOGS)"
}; exit  # (on the block's own line: read with it)
