"""Real selections after real edits: record with ``run --affected``, edit, ask ``affected``."""

from __future__ import annotations

import re
import sqlite3
import subprocess

from tests.watch.conftest import SAMPLE
from testwatch.history.store import open_history
from testwatch.measure.line_coverage import uncovered_changed_lines


def test_first_run_records_dependencies_and_coverage(recorded):
    db = sqlite3.connect(recorded / ".testwatch" / "history.db")
    kinds = {kind for (kind,) in db.execute("select kind from test_deps")}
    assert {"block:double", "block:test_double", "module", "file"} <= kinds
    covered = dict(db.execute("select file, percent from coverage"))
    assert covered["calc/core.py"] == 100.0
    assert "tests/test_core.py" not in covered


def test_nothing_changed_selects_nothing(recorded, cli, affected):
    assert affected(recorded)["selected"] == []


def test_function_body_edit_selects_only_its_callers(recorded, cli, edit, affected):
    edit(recorded / "calc/core.py", "return -x", "return 0 - x")
    result = affected(recorded)
    assert result["selected"] == ["tests/test_core.py::test_negate"]
    assert result["reasons"]["tests/test_core.py::test_negate"] == "calc/core.py::negate changed"


def test_shifted_lines_and_comments_are_not_changes(recorded, cli, affected):
    path = recorded / "calc/core.py"
    path.write_text("# a comment\n\n\n" + path.read_text() + "\n# trailing\n")
    assert affected(recorded)["selected"] == []


def test_module_constant_selects_the_tests_that_read_it(recorded, cli, edit, affected):
    edit(recorded / "calc/core.py", "RATE = 2", "RATE = 3")
    result = affected(recorded)
    assert result["selected"] == ["tests/test_core.py::test_double"]
    assert "reads RATE" in result["reasons"]["tests/test_core.py::test_double"]


def test_data_file_selects_the_tests_that_read_it(recorded, cli, affected):
    (recorded / "calc/data.json").write_text('{"offset": 11}')
    result = affected(recorded, "--explain", "tests/test_core.py::test_double")
    assert result["selected"] == ["tests/test_io.py::test_offset"]
    assert result["reasons"]["tests/test_io.py::test_offset"] == "data file calc/data.json changed"
    assert result["explain"]["tests/test_core.py::test_double"].startswith("not selected")


EVERY_TEST = {
    "tests/test_core.py::test_double", "tests/test_core.py::test_negate", "tests/test_io.py::test_offset",
}


def test_conftest_fixture_body_selects_the_tests_that_use_it(recorded, cli, edit, affected):
    edit(recorded / "tests/conftest.py", "return 1", "return 2")
    result = affected(recorded)
    assert result["selected"] == ["tests/test_core.py::test_double"]
    assert result["reasons"]["tests/test_core.py::test_double"] == "tests/conftest.py::base changed"
    out = cli("run", str(recorded))  # the whole suite: the selected test is the one that breaks
    failed = [line for line in out.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(failed) == 1 and failed[0].endswith("tests/test_core.py::test_double"), out.stdout


def test_conftest_decorator_change_selects_every_test_under_it(recorded, cli, edit, affected):
    edit(recorded / "tests/conftest.py", "@pytest.fixture\n", "@pytest.fixture(autouse=True)\n")
    result = affected(recorded)
    assert set(result["selected"]) == EVERY_TEST
    why = result["reasons"]["tests/test_io.py::test_offset"]
    assert "a conftest.py applies to every test under tests" in why


def test_conftest_hook_body_selects_every_test_under_it(recorded, cli, edit, affected):
    conftest = recorded / "tests/conftest.py"
    conftest.write_text(conftest.read_text() + "\n\ndef pytest_collection_modifyitems(items):\n    pass\n")
    assert set(affected(recorded)["selected"]) == EVERY_TEST
    cli("run", str(recorded), "--affected")
    assert affected(recorded)["selected"] == []
    edit(conftest, "    pass\n", "    items.reverse()\n")  # a hook runs outside any test
    assert set(affected(recorded)["selected"]) == EVERY_TEST


def test_new_test_file_is_selected_whole_and_runs(recorded, cli, affected):
    (recorded / "tests/test_new.py").write_text("def test_one():\n    assert True\n")
    assert affected(recorded)["selected"] == ["tests/test_new.py"]
    out = cli("run", str(recorded), "--affected")
    assert "tests/test_new.py::test_one" in out.stdout, out.stdout
    assert affected(recorded)["selected"] == []


def test_new_tests_in_a_known_file_run_first_with_the_affected_ones(recorded, cli, affected):
    # A test written into an existing file, or a parameter added to a known test, is not in the
    # history: the selection names the file's known tests, and the child runs the new ones too.
    test_core = recorded / "tests/test_core.py"
    test_core.write_text(test_core.read_text() + (
        "\n\nimport pytest\n\n\ndef test_written_now():\n    assert double(2) == 5\n\n\n"
        "@pytest.mark.parametrize('x', [1, 2])\ndef test_params(x):\n    assert negate(x) == -x\n"
    ))
    known = {"tests/test_core.py::test_double", "tests/test_core.py::test_negate"}
    assert set(affected(recorded)["selected"]) == known
    out = cli("run", str(recorded), "--affected")
    assert out.returncode == 1, out.stdout
    ran = _ran(out.stdout)
    assert ran[:3] == ["tests/test_core.py::test_written_now", "tests/test_core.py::test_params[1]",
                       "tests/test_core.py::test_params[2]"]  # new first, in their file's order
    assert set(ran[3:]) == known

    test_core.write_text(test_core.read_text().replace("[1, 2]", "[1, 2, 3]"))
    ran = _ran(cli("run", str(recorded), "--affected").stdout)
    # The new parameter first, then the test that failed last time.
    assert ran[:2] == ["tests/test_core.py::test_params[3]", "tests/test_core.py::test_written_now"]


def test_a_new_test_that_kills_pytest_is_blamed_once_and_the_rest_run(recorded, cli):
    # The restarted pytest counts the new tests that already ran as known: it does not run the
    # crashing one again (and again, until the restarts run out).
    test_core = recorded / "tests/test_core.py"
    # The new import is not followed by name: the file's known tests run too.
    test_core.write_text("import os\n" + test_core.read_text() + "\n\ndef test_exits():\n    os._exit(3)\n")
    out = cli("run", str(recorded), "--affected")
    assert out.returncode == 1, out.stdout
    ran = _ran(out.stdout)
    assert set(ran) == {"tests/test_core.py::test_double", "tests/test_core.py::test_negate"}
    assert out.stdout.count("tests/test_core.py::test_exits") >= 1
    assert "2 passed, 1 crashed" in out.stdout


def _ran(output: str) -> list[str]:
    """The tests a ``testwatch run`` printed a result line for, in order."""
    return [m.group(1) for m in re.finditer(r"^(?:PASS|FAIL) +\S+ m?s +(\S+)$", output, re.MULTILINE)]


def test_failures_stay_selected_and_come_first(recorded, cli, edit, affected):
    edit(recorded / "calc/core.py", "return -x", "return x")
    out = cli("run", str(recorded), "--affected")
    assert out.returncode == 1
    edit(recorded / "calc/core.py", "return x * RATE", "return RATE * x")
    selected = affected(recorded)["selected"]
    assert selected == ["tests/test_core.py::test_negate", "tests/test_core.py::test_double"]


def test_config_change_selects_everything(recorded, cli, affected):
    with (recorded / "pyproject.toml").open("a") as f:
        f.write('addopts = "-q"\n')
    result = affected(recorded)
    assert result["everything"] is True
    assert "config" in result["everything_reason"]


def test_recording_works_under_xdist(sample, cli, edit, affected):
    out = cli("run", str(sample), "--affected", "--", "-n", "2")
    assert out.returncode == 0, out.stdout + out.stderr
    edit(sample / "calc/core.py", "return -x", "return 0 - x")
    assert affected(sample)["selected"] == ["tests/test_core.py::test_negate"]


def test_changed_lines_no_test_covers(sample, cli, edit):
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=sample, check=True)
    subprocess.run([*git, "add", "."], cwd=sample, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=sample, check=True)
    edit(sample / "calc/core.py", "def negate(x):", "def unused(x):\n    return x + 1\n\n\ndef negate(x):")
    edit(sample / "calc/core.py", "return -x", "return 0 - x")
    out = cli("run", str(sample), "--affected")
    assert out.returncode == 0, out.stdout
    history = open_history(sample / ".testwatch" / "history.db")
    try:
        uncovered = uncovered_changed_lines(history, sample)
    finally:
        history.close()
    lines = (sample / "calc/core.py").read_text().splitlines()
    assert uncovered == {"calc/core.py": [lines.index("    return x + 1") + 1]}


def test_config_change_lists_every_known_test_in_json(recorded, cli, edit, affected):
    edit(recorded / "pyproject.toml", 'testpaths = ["tests"]', 'testpaths = ["tests"]\naddopts = "-q"')
    result = affected(recorded)
    assert result["everything"] is True
    assert "config" in result["everything_reason"]
    assert sorted(result["selected"]) == [
        "tests/test_core.py::test_double", "tests/test_core.py::test_negate",
        "tests/test_io.py::test_offset",
    ]


def test_json_lists_every_test_when_none_has_recorded_dependencies(sample, cli, affected):
    out = cli("run", str(sample))  # a plain run: results, no dependencies
    assert out.returncode == 0, out.stdout + out.stderr
    result = affected(sample)
    assert result["everything"] is True
    assert result["everything_reason"].startswith("no recorded dependencies yet")
    assert sorted(result["selected"]) == [
        "tests/test_core.py::test_double", "tests/test_core.py::test_negate",
        "tests/test_io.py::test_offset",
    ]


def test_test_files_pytest_leaves_out_are_not_new(make_project, cli, affected):
    root = make_project({
        **SAMPLE,
        "pyproject.toml": SAMPLE["pyproject.toml"].replace(
            "pythonpath", 'norecursedirs = ["cases"]\n        pythonpath'),
        "tests/cases/test_case_data.py": "def test_not_collected():\n    raise AssertionError\n",
        "docs/test_outside_testpaths.py": "def test_not_collected():\n    raise AssertionError\n",
    })
    out = cli("run", str(root), "--deps")
    assert out.returncode == 0, out.stdout + out.stderr
    assert affected(root)["selected"] == []
    (root / "tests/test_added.py").write_text("def test_added():\n    assert True\n")
    assert affected(root)["selected"] == ["tests/test_added.py"]


def test_session_fixture_body_selects_every_test_that_uses_it(make_project, cli, edit, affected):
    root = make_project({
        "tests/conftest.py": """
            import pytest


            @pytest.fixture(scope="session")
            def config():
                return {"rate": 2}
        """,
        "tests/test_one.py": """
            def test_first(config):
                assert config["rate"] == 2


            def test_second(config):
                assert config["rate"] > 1


            def test_without():
                assert True
        """,
    })
    assert cli("run", str(root), "--affected").returncode == 0
    edit(root / "tests/conftest.py", '{"rate": 2}', '{"rate": 3}')
    # The setup ran once, in the first test; it is recorded for both tests that use the fixture.
    selected = set(affected(root)["selected"])
    assert selected == {"tests/test_one.py::test_first", "tests/test_one.py::test_second"}


def test_an_ignored_module_the_tests_import_is_no_dependency(make_project, cli, affected):
    # setuptools-scm and hatch-vcs write a _version.py that .gitignore names: not the project's
    # code to watch. Its import must not select the importing file's tests on a clean tree.
    root = make_project({
        "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["."]\n',
        ".gitignore": "pkg/_version.py\n",
        "pkg/__init__.py": "from pkg._version import version\n",
        "pkg/_version.py": "version = '1.0'\n",
        "tests/test_version.py": "from pkg import version\n\n\ndef test_version():\n    assert version\n",
    })
    assert cli("run", str(root), "--affected").returncode == 0
    assert affected(root)["selected"] == []
