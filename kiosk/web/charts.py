"""Charts drawn on the server as SVG text: pure functions, no chart library, no script.

Every chart is an ``<svg role="img">`` with a ``<title>`` (and a ``<desc>``), text labels for
each bar and its number, and presentation attributes only (no ``style`` attribute, so the
Content-Security-Policy stays strict). The page shows the same numbers in a table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

SVG_NS = "http://www.w3.org/2000/svg"
BAR_FILL = "#1d4f91"  # 8.9:1 on white
INK = "#1a1a1a"
TRACK = "#e8e5de"

WIDTH = 320  # fits a 360 px phone at about 1:1; the svg scales with width="100%"
PAD = 4
LABEL_SIZE = 14
ROW_HEIGHT = 46  # label line + bar
BAR_HEIGHT = 18
VALUE_SPACE = 96  # room right of the longest bar for its number ("fewer than 3")
MAX_LABEL = 40


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | None  # None: not drawn (for example a hidden small count)
    text: str  # what the bar's number says, exactly as the table says it


def _clip(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(chart_id: str, title: str, bars: list[Bar], desc: str = "") -> str:
    """A horizontal bar chart: one row per bar, its label above it, its number after it."""
    scale_max = max([b.value for b in bars if b.value is not None] + [1])
    track = WIDTH - 2 * PAD - VALUE_SPACE
    height = PAD * 2 + ROW_HEIGHT * max(len(bars), 1)
    ident = quoteattr(chart_id)
    parts = [
        f'<svg xmlns="{SVG_NS}" class="chart" role="img" width="100%" viewBox="0 0 {WIDTH} {height}" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby={quoteattr(chart_id + "-title")}'
        + (f" aria-describedby={quoteattr(chart_id + '-desc')}" if desc else "")
        + f" id={ident}>",
        f"<title id={quoteattr(chart_id + '-title')}>{escape(title)}</title>",
    ]
    if desc:
        parts.append(f"<desc id={quoteattr(chart_id + '-desc')}>{escape(desc)}</desc>")
    for i, bar in enumerate(bars):
        top = PAD + i * ROW_HEIGHT
        label_y = top + LABEL_SIZE
        bar_y = top + LABEL_SIZE + 6
        length = 0 if bar.value is None else round(track * max(bar.value, 0) / scale_max)
        parts.append('<g class="bar">')
        parts.append(
            f'<text class="bar-label" x="{PAD}" y="{label_y}" font-size="{LABEL_SIZE}" fill="{INK}">'
            f"{escape(_clip(bar.label))}</text>"
        )
        parts.append(f'<rect x="{PAD}" y="{bar_y}" width="{track}" height="{BAR_HEIGHT}" fill="{TRACK}"/>')
        if length:
            parts.append(f'<rect class="bar-fill" x="{PAD}" y="{bar_y}" width="{length}" height="{BAR_HEIGHT}" fill="{BAR_FILL}"/>')
        parts.append(
            f'<text class="bar-value" x="{PAD + track + 6}" y="{bar_y + BAR_HEIGHT - 4}" font-size="{LABEL_SIZE}" '
            f'font-weight="bold" fill="{INK}">{escape(bar.text)}</text>'
        )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
