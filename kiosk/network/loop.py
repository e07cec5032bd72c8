"""The network's background pass, run by `kiosk serve` (never by the factory, so no test app
and no `kiosk demo` starts it): every NETWORK_EVERY_SECONDS, configure Syncthing if it answers
(setup.configure, idempotent), then apply what the other kiosks' folders hold (inbox.apply_all),
which works without Syncthing too (folders already received)."""

from __future__ import annotations

import logging
import threading

from . import inbox, setup
from .syncthing import SyncthingError, client_from_config

log = logging.getLogger("kiosk.network")


def run_once(app) -> dict:
    """One pass: {"syncthing": None or what went wrong, "applied": ...}."""
    svc = app.extensions["kiosk"]
    result: dict = {"syncthing": None}
    with app.app_context():
        from ..web.settings import setting

        try:
            setup.configure(svc.store, client_from_config(app.config), app.config, setting("NAME"))
        except SyncthingError as exc:
            result["syncthing"] = str(exc.message)
        result.update(inbox.apply_all(svc.store, svc.registry))
    return result


def start(app, stop: threading.Event | None = None) -> threading.Thread:
    """The loop in a daemon thread; set ``stop`` to end it. A failure is logged once per kind
    (Syncthing down for hours must not fill the journal) and never ends the loop."""
    stop = stop or threading.Event()
    every = app.config["NETWORK_EVERY_SECONDS"]

    def loop() -> None:
        last = None
        while not stop.is_set():
            try:
                outcome = run_once(app)
                problem = outcome["syncthing"]
                if outcome.get("applied"):
                    log.info("network: %d record(s) from other kiosks applied", outcome["applied"])
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one bad pass
                problem = f"network pass failed: {exc!r}"
                log.exception("network pass failed")
            if problem != last and problem:
                log.warning("network: %s", problem)
            elif problem != last:
                log.info("network: Syncthing answers and is configured")
            last = problem
            stop.wait(every)

    thread = threading.Thread(target=loop, name="network", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
