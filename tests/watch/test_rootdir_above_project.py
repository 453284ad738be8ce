"""A project whose pytest rootdir lies above it (a monorepo: the pytest config sits at the
repository's root, testwatch is given the subproject). pytest's node ids are then relative to that
rootdir (``sub/tests/test_core.py::test_double``) while testwatch's paths are relative to the
project (``tests/test_core.py``). Found on h11 0.16.0 under a folder with a pytest config: an edit
that breaks three tests selected none. Not fixed yet: strict xfail, so the fix turns it red."""

from __future__ import annotations

import pytest

from .conftest import SAMPLE


@pytest.mark.xfail(strict=True, reason="selection looks for a node id's file under the project root, "
                   "not under pytest's rootdir above it: every test is dropped")
def test_an_edit_selects_the_tests_it_breaks_when_pytest_rootdir_is_above_the_project(
    make_project, cli, edit, affected,
):
    repo = make_project({"pyproject.toml": "[tool.pytest.ini_options]\n"}, name="repo")
    sub = {name: text for name, text in SAMPLE.items() if name != "pyproject.toml"}
    root = make_project(sub, name="repo/sub")
    # The subproject's own folder on sys.path (its modules are not installed).
    (root / "conftest.py").write_text(
        "import pathlib, sys\n\nsys.path.insert(0, str(pathlib.Path(__file__).parent))\n"
    )
    assert repo.is_dir()
    done = cli("run", str(root), "--deps")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sub/tests/test_core.py::test_double" in done.stdout  # ids relative to pytest's rootdir
    edit(root / "calc" / "core.py", "return x * RATE", "return x * RATE + 1")
    assert "sub/tests/test_core.py::test_double" in affected(root)["selected"]
