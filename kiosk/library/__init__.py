"""The tool library: shared items with printable QR labels, loans against a ticket code (no
names), returns, and overdue loans in the coordinators' queue.

Rules in rules.py; views in views.py; templates in ``templates/library/``. Imports ``core``
and ``web`` only."""

from flask_babel import lazy_gettext as _l

from ..web.feature import Feature, Link, Panel, Series, Table
from . import rules, schema, views

FEATURE = Feature(
    name="library",
    blueprints=(views.bp,),
    tables=(Table(rules.ITEMS, schema.Item), Table(rules.LOANS, schema.Loan, refs=(("item", rules.ITEMS),))),
    session_keys=(views.LOAN_TICKET,),
    private_endpoints=("library.lent",),
    audit_actions={"library-add": _l("added a library item"), "library-edit": _l("edited a library item"),
                   "lend": _l("lent a library item"), "return": _l("recorded a library return"),
                   "library-retire": _l("retired a library item")},
    monthly=(Series(50, "lent", _l("Tools lent"), rules.lent_by_month),),
    queue_panels=(Panel(20, "library/_queue.html", views.queue_panel),),
    programs=(Link(20, "library.catalog", _l("Tool library")),),
    coordinator_links=(Link(40, "library.catalog", _l("Tool library")),),
)
