"""Issue 19, attacked: the arm64 check's roots when a check is cut short (Ctrl-C, a kill, a full
disk) and the checkout it copies in (deploy/arm64/roots.sh, sourced by deploy/arm64-check.sh).
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


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


def checkout_with_everything(repo: Path) -> None:
    """A developer's checkout: its .venv, a kiosk's data, a change not committed, a new file."""
    (repo / "kiosk").mkdir(parents=True)
    (repo / "kiosk" / "app.py").write_text("VERSION = 1\n")
    (repo / "kiosk" / "gone.py").write_text("")
    (repo / "data").mkdir()
    (repo / "data" / "README.md").write_text("the data folder\n")
    (repo / ".gitignore").write_text(".venv/\n__pycache__/\n/data/*\n!/data/README.md\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "kiosk" / "app.py").write_text("VERSION = 2  # not committed\n")
    (repo / "kiosk" / "gone.py").unlink()
    (repo / "kiosk" / "new file.py").write_text("")
    (repo / ".venv" / "lib").mkdir(parents=True)
    (repo / ".venv" / "lib" / "big.so").write_bytes(b"x" * 1000)
    (repo / "data" / "kiosk.json").write_text('{"a volunteer\'s": "real data"}')
    (repo / "kiosk" / "__pycache__").mkdir()
    (repo / "kiosk" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"")


def copied(repo: Path, dest: Path) -> dict[str, str]:
    dest.mkdir()
    result = roots('checkout_files "$1" | tar -C "$1" --null --no-recursion -T - -cf - | tar -C "$2" -xf -',
                   repo, dest)
    assert result.returncode == 0, result.stderr
    return {str(p.relative_to(dest)): p.read_text() for p in dest.rglob("*") if p.is_file()}


def test_the_checkout_copied_in_has_its_changes_but_not_its_venv_or_a_kiosks_data(tmp_path):
    repo = tmp_path / "my checkout"  # a path with a space
    checkout_with_everything(repo)
    files = copied(repo, tmp_path / "in-root")
    assert files["kiosk/app.py"] == "VERSION = 2  # not committed\n"
    assert set(files) == {"kiosk/app.py", "kiosk/new file.py", "data/README.md", ".gitignore"}


def test_without_git_the_checkout_is_copied_less_the_same_folders(tmp_path):
    repo = tmp_path / "zip download"
    checkout_with_everything(repo)
    subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    files = copied(repo, tmp_path / "in-root")
    assert set(files) == {"kiosk/app.py", "kiosk/new file.py", "data/README.md", ".gitignore"}
