"""A fair rotation of duty: who is on duty in each of the coming weeks, proposed by the kiosk
and changed by the coordinators before they save it (roster.py stores it).

Plain functions over plain values (week keys "2026-W49", names), no store, no request:
- nobody twice in a row when someone else can take the week;
- everyone gets floor(N/k) or ceil(N/k) of N weeks among k people (fewest duties in this
  proposal first), as far as away weeks allow;
- among equals, fewer past duties first, then the round-robin order continuing after whoever
  was on duty last;
- nobody in a week they are marked away (a week nobody can take stays empty).
"""

from __future__ import annotations

from typing import Iterable, Mapping


def last_on_duty(history: Mapping[str, str], before: str) -> str | None:
    """Who was on duty in the latest week before ``before`` (week keys sort as text)."""
    past = sorted(week for week, name in history.items() if week < before and name)
    return history[past[-1]] if past else None


def past_counts(history: Mapping[str, str], before: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for week, name in history.items():
        if week < before and name:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _after(people: list[str], last: str | None, name: str) -> int:
    """How far ``name`` comes after ``last`` in the round-robin order (1 = next)."""
    start = people.index(last) if last in people else -1
    return (people.index(name) - start - 1) % len(people)


def propose(people: Iterable[str], weeks: Iterable[str], history: Mapping[str, str] | None = None,
            away: Mapping[str, Iterable[str]] | None = None,
            fixed: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Who is on duty in each of ``weeks`` (in order). ``history``: week -> who was on duty
    before; ``away``: week -> who cannot take it; ``fixed``: weeks already decided (kept as
    they are and counted)."""
    people = list(dict.fromkeys(p for p in people if p))
    weeks = list(weeks)
    history, away, fixed = dict(history or {}), away or {}, fixed or {}
    if not weeks:
        return {}
    past = past_counts(history, weeks[0])
    previous = last_on_duty(history, weeks[0])
    given = {name: 0 for name in people}
    plan: dict[str, str | None] = {}
    for week in weeks:
        if fixed.get(week):
            choice = fixed[week]
        else:
            gone = set(away.get(week, ()))
            free = [p for p in people if p not in gone]
            # Not the last week's person, fewest duties in this proposal, fewer past duties,
            # then whoever comes next after the last one in the round.
            choice = min(free, key=lambda p: (p == previous, given[p], past.get(p, 0), _after(people, previous, p)),
                         default=None)
        plan[week] = choice
        if choice in given:
            given[choice] += 1
        previous = choice or previous
    return plan
