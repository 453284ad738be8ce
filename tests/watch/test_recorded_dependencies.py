"""What a recording keeps for tests that open missing files, are skipped, share a fixture, or run
the project's code in a Python subprocess.

Each project is recorded with a real ``testwatch run --affected``, by both recorders; ``testwatch
affected`` must then select nothing on the clean tree, and the right tests after an edit.
"""

from __future__ import annotations

import sqlite3
import sys
import zipfile
from pathlib import Path

import pytest

from tests.watch.conftest import SAMPLE

OPENS = {
    **SAMPLE,
    "calc/settings.py": """
        from pathlib import Path


        def load(root):
            try:
                return (Path(root) / "local.cfg").read_text()
            except FileNotFoundError:
                return ""
    """,
    "tests/test_opens.py": """
        from pathlib import Path

        from calc.settings import load

        ROOT = Path(__file__).parent.parent


        def test_missing_file():
            assert load(ROOT) == ""


        def test_pseudo_file_name():
            try:
                open("<string>").close()
            except OSError:
                pass


        def test_data_file_rewritten_as_it_was():
            data = ROOT / "calc/data.json"
            text = data.read_text()
            data.write_text(text)


        def test_file_made_and_removed():
            scratch = ROOT / ".scratchrc"
            scratch.write_text("x")
            try:
                assert scratch.read_text() == "x"
            finally:
                scratch.unlink()
    """,
}

SKIPS = {
    **SAMPLE,
    "tests/conftest.py": """
        import pytest


        @pytest.fixture
        def base():
            return 1


        @pytest.fixture
        def database():
            pytest.skip("no database here")
    """,
    "tests/test_skips.py": """
        import sys

        import pytest

        from calc.core import double


        @pytest.mark.skip(reason="later")
        def test_marker():
            assert double(1) == 2


        @pytest.mark.skipif(sys.platform != "nowhere", reason="not here")
        def test_skipif():
            assert double(2) == 4


        def test_setup_skip(database):
            assert database


        def test_inline_skip():
            pytest.skip("inline")
    """,
}

FIXTURES = {
    **SAMPLE,
    "calc/limits.py": """
        def limit():
            return 10
    """,
    "data/settings.json": '{"rate": 2}',
    "tests/conftest.py": """
        import json
        from pathlib import Path

        import pytest


        @pytest.fixture
        def base():
            return 1


        @pytest.fixture(scope="session")
        def settings():
            return json.loads((Path(__file__).parent.parent / "data/settings.json").read_text())


        @pytest.fixture(scope="module")
        def limits():
            from calc.limits import limit

            return limit()
    """,
    "tests/test_shared.py": """
        def test_first(settings):
            assert settings["rate"] == 2


        def test_second(settings):
            assert settings["rate"] == 2


        def test_limit_one(limits):
            assert limits == 10


        def test_limit_two(limits):
            assert limits == 10


        def test_plain():
            assert True
    """,
    "tests/test_other_module.py": """
        def test_limit_elsewhere(limits):
            assert limits == 10
    """,
}


SUBPROCESSES = {
    **SAMPLE,
    "tool/__init__.py": "",
    "tool/__main__.py": """
        import sys

        from tool.cli import main

        print(main(int(sys.argv[1])))
    """,
    "tool/cli.py": """
        def main(n):
            return n * 2


        def unused(n):
            return n
    """,
    "scripts/show.py": """
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).parent.parent))
        from tool.cli import main

        print(main(5))
    """,
    "tests/test_runs.py": """
        import subprocess
        import sys
        from pathlib import Path

        ROOT = Path(__file__).parent.parent


        def test_module_run():
            command = [sys.executable, "-m", "tool", "3"]
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            assert done.stdout == "6\\n", done.stderr


        def test_script_run():
            command = [sys.executable, str(ROOT / "scripts/show.py")]
            done = subprocess.run(command, capture_output=True, text=True)
            assert done.stdout == "10\\n", done.stderr


        def test_no_subprocess():
            assert True
    """,
}

# Python children whose code cannot be recorded: without the environment, isolated, or given an
# environment of their own (the start-up never runs in them).
UNSEEN_SUBPROCESSES = {
    **SUBPROCESSES,
    "tests/test_unseen.py": """
        import os
        import subprocess
        import sys
        from pathlib import Path

        ROOT = Path(__file__).parent.parent


        def run(*command, env=None):
            return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


        def test_without_environment():
            done = run(sys.executable, "-E", "-m", "tool", "3")
            assert done.stdout == "6\\n", done.stderr


        def test_isolated():
            done = run(sys.executable, "-I", str(ROOT / "scripts/show.py"))
            assert done.stdout == "10\\n", done.stderr


        def test_own_environment():
            done = run(sys.executable, "-m", "tool", "3", env={"PATH": os.environ.get("PATH", "")})
            assert done.stdout == "6\\n", done.stderr
    """,
}

# Code that runs from files that are not the project's Python source: a template compiled under
# its own file name (as jinja2 does), a module imported from a zip archive on sys.path, and a
# module a test writes, imports and removes.
FOREIGN_CODE = {
    **SAMPLE,
    "calc/rules.tmpl": """
        def rate():
            return 3
    """,
    "calc/render.py": """
        from pathlib import Path


        def load_rules():
            path = Path(__file__).parent / "rules.tmpl"
            namespace = {}
            exec(compile(path.read_text(), str(path), "exec"), namespace)
            return namespace
    """,
    "tests/test_foreign.py": """
        import importlib
        import sys
        from pathlib import Path

        from calc.render import load_rules

        ROOT = Path(__file__).parent.parent


        def test_template_code():
            assert load_rules()["rate"]() == 3


        def test_zipped_module():
            sys.path.insert(0, str(ROOT / "vendor/bundle.zip"))
            try:
                import zipped
                assert zipped.answer() == 42
            finally:
                sys.path.pop(0)


        def test_module_written_and_removed():
            scratch = ROOT / "scratch_module.py"
            scratch.write_text("def value():\\n    return 7\\n")
            sys.path.insert(0, str(ROOT))
            try:
                assert importlib.import_module("scratch_module").value() == 7
            finally:
                sys.path.pop(0)
                scratch.unlink()
    """,
}


def _zip_module(root, answer: int) -> None:
    with zipfile.ZipFile(root / "vendor/bundle.zip", "w") as bundle:
        bundle.writestr("zipped/__init__.py", f"def answer():\n    return {answer}\n")


@pytest.fixture(params=["coverage.py", "sys.monitoring"])
def python(request) -> list[str]:
    """The recording (and selecting) interpreter's arguments: this one's child (3.11: coverage.py's
    tracer), or a 3.12+ child (the line monitor)."""
    return [] if request.param == "coverage.py" else ["--python", request.getfixturevalue("python_312")]


@pytest.fixture
def record(make_project, cli, python):
    """Make a project from files and record it with ``run --affected``."""

    def make(files: dict[str, str]):
        root = make_project(files)
        out = cli("run", str(root), "--affected", *python)
        assert out.returncode == 0, out.stdout + out.stderr
        return root

    return make


def test_failed_transient_and_rewritten_opens_select_nothing(record, python, affected):
    root = record(OPENS)
    assert affected(root, *python)["selected"] == []
    db = sqlite3.connect(root / ".testwatch" / "history.db")
    files = {path for (path,) in db.execute("select path from test_deps where kind = 'file'")}
    assert files == {"calc/data.json"}


def test_skipped_tests_are_known_and_keep_their_dependencies(record, python, affected, edit):
    root = record(SKIPS)
    assert affected(root, *python)["selected"] == []
    edit(root / "tests/test_skips.py", "assert double(2) == 4", "assert double(2) == 2 * 2")
    assert affected(root, *python)["selected"] == ["tests/test_skips.py::test_skipif"]


def test_files_read_by_a_session_fixture_belong_to_every_test_using_it(record, python, affected):
    root = record(FIXTURES)
    (root / "data/settings.json").write_text('{"rate": 3}')
    assert set(affected(root, *python)["selected"]) == {
        "tests/test_shared.py::test_first", "tests/test_shared.py::test_second",
    }


def test_code_run_by_a_module_fixture_belongs_to_every_test_using_it(record, python, affected, edit):
    root = record(FIXTURES)
    edit(root / "calc/limits.py", "return 10", "return 5 + 5")
    assert set(affected(root, *python)["selected"]) == {
        "tests/test_shared.py::test_limit_one", "tests/test_shared.py::test_limit_two",
        "tests/test_other_module.py::test_limit_elsewhere",
    }


def test_code_run_in_a_python_subprocess_belongs_to_the_test_that_started_it(record, python, affected, edit):
    root = record(SUBPROCESSES)
    assert affected(root, *python)["selected"] == []
    edit(root / "tool/cli.py", "return n * 2", "return n + n")
    assert set(affected(root, *python)["selected"]) == {
        "tests/test_runs.py::test_module_run", "tests/test_runs.py::test_script_run",
    }
    edit(root / "tool/cli.py", "return n + n", "return n * 2")
    edit(root / "tool/cli.py", "return n\n", "return -n\n")  # a function neither run calls
    assert affected(root, *python)["selected"] == []
    edit(root / "tool/__main__.py", "print(main(int(sys.argv[1])))", "print(main(int(sys.argv[-1])))")
    assert affected(root, *python)["selected"] == ["tests/test_runs.py::test_module_run"]


def test_a_python_child_that_cannot_be_recorded_selects_its_test_on_every_change(record, python, affected):
    """``python -E``/``-I`` or a child given its own environment never runs testwatch's start-up:
    what it ran is unknown, so its test is always selected, saying why; the recorded child's test
    is not."""
    root = record(UNSEEN_SUBPROCESSES)
    result = affected(root, *python)
    unseen = {"tests/test_unseen.py::test_without_environment", "tests/test_unseen.py::test_isolated",
              "tests/test_unseen.py::test_own_environment"}
    assert set(result["selected"]) == unseen
    name = Path(sys.executable if not python else python[1]).name
    reasons = result["reasons"]
    assert reasons["tests/test_unseen.py::test_without_environment"] == (
        f"it starts {name} -E, whose code testwatch cannot record")
    assert reasons["tests/test_unseen.py::test_isolated"].startswith(f"it starts {name} -I,")
    assert reasons["tests/test_unseen.py::test_own_environment"] == (
        f"it starts {name} with an environment of its own, whose code testwatch cannot record")


def test_code_from_templates_and_archives_depends_on_their_files(make_project, cli, python, affected, edit):
    """jinja2's own suite: templates compiled under their file names and a package imported from a
    zip were recorded as Python code that 'changed during the run', so 26 of its tests were
    selected on every clean tree."""
    root = make_project(FOREIGN_CODE)
    (root / "vendor").mkdir()
    _zip_module(root, 42)
    out = cli("run", str(root), "--affected", *python)
    assert out.returncode == 0, out.stdout + out.stderr
    assert affected(root, *python)["selected"] == []
    edit(root / "calc/rules.tmpl", "return 3", "return 4")
    assert affected(root, *python)["selected"] == ["tests/test_foreign.py::test_template_code"]
    edit(root / "calc/rules.tmpl", "return 4", "return 3")
    _zip_module(root, 41)
    assert affected(root, *python)["selected"] == ["tests/test_foreign.py::test_zipped_module"]



def test_a_module_file_that_is_not_python_source_depends_on_its_content(make_project, cli, affected, edit):
    """A module whose file is not a ``.py`` file (an extension module: wrapt's
    ``_wrappers.cpython-311-x86_64-linux-gnu.so``; here a source loaded from ``calc/fast.src``)
    was recorded as Python code that 'changed during the run': its importers' tests were selected
    on every clean tree (14 of wrapt 2.5.2's)."""
    root = make_project({**SAMPLE, "calc/fast.src": "ANSWER = 42\n", "tests/test_fast.py": """
        import importlib.util
        import sys
        from importlib.machinery import SourceFileLoader
        from pathlib import Path

        loader = SourceFileLoader("calc_fast", str(Path(__file__).parent.parent / "calc" / "fast.src"))
        fast = importlib.util.module_from_spec(importlib.util.spec_from_loader("calc_fast", loader))
        sys.modules["calc_fast"] = fast
        loader.exec_module(fast)


        def test_answer():
            assert fast.ANSWER == 42
    """})
    out = cli("run", str(root), "--affected")
    assert out.returncode == 0, out.stdout + out.stderr
    assert affected(root)["selected"] == []
    edit(root / "calc/fast.src", "42", "41")
    assert affected(root)["selected"] == ["tests/test_fast.py::test_answer"]
