"""Where a post or a reply comes from, so that kiosks can share records without ever mistaking
one for another: a record is known everywhere by (home kiosk id, its number there).

Records written before kiosks had identities carry no ``home``: they are known by the name of
the kiosk that made them (``source``), turned into an id the same way on every kiosk
(codes.legacy_kiosk_id), their replies by their post's, and, since two kiosks may share a name
(the default one), by their pseudonym too. Their key is worked out, never stored, so it is the
same on every kiosk."""

from __future__ import annotations

from . import codes


def post_home(post: dict, fallback_name: str = "") -> str:
    return post.get("home") or codes.legacy_kiosk_id(post.get("source") or post.get("merged_from") or fallback_name)


def post_key(post: dict, fallback_name: str = "") -> tuple:
    key = (post_home(post, fallback_name), post.get("home_id") or post["id"])
    return key if post.get("home") else (*key, post.get("pseudonym", ""))


def reply_key(reply: dict, home_of_post: str) -> tuple:
    key = (reply.get("home") or home_of_post, reply.get("home_id") or reply["id"])
    return key if reply.get("home") else (*key, reply.get("pseudonym", ""))
