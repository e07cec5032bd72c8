"""How a feature declares its pieces, once, and how the app finds every feature.

A feature is a package of ``kiosk`` whose ``__init__`` holds ``FEATURE = Feature(...)``. The
factory, the USB exchange, the idle reset, the security headers, the audit trail, the start
page, the coordinators' queue and navigation and the open numbers are all built from these
declarations: a new feature is one new folder, and nothing else to remember.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from flask import Blueprint

from ..core.schema import MAX_ROWS, DataSchema, TableSchema

@dataclass(frozen=True)
class Table:
    """A record table in the live file: ``row`` is the type of its rows (a core.schema Record),
    checked in every backup before a restore or a merge writes anything, and at start-up."""

    name: str
    row: Any
    max_rows: int = MAX_ROWS
    # (field, table) pairs: the field holds the number of a row of that table ("posts": a
    # post's id); a backup whose reference leads nowhere is refused.
    refs: tuple[tuple[str, str], ...] = ()
    # Rows are numbered one after another (TinyDB's next number), unless the feature picks
    # random numbers itself: a backup may not bring a number so high that the next would not fit.
    random_ids: bool = False


@dataclass(frozen=True)
class Setting:
    """A value in the store's settings ("meta"), of type ``value`` (or None), carried by a
    backup and checked the same way."""

    key: str
    value: Any


@dataclass(frozen=True)
class Link:
    """A link in a menu: the start page's programs or the coordinators' navigation."""

    order: int
    endpoint: str
    label: Any
    current: tuple[str, ...] = ()  # further endpoints that mark this link as the current page
    values: Mapping[str, Any] = field(default_factory=dict)  # the endpoint's URL values


@dataclass(frozen=True)
class Panel:
    """A part of a page that another feature shows: ``data(**context)`` runs in the request
    and its dict is handed to ``template`` as ``panel``. The context is what the page knows:
    nothing on the start page and the queue, ``months`` on /stats; take ``**context``."""

    order: int
    template: str
    data: Callable[..., dict] = lambda **context: {}


@dataclass(frozen=True)
class Series:
    """Counts per month for the open numbers (/stats): ``counts(store)`` -> {YYYY-MM: n}."""

    order: int
    key: str
    title: Any
    counts: Callable[[Any], dict]


# Files in every export: ``files(store, progress)`` yields (file name, its bytes in pieces),
# each file consumed whole before the next is asked for. Sealed notes never go in them: a stick
# is carried home and lost, and they are read on screen by an unlocked coordinator.
ExportFiles = Callable[..., Iterable[tuple[str, Iterable[bytes]]]]


@dataclass(frozen=True)
class StickPart:
    """Something an export folder on a stick may carry that the import page offers to apply,
    beside restore and merge (the network's records): the page knows only this declaration.

    ``name`` is the form's choice (not "replace" or "merge"); ``label`` the button and ``hint``
    what it does, in plain words. ``found(folder)`` says whether the folder carries the part.
    ``preview(store, registry, folder)`` -> {"lines": [what would happen, translated],
    "ready": whether there is anything to apply, "digest": what was looked at (a confirmation
    for another stick's content is refused)}; ``apply(store, registry, folder, now, handle)`` ->
    {"message": what was done}. Both run in a request and raise core.errors.Refused with the
    reason when the folder cannot be used. ``carried``: what every export carries for it, said
    on the export page (so the page never claims less than the stick holds)."""

    name: str
    label: Any
    hint: Any
    found: Callable[[Any], bool]
    preview: Callable[..., dict]
    apply: Callable[..., dict]
    carried: Any = None


@dataclass(frozen=True)
class PostRules:
    """How the board's posts travel in a backup (they live in the store's own live file and
    archive, not in a record table): ``schema`` is their type, ``place(post)`` gives the archive
    month of a closed post or None for a live one, ``merge(current, incoming, kiosk, now, notes=)`` gives the post to
    store or None to keep the current one (both already under this kiosk's numbers), and
    ``renumber(post, new_ids)`` changes the numbers of a post and its replies (old -> new),
    everywhere the post refers to them."""

    schema: Any
    place: Callable[[dict], "str | None"]
    merge: Callable[..., "dict | None"]
    renumber: Callable[[dict, dict], dict]
    check: Callable[[dict], "str | None"] | None = None  # what no type says (references inside a post)
    swept: str | None = None  # the setting where retention notes the last month it swept
    # travel(current, record, number, now) -> the post to store or None: a network record from
    # another kiosk applied (kiosk/network); raises core.changelog.Waiting or Refused
    travel: Callable[..., "dict | None"] | None = None


@dataclass(frozen=True)
class Feature:
    name: str
    blueprints: tuple[Blueprint, ...] = ()
    tables: tuple[Table, ...] = ()
    settings: tuple[Setting, ...] = ()
    session_keys: tuple[str, ...] = ()  # what the idle reset must forget
    private_endpoints: tuple[str, ...] = ()  # never cached; "name.*" for a whole blueprint
    # Pages whose query string survives a language switch: filters only, never anything typed
    # (an address may hold a ticket code someone pasted).
    keeps_query: tuple[str, ...] = ()
    audit_actions: Mapping[str, Any] = field(default_factory=dict)  # action -> what it means
    moderation: tuple[str, ...] = ()  # audit actions counted on the public transparency page
    limits: Mapping[str, str] = field(default_factory=dict)  # rate limit -> its per-hour setting
    exports: tuple[ExportFiles, ...] = ()
    stick_parts: tuple[StickPart, ...] = ()  # offered on the import page beside restore and merge
    monthly: tuple[Series, ...] = ()  # charts on /stats
    stats_panels: tuple[Panel, ...] = ()  # more on /stats, after the charts
    start_panels: tuple[Panel, ...] = ()
    # meeting(store, now) -> the next meeting this feature knows of, {"when": datetime (the center's
    # wall clock), "where": str, "title": str, "link": (endpoint, values) or None}, or None; the
    # roster's start panel shows the earliest of all (the agreements promise the next meeting).
    meetings: tuple[Callable[..., "dict | None"], ...] = ()
    queue_panels: tuple[Panel, ...] = ()
    home: str | None = None  # the start page's endpoint (one feature has it)
    unlock: str | None = None  # the coordinators' unlock page's endpoint (one feature has it)
    lock: str | None = None  # and the POST that locks coordinator mode again
    header_links: tuple[Link, ...] = ()  # the menu at the top of every page
    footer_links: tuple[Link, ...] = ()  # the links at the foot of every page
    programs: tuple[Link, ...] = ()  # the start page's "More" links
    coordinator_links: tuple[Link, ...] = ()
    upkeep: Callable[..., None] | None = None  # upkeep(store, now, setting, max_months)
    # seal(store, team_public) -> how many texts: seals what was stored in plain before sealing
    # existed (promise 8), run at start until done and after every restore or merge
    sealers: tuple[Callable[..., int], ...] = ()
    posts: PostRules | None = None


NOT_FEATURES = {"core", "web", "cli", "translations"}  # kiosk's packages that are layers, not features


def _unique(what: str, pairs) -> dict:
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise RuntimeError(f"two features declare the {what} {key!r}")
        found[key] = value
    return found


def discover(package: str = "kiosk") -> list[Feature]:
    """Every feature package of ``kiosk``, by name, after the kiosk's own base declaration."""
    from . import base

    root = importlib.import_module(package)
    found = [base.FEATURE]
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name in NOT_FEATURES:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        feature = getattr(module, "FEATURE", None)
        if not isinstance(feature, Feature):
            raise RuntimeError(f"kiosk/{info.name}/__init__.py declares no FEATURE = Feature(...)")
        if feature.name != info.name:
            raise RuntimeError(f"kiosk/{info.name}/ declares Feature(name={feature.name!r}): use its folder's name")
        found.append(feature)
    return found


def default_registry() -> "Registry":
    """The registry of every feature package (for commands and tools without an app)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Registry(discover())
    return _DEFAULT


_DEFAULT = None


class Registry:
    """The declarations of one app's features, gathered for the parts built from them."""

    def __init__(self, features: list[Feature]):
        self.features = features
        self._ordered: dict[str, list] = {}
        # Two features naming the same piece would silently overwrite each other: refuse.
        self.tables = _unique("table", ((t.name, t) for f in features for t in f.tables))
        self.settings = _unique("setting", ((s.key, s) for f in features for s in f.settings))
        self.session_keys = tuple(_unique("session key", ((k, k) for f in features for k in f.session_keys)))
        self.audit_actions = _unique("audit action", (a for f in features for a in f.audit_actions.items()))
        _unique("/stats series", ((s.key, s) for f in features for s in f.monthly))
        unknown = [a for f in features for a in f.moderation if a not in self.audit_actions]
        if unknown:
            raise RuntimeError(f"moderation actions that no feature declares as audit actions: {unknown}")
        self.moderation = tuple(a for f in features for a in f.moderation)
        self.limits = _unique("rate limit", (item for f in features for item in f.limits.items()))
        self.exports = tuple(e for f in features for e in f.exports)
        parts = _unique("stick part", ((p.name, p) for f in features for p in f.stick_parts))
        if {"replace", "merge"} & set(parts):
            raise RuntimeError("a stick part takes the name of the import page's own choice (replace, merge)")
        self.stick_parts = tuple(parts.values())
        rules = [f.posts for f in features if f.posts is not None]
        if len(rules) > 1:
            raise RuntimeError("only one feature can declare how posts travel")
        self.posts = rules[0] if rules else None
        self.schema = DataSchema(
            post=self.posts.schema if self.posts else None,
            tables={name: TableSchema(t.row, t.max_rows) for name, t in self.tables.items()},
            settings={key: s.value for key, s in self.settings.items()},
            strict=True,
        )
        self.upkeep = tuple(f.upkeep for f in features if f.upkeep is not None)
        self.sealers = tuple(s for f in features for s in f.sealers)
        self.meetings = tuple(m for f in features for m in f.meetings)
        self.keeps_query = frozenset(e for f in features for e in f.keeps_query)
        homes = [f.home for f in features if f.home]
        unlocks = [f.unlock for f in features if f.unlock]
        if len(homes) > 1 or len(unlocks) > 1:
            raise RuntimeError(f"more than one start page {homes} or unlock page {unlocks}")
        self.home = homes[0] if homes else "screen.healthz"
        self.unlock = unlocks[0] if unlocks else self.home
        self.lock = next((f.lock for f in features if f.lock), self.home)
        private = [e for f in features for e in f.private_endpoints]
        self.private_endpoints = frozenset(e for e in private if not e.endswith(".*"))
        self.private_blueprints = tuple(e[:-1] for e in private if e.endswith(".*"))

    def check_endpoints(self, view_functions) -> None:
        """Every endpoint a declaration names must exist: a typo would be a broken menu on
        every page, or a private page that is cached."""
        links = ("header_links", "footer_links", "programs", "coordinator_links")
        named = [link.endpoint for f in self.features for name in links for link in getattr(f, name)]
        named += [*self.private_endpoints, self.home, self.unlock, self.lock]
        missing = sorted(e for e in named if e not in view_functions)
        if missing:
            raise RuntimeError(f"declared endpoints that no blueprint has: {missing}")

    def ordered(self, attribute: str) -> list:
        """A menu's links or a page's panels from every feature, in their declared order."""
        if attribute not in self._ordered:  # the same on every page: sorted once
            items = (item for f in self.features for item in getattr(f, attribute))
            self._ordered[attribute] = sorted(items, key=lambda i: i.order)
        return self._ordered[attribute]

    def is_private(self, endpoint: str) -> bool:
        return endpoint in self.private_endpoints or endpoint.startswith(self.private_blueprints)
