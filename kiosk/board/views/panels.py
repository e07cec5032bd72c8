"""What the board shows on other features' pages: its parts of the coordinators' queue, its
series and its tables on /stats (declared in the board's FEATURE)."""

from __future__ import annotations

from flask_babel import format_decimal, gettext as _
from markupsafe import Markup

from ...web import charts, gate
from ...web.helpers import right_to_left
from ...web.services import now, services
from ...web.settings import setting
from .. import moderation, numbers


def reports_panel(**context) -> dict:
    return {"queue": moderation.queue_reports(services().store, now(), setting("EXPIRE_DAYS"), gate.team_key())}


def thanks_panel(**context) -> dict:
    return {"queue": moderation.queue_thanks(services().store)}


def _post_counts(store) -> numbers.PostCounts:
    """Every post counted once per change of the store, however many series read it."""
    return services().remember("post-counts", None, lambda: numbers.count_posts(store))


def monthly(column: str):
    """A /stats series: one column of the post counts, per month."""
    return lambda store: {month: row[column] for month, row in _post_counts(store).by_month.items()}


def stats_panel(months: list[str], **context) -> dict:
    """The median days to a first reply, as a chart and a table, and the counts by category."""
    counted = _post_counts(services().store)
    median = {m: counted.median_days(m) for m in months}
    bars = [charts.Bar(m, None if median[m] is None else int(round(median[m] * 10)),
                       "—" if median[m] is None else format_decimal(median[m])) for m in months]
    return {
        "months": months,
        "median_days": median,
        "median_chart": Markup(charts.bar_chart("chart-wait", _("Median days to a first reply"), bars,
                                                rtl=right_to_left())),
        "by_category": {k: v for k, v in counted.by_category.items() if k[0] in months},
    }
