#!/bin/bash
# The arm64 check's roots and the checkout it copies in (sourced by deploy/arm64-check.sh; the
# tests call these functions too). A root the check made carries its mark, .recipe: only such a
# folder is ever deleted, so these keep the mark there for as long as anything else is.

ROOTFILES="$(dirname "${BASH_SOURCE[0]}")/rootfiles.py"

# drop DIR: delete a root the check made; its mark last, so a delete cut short (Ctrl-C, a kill)
# leaves a folder the next check still knows as its own. Never with anything mounted in it: a
# /dev bound there would lead rm to this machine's own files (--one-file-system does not see a
# bind mount of the same disk).
drop() {
  [ -e "$1" ] || return 0
  if ! python3 "$ROOTFILES" mounts "$1" >&2; then
    echo "arm64-check: not deleting $1: the folders above are mounted in it (umount -R FOLDER)" >&2
    return 1
  fi
  find "$1" -mindepth 1 -maxdepth 1 ! -name .recipe -exec rm -rf --one-file-system {} +
  rm -rf --one-file-system "$1"
}

# fresh_copy FROM TO: TO becomes a copy of the root FROM, its mark copied first: a copy cut
# short is still a folder the next check may delete.
fresh_copy() {
  drop "$2"
  mkdir "$2"
  cp -p "$1/.recipe" "$2/.recipe"
  cp -a "$1/." "$2/"
}

# checkout_files SRC: the checkout as a volunteer copies it to a Pi, NUL-separated paths:
# git's files with the changes not committed yet and new files, less what git ignores (.venv,
# data/ but its README, build output); without git, every file less those.
checkout_files() {
  local src=$1 git=(git -c safe.directory="$1" -c core.fsmonitor=false -C "$1")
  if "${git[@]}" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    "${git[@]}" ls-files -z --cached --others --exclude-standard
  else
    (cd "$src" && find . \( -name .git -o -name .venv -o -name __pycache__ -o -path ./tests/artifacts \
       -o \( -path './data/*' ! -path ./data/README.md \) \) -prune -o ! -type d ! -name '*.pyc' -print0)
  fi | while IFS= read -r -d '' file; do  # a file deleted but not committed yet is left out
    if [ -e "$src/$file" ] || [ -L "$src/$file" ]; then printf '%s\0' "$file"; fi
  done
}
