"""The board: needs and offers, tickets, replies, matches and private threads, /mine, reports
and moderation of posts, thank-you lines and the thanks wall, rides, and the start page.

Rules in posts, forms, lifecycle, replies, moderation, numbers and exchange (plain functions
over the store); views in ``views/``; templates in ``templates/board/``. Imports ``core`` and
``web`` only."""

from flask_babel import lazy_gettext as _l

from ..web.feature import Feature, Link, Panel, PostRules, Series, Setting, Table
from . import exchange, lifecycle, merging, posts, schema, sealing, travel
from .views import answers, mine, moderate, panels, posting, public

MODERATION = {
    "hide": _l("hid a post"),
    "restore": _l("restored a post"),
    "dismiss": _l("dismissed a report"),
    "approve": _l("approved a thank-you line"),
    "reject": _l("declined a thank-you line"),
}

FEATURE = Feature(
    name="board",
    blueprints=(public.bp, posting.bp, answers.bp, mine.bp, moderate.bp),
    tables=(Table("reports", schema.Report, refs=(("post", "posts"),)), Table("thanks", schema.Thanks, refs=(("post", "posts"),))),
    settings=(Setting(lifecycle.ERASED_THROUGH, schema.ErasedThrough),),
    session_keys=("mine", "ticket", "print"),
    private_endpoints=("posting.ticket", "posting.print_ticket", "mine.*"),
    audit_actions=MODERATION,
    moderation=tuple(MODERATION),
    limits={"reply": "REPLY_LIMIT_PER_HOUR", "message": "MESSAGE_LIMIT_PER_HOUR", "report": "REPORT_LIMIT_PER_HOUR"},
    exports=(exchange.export_files,),
    monthly=(
        Series(10, "needs", _l("Needs posted"), panels.monthly("requests")),
        Series(20, "offers", _l("Offers posted"), panels.monthly("offers")),
        Series(30, "matched", _l("Matched"), panels.monthly("matched")),
        Series(40, "fulfilled", _l("Fulfilled"), panels.monthly("fulfilled")),
    ),
    stats_panels=(Panel(100, "board/_stats.html", panels.stats_panel),),
    queue_panels=(Panel(10, "board/_queue_reports.html", panels.reports_panel),
                  Panel(30, "board/_queue_thanks.html", panels.thanks_panel)),
    home="public.start",
    keeps_query=("public.board",),
    header_links=(Link(10, "public.board", _l("Board")), Link(20, "posting.new", _l("I need"), values={"kind": "request"}),
                  Link(30, "posting.new", _l("I offer"), values={"kind": "offer"}), Link(40, "mine.enter", _l("My ticket"))),
    programs=(Link(30, "public.rides", _l("Rides")), Link(40, "public.thanks", _l("Thanks wall"))),
    upkeep=lifecycle.upkeep,
    sealers=(sealing.seal_reports, sealing.seal_posts),  # reports first: they quote plain words
    posts=PostRules(schema=schema.Post, place=posts.archive_month, merge=merging.merge_post, renumber=merging.renumber,
                    check=merging.check_post, swept=lifecycle.ERASED_THROUGH, travel=travel.applied),
)
