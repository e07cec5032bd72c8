"""Issue 19, attacked: the arm64 check's roots when a check is cut short (Ctrl-C, a kill, a full
disk) (deploy/arm64/roots.sh, sourced by deploy/arm64-check.sh).
A root carries the check's mark (.recipe); only a folder with it is ever deleted."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROOTS = REPO / "deploy" / "arm64" / "roots.sh"


def roots(script: str, *args, **kwargs) -> subprocess.CompletedProcess:
    """Runs SCRIPT in bash with deploy/arm64/roots.sh's functions."""
    return subprocess.run(["bash", "-c", f'. "{ROOTS}"; {script}', "roots", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=120, **kwargs)


def make_base(base: Path) -> None:
    (base / "etc").mkdir(parents=True)
    (base / "etc" / "hostname").write_text("aidkiosk\n")
    (base / "usr" / "lib").mkdir(parents=True)
    (base / "usr" / "lib" / "big.so").write_bytes(os.urandom(2 << 20))
    (base / ".recipe").write_text("debootstrap ... bookworm\n")


def test_a_copy_cut_short_keeps_the_mark_and_the_next_copy_replaces_it(tmp_path):
    """Cut short while the root was copied, the copy lacked the mark whenever it came before
    .recipe, and every later check refused it ("not a root this check made") until removed by hand."""
    base, root = tmp_path / "base", tmp_path / "root"
    make_base(base)
    # A file-size limit kills cp at the 2 MB file, as Ctrl-C or a full disk would stop it.
    cut = roots('ulimit -f 512; fresh_copy "$1" "$2"', base, root)
    assert cut.returncode != 0
    assert (root / ".recipe").read_text() == "debootstrap ... bookworm\n"
    again = roots('fresh_copy "$1" "$2"', base, root)
    assert again.returncode == 0, again.stderr
    assert (root / "usr" / "lib" / "big.so").read_bytes() == (base / "usr" / "lib" / "big.so").read_bytes()


def test_a_delete_stopped_by_a_mount_keeps_the_mark_and_never_reaches_into_the_mount(tmp_path):
    """A /proc or /dev left mounted in a root (debootstrap killed mid-way, before it ran in a
    namespace of its own): deleting the root went through it, into this machine's own files."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    root, machine = tmp_path / "root", tmp_path / "machine"
    make_base(root)
    (root / "dev").mkdir()
    machine.mkdir()
    (machine / "null").write_text("this machine's own file")
    assert subprocess.run(["mount", "--bind", machine, root / "dev"], check=False).returncode == 0
    try:
        stopped = roots('drop "$1"', root)
        assert stopped.returncode != 0 and f"mounted: {root}/dev" in stopped.stderr
        assert (machine / "null").read_text() == "this machine's own file"
        assert (root / ".recipe").exists()
    finally:
        subprocess.run(["umount", root / "dev"], check=False)
    assert roots('drop "$1"', root).returncode == 0 and not root.exists()

