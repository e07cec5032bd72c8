"""The community: check-ins, the open numbers (/stats, from every feature's declared series),
the community agreements, the transparency page, and the roster of who is on duty.

Rules in checkins, stats, agreements and roster; views in views.py; templates in
``templates/community/``. Imports ``core`` and ``web`` only."""

from flask_babel import lazy_gettext as _l

from ..web.feature import Feature, Link, Panel, Series, Setting, Table
from . import checkins, schema, views

FEATURE = Feature(
    name="community",
    blueprints=(views.bp,),
    tables=(Table(checkins.TABLE, schema.Checkin),),
    settings=(Setting("roster", schema.Roster), Setting("agreements", schema.Agreements),
              Setting(checkins.TALLIED, schema.Tallied)),
    audit_actions={"roster": _l("changed the roster"), "agreements": _l("edited the community agreements")},
    exports=(checkins.export_files,),
    upkeep=checkins.upkeep,
    sealers=(checkins.seal_plain,),
    monthly=(Series(70, "checkins", _l("Check-in notes"), checkins.per_month),),
    start_panels=(Panel(10, "community/_start.html", views.start_panel),),
    footer_links=(Link(10, "community.how_it_works", _l("How it works")),
                  Link(20, "community.transparency", _l("Transparency"))),
    programs=(Link(50, "community.check_in", _l("Check-in")), Link(60, "community.stats_page", _l("Open numbers"))),
    coordinator_links=(Link(20, "community.check_ins", _l("Check-ins")), Link(60, "community.roster", _l("Roster")),
                       Link(70, "community.agreements", _l("Agreements"))),
)
