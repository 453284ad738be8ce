"""An edit that changes the state of an instance made at import selects the tests that can see
that state, not every test that passes the instance along.

The project is the shape structlog has: a renderer class whose ``__init__`` defaults to a module
constant, a list of default processors built at import (``DEFAULTS = [Renderer()]``), and a
``reset()`` that every test calls. Recorded for real with ``run --affected``; after each edit,
``affected`` is checked against what the tests really observe.
"""

from __future__ import annotations

import pytest

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]
    """,
    "logs/__init__.py": "",
    "logs/render.py": """
        WIDTH = 30
        LEVELS = {"info": 20}


        class Renderer:
            def __init__(self, pad=WIDTH):
                self._pad = pad

            def __call__(self, text):
                return text.ljust(self._pad) + "|"


        class Leveller:
            def __init__(self):
                self.levels = dict(LEVELS)

            def level(self, name):
                return self.levels[name]


        class Recorded:
            def __init__(self, pad=WIDTH):
                setattr(self, "pad", pad)
    """,
    "logs/config.py": """
        from logs.render import Leveller, Recorded, Renderer

        DEFAULTS = [Renderer(), Leveller()]
        COPY = DEFAULTS[:]
        HEADER = DEFAULTS[0]("title")
        RECORDED = Recorded()
        current = []


        def reset():
            current[:] = COPY


        def render(text):
            return current[0](text)


        def header():
            return HEADER


        def recorded_pad():
            return RECORDED.pad
    """,
    "logs/other.py": """
        class Renderer:  # the same name as render.Renderer, and nothing to do with it
            def __init__(self):
                self.shade = "grey"


        OTHER = Renderer()
    """,
    "logs/paint.py": """
        class Paint:
            def __init__(self):
                self.shade = "blue"
    """,
    "tests/test_other.py": """
        from logs.other import OTHER


        def test_other():
            assert OTHER.shade == "grey"
    """,
    "tests/conftest.py": """
        import pytest

        from logs.config import reset


        @pytest.fixture(autouse=True)
        def fresh_config():
            reset()
    """,
    "tests/test_logs.py": """
        from logs.config import DEFAULTS, current, header, recorded_pad, render


        def test_reset_keeps_two_processors():
            assert len(current) == 2


        def test_render_pads():
            assert render("a") == "a".ljust(30) + "|"


        def test_pad_attribute():
            assert DEFAULTS[0]._pad == 30


        def test_header():
            assert header().startswith("title")


        def test_level():
            assert current[1].level("info") == 20


        def test_recorded_pad():
            assert recorded_pad() == 30


        def test_paint_shade():
            from logs.paint import Paint

            assert Paint().shade == "blue"
    """,
}


@pytest.fixture
def logs(make_project, cli):
    root = make_project(PROJECT)
    out = cli("run", str(root), "--affected")
    assert out.returncode == 0, out.stdout + out.stderr
    return root


def _selected(affected, root) -> tuple[set[str], dict[str, str]]:
    result = affected(root)
    assert not result["everything"], result["everything_reason"]
    return {nodeid.rpartition("::")[2] for nodeid in result["selected"]}, result["reasons"]


def test_a_default_an_instance_holds_selects_its_users_not_every_reset(logs, edit, affected):
    edit(logs / "logs/render.py", "WIDTH = 30", "WIDTH = 31")
    selected, reasons = _selected(affected, logs)
    # test_render_pads runs the instance's code, test_pad_attribute reads its state, HEADER was
    # computed with it at import, RECORDED's state is set through setattr (not followed), and
    # the statement that made them calls: every test that ran code of render.py (test_level).
    # test_other reads OTHER = Renderer() of other.py: calls are matched by name across modules,
    # so OTHER counts as derived (the wide rule), but its class's attributes are not followed.
    assert selected == {
        "test_render_pads", "test_pad_attribute", "test_header", "test_recorded_pad", "test_level",
        "test_other",
    }
    assert "reads _pad" in reasons["tests/test_logs.py::test_pad_attribute"]
    # other.py's Renderer() is not the changed class: its attributes (shade) are not followed.
    assert "test_paint_shade" not in selected
    assert "reads RECORDED" in reasons["tests/test_logs.py::test_recorded_pad"]


def test_a_constant_read_in_init_selects_the_users_of_the_instance(logs, edit, affected):
    edit(logs / "logs/render.py", 'LEVELS = {"info": 20}', 'LEVELS = {"info": 21}')
    selected, reasons = _selected(affected, logs)
    assert selected == {"test_level", "test_render_pads", "test_header"}
    assert "instance of Leveller made at import" in reasons["tests/test_logs.py::test_level"]


def test_the_tests_that_fail_are_the_ones_selected(logs, edit, affected, cli):
    edit(logs / "logs/render.py", "WIDTH = 30", "WIDTH = 31")
    selected, _ = _selected(affected, logs)
    out = cli("run", str(logs))
    failed = {line.rpartition("::")[2] for line in out.stdout.splitlines() if line.startswith("FAIL ")}
    assert failed == {"test_render_pads", "test_pad_attribute", "test_recorded_pad"}
    assert failed <= selected
