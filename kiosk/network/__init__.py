"""Several kiosks, one board: each kiosk writes signed records of its changes into a folder of
its own that Syncthing sends, and applies the records it receives from the others (inbox.py).
Imports ``core`` and ``web`` only."""

from ..web.feature import Feature

FEATURE = Feature(name="network")
