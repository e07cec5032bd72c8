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
GAP = 6  # between a bar's end and its number
# A glyph's advance as a share of the font size, generously (DejaVu Sans Bold's widest letters run
# near 0.7 em): text is measured before any font is known, and must stay inside the viewBox.
EM_WIDTH = 0.7
MIN_TRACK = 120


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | None  # None: not drawn (for example a hidden small count)
    text: str  # what the bar's number says, exactly as the table says it


def _width(text: str) -> float:
    return len(text) * LABEL_SIZE * EM_WIDTH


def _clip(text: str, room: float) -> str:
    """The label, shortened with "…" to what surely fits in ``room`` user units."""
    limit = max(int(room / (LABEL_SIZE * EM_WIDTH)), 4)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(chart_id: str, title: str, bars: list[Bar], desc: str = "", rtl: bool = False) -> str:
    """A horizontal bar chart: one row per bar, its label above it, its number after its end.
    ``rtl`` mirrors it for a right-to-left page: labels on the right, bars growing leftwards,
    numbers left of the bars, so no text leaves the box and no number sits on a bar."""
    scale_max = max([b.value for b in bars if b.value is not None] + [1])
    value_space = max([_width(b.text) for b in bars] + [3 * LABEL_SIZE]) + GAP
    track = max(WIDTH - 2 * PAD - value_space, MIN_TRACK)
    width = round(track + value_space + 2 * PAD)
    height = PAD * 2 + ROW_HEIGHT * max(len(bars), 1)
    ident = quoteattr(chart_id)
    # direction and text-anchor "start" are set on every chart: the page's direction would
    # otherwise flip where a text grows from its x.
    parts = [
        f'<svg xmlns="{SVG_NS}" class="chart" role="img" width="100%" viewBox="0 0 {width} {height}" '
        f'direction="{"rtl" if rtl else "ltr"}" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby={quoteattr(chart_id + "-title")}'
        + (f" aria-describedby={quoteattr(chart_id + '-desc')}" if desc else "")
        + f" id={ident}>",
        f"<title id={quoteattr(chart_id + '-title')}>{escape(title)}</title>",
    ]
    if desc:
        parts.append(f"<desc id={quoteattr(chart_id + '-desc')}>{escape(desc)}</desc>")
    for i, bar in enumerate(bars):
        parts.extend(_row(bar, PAD + i * ROW_HEIGHT, track, scale_max, width, rtl))
    parts.append("</svg>")
    return "".join(parts)


def _row(bar: Bar, top: int, track: float, scale_max: int, width: int, rtl: bool) -> list[str]:
    label_y = top + LABEL_SIZE
    bar_y = top + LABEL_SIZE + 6
    length = 0 if bar.value is None else round(track * max(bar.value, 0) / scale_max)
    # In a mirrored chart every x is measured from the right edge.
    def x(at: float, span: float = 0) -> float:
        return round(width - at - span, 1) if rtl else round(at, 1)

    parts = [
        '<g class="bar">',
        f'<text class="bar-label" x="{x(PAD)}" y="{label_y}" font-size="{LABEL_SIZE}" fill="{INK}" '
        f'text-anchor="start">{escape(_clip(bar.label, width - 2 * PAD))}</text>',
        f'<rect x="{x(PAD, track)}" y="{bar_y}" width="{round(track, 1)}" height="{BAR_HEIGHT}" fill="{TRACK}"/>',
    ]
    if length:
        parts.append(f'<rect class="bar-fill" x="{x(PAD, length)}" y="{bar_y}" width="{length}" '
                     f'height="{BAR_HEIGHT}" fill="{BAR_FILL}"/>')
    # The number right after the track (not the bar), so all numbers line up in one column.
    parts.append(
        f'<text class="bar-value" x="{x(PAD + track + GAP)}" y="{bar_y + BAR_HEIGHT - 4}" font-size="{LABEL_SIZE}" '
        f'font-weight="bold" fill="{INK}" text-anchor="start">{escape(bar.text)}</text>'
    )
    parts.append("</g>")
    return parts
