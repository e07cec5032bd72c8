"""The rest of ``kiosk demo``'s world, so that no page of a newcomer's tour is empty: replies
waiting for posters, a few matched and fulfilled posts with thank-you lines, gatherings (a weekly
food share, a monthly meeting, a one-off repair café), the tool library with items lent, an open
survey with answers, check-in notes, and a roster with a rotation. Everything goes through the
features' own rules, as a visitor's or a coordinator's action would."""

from __future__ import annotations

import datetime as dt
import random

from flask import Flask

from ..board import moderation, posts, replies
from ..community import checkins, roster, rotation
from ..events import rules as events
from ..library import rules as library
from ..survey import rules as survey
from ..web.audit import log

SCRYPT_N = 1024  # a throwaway folder: quick tickets

# (title, details, what the helper answered, the thank-you line)
FULFILLED = [
    ("Help carrying a washing machine upstairs", "Third floor, no lift.", "Two of us can come Sunday.",
     "Two strangers carried it up in ten minutes. Thank you!"),
    ("Warm soup for a sick neighbor", "She has the flu and lives alone.", "I'll bring lentil soup tonight.",
     "The soup arrived hot and with a smile."),
    ("A ride to the vaccination center", "Wednesday morning.", "I pass by there at 9.",
     "On time and so kind. Thanks to this kiosk."),
]
ANSWERS = ["I could help with that this weekend.", "I have one you can borrow.", "Happy to, when suits you?"]
ITEMS = [
    ("Cordless drill", "tools", "good", "With two batteries and a box of bits."),
    ("Ladder, 3 m", "tools", "worn", "Aluminium, folds flat."),
    ("Large soup pot", "kitchen", "good", "20 litres, for community meals."),
    ("Garden shears", "garden", "good", ""),
    ("Baby carrier", "kids", "good", "Washed, fits up to 15 kg."),
    ("Sewing machine", "other", "needs-repair", "Works, but the bobbin sticks sometimes."),
]
ROSTER = ["Demo", "Heron", "Otter", "Wren"]


def add_demo_world(app: Flask, made: list[dict]) -> None:
    """Fill the demo's folder (needs an app context and a coordinator, for the team's key)."""
    kiosk = app.extensions["kiosk"]
    store, now, rnd = kiosk.store, kiosk.clock.now(), random.Random(17)
    expire = app.config["EXPIRE_DAYS"]
    for n, post in enumerate(made[:40:7]):  # a few posters have answers waiting for them
        for answer in ANSWERS[: 1 + n % 3]:
            replies.add_reply(store, post["id"], {"message": answer}, lang="en", scrypt_n=SCRYPT_N, now=now,
                              expire_days=expire)
    _matched_and_thanked(app, now)
    _gatherings(store, now)
    _library(store, now)
    _survey(store, now, rnd)
    for working, change in (("The Saturday food share is well organised.", "More rides on Sundays, please."),
                            ("The tool library saved me buying a drill.", ""),
                            ("", "Longer opening hours in winter.")):
        checkins.add_checkin(store, {"working": working, "change": change}, now)
    _roster(store, now)


def _matched_and_thanked(app: Flask, now: dt.datetime) -> None:
    store, expire = app.extensions["kiosk"].store, app.config["EXPIRE_DAYS"]
    for n, (title, details, answer, thanks) in enumerate(FULFILLED + [("Someone to fix a bike tyre", "Flat again.",
                                                                       "I'll bring my pump Friday.", "")]):
        when = now - dt.timedelta(days=6 - n, hours=3)
        post, _ = posts.create_post(store, "request", {"category": "other", "title": title, "details": details,
                                                       "when": "flexible"}, lang="en", source=app.config["NAME"],
                                    scrypt_n=SCRYPT_N, now=when)
        reply_id, _ = replies.add_reply(store, post["id"], {"message": answer}, lang="en", scrypt_n=SCRYPT_N,
                                        now=when + dt.timedelta(hours=2), expire_days=expire)
        replies.accept(store, post["id"], reply_id, when + dt.timedelta(hours=3))
        if not thanks:
            continue  # stays matched: the board's "matched" tab
        replies.fulfil(store, post["id"], when + dt.timedelta(days=1))
        replies.set_thanks(store, post["id"], thanks, when + dt.timedelta(days=1, hours=1))
    for line in store.records("thanks"):
        moderation.judge_thanks(store, line["_id"], True, "Demo", now)
        log(store, "Demo", "approve", line["post"], now)


def _gatherings(store, now: dt.datetime) -> None:
    today = now.date()
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7)
    first_tuesday = events.nth_weekday(today.year, today.month, 1, "1")
    plans = [
        {"title": "Food share", "kind": "food-share", "place": "Community center, hall", "date": saturday,
         "time": "10:00", "duration": "120", "repeat": "weekly"},
        {"title": "Coordinators' meeting (open to all)", "kind": "meeting", "place": "Community center, room 2",
         "date": first_tuesday, "time": "18:30", "duration": "90", "repeat": "monthly", "nth": "1"},
        {"title": "Repair café", "kind": "repair-cafe", "place": "Community center, workshop",
         "date": saturday + dt.timedelta(days=7), "time": "14:00", "duration": "180", "repeat": "none"},
    ]
    for plan in plans:
        event_id = events.create(store, events.check({**plan, "date": plan["date"].isoformat()}), now)
        log(store, "Demo", "event-new", str(event_id), now)


def _library(store, now: dt.datetime) -> None:
    for n, (name, category, condition, notes) in enumerate(ITEMS):
        item = library.add_item(store, library.check_item({"name": name, "category": category,
                                                           "condition": condition, "notes": notes,
                                                           "kept": "Community center"}), now)
        if n in (0, 2):  # lent, due in a week and in two
            library.lend(store, item, (now.date() + dt.timedelta(days=7 * (1 + n // 2))).isoformat(), now, SCRYPT_N)


def _survey(store, now: dt.datetime, rnd: random.Random) -> None:
    questions = [
        {"text": "What would help your household most this winter?", "kind": "single",
         "options": "Food\nWarm clothes\nHeating costs\nRides\nCompany"},
        {"text": "What could you offer now and then?", "kind": "multiple",
         "options": "Cooking\nDriving\nRepairs\nChildcare\nTranslation\nA listening ear"},
        {"text": "Anything else the network should know?", "kind": "text"},
    ]
    current = survey.save(store, "Needs survey: winter", questions)
    current = survey.set_open(store, True)
    for n in range(9):
        answer = {"q1": rnd.choice((0, 0, 1, 2, 2, 3, 4)), "q2": sorted(rnd.sample(range(6), rnd.randint(1, 3)))}
        if n == 0:
            answer["q3"] = "A homework club would be great."
        survey.add_answer(store, current, answer, now)


def _roster(store, now: dt.datetime) -> None:
    """Three weeks of history, then the kiosk's proposal for the next eight, saved."""
    weeks = roster.upcoming_weeks(now.date())
    past = roster.upcoming_weeks(now.date() - dt.timedelta(weeks=3), 3)
    roster.save_roster(store, dict(zip(past, ROSTER[1:])), "", "", ROSTER, team=ROSTER)
    away = {weeks[2]: ["Otter"]}
    plan = rotation.propose(ROSTER, weeks, roster.history(store, weeks[0]), away)
    roster.save_roster(store, {w: p or "" for w, p in plan.items()}, "", "", ROSTER, away=away, team=ROSTER)
    log(store, "Demo", "roster", "", now)
