"""A small real project for the watch tests: modules, a constant, a data file, a conftest fixture."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
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


def _runs_312(python: str) -> bool:
    check = [python, "-c", "import sys; raise SystemExit(sys.version_info < (3, 12))"]
    try:
        return subprocess.run(check, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _find_python_312() -> str | None:
    """A Python 3.12+ on the PATH, or one that pyenv installed (its shims may not expose it)."""
    for name in ("python3.12", "python3.13", "python3.14"):
        path = shutil.which(name)
        if path and _runs_312(path):
            return path
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for path in sorted(glob.glob(os.path.join(root, "versions", "3.1[2-9]*", "bin", "python3.1[2-9]"))):
        if _runs_312(path):
            return path
    return None


@pytest.fixture(scope="session")
def python_312(tmp_path_factory) -> str:
    """A Python 3.12+ venv with pytest and pytest-xdist but no coverage.py (made once per session)."""
    base = _find_python_312()
    if base is None:
        pytest.skip("no Python 3.12 or newer on the PATH (or installed by pyenv)")
    venv = tmp_path_factory.mktemp("py312") / "venv"
    subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "pytest", "pytest-xdist"],
        capture_output=True, text=True, timeout=600,
    )
    if install.returncode != 0:
        pytest.skip(f"cannot install pytest into a {base} venv: {install.stderr.strip()[-300:]}")
    has_coverage = subprocess.run([python, "-c", "import coverage"], capture_output=True).returncode == 0
    assert not has_coverage, "the 3.12 venv must not hold coverage.py: the monitor must do the recording"
    return python
