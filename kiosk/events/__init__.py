"""Gatherings: the food share, meetings, repair cafés, one-off or repeating, with an anonymous
"I'll come" count, a printable notice and its QR code.

Rules in rules.py; views in views.py; templates in ``templates/events/``. Imports ``core``
and ``web`` only."""

from flask_babel import lazy_gettext as _l

from ..web.feature import Feature, Link, Panel, Series, Table
from . import rules, schema, views

FEATURE = Feature(
    name="events",
    blueprints=(views.bp,),
    tables=(Table(rules.TABLE, schema.Event),),
    session_keys=(views.SESSION_KEY,),
    audit_actions={"event-new": _l("added a gathering"), "event-edit": _l("changed a gathering"),
                   "event-cancel": _l("cancelled a gathering")},
    monthly=(Series(60, "people", _l("People at gatherings (“I'll come”)"), rules.attendance_by_month),),
    start_panels=(Panel(20, "events/_start.html", views.start_panel),),
    meetings=(views.next_meeting,),
    programs=(Link(10, "events.index", _l("Gatherings")),),
    coordinator_links=(Link(50, "events.index", _l("Gatherings")),),
)
