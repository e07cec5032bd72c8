#!/usr/bin/env bash
# Keeps the touchscreen on during opening hours; outside them it blanks after 5 idle minutes
# and wakes on a touch. Started from labwc's autostart.
#
# The schedule is one line in /etc/mutual-aid-kiosk/kiosk.env:
#   KIOSK_SCREEN_HOURS="1-5 09:00-18:00; 6 10:00-14:00"
# days are 1=Monday ... 7=Sunday (ranges and commas: 1-5, 1,3,5), times are 24-hour, the end
# is not included. "always" (or an empty value) keeps the screen on all the time.
# The desktop user cannot read kiosk.env (it holds the Wi-Fi password): the kiosk service
# copies the schedule to /run/mutual-aid-kiosk-screen/hours each time it starts, and this
# script reads it there every minute. Until the service has started, the screen stays on.
#
#   kiosk-screen-hours                      run the schedule (loops, checks every minute)
#   kiosk-screen-hours --at "2026-03-02 09:30" [--hours "..."]   print on or off, then exit
#   kiosk-screen-hours --screen on|off      switch every display on or off now
set -euo pipefail

hours_file=${KIOSK_SCREEN_HOURS_FILE:-/run/mutual-aid-kiosk-screen/hours}
idle_seconds=${KIOSK_SCREEN_IDLE_SECONDS:-300}

read_hours() {  # the published schedule's first line; none yet: "always"
  local line=""
  if [ -r "$hours_file" ]; then IFS= read -r line < "$hours_file" || true; fi
  printf '%s' "${line:-always}"
}

to_minutes() {  # 09:30 -> 570
  local h=${1%%:*} m=${1##*:}
  echo $((10#$h * 60 + 10#$m))
}

day_matches() {  # day_matches 3 "1-5" / "1,3,6"
  local day=$1 part
  IFS=',' read -ra parts <<< "$2"
  for part in "${parts[@]}"; do
    if [[ $part =~ ^([1-7])-([1-7])$ ]]; then
      (( day >= BASH_REMATCH[1] && day <= BASH_REMATCH[2] )) && return 0
    elif [[ $part =~ ^[1-7]$ ]]; then
      (( day == part )) && return 0
    fi
  done
  return 1
}

wanted() {  # wanted HOURS DAY MINUTE -> prints on or off
  local hours=$1 day=$2 now=$3 entry days span start end
  hours=$(echo "$hours" | tr -s ' ')
  if [ -z "${hours// /}" ] || [ "$hours" = always ]; then echo on; return; fi
  IFS=';' read -ra entries <<< "$hours"
  for entry in "${entries[@]}"; do
    read -r days span <<< "$entry" || true
    [ -n "${span:-}" ] || continue
    if [[ ! $span =~ ^([0-2][0-9]:[0-5][0-9])-([0-2][0-9]:[0-5][0-9])$ ]]; then
      echo "kiosk-screen-hours: cannot read \"$entry\" (use e.g. 1-5 09:00-18:00)" >&2
      continue
    fi
    start=$(to_minutes "${BASH_REMATCH[1]}")
    end=$(to_minutes "${BASH_REMATCH[2]}")
    day_matches "$day" "$days" || continue
    if (( start <= end )); then
      (( now >= start && now < end )) && { echo on; return; }
    else  # past midnight, e.g. 18:00-02:00
      (( now >= start || now < end )) && { echo on; return; }
    fi
  done
  echo off
}

screen() {  # screen on|off: every display
  command -v wlr-randr >/dev/null || return 0
  local out
  for out in $(wlr-randr 2>/dev/null | awk '/^[^ ]/{print $1}'); do
    wlr-randr --output "$out" "--$1" || true
  done
}

hours=""
at=""
have_hours=no
while [ $# -gt 0 ]; do
  case "$1" in
    --at) at=$2; shift 2 ;;
    --hours) hours=$2; have_hours=yes; shift 2 ;;
    --screen) screen "$2"; exit 0 ;;
    *) echo "kiosk-screen-hours: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$have_hours" = yes ] || hours=$(read_hours)

if [ -n "$at" ]; then
  wanted "$hours" "$(date -d "$at" +%u)" "$(to_minutes "$(date -d "$at" +%H:%M)")"
  exit 0
fi

idle_pid=""
trap '[ -n "$idle_pid" ] && kill "$idle_pid" 2>/dev/null; exit 0' TERM INT
while true; do
  [ "$have_hours" = yes ] || hours=$(read_hours)
  state=$(wanted "$hours" "$(date +%u)" "$(to_minutes "$(date +%H:%M)")")
  if [ "$state" = on ]; then
    if [ -n "$idle_pid" ]; then
      kill "$idle_pid" 2>/dev/null || true
      idle_pid=""
    fi
    screen on
  elif [ -z "$idle_pid" ] || ! kill -0 "$idle_pid" 2>/dev/null; then
    if command -v swayidle >/dev/null; then
      swayidle -w timeout "$idle_seconds" "$0 --screen off" resume "$0 --screen on" &
      idle_pid=$!
    else
      screen off
    fi
  fi
  sleep 60
done
