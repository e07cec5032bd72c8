"""The community agreements at /how-it-works: how to ask, how to offer, who coordinates, how
conflicts are handled. Coordinators may write a version per language; the shipped text in
each language applies until they write any.

Stored as ``{lang: text}`` under ``agreements``. Versions before per-language agreements stored
one string: it counts as the text of the kiosk's default language (the first one offered),
since nothing recorded which language it was typed in.

Once coordinators wrote a text in any language, a language without its own text shows one
they wrote (the default language's first) with a note, never its shipped text: that one may
contradict the rules they just changed."""

from __future__ import annotations

import re
from typing import Mapping

from markupsafe import Markup, escape

from ..core import fields
from ..core.errors import Invalid
from ..core.store import Store

META_KEY = "agreements"
LIMIT = 10_000


def texts(store: Store, default_lang: str) -> dict[str, str]:
    """lang -> the coordinators' text; empty while the shipped texts apply."""
    saved = store.get_meta(META_KEY)
    if isinstance(saved, str):  # one text, as versions before per-language agreements kept it
        return {default_lang: saved} if saved else {}
    if isinstance(saved, dict):
        return {lang: body for lang, body in saved.items() if isinstance(body, str) and body}
    return {}


def field_name(lang: str) -> str:
    return f"body_{lang}"


def check(form: Mapping, languages: list[str]) -> dict[str, str]:
    """The submitted text of each offered language (only those the form sent), normalized;
    raises Invalid naming every field to fix. The single ``body`` of the old form is the
    default language's text."""
    errors: dict = {}
    found: dict[str, str] = {}
    for lang in languages:
        name = field_name(lang)
        if name not in form and not (lang == languages[0] and "body" in form):
            continue
        source = name if name in form else "body"
        found[lang] = fields.clean(form, source, LIMIT, errors, multiline=True)
        if source in errors:
            errors[name] = errors.pop(source)
    if errors:
        raise Invalid(errors, found)
    return found


def save(store: Store, submitted: Mapping[str, str], default_lang: str, shipped: Mapping[str, str],
         keep: set[str] = frozenset()) -> list[str]:
    """Store the submitted texts; returns the languages whose text changed.

    An empty text removes that language's version. A language that had no text of its own
    and comes back with its shipped text unchanged (the form shows it to start from) is
    stored only if ``keep`` names it: otherwise editing one language would silently confirm
    every other language's shipped text, which may now contradict it."""
    before = texts(store, default_lang)
    after = dict(before)
    for lang, body in submitted.items():
        unchanged_shipped = lang not in before and body == shipped.get(lang) and lang not in keep
        if body and not unchanged_shipped:
            after[lang] = body
        else:
            after.pop(lang, None)
    changed = sorted(lang for lang in set(before) | set(after) if before.get(lang) != after.get(lang))
    if changed or isinstance(store.get_meta(META_KEY), str):
        store.set_meta(META_KEY, after)
    return changed


def choose(written: Mapping[str, str], lang: str, languages: list[str]) -> str | None:
    """The language whose text a reader of ``lang`` sees: their own, else the default
    language's, else the next offered one; None while the shipped texts apply. A text in a
    language no longer offered is kept but never shown: no box of the form edits or removes it."""
    order = [lang, *languages]
    return next((candidate for candidate in order if written.get(candidate)), None)


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
