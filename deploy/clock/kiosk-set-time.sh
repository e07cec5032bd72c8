#!/usr/bin/env bash
# Set the Raspberry Pi's own clock (it has no battery clock and no internet) and save it, so
# fake-hwclock brings it back after a power cut instead of a date in the past.
#   sudo kiosk-set-time "2026-03-02 14:30"
# Coordinators usually do not need this: the coordinator screen (Coordinate -> Clock) sets the
# kiosk's own time without root. Check afterwards with:
#   sudo -u kiosk /opt/mutual-aid-kiosk/venv/bin/kiosk doctor --data /var/lib/mutual-aid-kiosk
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: sudo kiosk-set-time \"YYYY-MM-DD HH:MM\"   (local time)" >&2
  exit 2
fi
if ! date -d "$1" >/dev/null 2>&1; then
  echo "kiosk-set-time: \"$1\" is not a date and time like 2026-03-02 14:30" >&2
  exit 2
fi
# The clock can only be set by hand when network time is off (there is no network time here).
timedatectl set-ntp false 2>/dev/null || true
timedatectl set-time "$(date -d "$1" '+%Y-%m-%d %H:%M:%S')"
if command -v fake-hwclock >/dev/null; then
  fake-hwclock save force
fi
echo "The clock now says: $(date)"
