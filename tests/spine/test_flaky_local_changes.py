"""The flaky list groups runs by the code they ran: the git revision and the uncommitted changes
on top of it. A test that fails after an edit and passes once the edit is undone, at one commit,
is the watch loop's everyday cycle, not a flaky test; one whose outcome flips on unchanged code
is. Real git, real pytest children, real SQLite."""

from __future__ import annotations

import sqlite3
import subprocess

from testwatch.history.queries import FLAKY_SQL

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]
    """,
    "calc/__init__.py": "",
    "calc/core.py": """
        def double(x):
            return x * 2
    """,
    "tests/test_core.py": """
        import os
        from pathlib import Path

        from calc.core import double


        def test_double():
            assert double(2) == 4


        def test_coin():
            # Fails on every other run, on the same code: flaky.
            counter = Path(os.environ["COIN_FILE"])
            flips = int(counter.read_text()) if counter.exists() else 0
            counter.write_text(str(flips + 1))
            assert flips % 2 == 0
    """,
}


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(root), "PATH": "/usr/bin:/bin"})


def _flaky(root) -> set[str]:
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    try:
        return {row[0] for row in db.execute(FLAKY_SQL, {"machine": ""})}
    finally:
        db.close()


def test_a_failure_caused_by_an_edit_and_undone_with_it_is_not_flaky(make_project, cli, tmp_path):
    root = make_project(PROJECT)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    env = {"COIN_FILE": str(tmp_path / "coin")}
    core = root / "calc" / "core.py"
    original = core.read_text()

    assert cli("run", str(root), env=env).returncode == 0  # both pass (the coin's first throw)
    core.write_text(original.replace("x * 2", "x * 3"))  # an edit breaks test_double
    assert "FAIL" in cli("run", str(root), env=env).stdout
    core.write_text(original)  # undone: the tree is HEAD again
    assert cli("run", str(root), env=env).returncode == 0  # both pass again
    assert cli("run", str(root), env=env).returncode == 1  # the coin fails on unchanged code

    flaky = _flaky(root)
    assert "tests/test_core.py::test_double" not in flaky
    assert "tests/test_core.py::test_coin" in flaky  # flipped on the very same code
