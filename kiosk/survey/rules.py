"""The needs survey: one short survey written by coordinators, answered anonymously.

The definition lives in the store's meta under ``"survey"``:
``{"title", "questions": [{"text", "kind", "options"}], "open": bool, "key"}``; ``key`` is a
random token that changes whenever the questions change (a browser that answered remembers it).

An answer is one record in the table ``"survey_answers"`` holding only
``{"month": "YYYY-MM", "answers": {"q1": 0, "q2": [1, 3], "q3": "text"}}``: option numbers
(0-based), no time finer than the month, no session, language, post or person. Once answers
exist the questions are fixed (answers refer to them by position); the title and open/closed
can still change.

Plain functions over the store; messages are lazily translated, nothing here reads a request.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask_babel import lazy_gettext as _l

from ..core import counts, fields, keys, text
from ..core.errors import Invalid
from ..core.store import Store
from ..core.times import month_of, oldest_months
from ..web import gate

META_KEY = "survey"
TABLE = "survey_answers"
KINDS = ("single", "multiple", "text")
MAX_QUESTIONS = 8
MIN_OPTIONS, MAX_OPTIONS = 2, 8
MAX_TITLE = 120
MAX_QUESTION = 200
MAX_OPTION = 80
MAX_FREE_TEXT = 500
SMALL_CELL = counts.SMALL


def kind_labels() -> dict:
    return {"single": _l("One choice"), "multiple": _l("Several choices"), "text": _l("Free text")}


def get(store: Store) -> dict | None:
    survey = store.get_meta(META_KEY)
    return survey if isinstance(survey, dict) and survey.get("questions") else None


def answers(store: Store) -> list[dict]:
    return [r for r in store.records(TABLE) if isinstance(r.get("answers"), dict)]


# -- writing the survey ---------------------------------------------------------------------------


def check_definition(title: str, questions: list[dict]) -> tuple[str, list[dict]]:
    """Clean and check a survey. ``questions`` are dicts with ``text``, ``kind`` and
    ``options`` (a string, one option a line); a question with no text and no options is an
    empty slot and skipped. Returns (title, questions) or raises Invalid."""
    errors: dict = {}
    title = text.normalize(title if isinstance(title, str) else "")
    if not title or not text.visible(title):
        errors["title"] = _l("Give the survey a title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _l("The title is too long: at most %(n)d characters.", n=MAX_TITLE)
    elif text.unsafe(title):
        errors["title"] = _l("The title contains hidden or control characters; please retype it.")
    if len(questions) > MAX_QUESTIONS and any(_filled(q) for q in questions[MAX_QUESTIONS:]):
        errors["questions"] = _l("At most %(n)d questions.", n=MAX_QUESTIONS)
    clean = []
    for number, q in enumerate(questions[:MAX_QUESTIONS], 1):
        if not _filled(q):
            continue
        name = f"q{number}"
        q_text = text.normalize(q.get("text") or "")
        kind = q.get("kind") or ""
        raw_options = q.get("options") or ""
        if not q_text or not text.visible(q_text):
            errors[f"{name}_text"] = _l("Question %(n)d: write the question.", n=number)
        elif len(q_text) > MAX_QUESTION:
            errors[f"{name}_text"] = _l("Question %(n)d is too long: at most %(max)d characters.", n=number, max=MAX_QUESTION)
        elif text.unsafe(q_text):
            errors[f"{name}_text"] = _l("Question %(n)d contains hidden or control characters; please retype it.", n=number)
        if kind not in KINDS:
            errors[f"{name}_kind"] = _l("Question %(n)d: choose one choice, several choices or free text.", n=number)
            continue
        options: list[str] = []
        if kind == "text":
            if text.normalize(raw_options):
                errors[f"{name}_options"] = _l("Question %(n)d is free text, so it has no options: clear them or choose another kind.", n=number)
        else:
            raw_options = raw_options.replace("\r\n", "\n")  # browsers send a textarea's lines with CR LF
            if text.unsafe(raw_options, multiline=True):
                errors[f"{name}_options"] = _l("Question %(n)d: the options contain hidden or control characters; please retype them.", n=number)
            else:
                options = [text.normalize(line) for line in text.normalize(raw_options, multiline=True).split("\n")]
                options = [o for o in options if o]
                folded = [o.casefold() for o in options]
                if len(options) < MIN_OPTIONS or len(options) > MAX_OPTIONS:
                    errors[f"{name}_options"] = _l("Question %(n)d needs %(min)d to %(max)d options, one a line.", n=number, min=MIN_OPTIONS, max=MAX_OPTIONS)
                elif any(len(o) > MAX_OPTION for o in options):
                    errors[f"{name}_options"] = _l("Question %(n)d: each option at most %(max)d characters.", n=number, max=MAX_OPTION)
                elif len(set(folded)) != len(folded):
                    errors[f"{name}_options"] = _l("Question %(n)d has the same option twice.", n=number)
                elif not all(text.visible(o) for o in options):
                    errors[f"{name}_options"] = _l("Question %(n)d: an option shows nothing; please retype it.", n=number)
        clean.append({"text": q_text, "kind": kind, "options": options})
    if not clean and "questions" not in errors:
        errors["questions"] = _l("Write at least one question.")
    if errors:
        raise Invalid(errors)
    return title, clean


def _filled(q: dict) -> bool:
    return bool(text.normalize(str(q.get("text") or "")) or text.normalize(str(q.get("options") or "")))


def save(store: Store, title: str, questions: list[dict]) -> dict:
    """Check and store the survey; keeps it open or closed as it was (a new one starts
    closed). Refuses to change the questions once someone has answered."""
    title, clean = check_definition(title, questions)
    old = get(store)
    if old is not None and clean != old["questions"] and answers(store):
        raise Invalid({"questions": _l(
            "People have already answered, so the questions can no longer change (the answers "
            "refer to them). You can still change the title, or open and close the survey.")})
    same = old is not None and clean == old["questions"]
    survey = {
        "title": title,
        "questions": clean,
        "open": bool(old and old.get("open")),
        "key": old["key"] if same else secrets.token_urlsafe(9),
    }
    store.set_meta(META_KEY, survey)
    return survey


def start_over(store: Store) -> int:
    """Delete a closed survey and its answers so a new one can be written; returns how many
    answers went. (The USB export keeps the results for those who export first.)"""
    survey = get(store)
    if survey is None:
        raise Invalid({"questions": _l("There is no survey yet.")})
    if survey.get("open"):
        raise Invalid({"questions": _l("Close the survey first.")})
    gone = len(answers(store))
    store.clear_records(TABLE)
    store.set_meta(META_KEY, None)
    return gone


def set_open(store: Store, is_open: bool) -> dict:
    survey = get(store)
    if survey is None:
        raise Invalid({"questions": _l("Write the survey first.")})
    survey["open"] = bool(is_open)
    store.set_meta(META_KEY, survey)
    return survey


# -- answering ------------------------------------------------------------------------------------


def check_answer(survey: dict, form: dict[str, list[str]]) -> dict:
    """Turn the posted fields (name -> list of values) into the answers to store."""
    errors: dict = {}
    out: dict = {}
    for number, q in enumerate(survey["questions"], 1):
        name = f"q{number}"
        values = [v for v in form.get(name, []) if isinstance(v, str)]
        if q["kind"] == "text":
            if len(values) > 1:
                errors[name] = _l("Question %(n)d: one answer only.", n=number)
                continue
            value = text.normalize(values[0] if values else "", multiline=True)
            if not value:
                continue
            if len(value) > MAX_FREE_TEXT:
                errors[name] = _l("Question %(n)d: at most %(max)d characters, please shorten it.", n=number, max=MAX_FREE_TEXT)
            elif text.unsafe(value, multiline=True):
                errors[name] = _l("Question %(n)d contains hidden or control characters; please retype it.", n=number)
            elif text.visible(value):
                out[name] = value
            continue
        values = [v.strip() for v in values if v.strip()]
        if not values:
            continue
        choices = []
        for v in values:
            choice = fields.whole_number(v, len(q["options"]) - 1)
            if choice is None:
                errors[name] = _l("Question %(n)d: that is not one of the options.", n=number)
                break
            choices.append(choice)
        if name in errors:
            continue
        if q["kind"] == "single" and len(choices) > 1:
            errors[name] = _l("Question %(n)d: choose only one option.", n=number)
        elif len(set(choices)) != len(choices) or len(choices) > len(q["options"]):
            errors[name] = _l("Question %(n)d: too many choices.", n=number)
        else:
            out[name] = choices[0] if q["kind"] == "single" else sorted(choices)
    if not errors and not out:
        errors["q1"] = _l("Answer at least one question.")
    if errors:
        raise Invalid(errors)
    return out


def add_answer(store: Store, survey: dict, answer: dict, now: dt.datetime) -> None:
    """Store one answer: the answers and the month, nothing else."""
    if not survey.get("open"):
        raise Invalid({"q1": _l("This survey is closed.")})
    store_answer(store, sealed_answer(store, {"month": month_of(now), "answers": answer}))


def sealed_answer(store: Store, record: dict) -> dict:
    """Free-text answers sealed to the coordinators' key (core/keys.py); the answer keeps an
    empty string in their place, so counting who answered needs no key."""
    texts = {name: value for name, value in record["answers"].items() if isinstance(value, str) and value}
    if not texts:
        return record
    team = gate.team_public(store)
    if team is None:
        raise Invalid({"q1": _l("No coordinator is set up on this kiosk yet, so nobody could read a written answer.")})
    return {**record, "answers": {**record["answers"], **{name: "" for name in texts}}, "sealed": keys.seal(texts, team)}


def seal_plain(store: Store, team: str | None) -> int:
    """Free-text answers stored in plain before sealing: sealed (blanked if no team key exists)."""
    sealed = 0
    for row in answers(store):
        texts = {n: v for n, v in row["answers"].items() if isinstance(v, str) and v}
        if not texts:
            continue
        fields_ = {"answers": {**row["answers"], **{n: "" for n in texts}}}
        if team:
            fields_["sealed"] = keys.seal(texts, team)
            sealed += len(texts)
        store.update_record(TABLE, row["_id"], fields_)
    return sealed


def blank_old_text(store: Store, now: dt.datetime, retain_days: int, max_months: int = 3) -> int:
    """Free-text answers of months that ended more than ``retain_days`` ago lose their text,
    sealed or not (promise 7), a few months a run; the choices stay for the counts, and a
    blanked answer still counts as answered."""
    before = month_of(now - dt.timedelta(days=retain_days))
    due = oldest_months(((str(row.get("month", "")), row["_id"]) for row in answers(store) if _has_text(row)),
                        max_months, before)
    ids = [record_id for month in due.values() for record_id in month]
    store.change_records(TABLE, ids, _blank)
    return len(ids)


def _has_text(row: dict) -> bool:
    return bool(row.get("sealed")) or any(isinstance(value, str) and value for value in row["answers"].values())


def _blank(row: dict) -> None:
    row["answers"] = {name: "" if isinstance(value, str) else value for name, value in row["answers"].items()}
    row.pop("sealed", None)


def upkeep(store: Store, now: dt.datetime, setting, max_months: int) -> None:
    import logging

    blanked = blank_old_text(store, now, setting("RETAIN_DAYS"), max_months)
    if blanked:
        logging.getLogger("kiosk").info("upkeep: %d survey answers' free text older than the retention period erased", blanked)


def store_answer(store: Store, record: dict) -> None:
    """Under a random id, in a table kept in id order, so neither the record's number nor its
    place in the file tells when it came or who came before."""
    store.add_record_at(TABLE, record, lambda: secrets.randbelow(2**53) + 1)


# -- results --------------------------------------------------------------------------------------


def results(store: Store, team=None) -> dict | None:
    """Exact results, for coordinators and the USB export (free text opened with ``team``, the
    coordinators' private key; without it the answers are counted, not shown):
    ``{"title", "open", "total", "months": {month: n}, "questions": [{"number", "text", "kind",
    "answered", "options": [(label, count)], "texts": [str]}]}``; None without a survey."""
    survey = get(store)
    if survey is None:
        return None
    rows = answers(store)
    months: dict[str, int] = {}
    questions = []
    for q in survey["questions"]:
        questions.append({"number": len(questions) + 1, "text": q["text"], "kind": q["kind"],
                          "answered": 0, "counts": [0] * len(q["options"]), "texts": []})
    for row in rows:
        month = str(row.get("month", ""))
        months[month] = months.get(month, 0) + 1
        given = row["answers"]
        opened = keys.unseal(row.get("sealed"), team) or {}
        for q, res in zip(survey["questions"], questions):
            value = given.get(f"q{res['number']}")
            if value is None:
                continue
            if q["kind"] == "text":
                if isinstance(value, str):
                    shown = opened.get(f"q{res['number']}", value)
                    if shown:
                        res["texts"].append(shown)
                    res["answered"] += 1
                continue
            picked = value if isinstance(value, list) else [value]
            picked = [p for p in picked if isinstance(p, int) and 0 <= p < len(q["options"])]
            if picked:
                res["answered"] += 1
            for p in set(picked):
                res["counts"][p] += 1
    for q, res in zip(survey["questions"], questions):
        res["options"] = list(zip(q["options"], res.pop("counts")))
    return {"title": survey["title"], "open": bool(survey.get("open")), "total": len(rows),
            "months": dict(sorted(months.items())), "questions": questions}


def hide_small(counts_: list[int]) -> list[int | None]:
    """The small-cell rule (zeros too: a survey's cells sum to its total): None is "fewer than 3"."""
    return [None if counts.too_small(c, strict=True) else c for c in counts_]


def total_reveals_a_cell(shown: list[int | None], sums_to_total: bool) -> bool:
    """With one choice per person and exactly one hidden cell, the total would give it away
    by subtraction: then the total is the number not shown (every number shown stays true)."""
    return sums_to_total and sum(1 for c in shown if c is None) == 1


def public_count(count: int) -> int | None:
    return None if counts.too_small(count, strict=True) else count




def export_files(store: Store, progress):
    """survey.csv once a survey exists: counts per option, and how many wrote free text (the
    texts are sealed to the coordinators and read on screen: a stick is carried home and lost)."""
    from ..web.csvfile import csv_bytes

    result = results(store)
    if result is None:
        return
    rows = [["", result["title"], "all", "", result["total"], ""]]
    for q in result["questions"]:
        rows.append([q["number"], q["text"], q["kind"], "", q["answered"], ""])
        rows += [[q["number"], q["text"], q["kind"], label, count, ""] for label, count in q["options"]]
        rows += [[q["number"], q["text"], q["kind"], "", "", answer] for answer in q["texts"]]
    yield "survey.csv", [csv_bytes(rows, ["question", "text", "kind", "option", "people", "free_text"])]
