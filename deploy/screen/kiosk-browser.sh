#!/usr/bin/env bash
# Chromium in kiosk mode on the touchscreen, restarted whenever it exits or crashes.
# Started from labwc's autostart (see autostart). Usage: kiosk-browser [URL]
# The flags keep an offline Chromium quiet: no first-run pages, no update checks, no sync, no
# error dialogs or info bars, no swipe-back to the last visitor's page.
set -uo pipefail

url=${1:-http://localhost/}
profile=${KIOSK_BROWSER_PROFILE:-$HOME/.config/mutual-aid-kiosk-browser}
browser=$(command -v chromium-browser || command -v chromium || true)
if [ -z "$browser" ]; then
  echo "kiosk-browser: Chromium is not installed (sudo apt-get install chromium-browser)" >&2
  exit 1
fi

flags=(
  --kiosk
  --noerrdialogs
  --disable-infobars
  --no-first-run
  --disable-background-networking
  --disable-component-update
  --disable-sync
  --overscroll-history-navigation=0
  --check-for-update-interval=31536000
  --disable-features=Translate
  --password-store=basic
  --ozone-platform-hint=auto
  --user-data-dir="$profile"
)

while true; do
  # Wait (up to a minute) for the kiosk to answer, so the first page is not an error page.
  for _ in $(seq 60); do
    (exec 3<>/dev/tcp/127.0.0.1/80) 2>/dev/null && break
    sleep 1
  done
  # After a crash or a power cut, start clean: no "Restore pages?" bar.
  prefs="$profile/Default/Preferences"
  if [ -f "$prefs" ]; then
    sed -i 's/"exit_type":"Crashed"/"exit_type":"Normal"/; s/"exited_cleanly":false/"exited_cleanly":true/' "$prefs" || true
  fi
  "$browser" "${flags[@]}" "$url"
  echo "kiosk-browser: Chromium stopped (exit $?); starting it again in 3 seconds" >&2
  sleep 3
done
