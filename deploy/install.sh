#!/usr/bin/env bash
# Install the Mutual Aid Kiosk on Raspberry Pi OS Bookworm (Debian 12), from this checkout:
#   sudo bash deploy/install.sh --name "Elm Street Aid" --ssid "ElmStreetAid" --password "..."
# Safe to run again (to update the app after copying a new checkout, or to repair): it only
# changes what differs and never overwrites /etc/mutual-aid-kiosk/kiosk.env (it only shows
# settings a newer version reads as commented-out lines).
#
# Options:
#   --name TEXT        the kiosk's name, shown in the header        (default: Mutual Aid Kiosk)
#   --ssid TEXT        the Wi-Fi name phones join                   (default: MutualAid)
#   --password TEXT    the Wi-Fi password, 8 to 63 characters       (default: a random one)
#   --public-url URL   the address in every QR code                 (default: http://aid.lan)
#   --screen-user USER the desktop user who runs the touchscreen    (default: the sudo user)
#   --dry-run          print what would be done, change nothing
#   --root DIR         install into DIR instead of / (for tests): no apt-get, systemctl,
#                      nmcli, useradd, chown, no virtual environment
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY="$SRC/deploy"

APP_DIR=/opt/mutual-aid-kiosk
DATA_DIR=/var/lib/mutual-aid-kiosk
ETC_DIR=/etc/mutual-aid-kiosk
ENV_FILE=$ETC_DIR/kiosk.env
USB_DIR=/media/kiosk
LIB_DIR=/usr/local/lib/mutual-aid-kiosk
USER_NAME=kiosk
HOTSPOT_ADDRESS=10.42.0.1
SYNCTHING_HOME=/var/lib/mutual-aid-kiosk-syncthing
SYNCTHING_URL=http://127.0.0.1:8384

ROOT=""
DRY=no
name=""
ssid=""
password=""
public_url=""
screen_user=""

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=yes; shift ;;
    --root|--name|--ssid|--password|--public-url|--screen-user)
      [ $# -ge 2 ] || { echo "install.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --root) ROOT=$2 ;;
        --name) name=$2 ;;
        --ssid) ssid=$2 ;;
        --password) password=$2 ;;
        --public-url) public_url=$2 ;;
        --screen-user) screen_user=$2 ;;
      esac
      shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

# ---------------------------------------------------------------- helpers

say() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
fail() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

# Commands that change the machine itself (packages, users, services, owners, Wi-Fi).
system() {
  local shown
  shown=$(printf '%q ' "$@")
  shown=${shown% }
  if [ -n "$ROOT" ]; then note "(skipped with --root: $shown)"; return 0; fi
  if [ "$DRY" = yes ]; then note "(dry run, would run: $shown)"; return 0; fi
  note "running: $shown"
  "$@"
}

mode_is() { [ "$(stat -c %a "$1")" = "$(printf '%o' "$((8#$2))")" ]; }

# ensure_dir PATH MODE: a folder with that mode.
ensure_dir() {
  local target="$ROOT$1"
  if [ -d "$target" ]; then
    if mode_is "$target" "$2"; then
      note "folder $1 is there"
    elif [ "$DRY" = yes ]; then
      note "(dry run, would set the mode of $1 to $2)"
    else
      chmod "$2" "$target"; note "set the mode of $1 to $2"
    fi
  elif [ "$DRY" = yes ]; then
    note "(dry run, would create the folder $1 with mode $2)"
  else
    mkdir -p "$target"; chmod "$2" "$target"; note "created the folder $1 (mode $2)"
  fi
}

# put PATH MODE < content: write a file only when its content or mode differs.
put() {
  local dest=$1 mode=$2 target="$ROOT$1" content tmp
  content=$(cat; printf x)
  content=${content%x}
  if [ -f "$target" ] && printf '%s' "$content" | cmp -s - "$target"; then
    if mode_is "$target" "$mode"; then
      note "unchanged: $dest"
    elif [ "$DRY" = yes ]; then
      note "(dry run, would set the mode of $dest to $mode)"
    else
      chmod "$mode" "$target"; note "set the mode of $dest to $mode"
    fi
    return 0
  fi
  if [ "$DRY" = yes ]; then
    note "(dry run, would write $dest with mode $mode)"
    return 0
  fi
  mkdir -p "$(dirname "$target")"
  tmp=$(mktemp "$target.XXXXXX")
  printf '%s' "$content" > "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$target"
  note "wrote $dest (mode $mode)"
}

# link PATH TARGET: a symbolic link.
link() {
  local dest=$1 to=$2 target="$ROOT$1"
  if [ -L "$target" ] && [ "$(readlink "$target")" = "$to" ]; then
    note "unchanged: $dest -> $to"
  elif [ "$DRY" = yes ]; then
    note "(dry run, would link $dest -> $to)"
  else
    mkdir -p "$(dirname "$target")"
    ln -sfn "$to" "$target"
    note "linked $dest -> $to"
  fi
}

# quote VALUE: a double-quoted value for kiosk.env (systemd's EnvironmentFile syntax).
quote() {
  local v=$1
  v=${v//\\/\\\\}
  v=${v//\"/\\\"}
  printf '"%s"' "$v"
}

# env_get KEY FILE: read one value back, without running the file.
env_get() {
  local line
  line=$(grep -E "^$1=" "$2" 2>/dev/null | tail -n1 || true)
  line=${line#*=}
  if [[ $line == \"*\" ]]; then
    line=${line:1:${#line}-2}
    line=${line//\\\"/\"}
    line=${line//\\\\/\\}
  fi
  printf '%s' "$line"
}

stage=""
cleanup() { [ -z "$stage" ] || rm -rf "$stage"; }
trap cleanup EXIT

# ---------------------------------------------------------------- checks

if [ -n "$ROOT" ]; then
  ROOT=$(realpath -m "$ROOT")
  [ "$ROOT" != / ] || fail "--root / is this machine: leave --root out instead"
fi

for value in "$name" "$ssid" "$password" "$public_url" "$screen_user"; do
  case "$value" in *$'\n'*|*$'\r'*) fail "options cannot contain line breaks" ;; esac
done
if [ -n "$ssid" ] && { [ "$(printf '%s' "$ssid" | wc -c)" -gt 32 ]; }; then
  fail "the Wi-Fi name (--ssid) can be at most 32 characters"
fi
if [ -n "$password" ] && { [ ${#password} -lt 8 ] || [ ${#password} -gt 63 ]; }; then
  fail "the Wi-Fi password (--password) must be 8 to 63 characters (WPA2)"
fi
if [ -n "$public_url" ] && [[ ! $public_url =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?/?$ ]]; then
  fail "--public-url must look like http://aid.lan (no path), got $public_url"
fi
[ ${#name} -le 60 ] || fail "the kiosk name (--name) can be at most 60 characters"

say "Installing the Mutual Aid Kiosk from $SRC"
if [ -n "$ROOT" ]; then
  note "into the folder $ROOT (--root): nothing outside it is changed"
fi
if [ "$DRY" = yes ]; then
  note "dry run: nothing is changed, every step only says what it would do"
fi
if [ -z "$ROOT" ] && [ "$DRY" = no ] && [ "$(id -u)" -ne 0 ]; then
  fail "run it as root: sudo bash deploy/install.sh ..."
fi
if [ -z "$ROOT" ] && [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  note "this machine runs ${PRETTY_NAME:-an unknown system}"
  [ "${VERSION_CODENAME:-}" = bookworm ] || note "warning: made for Raspberry Pi OS Bookworm; carrying on"
fi

# ---------------------------------------------------------------- 1. packages

say "Step 1 of 9: system packages (Python, Chromium, the clock keeper, Wi-Fi and name services, Syncthing)"
packages=(python3 python3-venv python3-pip fake-hwclock avahi-daemon network-manager swayidle wlr-randr syncthing)
if [ -n "$ROOT" ]; then
  note "(skipped with --root: apt-get install ${packages[*]} chromium-browser)"
else
  missing=()
  for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  browser=""
  command -v chromium-browser >/dev/null || command -v chromium >/dev/null || browser=chromium
  if [ ${#missing[@]} -eq 0 ] && [ -z "$browser" ]; then
    note "every package is already installed"
  else
    note "missing: ${missing[*]} $browser (this step needs the internet, once)"
    # Wait up to 10 minutes for another apt (a Pi's first boot runs its own updates) instead of
    # failing at once; DPkg::Lock::Timeout needs apt >= 1.9.11 (Bookworm has 2.6).
    # apt-get update takes the package lists' own lock, which that option does not cover (apt
    # 2.6 fails at once while apt-daily updates): try again while another apt holds it.
    tries=0 apt_errors=$(mktemp)
    until system apt-get -o DPkg::Lock::Timeout=600 update 2>"$apt_errors"; do
      if ! grep -q "Could not get lock" "$apt_errors" || [ "$tries" -ge 200 ]; then
        cat "$apt_errors" >&2
        rm -f "$apt_errors"
        exit 1
      fi
      [ "$tries" -gt 0 ] || note "another apt is updating its package lists: waiting for it to finish"
      tries=$((tries + 1))
      sleep 3
    done
    cat "$apt_errors" >&2  # apt's warnings, if any
    rm -f "$apt_errors"
    if [ -n "$browser" ]; then
      # Raspberry Pi OS calls it chromium-browser, Debian chromium. Debian also knows the name
      # chromium-browser (another package refers to it) with nothing behind it, so only a
      # candidate version counts, read from the lists just updated (seen in an arm64 Debian root).
      if apt-cache policy chromium-browser 2>/dev/null | grep -Eq '^[[:space:]]*Candidate: [^(]'; then
        missing+=(chromium-browser)
      else
        missing+=(chromium)
      fi
    fi
    system env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y "${missing[@]}"
  fi
fi

# ---------------------------------------------------------------- 2. user

say "Step 2 of 9: the system user '$USER_NAME' that runs the kiosk (it cannot log in)"
if [ -z "$ROOT" ] && getent passwd "$USER_NAME" >/dev/null; then
  note "the user $USER_NAME is already there"
else
  system useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "Mutual Aid Kiosk" "$USER_NAME"
fi

# ---------------------------------------------------------------- 3. folders

say "Step 3 of 9: folders (the app, the data only '$USER_NAME' can read, the settings, USB sticks)"
ensure_dir "$APP_DIR" 0755
ensure_dir "$DATA_DIR" 0700
system chown "$USER_NAME:$USER_NAME" "$DATA_DIR"
# Records to and from other kiosks (Syncthing's folders: outbox, peers/<kiosk>).
ensure_dir "$DATA_DIR/network" 0700
system chown "$USER_NAME:$USER_NAME" "$DATA_DIR/network"
ensure_dir "$ETC_DIR" 0755
ensure_dir "$USB_DIR" 0755
ensure_dir "$LIB_DIR" 0755

# ---------------------------------------------------------------- 4. the app

say "Step 4 of 9: the app in $APP_DIR/app and its own Python environment in $APP_DIR/venv"
app_files=()
for item in kiosk pyproject.toml README.md hatch_build.py babel.cfg data/README.md deploy; do
  [ -e "$SRC/$item" ] && app_files+=("$item")
done
# deploy/arm64*: the arm64 check runs on a developer's machine, never on the Pi.
excludes=(--exclude=__pycache__ --exclude='*.pyc' --exclude='*.mo' --exclude=deploy/wheels --exclude=deploy/arm64 --exclude=deploy/arm64-check.sh)
dest="$ROOT$APP_DIR/app"
if [ "$(realpath -m "$dest")" = "$SRC" ]; then
  note "running from the installed copy: nothing to copy"
else
  stage=$(mktemp -d)
  tar -C "$SRC" "${excludes[@]}" -cf - "${app_files[@]}" | tar -C "$stage" --no-same-owner -xf -
  chmod 0755 "$stage"
  if [ -d "$dest" ] && diff -rq -x __pycache__ -x '*.pyc' -x '*.mo' "$stage" "$dest" >/dev/null 2>&1; then
    note "unchanged: the app in $APP_DIR/app is the same as this checkout"
  elif [ "$DRY" = yes ]; then
    note "(dry run, would copy the app to $APP_DIR/app)"
  else
    rm -rf "$dest.new"
    mkdir -p "$(dirname "$dest")"
    cp -a "$stage" "$dest.new"
    rm -rf "$dest"
    mv "$dest.new" "$dest"
    note "copied the app to $APP_DIR/app"
  fi
fi
if [ -n "$ROOT" ]; then
  note "(skipped with --root: python3 -m venv $APP_DIR/venv and pip install of the app)"
else
  venv=$APP_DIR/venv
  pip_opts=(--disable-pip-version-check --quiet)
  if compgen -G "$DEPLOY/wheels/*.whl" >/dev/null; then
    note "using the offline packages in deploy/wheels"
    pip_opts+=(--no-index --find-links "$DEPLOY/wheels")
  fi
  # What is installed in the environment: a fingerprint of the app's files (this checkout's), kept beside it.
  # The same app over a working environment is not installed again (pip would rewrite every
  # file of it: a second run would change the machine for nothing).
  stamp=$venv/installed-app.sha256
  # (The build writes .mo files into the app's folder: not part of what was copied.)
  fingerprint=$(cd "${stage:-$ROOT$APP_DIR/app}" 2>/dev/null && find . -type f ! -name '*.pyc' ! -name '*.mo' ! -path '*/__pycache__/*' -print0 \
                | LC_ALL=C sort -z | xargs -0 -r sha256sum | sha256sum | cut -d' ' -f1) || fingerprint=none
  if [ -x "$venv/bin/python" ]; then
    note "the Python environment is there"
  else
    system /usr/bin/python3 -m venv "$venv"
  fi
  # A file of it edited or deleted by hand since pip installed it (pip's RECORD of hashes): that
  # package is installed again, the app's own with the app below. (To repair, as before.)
  changed=() app_changed=no
  if [ -x "$venv/bin/python" ]; then
    while read -r package; do
      case "$package" in mutual-aid-kiosk==*) app_changed=yes ;; ?*) changed+=("$package") ;; esac
    done < <("$venv/bin/python" "$DEPLOY/venv-files.py" || true)
  fi
  if [ ${#changed[@]} -gt 0 ]; then
    note "changed by hand since they were installed (above): ${changed[*]}"
    system "$venv/bin/python" -m pip install "${pip_opts[@]}" --force-reinstall --no-deps "${changed[@]}"
  fi
  # pip check: every package the app needs is still there (a half-removed one is installed again).
  if [ "$app_changed" = no ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ] \
     && "$venv/bin/kiosk" --version >/dev/null 2>&1 && "$venv/bin/python" -m pip check >/dev/null 2>&1; then
    note "unchanged: the Python environment already runs this version of the app"
  else
    [ "$app_changed" = no ] || note "the app's own installed files were changed by hand (above): installing it again"
    # Build tools in the environment itself: later updates then work without the internet.
    system "$venv/bin/python" -m pip install "${pip_opts[@]}" hatchling babel
    system "$venv/bin/python" -m pip install "${pip_opts[@]}" --no-build-isolation "$APP_DIR/app"
    if [ "$DRY" = no ]; then printf '%s\n' "$fingerprint" > "$stamp"; fi
  fi
fi

# ---------------------------------------------------------------- 5. settings

say "Step 5 of 9: the settings file $ENV_FILE"
if [ -e "$ROOT$ENV_FILE" ]; then
  note "kept the existing $ENV_FILE (it is never overwritten; edit it by hand)"
  for pair in "KIOSK_NAME=$name" "KIOSK_WIFI_SSID=$ssid" "KIOSK_WIFI_PASSWORD=$password" "KIOSK_PUBLIC_URL=$public_url"; do
    key=${pair%%=*}; value=${pair#*=}
    if [ -n "$value" ] && [ "$(env_get "$key" "$ROOT$ENV_FILE")" != "$value" ]; then
      note "note: $key in that file differs from your option; the file wins"
    fi
  done
  # Settings a newer version reads, missing from this file: shown as commented-out lines with
  # their defaults, so the volunteer sees them. They change nothing until uncommented (a line
  # may have been removed on purpose: no KIOSK_SCREEN_HOURS means the screen is always on).
  for pair in "KIOSK_TOUCHSCREEN=1" "KIOSK_DATA_DIR=$DATA_DIR" "KIOSK_USB_ROOTS=$USB_DIR" \
              'KIOSK_SCREEN_HOURS="1-7 08:00-21:00"' "KIOSK_SYNCTHING_URL=$SYNCTHING_URL" \
              "KIOSK_SYNCTHING_HOME=$SYNCTHING_HOME"; do
    key=${pair%%=*}
    if grep -Eq "^[[:space:]]*#?[[:space:]]*${key}[[:space:]]*=" "$ROOT$ENV_FILE"; then
      continue
    elif [ "$DRY" = yes ]; then
      note "(dry run, would show the new setting $key in it, commented out)"
    else
      # A file saved without a final line break would glue the new line onto its last one.
      [ -z "$(tail -c1 "$ROOT$ENV_FILE")" ] || printf '\n' >> "$ROOT$ENV_FILE"
      printf '# New in this version (install.sh, %s); remove the # to use it:\n#%s\n' "$(date +%Y-%m-%d)" "$pair" >> "$ROOT$ENV_FILE"
      note "showed the new setting $key in it, commented out: nothing changes until you use it"
    fi
  done
  if ! mode_is "$ROOT$ENV_FILE" 0640; then
    if [ "$DRY" = yes ]; then note "(dry run, would set its mode to 0640)"; else chmod 0640 "$ROOT$ENV_FILE"; note "set its mode to 0640"; fi
  fi
else
  if [ -z "$password" ] && [ "$DRY" = yes ]; then
    note "(dry run, would make up a Wi-Fi password: none was given with --password)"
  elif [ -z "$password" ]; then
    password=$(tr -dc 'abcdefghjkmnpqrstuvwxyz23456789' < /dev/urandom | head -c 12 || true)
    note "no --password given: made up the Wi-Fi password $password (it is in $ENV_FILE)"
  fi
  put "$ENV_FILE" 0640 <<EOF
# Mutual Aid Kiosk settings: the one file to edit. After a change:
#   sudo systemctl restart mutual-aid-kiosk     (the app)
#   sudo kiosk-hotspot --up                     (Wi-Fi name or password)
# More settings (KIOSK_EXPIRE_DAYS, KIOSK_TIMEZONE, KIOSK_PRINTER, ...): see README.md, "Configuration".
KIOSK_PUBLIC_URL=$(quote "${public_url:-http://aid.lan}")
KIOSK_NAME=$(quote "${name:-Mutual Aid Kiosk}")
KIOSK_WIFI_SSID=$(quote "${ssid:-MutualAid}")
KIOSK_WIFI_PASSWORD=$(quote "$password")
KIOSK_TOUCHSCREEN=1
KIOSK_DATA_DIR=$DATA_DIR
KIOSK_USB_ROOTS=$USB_DIR
# When the touchscreen stays on: days 1=Monday..7=Sunday, 24-hour times; "always" = never blank.
KIOSK_SCREEN_HOURS="1-7 08:00-21:00"
# Several kiosks, one board: this machine's Syncthing (kiosk-syncthing.service); pair kiosks on
# the coordinators' Network page. KIOSK_NETWORK=0 turns it off.
KIOSK_SYNCTHING_URL=$SYNCTHING_URL
KIOSK_SYNCTHING_HOME=$SYNCTHING_HOME
EOF
fi
system chown "root:$USER_NAME" "$ENV_FILE"

# The Pi's own name lookups: so that 'kiosk doctor' finds the public name here too.
if [ -f "$ROOT$ENV_FILE" ]; then
  url=$(env_get KIOSK_PUBLIC_URL "$ROOT$ENV_FILE")
else
  url=${public_url:-http://aid.lan}
fi
host=${url#*://}; host=${host%%/*}; host=${host%%:*}
if [[ $host =~ ^[0-9.]+$ ]] || [[ $host == *.local ]] || [ "$host" = localhost ] || [ -z "$host" ]; then
  note "the public name $host needs no entry in /etc/hosts"
elif grep -Eq "^[^#]*[[:space:]]$host([[:space:]]|\$)" "$ROOT/etc/hosts" 2>/dev/null; then
  note "unchanged: /etc/hosts already names $host"
elif [ "$DRY" = yes ]; then
  note "(dry run, would add '$HOTSPOT_ADDRESS $host' to /etc/hosts)"
else
  mkdir -p "$ROOT/etc"
  printf '%s %s   # mutual-aid-kiosk\n' "$HOTSPOT_ADDRESS" "$host" >> "$ROOT/etc/hosts"
  note "added '$HOTSPOT_ADDRESS $host' to /etc/hosts"
fi

# ---------------------------------------------------------------- 6. helpers and services

say "Step 6 of 9: helper programs and the kiosk service"
put "$LIB_DIR/kiosk-hotspot" 0755 < "$DEPLOY/network/kiosk-hotspot.sh"
put "$LIB_DIR/kiosk-browser" 0755 < "$DEPLOY/screen/kiosk-browser.sh"
put "$LIB_DIR/kiosk-screen-hours" 0755 < "$DEPLOY/screen/kiosk-screen-hours.sh"
put "$LIB_DIR/kiosk-usb-mount" 0755 < "$DEPLOY/usb/kiosk-usb-mount.sh"
put "$LIB_DIR/kiosk-set-time" 0755 < "$DEPLOY/clock/kiosk-set-time.sh"
link /usr/local/sbin/kiosk-hotspot "$LIB_DIR/kiosk-hotspot"
link /usr/local/sbin/kiosk-set-time "$LIB_DIR/kiosk-set-time"
put /etc/systemd/system/mutual-aid-kiosk.service 0644 < "$DEPLOY/systemd/mutual-aid-kiosk.service"
put /etc/systemd/system/mutual-aid-kiosk-usb@.service 0644 < "$DEPLOY/systemd/mutual-aid-kiosk-usb@.service"
put /etc/systemd/system/kiosk-syncthing.service 0644 < "$DEPLOY/systemd/kiosk-syncthing.service"

# ---------------------------------------------------------------- 7. network

say "Step 7 of 9: the Wi-Fi hotspot (WPA2, the Pi at $HOTSPOT_ADDRESS) and names (aid.lan and every name point at the kiosk)"
put /etc/NetworkManager/dnsmasq-shared.d/kiosk.conf 0644 < "$DEPLOY/network/dnsmasq-kiosk.conf"
if [ -n "$ROOT" ]; then
  note "(skipped with --root: kiosk-hotspot, which sets up the hotspot with nmcli)"
else
  system "$LIB_DIR/kiosk-hotspot"
fi

# ---------------------------------------------------------------- 8. USB sticks

say "Step 8 of 9: USB sticks mount by themselves under $USB_DIR/<label>, for '$USER_NAME' only"
put /etc/udev/rules.d/90-mutual-aid-kiosk-usb.rules 0644 < "$DEPLOY/usb/90-mutual-aid-kiosk-usb.rules"
system udevadm control --reload

# ---------------------------------------------------------------- 9. screen

if [ -z "$screen_user" ]; then
  if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    screen_user=$SUDO_USER
  else
    screen_user=$(getent passwd 1000 | cut -d: -f1 || true)
  fi
  [ -n "$screen_user" ] || screen_user=pi
fi
home=$(getent passwd "$screen_user" | cut -d: -f6 || true)
[ -n "$home" ] || home=/home/$screen_user
say "Step 9 of 9: the touchscreen (Chromium in kiosk mode for the desktop user '$screen_user')"
if [ -z "$ROOT" ] && ! getent passwd "$screen_user" >/dev/null; then
  note "warning: there is no user $screen_user; give the desktop user with --screen-user"
else
  autostart="$home/.config/labwc/autostart"
  if [ -f "$ROOT$autostart" ] && ! grep -q "kiosk-browser" "$ROOT$autostart" && [ ! -e "$ROOT$autostart.before-kiosk" ]; then
    if [ "$DRY" = yes ]; then
      note "(dry run, would keep the old $autostart as $autostart.before-kiosk)"
    else
      cp -p "$ROOT$autostart" "$ROOT$autostart.before-kiosk"
      note "kept the old $autostart as $autostart.before-kiosk"
    fi
  fi
  put "$autostart" 0644 < "$DEPLOY/screen/autostart"
  system chown "$screen_user:" "$home/.config"
  system chown -R "$screen_user:" "$home/.config/labwc"
  # The desktop user reads the screen schedule from /run/mutual-aid-kiosk-screen/hours, which
  # the service publishes; it stays out of the kiosk group, so it cannot read the Wi-Fi
  # password or the data. (Older versions added it to that group: undo that.)
  if [ -z "$ROOT" ] && id -nG "$screen_user" 2>/dev/null | tr ' ' '\n' | grep -qx "$USER_NAME"; then
    system gpasswd -d "$screen_user" "$USER_NAME"
  fi
  if [ -n "$ROOT" ]; then
    note "(skipped with --root: raspi-config: log in to the desktop automatically, use labwc)"
  elif command -v raspi-config >/dev/null; then
    system raspi-config nonint do_boot_behaviour B4
    system raspi-config nonint do_wayland W3
  else
    note "raspi-config is missing: turn on desktop auto-login and labwc by hand"
  fi
fi

# ---------------------------------------------------------------- start

say "Starting the services"
system systemctl daemon-reload
system systemctl enable fake-hwclock.service
system systemctl enable mutual-aid-kiosk.service kiosk-syncthing.service
system systemctl restart kiosk-syncthing.service
system systemctl restart mutual-aid-kiosk.service

say "Done."
if [ -f "$ROOT$ENV_FILE" ]; then
  note "Wi-Fi: \"$(env_get KIOSK_WIFI_SSID "$ROOT$ENV_FILE")\", password in $ENV_FILE"
  note "Phones open: $(env_get KIOSK_PUBLIC_URL "$ROOT$ENV_FILE")"
fi
note "Next: sudo reboot. The hotspot, the kiosk and the touchscreen start by themselves."
note "Check it any time: sudo -u $USER_NAME $APP_DIR/venv/bin/kiosk doctor"
