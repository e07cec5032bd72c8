"""Build hook: compile the translation catalogs (.po -> .mo) into the wheel.

Compiled catalogs are build products, never committed or edited by hand."""

from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_catalogs(root: Path) -> list[Path]:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted((root / "kiosk" / "translations").glob("*/LC_MESSAGES/messages.po")):
        with open(po_path, "rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        with open(mo_path, "wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        written.append(mo_path)
    return written


class CompileCatalogs(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        root = Path(self.root)
        for mo_path in compile_catalogs(root):
            build_data["force_include"][str(mo_path)] = str(mo_path.relative_to(root))
