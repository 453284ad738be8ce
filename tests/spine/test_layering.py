"""Layering: every installed module of testwatch imports only the rooms its own room may import
(``testwatch/*/__init__.py`` says which); only the app imports Textual or Rich; the code that runs
inside the user's pytest imports the standard library and the tools it serves (pytest, memray,
coverage.py)."""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import sys

import pytest

import testwatch
import testwatch.collectors
import testwatch.tui

CORE = ("model", "config", "history", "select", "measure", "run")
# Each room and the rooms (prefixes of ``testwatch.``) it may import, its own included.
MAY_IMPORT = {
    "collectors.in_pytest": {"collectors.in_pytest"},
    "collectors.in_testwatch": {"collectors.in_testwatch"},
    "model": {"model"},
    "config": {"model", "config"},
    "history": {"model", "config", "history"},
    "select": {"model", "config", "history", "select", "collectors.in_testwatch"},
    "measure": {*CORE[:4], "measure", "collectors.in_testwatch"},
    "run": {*CORE, "collectors.in_pytest", "collectors.in_testwatch"},
    "tui": {*CORE, "tui", "collectors.in_pytest", "collectors.in_testwatch"},
    "cli": {*CORE, "cli", "tui", "collectors.in_pytest", "collectors.in_testwatch"},
    "": {"cli"},  # testwatch/__init__.py and __main__.py
}
UI_LIBRARIES = {"textual", "rich"}
# What the child-side code may import beside the standard library: the tools it runs inside.
CHILD_SIDE_LIBRARIES = {"pytest", "_pytest", "memray", "coverage"}


def room_of(module: str) -> str:
    """``testwatch.select.selection`` -> ``select``; ``testwatch.collectors.in_pytest.x`` ->
    ``collectors.in_pytest``; ``testwatch`` itself -> ``""``."""
    parts = module.split(".")[1:]
    if parts[:1] == ["collectors"] and len(parts) > 1:
        return ".".join(parts[:2])
    if len(parts) > 1 or (parts and parts[0] in MAY_IMPORT):
        return parts[0]
    return ""


def imported_names(source: str) -> list[tuple[int, str]]:
    """Every absolute import in ``source``, lazy ones inside functions included, with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            if node.module == "testwatch":
                found += [(node.lineno, f"testwatch.{alias.name}") for alias in node.names]
    return found


def violations(module: str, source: str) -> list[str]:
    """The imports of ``module`` that break the layering, one sentence each."""
    room = room_of(module)
    wrong = []
    for line, name in imported_names(source):
        top = name.split(".")[0]
        where = f"{module}:{line} imports {name}"
        if top == "testwatch":
            if name == "testwatch":
                continue
            target = room_of(name)
            if target not in MAY_IMPORT[room] and target != "":
                wrong.append(f"{where}: room {room or 'testwatch'!r} may not import room {target!r}")
        elif top in UI_LIBRARIES and room != "tui":
            wrong.append(f"{where}: only testwatch.tui may import {top}")
        elif (room == "collectors.in_pytest" and top not in sys.stdlib_module_names
              and top not in CHILD_SIDE_LIBRARIES):
            wrong.append(f"{where}: code that runs inside pytest imports only the standard library")
    return wrong


def installed_modules() -> list[str]:
    """Every module of the installed package, found the way Python finds them (tui/ and collectors/
    come in through setuptools' package-dir)."""
    names = ["testwatch"]
    for package in (testwatch, testwatch.tui, testwatch.collectors):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".demo_project" not in info.name and info.name not in names:
                names.append(info.name)
    return names


def test_the_walk_sees_every_room():
    rooms = {room_of(name) for name in installed_modules()}
    assert rooms == set(MAY_IMPORT)


@pytest.mark.parametrize("room", sorted(MAY_IMPORT))
def test_each_room_imports_only_what_it_may(room):
    wrong = []
    for module in installed_modules():
        if room_of(module) == room:
            spec = importlib.util.find_spec(module)
            with open(spec.origin, encoding="utf-8") as source:
                wrong += violations(module, source.read())
    assert wrong == []


@pytest.mark.parametrize(
    ("module", "source", "complaint"),
    [
        ("testwatch.history.store", "from testwatch.run.engine import Engine", "may not import room 'run'"),
        ("testwatch.select.selection", "def f():\n    import testwatch.measure.latency", "room 'measure'"),
        ("testwatch.run.engine", "from textual.app import App", "only testwatch.tui may import textual"),
        ("testwatch.collectors.in_pytest.protocol", "import psutil", "only the standard library"),
        ("testwatch.collectors.in_pytest.protocol", "from testwatch.config import units", "room 'config'"),
        ("testwatch.model.results", "from testwatch import history", "room 'history'"),
    ],
)
def test_a_wrong_import_is_caught(module, source, complaint):
    (found,) = violations(module, source)
    assert complaint in found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("testwatch.run.engine", "from testwatch.history.store import History\nimport json"),
        ("testwatch.tui.app", "from textual.app import App\nfrom testwatch.run.events import X"),
        ("testwatch.collectors.in_pytest.memray_plugin", "import memray\nimport pytest\nimport json"),
    ],
)
def test_allowed_imports_pass(module, source):
    assert violations(module, source) == []
