"""The package's shape holds by test: layers import only downwards, features never import each
other, only the store touches TinyDB, and a new feature is one folder and nothing else."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import kiosk
from kiosk.web import feature as feature_module

from conftest import Visitor, csrf_token

PACKAGE = Path(kiosk.__file__).resolve().parent
LAYERS = {"core", "web", "cli"}
RULES = """\
core imports only the standard library and its libraries (never kiosk.web, a feature or the cli);
web imports core; a feature imports core, web and itself, never another feature nor the cli;
only the store (kiosk/core/store.py, and livedb.py: how its tables reach the disk) imports tinydb; a feature's rules (modules not named views) never read
flask's request, session or g."""


def _layer(parts: tuple[str, ...]) -> str:
    """"core", "web", "cli", "root" (kiosk/__init__) or "feature:<name>"."""
    if len(parts) < 2 or parts[1].startswith("__"):  # kiosk itself, kiosk.__version__
        return "root"
    return parts[1] if parts[1] in LAYERS else f"feature:{parts[1]}"


def _imports(tree: ast.AST, module: tuple[str, ...], is_package: bool):
    """(imported module as a tuple of names, the names taken from it) for each import."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield tuple(alias.name.split(".")), ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module if is_package else module[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = base + tuple((node.module or "").split(".")) if node.module else base
            else:
                target = tuple(node.module.split("."))
            names = tuple(a.name for a in node.names)
            if not node.module:  # "from . import x": each name is a module
                for name in names:
                    yield target + (name,), ()
            else:
                yield target, names


def problems(source: str, module: tuple[str, ...], is_package: bool = False) -> list[str]:
    """What in one module's source breaks the rules."""
    found = []
    here = _layer(module)
    is_rules = here.startswith("feature:") and not any("views" in part for part in module)
    for target, names in _imports(ast.parse(source), module, is_package):
        name = ".".join(module)
        if target[0] == "tinydb" and module not in (("kiosk", "core", "store"), ("kiosk", "core", "livedb")):
            found.append(f"{name} imports tinydb")
        if target[0] == "flask" and is_rules and {"request", "session", "g"} & set(names):
            found.append(f"{name} (rules) reads flask's request state")
        if target[0] != "kiosk" or len(target) < 2:
            continue
        there = _layer(target)
        allowed = {
            "core": {"core"},
            "web": {"core", "web", "root"},
            "cli": {"core", "web", "cli", "root"} | {there},
            "root": {"core", "web", "cli", "root"} | {there},
        }.get(here, {"core", "web", "root", here})
        if there not in allowed:
            found.append(f"{name} imports {'.'.join(target)}")
    return found


def test_every_module_keeps_to_its_layer():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = tuple(rel.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found += problems(path.read_text("utf-8"), parts, is_package)
    assert not found, RULES + "\n" + "\n".join(found)


def test_the_rule_test_catches_a_wrong_edge():
    # A feature importing another, core importing web, a view-less rule reading the request.
    assert problems("from ..library import rules", ("kiosk", "events", "views")) == [
        "kiosk.events.views imports kiosk.library"]
    assert problems("from ..web import services", ("kiosk", "core", "clock")) == [
        "kiosk.core.clock imports kiosk.web"]
    assert problems("from flask import request", ("kiosk", "board", "posts")) == [
        "kiosk.board.posts (rules) reads flask's request state"]
    assert problems("import tinydb", ("kiosk", "web", "services")) == ["kiosk.web.services imports tinydb"]
    assert problems("from ...core import codes\nfrom .. import posts", ("kiosk", "board", "views", "public")) == []


def test_no_module_is_too_long():
    long_modules, long_functions = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text("utf-8")
        if len(source.splitlines()) > 400:
            long_modules.append(str(path.relative_to(PACKAGE)))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long_functions.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert not long_modules and not long_functions, (long_modules, long_functions)


# -- a new feature is one folder ---------------------------------------------------------------------

THROWAWAY = '''
"""A throwaway feature for the test: one page, one table, one session key."""

from flask import Blueprint, render_template_string, request, session

from ..core.schema import Record, Text
from ..web.feature import Feature, Table
from ..web.services import services

bp = Blueprint("throwaway", __name__)


@bp.route("/throwaway", methods=["GET", "POST"])
def page():
    if request.method == "POST":
        services().store.add_record("throwaway_notes", {"note": request.form["note"]})
        session["throwaway_seen"] = True
    count = len(services().store.records("throwaway_notes"))
    return render_template_string(
        '<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}"></form>'
        "<p>{{ count }} notes</p>", count=count)


class Note(Record):
    note: Text(100)


FEATURE = Feature(name="throwaway", blueprints=(bp,), tables=(Table("throwaway_notes", Note),),
                  session_keys=("throwaway_seen",))
'''


def test_a_new_feature_folder_joins_the_app_backups_and_the_idle_reset(tmp_path, monkeypatch, make_app):
    extra = tmp_path / "extra"
    (extra / "throwaway").mkdir(parents=True)
    (extra / "throwaway" / "__init__.py").write_text(textwrap.dedent(THROWAWAY))
    monkeypatch.setattr(kiosk, "__path__", [*kiosk.__path__, str(extra)])  # the folder is in the package
    monkeypatch.setattr(feature_module, "_DEFAULT", None)
    monkeypatch.delitem(sys.modules, "kiosk.throwaway", raising=False)
    try:
        app = make_app(TOUCHSCREEN=True)
        client = app.test_client()
        visitor = Visitor(client)
        # In the app: its page answers, and its write is stored.
        assert visitor.submit("/throwaway", note="hello").status_code == 200
        assert "1 notes" in client.get("/throwaway").get_data(as_text=True)
        # In the idle reset: its session key counts as a visit, and the reset clears it.
        local = {"REMOTE_ADDR": "127.0.0.1"}
        assert 'data-fresh="1"' not in client.get("/", environ_base=local).get_data(as_text=True)
        token = client.get("/", environ_base=local).get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/reset", data={"csrf_token": token}, environ_base=local)
        assert 'data-fresh="1"' in client.get("/", environ_base=local).get_data(as_text=True)
        # In backups: a full export carries its table, and a restore brings it back.
        from kiosk.core.times import utcnow
        from kiosk.web import exchange

        svc = app.extensions["kiosk"]
        stick = tmp_path / "stick"
        stick.mkdir()
        from backups import full_export, lines_of, read_backup

        made = full_export(svc.store, stick, registry=svc.registry, kiosk_name="Elm")
        assert {"t": "table:throwaway_notes", "id": 1, "row": {"note": "hello"}} in lines_of(made)
        svc.store.clear_records("throwaway_notes")
        exchange.restore(svc.store.data_dir, read_backup(made, svc.registry), svc.registry, now=utcnow(),
                         handle="t", store=svc.store)
        assert [r["note"] for r in svc.store.records("throwaway_notes")] == ["hello"]
    finally:
        sys.modules.pop("kiosk.throwaway", None)


# -- coordinator pages and audit actions ------------------------------------------------------------

COORDINATOR_PAGES = {"community.check_ins", "community.roster", "community.agreements", "events.new", "events.edit",
                     "events.cancel", "library.new", "library.edit", "library.lend", "library.lent",
                     "library.give_back", "library.retire", "survey.edit", "moderate.hide", "moderate.restore",
                     "moderate.dismiss", "moderate.judge_thanks"}


def _build(rule, values) -> str:
    import re

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def test_every_coordinator_page_turns_visitors_to_the_unlock_page(app, client):
    gated = {endpoint for endpoint, view in app.view_functions.items()
             if getattr(view, "coordinators_only", False) or endpoint.startswith("coordinate.")}
    assert COORDINATOR_PAGES <= gated, f"not behind @coordinator_required: {sorted(COORDINATOR_PAGES - gated)}"
    token = csrf_token(client, "/check-in")  # a visitor's session with a valid token, no coordinator
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in gated or rule.endpoint == "coordinate.home":
            continue
        url = _build(rule, {name: 1 for name in rule.arguments} | ({"verdict": "approve"} if "verdict" in rule.arguments else {})
                     | ({"post_id": "ABCDE"} if "post_id" in rule.arguments else {})
                     | ({"job_id": "x"} if "job_id" in rule.arguments else {}))
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 303 and response.headers["Location"].endswith("/coordinate"), (method, url)


def test_every_audited_action_is_declared(app):
    """audit("...") with an undeclared action would fail only after the change was made."""
    declared = app.extensions["kiosk"].registry.audit_actions
    used = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("audit", "log")
                    and node.args):
                first = node.args[0] if getattr(node.func, "id", "") == "audit" else (node.args[2] if len(node.args) > 2 else None)
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    used.add(first.value)
                elif isinstance(first, ast.JoinedStr):  # f"survey-{action}"
                    used.update(a for a in declared if a.startswith(first.values[0].value))
    assert used and used <= set(declared), sorted(used - set(declared))


def test_declarations_that_clash_or_point_nowhere_stop_the_start(data_dir):
    import pytest
    from flask import Blueprint

    from kiosk.web.feature import Feature, Link, Registry, Table, discover

    every = discover()
    with pytest.raises(RuntimeError, match="two features declare the table 'reports'"):
        Registry([*every, Feature(name="copycat", tables=(Table("reports", dict),))])
    with pytest.raises(RuntimeError, match="audit action 'hide'"):
        Registry([*every, Feature(name="copycat", audit_actions={"hide": "hid"})])
    with pytest.raises(RuntimeError, match="declared endpoints that no blueprint has"):
        kiosk.create_app({"TESTING": True, "DATA_DIR": str(data_dir), "PUBLIC_URL": "http://aid.lan"},
                         features=[*every, Feature(name="typo", blueprints=(Blueprint("typo", __name__),),
                                                   programs=(Link(1, "typo.nowhere", "Nowhere"),))])
    kiosk.create_app({"TESTING": True, "DATA_DIR": str(data_dir), "PUBLIC_URL": "http://aid.lan"}).extensions[
        "kiosk"].store.close()  # the failed start left the folder free



def test_labels_from_declarations_are_escaped(visitor):
    visitor.create()  # a month to count, so every chart shows
    page = visitor.client.get("/stats").get_data(as_text=True)
    assert '<h2 id="h-people">People at gatherings (“I&#39;ll come”)</h2>' in page
