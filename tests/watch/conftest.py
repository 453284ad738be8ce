"""A small real project for the watch tests: modules, a constant, a data file, a conftest fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SAMPLE = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]
    """,
    "calc/__init__.py": "",
    "calc/core.py": """
        RATE = 2


        def double(x):
            return x * RATE


        def negate(x):
            return -x
    """,
    "calc/data.json": '{"offset": 10}',
    "calc/io.py": """
        import json
        from pathlib import Path


        def offset():
            return json.loads((Path(__file__).parent / "data.json").read_text())["offset"]
    """,
    "tests/conftest.py": """
        import pytest


        @pytest.fixture
        def base():
            return 1
    """,
    "tests/test_core.py": """
        from calc.core import double, negate


        def test_double(base):
            assert double(base) == 2


        def test_negate():
            assert negate(3) == -3
    """,
    "tests/test_io.py": """
        from calc.io import offset


        def test_offset():
            assert offset() == 10
    """,
}


@pytest.fixture
def sample(make_project):
    """The sample project's root."""
    return make_project(SAMPLE)


@pytest.fixture
def recorded(sample, cli):
    """The sample project after one ``run --affected``: dependencies recorded."""
    out = cli("run", str(sample), "--affected")
    assert out.returncode == 0, out.stdout + out.stderr
    return sample


def _edit(path: Path, old: str, new: str) -> None:
    """Replace text in a file, failing loudly if the text is not there."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _affected(cli, root: Path, *extra: str) -> dict:
    """``testwatch affected --json`` on ``root``."""
    out = cli("affected", str(root), "--json", *extra)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def edit():
    return _edit


@pytest.fixture
def affected(cli):
    return lambda root, *extra: _affected(cli, root, *extra)
