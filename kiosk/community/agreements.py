"""The community agreements at /how-it-works: how to ask, how to offer, who coordinates, how
conflicts are handled. The shipped text in each language applies until coordinators edit it."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..core import text
from ..core.errors import Refused
from ..core.store import Store

META_KEY = "agreements"
LIMIT = 10_000


def agreements(store: Store) -> str | None:
    """The coordinators' text, or None while the shipped default applies."""
    return store.get_meta(META_KEY) or None


def save_agreements(store: Store, body: str) -> None:
    body = text.normalize(body or "", multiline=True)
    if len(body) > LIMIT:
        raise Refused(_l("Use at most %(limit)d characters; this has %(count)d.", limit=LIMIT, count=len(body)))
    if text.unsafe(body, multiline=True):
        raise Refused(_l("Remove the invisible control characters from this text."))
    store.set_meta(META_KEY, body)


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(line: str) -> Markup:
    # Escape first, then allow only **bold**: typed HTML always shows as text.
    return Markup(_BOLD.sub(r"<strong>\1</strong>", str(escape(line))))


def render(body: str) -> Markup:
    """Simple formatting: "# " headings, "- " lists, blank lines between paragraphs, **bold**."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append("<p>" + "<br>".join(str(_inline(p)) for p in paragraph) + "</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in body.split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("# ") or line.startswith("## "):
            flush()
            out.append(f"<h2>{_inline(line.lstrip('#').strip())}</h2>")
        elif line.startswith("- ") or line.startswith("* "):
            if paragraph:
                flush()
            items.append(line[2:])
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return Markup("\n".join(out))
