#!/usr/bin/env bash
# Prepare this checkout on Debian 12 / Raspberry Pi OS: the system packages it needs and a
# virtual environment in .venv (PEP 668: Debian's Python refuses system-wide pip installs).
#   bash deploy/bootstrap.sh          the kiosk itself
#   bash deploy/bootstrap.sh --test   the kiosk and everything the tests use
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=no
for arg in "$@"; do
  case "$arg" in
    --test) with_tests=yes ;;
    *) echo "bootstrap: unknown option $arg (use --test or nothing)" >&2; exit 2 ;;
  esac
done

packages=(python3 python3-venv python3-pip)
if [ "$with_tests" = yes ]; then
  # librsvg2-bin and zbar-tools render and decode QR codes in the tests; Debian's Chromium
  # runs the browser tests (Playwright's own browser download cannot work offline);
  # the files in deploy/ are checked with shellcheck and systemd-analyze verify (systemd);
  # Debian's age decrypts a full backup, as a volunteer would by hand; real Syncthing processes
  # carry records between kiosks in the network tests; QEMU's user-mode emulation and
  # debootstrap make the arm64 Debian root that deploy/arm64-check.sh installs the kiosk into.
  packages+=(librsvg2-bin zbar-tools chromium shellcheck systemd age syncthing qemu-user-static debootstrap iproute2)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "==> Installing system packages: ${missing[*]}"
  # Another apt may hold the lock (a Pi's first boot runs its own updates): wait for it up to
  # 10 minutes instead of failing at once. DPkg::Lock::Timeout needs apt >= 1.9.11 (Debian 12: 2.6).
  wait_for_lock=(-o DPkg::Lock::Timeout=600)
  # apt-get update takes the package lists' own lock, which that option does not cover (apt 2.6
  # fails at once while apt-daily updates): try again while another apt holds it, up to 10
  # minutes; any other failure (no internet) stops here with apt's message.
  tries=0
  while ! out=$($sudo apt-get "${wait_for_lock[@]}" update -qq 2>&1); do
    if ! grep -q "Could not get lock" <<<"$out" || [ "$tries" -ge 200 ]; then
      printf '%s\n' "$out" >&2
      exit 1
    fi
    [ "$tries" -gt 0 ] || echo "==> Another apt is updating its package lists: waiting for it to finish"
    tries=$((tries + 1))
    sleep 3
  done
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get "${wait_for_lock[@]}" install -y -qq "${missing[@]}" >/dev/null
fi

# Debian's own Python, the one a Raspberry Pi runs, not another one found first on PATH.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating the virtual environment .venv"
  "$python" -m venv .venv
fi
echo "==> Installing the kiosk into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
target="."
[ "$with_tests" = yes ] && target=".[test]"
# A local folder is always rebuilt and reinstalled, so this picks up every change.
.venv/bin/python -m pip install --quiet --disable-pip-version-check "$target"
echo "==> Ready: .venv/bin/kiosk"
