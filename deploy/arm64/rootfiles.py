#!/usr/bin/env python3
"""What deploy/arm64-check.sh reads off the arm64 root from outside (standard library only):

  rootfiles.py snapshot ROOT OUT.json   every file's content hash, mode and owner
  rootfiles.py compare A.json B.json    what differs; exit 1 if anything does
  rootfiles.py wheels SITE_PACKAGES     the compiled packages and the wheel tag each came with;
                                        exit 1 if one is for another machine
  rootfiles.py mounts FOLDER            what is mounted under FOLDER; exit 1 if anything is
  rootfiles.py safe FOLDER [UID]        exit 1 unless only root (or UID: the user who ran sudo)
                                        can change FOLDER and every folder above it"""

import hashlib
import json
import os
import re
import stat
import sys

# Not the machine's state: kernel and runtime folders, caches, logs, the stand-ins' own notes.
SKIP = {"proc", "sys", "dev", "run", "tmp", "var/cache", "var/log", "var/lib/apt/lists", "root/.cache",
        "var/lib/arm64-check", "opt/arm64-check"}


def entry(path: str) -> list:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        what = "link:" + os.readlink(path)
    elif stat.S_ISDIR(info.st_mode):
        what = "folder"
    elif stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        what = digest.hexdigest()
    else:
        what = "special"
    return [what, oct(stat.S_IMODE(info.st_mode)), info.st_uid, info.st_gid]


def snapshot(root: str, out: str) -> int:
    found = {}
    for folder, subfolders, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        subfolders[:] = [d for d in subfolders if os.path.normpath(os.path.join(rel, d)) not in SKIP]
        for name in subfolders + files:
            found[os.path.normpath(os.path.join(rel, name))] = entry(os.path.join(folder, name))
    with open(out, "w") as fh:
        json.dump(found, fh)
    print(f"  {len(found):,} files and folders")
    return 0


def compare(first: str, second: str) -> int:
    with open(first) as a, open(second) as b:
        before, after = json.load(a), json.load(b)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    for name in changed[:40]:
        print(f"  changed: /{name} {before.get(name, 'absent')} -> {after.get(name, 'absent')}")
    if len(changed) > 40:
        print(f"  ... and {len(changed) - 40} more")
    return 1 if changed else 0


def wheels(site: str) -> int:
    wrong = 0
    for name in sorted(os.listdir(site)):
        path = os.path.join(site, name, "WHEEL")
        if not name.endswith(".dist-info") or not os.path.isfile(path):
            continue
        with open(path) as fh:
            tags = [line.split(":", 1)[1].strip() for line in fh if line.startswith("Tag:")]
        compiled = [t for t in tags if not t.endswith("-any")]
        if not compiled:
            continue
        built_here = all(t.endswith("linux_aarch64") and "manylinux" not in t for t in compiled)
        ok = all("aarch64" in t for t in compiled)
        wrong += not ok
        how = "built here from source" if built_here else "aarch64 wheel" if ok else "NOT FOR ARM64"
        print(f"  {name.removesuffix('.dist-info')}: {', '.join(compiled)} ({how})")
    native = native_code(site)
    return 1 if wrong or not native else 0


def native_code(site: str) -> bool:
    """Every shared library in the environment is arm64 code (ELF machine 183, AArch64)."""
    libraries, foreign = 0, []
    for folder, _, files in os.walk(site):
        for name in files:
            if ".so" in name:
                with open(os.path.join(folder, name), "rb") as fh:
                    head = fh.read(20)
                if head[:4] == b"\x7fELF":
                    libraries += 1
                    if int.from_bytes(head[18:20], "little") != 183:
                        foreign.append(os.path.relpath(os.path.join(folder, name), site))
    print(f"  {libraries} shared libraries, {'all AArch64' if not foreign else 'NOT AArch64: ' + ', '.join(foreign)}")
    return not foreign


def mounts(folder: str) -> int:
    """Mount points under FOLDER, as this mount namespace sees them: the check deletes
    folders there, and deleting through a mount (a /proc, a /dev) reaches the machine itself."""
    folder = os.path.realpath(folder)
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:  # field 5: the mount point, with space, tab, newline and \ as octal escapes
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point.startswith(folder.rstrip("/") + "/"):  # FOLDER itself may be a disk of its own
                found.append(point)
    for point in found:
        print(f"  mounted: {point}")
    return 1 if found else 0


def safe(folder: str, trusted_uid: str = "") -> int:
    """Root runs what the cache holds (it chroots into it): nobody else may change it. FOLDER and
    every folder above it belong to root (or to the user who ran sudo) and no one else may write
    there, but for a sticky folder above it (/tmp): there others cannot rename or delete it."""
    owners = {0} | ({int(trusted_uid)} if trusted_uid.isdigit() else set())
    path = os.path.realpath(folder)
    while True:
        info = os.stat(path)
        others_write = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        sticky_above = info.st_mode & stat.S_ISVTX and path != os.path.realpath(folder)
        if info.st_uid not in owners:
            print(f"{path} belongs to user {info.st_uid}, who could change what root runs from {folder}")
            return 1
        if others_write and not sticky_above:
            print(f"{path} can be written by others (mode {oct(stat.S_IMODE(info.st_mode))}), "
                  f"who could change what root runs from {folder}")
            return 1
        if path == "/":
            return 0
        path = os.path.dirname(path)


if __name__ == "__main__":
    verb, *args = sys.argv[1:]
    sys.exit({"snapshot": snapshot, "compare": compare, "wheels": wheels, "mounts": mounts, "safe": safe}[verb](*args))
