"""/mine: a ticket code unlocks one's own post (the poster) or one's own reply (the replier).

The poster edits, accepts or declines replies, reopens, fulfils or withdraws; both sides of an
accepted reply talk in a private thread. After a right code the session holds only a random key;
the server remembers which post (and reply) it unlocks, and the ticket's private key that opens
the sealed replies and messages, in memory only, with a monotonic clock, and forgets them after
MINE_IDLE_SECONDS, so the next person at the screen gets nothing.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ...core import aliases, text
from ...core.errors import BadCode, Invalid, Refused, TooManyTries
from ...web.budget import budgeted
from ...web.helpers import minutes, needs_contact_ok
from ...web.services import limit, now, services
from ...web.throttle import guesses
from ...web.settings import categories
from .. import forms, lifecycle, posts, replies
from . import TEMPLATES

bp = Blueprint("mine", __name__, template_folder=TEMPLATES)

POSTER_CLOSE = {"fulfil": "fulfilled", "withdraw": "withdrawn"}


class Mine:
    """What this browser has unlocked: a post, and for a replier, their reply."""

    def __init__(self, post: dict, reply_id: str | None, key):
        self.key = key
        self.post = replies.opened(post, key)  # for showing; writes go through the store
        self.reply_id = reply_id
        self.reply = replies.find_reply(self.post, reply_id) if reply_id else None

    @property
    def is_poster(self) -> bool:
        return self.reply_id is None

    @property
    def ticket_id(self) -> str:
        return self.reply_id or self.post["id"]

    @property
    def partner(self) -> dict | None:
        """The reply this conversation is with (the accepted one), from either side."""
        if self.is_poster:
            return replies.find_reply(self.post, self.post.get("matched_reply") or "")
        return self.reply


def _unlocked() -> Mine | None:
    mine = session.get("mine")
    if not isinstance(mine, dict):
        return None
    what = services().unlocks.use(str(mine.get("key")), current_app.config["MINE_IDLE_SECONDS"])
    post = services().store.get_post(what[0]) if what else None
    if post is None:
        session.pop("mine", None)
        return None
    return Mine(post, what[1], what[2])


def _lock() -> None:
    mine = session.pop("mine", None)
    if isinstance(mine, dict):
        services().unlocks.lock(str(mine.get("key")))


def _back(message: str | None = None):
    if message:
        flash(message)
    return redirect(url_for("mine.enter"), code=303)


def _require(poster: bool | None = None):
    """The unlocked Mine, or a redirect to the code form; ``poster`` limits to one side."""
    mine = _unlocked()
    if mine is None:
        return None, redirect(url_for("mine.enter"), code=303)
    if poster is not None and mine.is_poster != poster:
        abort(404)
    return mine, None


@bp.route("/mine", methods=["GET", "POST"])
def enter():
    if request.method == "GET":
        mine = _unlocked()
        if mine is None:
            return render_template("board/mine_enter.html", code="", error=None)
        if mine.is_poster:
            return _poster_page(mine)
        return render_template("board/mine_reply.html", post=posts.public_view(mine.post), reply=mine.reply)

    raw = request.form.get("code", "")
    if len(raw) > 200:
        raw = ""
    try:
        post, reply_id, ticket_key = lifecycle.claim(services().store, guesses(services().throttle), raw,
                                                     current_app.config["SCRYPT_N"])
    except TooManyTries as wait:
        error = _("Too many wrong codes. Please wait %(minutes)d minutes and try again.",
                  minutes=minutes(wait.wait_seconds))
        return render_template("board/mine_enter.html", code="", error=error), 429
    except BadCode:
        error = _("That code does not match a post. Check each word and try again.")
        return render_template("board/mine_enter.html", code="", error=error), 403
    session.pop("ticket", None)
    _lock()
    key = secrets.token_urlsafe(16)
    services().unlocks.unlock(key, (post["id"], reply_id, ticket_key), current_app.config["MINE_IDLE_SECONDS"])
    session["mine"] = {"key": key}
    return redirect(url_for("mine.enter"), code=303)


def _poster_page(mine: Mine, **shown):
    # Newest first; the stored order breaks ties within one second.
    numbered = sorted(enumerate(mine.post.get("replies") or []), key=lambda ir: (ir[1]["created"], ir[0]), reverse=True)
    entries = [reply for _, reply in numbered]
    waiting = sum(1 for r in entries if r["status"] == "new")
    return render_template(
        "board/mine.html", post=posts.public_view(mine.post), replies=entries, waiting=waiting,
        partner=mine.partner, thanks=mine.post.get("thanks"), hidden=mine.post.get("hidden"), **shown,
    )


@bp.route("/mine/edit", methods=["GET", "POST"])
@budgeted("edit")
def edit():
    mine, away = _require(poster=True)
    if away:
        return away
    post = mine.post
    if post["status"] != "open":
        return _back(_("This post can no longer be changed."))
    if request.method == "GET":
        return render_template("board/new.html", kind=post["kind"], values=post, errors={}, contact={}, editing=True)
    try:
        offered = categories(services().store)
        offered = {**offered, post["category"]: post["category"]}  # a retired category may stay
        checked = forms.check_form(request.form, now().date(), offered)
    except Invalid as bad:
        return render_template(
            "board/new.html", kind=post["kind"], values=bad.values, errors=bad.errors, contact={}, editing=True
        ), 422
    if needs_contact_ok(checked.contact):
        return render_template(
            "board/new.html", kind=post["kind"], values=checked.values, errors={}, contact=checked.contact, editing=True
        )
    lifecycle.edit(services().store, post["id"], checked.values, now(), by=mine.key)
    return _back(_("Your changes are saved."))


@bp.route("/mine/<action>", methods=["GET", "POST"])
@budgeted("edit")
def close(action: str):
    if action == "done":
        abort(405)  # locking is a POST, from the button
    if action not in POSTER_CLOSE:
        abort(404)
    mine, away = _require()
    if away:
        return away
    post = mine.post
    if not mine.is_poster:
        # The replier: "fulfil" once accepted; "withdraw" takes back their own reply.
        if action == "fulfil" and not replies.can_talk(post, mine.reply_id):
            return _back(_("Only the accepted helper can mark this post fulfilled."))
        if action == "withdraw" and mine.reply["status"] not in ("new", "accepted"):
            return _back(_("This reply is already closed."))
    elif post["status"] not in ("open", "matched"):
        return _back(_("This post is already closed."))
    if request.method == "GET":
        return render_template("board/mine_confirm.html", post=posts.public_view(post), action=action,
                               is_poster=mine.is_poster)
    try:
        if action == "fulfil":
            replies.fulfil(services().store, post["id"], now(), reply_id=mine.reply_id, by=mine.key)
            return _back(_("Thank you! The post is marked as fulfilled."))
        if mine.is_poster:
            lifecycle.close(services().store, post["id"], "withdrawn", now(), by=mine.key)
            return _back(_("Your post is withdrawn and has left the board."))
        replies.withdraw_reply(services().store, post["id"], mine.reply_id, now(), by=mine.key)
        return _back(_("Your reply is withdrawn."))
    except Refused:
        return _back(_("This post is already closed."))


@bp.route("/mine/replies/<reply_id>/<answer>", methods=["GET", "POST"])
@budgeted("edit")
def answer(reply_id: str, answer: str):
    if answer not in ("accept", "decline"):
        abort(404)
    mine, away = _require(poster=True)
    if away:
        return away
    reply = replies.find_reply(mine.post, reply_id)
    if reply is None:
        abort(404)
    if request.method == "GET":
        return render_template("board/mine_answer.html", post=posts.public_view(mine.post), reply=reply, answer=answer)
    step = replies.accept if answer == "accept" else replies.decline
    try:
        step(services().store, mine.post["id"], reply_id, now(), by=mine.key)
    except Refused as refused:
        return _back(str(refused.message))
    if answer == "accept":
        return redirect(url_for("mine.thread"), code=303)
    return _back(_("The reply is declined. %(name)s will see a kind note.", name=aliases.alias_text(reply, str(get_locale()))))


@bp.route("/mine/reopen", methods=["GET", "POST"])
@budgeted("edit")
def reopen():
    mine, away = _require(poster=True)
    if away:
        return away
    if mine.post["status"] != "matched":
        return _back(_("Only a matched post can be reopened."))
    if request.method == "GET":
        return render_template("board/mine_confirm.html", post=posts.public_view(mine.post), action="reopen", is_poster=True)
    replies.reopen(services().store, mine.post["id"], now(), by=mine.key)
    return _back(_("Your post is open again and back on the board."))


@bp.route("/mine/thread", methods=["GET", "POST"])
@budgeted("message")
def thread():
    mine, away = _require()
    if away:
        return away
    partner = mine.partner
    if partner is None or not (replies.can_talk(mine.post, partner["id"]) or partner.get("thread")):
        return _back(_("There is no conversation yet: a conversation starts when a reply is accepted."))
    me = "poster" if mine.is_poster else "replier"
    open_for_messages = replies.can_talk(mine.post, partner["id"])
    shown = {"errors": {}, "value": "", "contact": {}}
    status = 200
    if request.method == "POST":
        if not open_for_messages:
            return _back(_("This conversation is closed."))
        sent = _send(mine, partner["id"], me)
        if not isinstance(sent, tuple):
            return sent
        shown, status = sent
        fresh = replies.opened(services().store.get_post(mine.post["id"]), mine.key)
        partner = replies.find_reply(fresh, partner["id"])
    return render_template(
        "board/thread.html", post=posts.public_view(mine.post), partner=partner, me=me,
        messages=partner.get("thread") or [], open_for_messages=open_for_messages, is_poster=mine.is_poster, **shown,
    ), status


def _send(mine: Mine, partner_id: str, me: str):
    """Store a message and go back to the thread, or (what the form shows again, status)."""
    try:
        body = replies.check_message(request.form)
    except Invalid as bad:
        return {"errors": bad.errors, "value": bad.values.get("message", ""), "contact": {}}, 422
    contact = text.contact_in({"message": body})
    if needs_contact_ok(contact):  # shown back with the warning; nothing is stored yet
        return {"errors": {}, "value": body, "contact": contact}, 200
    wait = limit("message").hit(f"{mine.ticket_id}")
    if wait:
        errors = {"message": _("You sent many messages in the last hour. Please wait %(minutes)d minutes.",
                               minutes=minutes(wait))}
        return {"errors": errors, "value": body, "contact": {}}, 429
    try:
        replies.add_message(services().store, mine.post["id"], partner_id, me, body, now(), by=mine.key)
    except Refused as refused:
        return _back(str(refused.message))
    return redirect(url_for("mine.thread"), code=303)


@bp.route("/mine/thanks", methods=["POST"])
@budgeted("edit")
def thanks():
    mine, away = _require(poster=True)
    if away:
        return away
    try:
        line = replies.check_message(request.form, "thanks", replies.LIMITS["thanks"])
    except Invalid as bad:
        return _back(str(bad.errors["thanks"]))
    contact = text.contact_in({"thanks": line})
    if needs_contact_ok(contact):  # shown back with the warning; nothing is stored yet
        return _poster_page(mine, thanks_value=line, contact=contact)
    try:
        replies.set_thanks(services().store, mine.post["id"], line, now())
    except Refused as refused:
        return _back(str(refused.message))
    return _back(_("Thank you! A coordinator will put your line on the thanks wall."))


@bp.route("/mine/report/<reply_id>", methods=["GET", "POST"])
@bp.route("/mine/report/<reply_id>/<int:message_id>", methods=["GET", "POST"])
@budgeted("report")
def report(reply_id: str, message_id: int | None = None):
    """Report a reply (the poster) or a message of the other side (either), for coordinators."""
    mine, away = _require()
    if away:
        return away
    target_reply = replies.find_reply(mine.post, reply_id)
    if target_reply is None or (not mine.is_poster and reply_id != mine.reply_id):
        abort(404)
    if message_id is None:
        if not mine.is_poster:
            abort(404)  # a replier reports messages, not their own reply
        target = {"kind": "reply", "post": mine.post["id"], "reply": reply_id}
        quoted = target_reply.get("message", "")
    else:
        message = next((m for m in target_reply.get("thread") or () if m["id"] == message_id), None)
        me = "poster" if mine.is_poster else "replier"
        if message is None or message["author"] == me:
            abort(404)
        target = {"kind": "message", "post": mine.post["id"], "reply": reply_id, "message": message_id}
        quoted = message.get("text", "")
    action = request.path
    if request.method == "GET":
        return render_template("board/report.html", post=posts.public_view(mine.post), values={}, errors={},
                               action=action, quoted=quoted)
    try:
        reason, note = replies.check_report_form(request.form)
    except Invalid as bad:
        return render_template("board/report.html", post=posts.public_view(mine.post), values=bad.values,
                               errors=bad.errors, action=action, quoted=quoted), 422
    contact = text.contact_in({"note": note})
    if needs_contact_ok(contact):  # shown back with the warning; nothing is stored yet
        return render_template("board/report.html", post=posts.public_view(mine.post), values={"reason": reason, "note": note},
                               errors={}, action=action, quoted=quoted, contact=contact)
    if not limit("report").hit(f"{target['kind']}:{reply_id}:{message_id}"):
        try:
            replies.report(services().store, target, reason, note, now(), quoted=quoted)
        except Refused as refused:
            return _back(str(refused.message))
    return _back(_("Thank you. A coordinator will look at it."))


@bp.post("/mine/done")
def done():
    _lock()
    return redirect(url_for("public.start"), code=303)
