#!/usr/bin/env bash
# Make (or update) the kiosk's Wi-Fi hotspot with NetworkManager: WPA2, 2.4 GHz (band bg,
# which every phone can join), the Pi at 10.42.0.1/24, DHCP and DNS from NetworkManager's
# dnsmasq (see dnsmasq-kiosk.conf). The Wi-Fi name and password come from
# /etc/mutual-aid-kiosk/kiosk.env (KIOSK_WIFI_SSID, KIOSK_WIFI_PASSWORD).
#   sudo kiosk-hotspot          create or update the hotspot; it starts at the next boot
#   sudo kiosk-hotspot --up     ...and start it now (drops a Wi-Fi SSH session!)
set -euo pipefail

env_file=${KIOSK_ENV_FILE:-/etc/mutual-aid-kiosk/kiosk.env}
con=kiosk-hotspot
ifname=${KIOSK_WIFI_IFNAME:-wlan0}
up=no
[ "${1:-}" = "--up" ] && up=yes

env_get() {  # read KEY="value" as systemd's EnvironmentFile does, without running the file
  local line
  line=$(grep -E "^$1=" "$env_file" | tail -n1 || true)
  line=${line#*=}
  if [[ $line == \"*\" ]]; then
    line=${line:1:${#line}-2}
    line=${line//\\\"/\"}
    line=${line//\\\\/\\}
  fi
  printf '%s' "$line"
}

[ -r "$env_file" ] || { echo "kiosk-hotspot: cannot read $env_file (run with sudo)" >&2; exit 1; }
ssid=$(env_get KIOSK_WIFI_SSID)
password=$(env_get KIOSK_WIFI_PASSWORD)
if [ -z "$ssid" ] || [ ${#password} -lt 8 ] || [ ${#password} -gt 63 ]; then
  echo "kiosk-hotspot: set KIOSK_WIFI_SSID and KIOSK_WIFI_PASSWORD (8 to 63 characters) in $env_file" >&2
  exit 1
fi

if command -v rfkill >/dev/null; then rfkill unblock wifi || true; fi

if nmcli -t -f NAME connection show | grep -qx "$con"; then
  echo "Updating the Wi-Fi hotspot \"$ssid\""
else
  echo "Creating the Wi-Fi hotspot \"$ssid\""
  nmcli connection add type wifi ifname "$ifname" con-name "$con" ssid "$ssid"
fi
nmcli connection modify "$con" \
  connection.autoconnect yes connection.autoconnect-priority 100 \
  802-11-wireless.ssid "$ssid" 802-11-wireless.mode ap 802-11-wireless.band bg \
  ipv4.method shared ipv4.addresses 10.42.0.1/24 ipv6.method disabled \
  wifi-sec.key-mgmt wpa-psk wifi-sec.proto rsn wifi-sec.pairwise ccmp wifi-sec.group ccmp \
  wifi-sec.psk "$password"

if [ "$up" = yes ]; then
  echo "Starting the hotspot now"
  nmcli connection up "$con"
else
  echo "The hotspot starts at the next boot (or now: sudo nmcli connection up $con)"
fi
