"""Issue 19, attacked: install.sh skips reinstalling the app when its files are unchanged. A
volunteer who edits or deletes a file of the installed environment by hand must still get it
repaired by running install.sh again (deploy/venv-files.py names what pip's RECORD no longer
matches, run by the environment's own Python as install.sh runs it)."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VENV_FILES = REPO / "deploy" / "venv-files.py"


def record_line(site: Path, path: Path) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()
    return f"{path.relative_to(site)},sha256={digest},{path.stat().st_size}"


@pytest.fixture
def environment(tmp_path):
    """A real virtual environment with a package installed as pip leaves one: its files and a
    RECORD of their hashes (the .pyc Python writes later, listed without one)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    [site] = venv.glob("lib/python3*/site-packages")
    package, info = site / "waitress", site / "Waitress_Server-3.0.2.dist-info"
    package.mkdir()
    info.mkdir()
    (package / "__init__.py").write_text("def serve(app): ...\n")
    (package / "server.py").write_text("PORT = 80\n")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Waitress_Server\nVersion: 3.0.2\n")
    lines = [record_line(site, p) for p in (package / "__init__.py", package / "server.py", info / "METADATA")]
    lines += ["waitress/__pycache__/server.cpython-311.pyc,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    return venv, package


def changed(venv: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "python"), str(VENV_FILES)], capture_output=True, text=True,
                          check=False, timeout=60)


def test_an_environment_as_pip_left_it_has_nothing_to_repair(environment):
    venv, package = environment
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "server.cpython-311.pyc").write_bytes(b"written by Python at its first import")
    result = changed(venv)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.parametrize("damage", ["edited", "deleted"])
def test_a_package_file_edited_or_deleted_by_hand_is_named_for_reinstalling(environment, damage):
    venv, package = environment
    if damage == "edited":
        (package / "server.py").write_text("PORT = 8080  # a volunteer's quick fix\n")
    else:
        (package / "server.py").unlink()
    result = changed(venv)
    assert result.returncode == 1 and result.stdout == "waitress-server==3.0.2\n"
    assert "server.py" in result.stderr

