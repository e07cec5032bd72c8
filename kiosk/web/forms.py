"""Forms that hand out a ticket code: a double tap must make one thing, and the code goes from
the posting request to the page that shows it once, never through the cookie or the store."""

from __future__ import annotations

import secrets

from flask import redirect, request, session

from .services import services

DUPLICATE_WAIT_SECONDS = 30


def new_form_key() -> str:
    """A key per filled-in form: it lets a double tap on "Post" create one thing, not two."""
    form_key = secrets.token_urlsafe(16)
    session["form_key"] = form_key
    return form_key


class Submission:
    """One POST of a form that issues a ticket, guarded against the same form arriving twice."""

    def __init__(self):
        self.form_key = request.form.get("form_key", "")
        self.ours = bool(self.form_key) and secrets.compare_digest(
            self.form_key.encode("utf-8", "replace"), str(session.get("form_key", "")).encode("utf-8", "replace")
        )
        self.once = services().once
        self.first, self.entry = self.once.begin(self.form_key) if self.ours else (True, None)

    def earlier_result(self) -> str | None:
        """For a repeat: the id the first request made (after waiting for it), else None."""
        if self.first:
            return None
        if self.entry.done.wait(DUPLICATE_WAIT_SECONDS) and self.entry.result:
            return self.entry.result
        self.first, self.entry = self.once.begin(self.form_key)
        return None

    def nothing_stored(self) -> None:
        if self.entry:
            self.once.cancel(self.form_key, self.entry)

    def hand_over(self, some_id: str, code: str, session_key: str, to: str):
        """Leave the new code for this browser's ticket page (``session_key`` says where), and
        redirect to ``to``."""
        # With a form key, that key is already in the session from the form page, so even if
        # the browser drops this response for a repeat's, the ticket page finds the code.
        key = self.form_key if self.ours else secrets.token_urlsafe(16)
        services().handoff.leave(key, some_id, code)
        if self.entry:
            self.once.finish(self.form_key, self.entry, some_id)
        session[session_key] = {"id": some_id, "key": key}
        return redirect(to, code=303)


def take_code(session_key: str, some_id: str) -> str | None:
    """The code handed over for ``some_id``, once: the ticket page's first view takes it."""
    pending = session.get(session_key)
    keys = [pending.get("key")] if isinstance(pending, dict) else []
    keys.append(session.get("form_key"))
    code = None
    for key in keys:
        if key and code is None:
            code = services().handoff.take(str(key), some_id)
    if code:
        session.pop(session_key, None)
        session.pop("form_key", None)
    return code
