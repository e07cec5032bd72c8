"""Kiosks for the network's tests: each a real app on its own data folder; ``receive`` does
what Syncthing does (a receive-only copy of the others' folders), then the kiosk's pass."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

from kiosk import create_app
from kiosk.core.store import Store
from kiosk.network import inbox

from conftest import PUBLIC_URL, TEST_SCRYPT_N, Visitor, claim_code


class Kiosk:
    def __init__(self, name: str, data: Path):
        self.app = create_app({"TESTING": True, "DATA_DIR": str(data), "SCRYPT_N": TEST_SCRYPT_N,
                               "PUBLIC_URL": PUBLIC_URL, "NAME": name})
        self.svc = self.app.extensions["kiosk"]
        self.store = self.svc.store
        self.data = data

    def visitor(self) -> Visitor:
        return Visitor(self.app.test_client())

    @property
    def outbox(self) -> Path:
        return self.data / "network" / "outbox"

    def receive(self, *others: "Kiosk") -> dict:
        """What Syncthing does: the others' folders copied here, then the kiosk's pass over them."""
        for other in others:
            mirror(other.outbox, self.peer_folder(other))
        return inbox.apply_all(self.store, self.svc.registry)

    def peer_folder(self, other: "Kiosk") -> Path:
        return self.data / "network" / "peers" / other.store.kiosk_id

    def board(self) -> str:
        return self.app.test_client().get("/board").get_data(as_text=True)

    def post_of(self, home: "Kiosk", home_id: str) -> dict:
        found = inbox._find(self.store, [home.store.kiosk_id, home_id])
        return self.store.get_post(found) if found else None

    def folder_text(self) -> bytes:
        return b"".join(p.read_bytes() for p in self.data.rglob("*") if p.is_file())


@contextmanager
def started(tmp_path: Path, names: dict[str, str]):
    """Kiosks by key; at the end each data folder must pass the checks of its next start."""
    made = {key: Kiosk(name, tmp_path / key) for key, name in names.items()}
    yield made
    for kiosk in made.values():
        kiosk.store.close()
        Store(kiosk.data, read_only=True, schema=kiosk.svc.registry.schema, check_all=True).close()


def mirror(source: Path, target: Path) -> None:
    """A receive-only copy, as Syncthing keeps it: new and changed files, and deletions."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    for path in sorted(target.rglob("*"), reverse=True):
        if path.is_file() and not (source / path.relative_to(target)).exists():
            path.unlink()


def reply_at(visitor: Visitor, post_id: str, message: str) -> tuple[str, str]:
    response = visitor.submit(f"/p/{post_id}/reply", message=message)
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    page = visitor.client.get(response.headers["Location"]).get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1], claim_code(page)


