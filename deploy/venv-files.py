#!/usr/bin/env python3
"""Which packages in a Python environment were changed since pip installed them: run with the
environment's own Python (deploy/install.sh: /opt/mutual-aid-kiosk/venv/bin/python). pip writes
every file's hash into the package's RECORD; a file edited or deleted by hand no longer matches.

Prints one line per changed package, name==version (its name as pip normalises it), and which
files changed on stderr. Exits 1 if a package changed, 0 if none did. Standard library only."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import re
import sys


def changed_files(dist: importlib.metadata.Distribution) -> list[str]:
    changed = []
    for entry in dist.files or []:
        if entry.hash is None:  # RECORD itself, and the .pyc files Python writes
            continue
        path = entry.locate()
        try:
            data = path.read_bytes()
        except OSError:
            changed.append(f"{path} (missing)")
            continue
        digest = base64.urlsafe_b64encode(hashlib.new(entry.hash.mode, data).digest()).rstrip(b"=").decode()
        if digest != entry.hash.value:
            changed.append(str(path))
    return changed


def main() -> int:
    found = 0
    for dist in importlib.metadata.distributions():
        changed = changed_files(dist)
        if changed:
            name = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
            print(f"{name}=={dist.version}")
            shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
            print(f"  {name}: {shown}", file=sys.stderr)
            found += 1
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
