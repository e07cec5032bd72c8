#!/bin/bash
# The arm64 check's "boot", run inside the root by deploy/arm64-check.sh after install.sh: in a
# network namespace of its own (aid.lan's address 10.42.0.1 on its loopback), with a stand-in
# USB stick mounted at /media/kiosk/KIOSKCHECK. The services start from their installed units
# (the systemctl stand-in), then a visitor posts a need over HTTP, a volunteer runs doctor and a
# full export, and a second kiosk's backup is merged in, as deploy/README.md tells volunteers to.
# Prints each step; exits 1 at the first failure, naming it. Speed lines start with "SPEED".
set -euo pipefail

KIOSK=/opt/mutual-aid-kiosk/venv/bin/kiosk
HERE=/opt/arm64-check
STICK=/media/kiosk/KIOSKCHECK
OTHER_DATA=/var/lib/arm64-check/other-kiosk
PASSPHRASE="arm64 check passphrase"
NEED="Arm64 check: soup for two"
OFFER="Arm64 check: a ladder to lend"
current="starting"

step() { current=$1; printf '\n--> %s\n' "$1"; }
finish() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    for log in /var/log/arm64-check/*.service.log; do  # what the services said (the journal, on a Pi)
      [ ! -s "$log" ] || { echo "--- the end of $log:"; tail -n 12 "$log"; } >&2
    done
    echo "arm64-check: failed inside the root at: $current" >&2
  fi
  exit "$status"
}
trap finish EXIT
as_kiosk() { sudo -u kiosk "$@"; }
indent() { sed 's/^/  /'; }  # deploy/arm64-check.sh shows the indented lines
expect() {  # expect TEXT FILE: the output holds TEXT
  grep -qF -- "$1" "$2" || { echo "expected \"$1\" in:" >&2; cat "$2" >&2; return 1; }
}

step "the services start from their installed units, as at boot"
systemctl boot
for unit in kiosk-syncthing.service mutual-aid-kiosk.service; do
  [ "$(systemctl is-enabled "$unit")" = enabled ] || { echo "$unit is not enabled" >&2; exit 1; }
  systemctl start "$unit"
done
systemctl is-active mutual-aid-kiosk.service kiosk-syncthing.service | indent

step "a visitor posts a need at http://aid.lan/ and opens its ticket, the board, the post and its QR code"
python3 "$HERE/visit.py" http://aid.lan --title "$NEED" --qr-to /var/lib/arm64-check/post-qr.svg --wait 600 \
  --unit mutual-aid-kiosk.service \
  | tee /var/lib/arm64-check/visit.txt

step "Syncthing answers on this machine only, and the kiosk has configured it"
python3 - <<'PY'
import re, time, urllib.request
# With the API key the kiosk reads from Syncthing's own config (KIOSK_SYNCTHING_HOME).
config = "/var/lib/mutual-aid-kiosk-syncthing/config.xml"
deadline = time.monotonic() + 300
while True:  # polling until Syncthing (emulated) is up, not a timing assertion
    try:
        key = re.search(r"<apikey>([^<]+)</apikey>", open(config).read()).group(1)
        ask = urllib.request.Request("http://127.0.0.1:8384/rest/system/ping", headers={"X-API-Key": key})
        if b"pong" in urllib.request.urlopen(ask, timeout=5).read():
            break
    except (OSError, AttributeError):
        pass
    if time.monotonic() > deadline:
        raise SystemExit("Syncthing did not answer at 127.0.0.1:8384 within 300 s")
    time.sleep(1)
PY
echo "  Syncthing answers at 127.0.0.1:8384"

step "kiosk doctor, as deploy/README.md says: sudo -u kiosk $KIOSK doctor"
for _ in $(seq 60); do  # the kiosk turns Syncthing's outside options off at its first pass
  as_kiosk "$KIOSK" doctor > /tmp/doctor.txt 2>&1 || true
  grep -q "Syncthing keeps to the network" /tmp/doctor.txt && break
  sleep 2
done
as_kiosk "$KIOSK" doctor > /tmp/doctor.txt 2>&1
indent < /tmp/doctor.txt
for line in "Every data file passes its check" "aid.lan resolves on this machine" \
            "The kiosk service starts at boot and is running." "Syncthing answers; this kiosk's device id is" \
            "Syncthing keeps to the network" "USB stick KIOSKCHECK found" \
            "Translations are compiled for every offered language." "0 problem(s)"; do
  expect "$line" /tmp/doctor.txt
done

step "a second kiosk (port 8081, its own data) takes an offer and writes a full backup to the stick"
install -d -o kiosk -g kiosk -m 0700 "$OTHER_DATA"
# shellcheck disable=SC2024  # the log is root's, as the services' logs are
sudo -u kiosk env KIOSK_NAME="Other Center" KIOSK_NETWORK=0 KIOSK_PUBLIC_URL=http://other.lan \
  "$KIOSK" serve --host 127.0.0.1 --port 8081 --data "$OTHER_DATA" > /var/log/arm64-check/other-kiosk.log 2>&1 &
other=$!
python3 "$HERE/visit.py" http://127.0.0.1:8081 --kind offer --title "$OFFER" --wait 600
printf '%s\n' "$PASSPHRASE" | as_kiosk env KIOSK_NAME="Other Center" "$KIOSK" export --to "$STICK" --full --data "$OTHER_DATA" | tee /tmp/other-export.txt | indent
other_export=$(sed -n 's/^Written to \(.*\)\. It is safe.*/\1/p' /tmp/other-export.txt)
kill "$other"
wait "$other" || true
[ -f "$other_export/backup.age" ]

step "kiosk export --full of this kiosk to the stick, beside the running service"
printf '%s\n' "$PASSPHRASE" | as_kiosk "$KIOSK" export --to "$STICK" --full | tee /tmp/export.txt | indent
made=$(sed -n 's/^Written to \(.*\)\. It is safe.*/\1/p' /tmp/export.txt)
for file in backup.age posts.csv summary.csv; do [ -s "$made/$file" ] || { echo "no $file in $made" >&2; exit 1; }; done
expect "$NEED" "$made/posts.csv"
echo "  $made: $(find "$made" -maxdepth 1 -type f -printf '%f ')"

step "kiosk import --merge of the second kiosk's backup (the service stopped, as it must be)"
systemctl stop mutual-aid-kiosk.service
printf '%s\n' "$PASSPHRASE" | as_kiosk "$KIOSK" import --merge --from "$other_export" --yes | tee /tmp/merge.txt | indent
expect "Backup of Other Center" /tmp/merge.txt
expect "Merged: 1 added" /tmp/merge.txt
systemctl start mutual-aid-kiosk.service
python3 "$HERE/visit.py" http://aid.lan --board-has "$NEED" "$OFFER" --wait 600 --unit mutual-aid-kiosk.service

step "speed inside the emulated root"
echo "SPEED inside $(python3 "$HERE/speed.py")"
echo "SPEED inside $(python3 "$HERE/visit.py" http://aid.lan --rounds 5)"

step "the services stop"
systemctl stop mutual-aid-kiosk.service kiosk-syncthing.service
current="done"
