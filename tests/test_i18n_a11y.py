"""Every visible string is in the catalogs, translated; the stylesheet's colours meet WCAG AA."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def source_messages() -> set[str]:
    """What pybabel extract finds in the code and templates right now (babel.cfg's rules)."""
    method_map = [("kiosk/**.py", "python"), ("kiosk/**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def messages() -> set[str]:
    found = source_messages()
    assert len(found) > 150  # extraction really ran
    return found


@pytest.mark.parametrize("lang", ["es", "ar"])
def test_catalog_translates_every_string(messages, lang):
    path = ROOT / "kiosk" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale=lang)
    missing = sorted(m for m in messages if m not in catalog)
    assert not missing, f"not in the {lang} catalog (run pybabel update): {missing[:5]}"
    untranslated = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(message.id)
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, (lang, message.id, text)
    assert not untranslated, f"untranslated in {lang}: {untranslated[:5]}"



# Formal "usted" forms a newcomer saw next to "tú" ones on the same ticket ("Guarde este código",
# "Usa este código"): the Spanish pages speak "tú" throughout, shipped agreements included.
USTED = re.compile(r"\b([Uu]sted|[Gg]uarde|[Gg]uárdelo|[Ee]scriba|[Ee]lija|Diga|Toque|[Pp]ulse|[Ee]scanee|"
                   r"[Rr]ecibirá|[Vv]uelva|[Rr]evise|[Ii]ntente|[Ii]nténtelo|[Mm]arque|[Tt]ome|[Hh]able|"
                   r"[Pp]regunte|[Cc]onéctese|[Pp]ublique|[Aa]vise|[Ss]u (boleto|código|publicación))\b")


def test_spanish_speaks_tu_throughout():
    with open(ROOT / "kiosk" / "translations" / "es" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh, locale="es")
    formal = [m.id for m in catalog if m.id and any(
        USTED.search(s or "") for s in (m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert not formal, formal[:5]
    shipped = (ROOT / "kiosk" / "community" / "templates" / "community" / "agreements" / "es.txt").read_text()
    assert not USTED.search(shipped), USTED.search(shipped)


# -- contrast -------------------------------------------------------------------------------

CSS = (ROOT / "kiosk" / "web" / "static" / "kiosk.css").read_text()
TOUCH_CSS = (ROOT / "kiosk" / "web" / "static" / "touch.css").read_text()


def css_vars() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS, re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# (foreground, background, minimum): 4.5 for text, 3 for borders and focus rings.
VAR_PAIRS = [
    ("ink", "paper", 4.5), ("ink", "wash", 4.5), ("muted", "paper", 4.5), ("muted", "wash", 4.5),
    ("need", "need-bg", 4.5), ("offer", "offer-bg", 4.5), ("need", "paper", 4.5), ("offer", "paper", 4.5),
    ("accent", "paper", 4.5), ("accent", "wash", 4.5), ("accent-ink", "accent", 4.5),
    ("danger", "paper", 4.5), ("paper", "danger", 4.5), ("paper", "ink", 4.5),
    ("focus", "ink", 3.0),
]
# Literal colours in the stylesheets, each checked to still be there.
LITERAL_PAIRS = [
    (CSS, "var(--danger)", "#fdecec", "danger", 4.5),  # error summary
    (CSS, "var(--ink)", "#fff6d6", "ink", 4.5),  # warning box
    (CSS, "var(--accent)", "#e8eef8", "accent", 4.5),  # notices, chosen tiles
    (CSS, "#6b6b6b", "var(--paper)", None, 3.0),  # input and tile borders
    (TOUCH_CSS, "#111", "#f4f4f4", None, 4.5),  # keyboard keys
    (TOUCH_CSS, "#fff", "#1d4f91", None, 4.5),  # keyboard "done"
    (TOUCH_CSS, "#111", "#ffbf47", None, 4.5),  # pressed key
]


@pytest.mark.parametrize("fg,bg,minimum", VAR_PAIRS)
def test_colour_pairs_meet_wcag_aa(fg, bg, minimum):
    colours = css_vars()
    ratio = contrast(colours[fg], colours[bg])
    assert ratio >= minimum, f"--{fg} on --{bg}: {ratio:.2f} < {minimum}"


def _resolve(value: str) -> str:
    match = re.fullmatch(r"var\(--([\w-]+)\)", value)
    value = css_vars()[match.group(1)] if match else value
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value


@pytest.mark.parametrize("sheet,fg,bg,_name,minimum", LITERAL_PAIRS)
def test_literal_colours_meet_wcag_aa(sheet, fg, bg, _name, minimum):
    for colour in (fg, bg):
        if colour.startswith("#"):
            assert colour in sheet, f"{colour} is no longer in the stylesheet: update this test"
    ratio = contrast(_resolve(fg), _resolve(bg))
    assert ratio >= minimum, f"{fg} on {bg}: {ratio:.2f} < {minimum}"


def test_touch_targets_are_at_least_48px():
    for selector in (".button, button", ".chips a", ".tile", ".top a"):
        rule = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
        assert rule, selector
        height = re.search(r"min-height:\s*(\d+)px", rule.group(1))
        assert height and int(height.group(1)) >= 48, selector
    assert re.search(r"\.osk-key\s*\{[^}]*min-height:\s*48px", TOUCH_CSS)
