"""The parsed facts of the project's Python files are kept beside the history, so a selection after
a module-level edit parses only the files whose content changed, in this process or the next.

Each test records a real project (real pytest child, real history), edits module-level code and
selects with a real ``Selector`` or ``testwatch affected``.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.config.settings import load_config
from testwatch.history.store import open_history
from testwatch.select import selection as selection_module
from testwatch.select.facts_cache import CACHE_NAME, facts_from_json, facts_to_json
from testwatch.select.file_states import FileStates
from testwatch.select.module_names import module_facts
from testwatch.select.selection import Selector

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]
    """,
    "shop/__init__.py": "",
    "shop/prices.py": """
        RATE = 2
        LIMITS = {"max": 10}


        def double(x):
            return x * RATE


        def limit():
            return LIMITS["max"]
    """,
    "shop/report.py": """
        from shop.prices import RATE as R


        def triple_rate():
            return R * 3
    """,
    "tests/test_prices.py": """
        from shop.prices import double, limit


        def test_double():
            assert double(2) == 4


        def test_limit():
            assert limit() == 10
    """,
    "tests/test_report.py": """
        from shop.report import triple_rate


        def test_triple_rate():
            assert triple_rate() == 6
    """,
}
RICH_SOURCE = """
from .base import Base as B, helper
from other import *
import json as j

RATE = 2
SCALE = RATE * 10


def show(x, top=RATE):
    return getattr(x, "unit") + j.dumps(globals()["RATE"])


class Price(B, metaclass=type):
    unit = "EUR"
    limit = SCALE + 1

    @property
    def label(self):
        def inner():
            return helper(self.unit)
        return inner()
"""


@pytest.fixture
def shop(make_project, cli):
    root = make_project(PROJECT)
    out = cli("run", str(root), "--affected")
    assert out.returncode == 0, out.stdout + out.stderr
    return root


def _select(root) -> set[str]:
    """A selection by a fresh Selector on its own history connection (as a new process makes)."""
    config = load_config(root)
    history = open_history(config.history_path)
    try:
        rules = IgnoreRules(config.root, config.ignore, config.history_path)
        found = Selector(config, history, rules, FileStates(config.root, history)).select()
    finally:
        history.close()
    assert not found.everything, found.everything_reason
    return set(found.selected)


def _parsed_files(monkeypatch) -> list[str]:
    """The files the selection parses for their facts from now on."""
    parsed: list[str] = []

    def counting(source: bytes, relative: str):
        parsed.append(relative)
        return module_facts(source, relative)

    monkeypatch.setattr(selection_module, "module_facts", counting)
    return parsed


def test_facts_survive_the_cache_file_unchanged():
    facts = module_facts(textwrap.dedent(RICH_SOURCE).encode(), "shop/prices.py")
    assert facts is not None and facts.statements and facts.from_imports and facts.star_imports
    assert facts_from_json(json.loads(json.dumps(facts_to_json(facts)))) == facts


def test_a_second_selection_parses_only_the_edited_file(shop, edit, monkeypatch):
    edit(shop / "shop/prices.py", 'LIMITS = {"max": 10}', 'LIMITS = {"max": 11}')
    first = _select(shop)
    assert first == {"tests/test_prices.py::test_limit"}
    cached = json.loads((shop / ".testwatch" / CACHE_NAME).read_text())
    assert {"shop/prices.py", "shop/report.py", "tests/test_prices.py"} <= cached["files"].keys()

    edit(shop / "shop/prices.py", "RATE = 2", "RATE = 3")
    parsed = _parsed_files(monkeypatch)
    second = _select(shop)
    assert parsed == ["shop/prices.py"]
    assert second == {
        "tests/test_prices.py::test_limit",
        "tests/test_prices.py::test_double",
        "tests/test_report.py::test_triple_rate",
    }


def test_unchanged_cache_parses_nothing(shop, edit, monkeypatch):
    edit(shop / "shop/prices.py", 'LIMITS = {"max": 10}', 'LIMITS = {"max": 11}')
    first = _select(shop)
    parsed = _parsed_files(monkeypatch)
    assert _select(shop) == first
    assert parsed == []


@pytest.mark.parametrize(
    "content",
    ['{"version": "another testwatch", "files": {}}', "not json", '{"files": 3}', "[]"],
)
def test_a_cache_from_elsewhere_is_ignored_and_rewritten(shop, edit, monkeypatch, content):
    edit(shop / "shop/prices.py", "RATE = 2", "RATE = 3")
    cache = shop / ".testwatch" / CACHE_NAME
    cache.write_text(content)
    parsed = _parsed_files(monkeypatch)
    assert "tests/test_report.py::test_triple_rate" in _select(shop)
    assert "shop/report.py" in parsed
    assert json.loads(cache.read_text())["files"]["shop/report.py"][1] is not None


def test_damaged_entries_are_parsed_again(shop, edit, monkeypatch):
    edit(shop / "shop/prices.py", "RATE = 2", "RATE = 3")
    expected = _select(shop)
    cache = shop / ".testwatch" / CACHE_NAME
    record = json.loads(cache.read_text())
    sha, _ = record["files"]["shop/report.py"]
    record["files"]["shop/report.py"] = [sha, {"statements": "nonsense"}]
    cache.write_text(json.dumps(record))
    parsed = _parsed_files(monkeypatch)
    assert _select(shop) == expected
    assert parsed == ["shop/report.py"]
