"""A project whose pytest rootdir is not the folder testwatch runs in. Above it: a monorepo, whose
pytest config sits at the repository's root while testwatch is given a subproject; pytest's node
ids are then relative to the repository (``sub/tests/test_core.py::test_double``). Below it:
testwatch started in a folder holding a pytest project, whose config makes the rootdir once the
pytest arguments name that project. Found on h11 0.16.0 under a folder with a pytest config: an
edit that breaks three tests selected none, then everything. testwatch names tests from its own
folder (as pytest's terminal shows them run there), so the selection works as for a project on
its own."""

from __future__ import annotations

import sqlite3

from tests.watch.conftest import SAMPLE
from tests.watch.test_watch_cli import headless_watch
from testwatch.collectors.in_pytest.node_ids import ProjectIds

SUBPROJECT = {name: text for name, text in SAMPLE.items() if name != "pyproject.toml"}
# The subproject's own folder on sys.path (its modules are not installed, and the repository's
# pytest config says nothing about them).
SUBPROJECT["conftest.py"] = "import pathlib, sys\n\nsys.path.insert(0, str(pathlib.Path(__file__).parent))\n"


def _monorepo(make_project):
    make_project({"pyproject.toml": "[tool.pytest.ini_options]\n"}, name="repo")
    return make_project(SUBPROJECT, name="repo/sub")


def test_node_ids_are_named_from_the_project_folder(tmp_path):
    repo, sub = tmp_path / "repo", tmp_path / "repo" / "sub"
    sub.mkdir(parents=True)
    above = ProjectIds(str(repo), str(sub))
    assert above("sub/tests/test_a.py::TestX::test_y[a/b::c]") == "tests/test_a.py::TestX::test_y[a/b::c]"
    assert above("sub/tests/test_a.py") == "tests/test_a.py"  # a file that failed to collect
    assert above("other/test_b.py::test_z") == "../other/test_b.py::test_z"  # outside the project
    assert above("") == ""  # the session's own collection error
    below = ProjectIds(str(sub), str(repo))
    assert below("tests/test_a.py::test_x") == "sub/tests/test_a.py::test_x"
    assert ProjectIds(str(sub), str(sub))("tests/test_a.py::test_x") == "tests/test_a.py::test_x"
    event = {"event": "collected", "items": [["sub/t.py::a", ["slow"]]]}
    assert above.event(event)["items"] == [["t.py::a", ["slow"]]]


def test_an_edit_selects_the_tests_it_breaks_when_pytest_rootdir_is_above_the_project(
    make_project, cli, edit, affected
):
    root = _monorepo(make_project)
    done = cli("run", str(root), "--deps")
    assert done.returncode == 0, done.stdout + done.stderr
    # Named as pytest shows them run in the project folder, and as `pytest NODEID` takes them there.
    assert "tests/test_core.py::test_double" in done.stdout
    assert "sub/tests" not in done.stdout
    edit(root / "calc" / "core.py", "return x * RATE", "return x * RATE + 1")
    result = affected(root)
    assert not result["everything"], result["everything_reason"]
    assert result["selected"] == ["tests/test_core.py::test_double"]
    assert "calc/core.py::double changed" in result["reasons"]["tests/test_core.py::test_double"]
    why = cli("affected", str(root), "--explain", "tests/test_io.py::test_offset")
    assert "not selected: none of its" in why.stdout, why.stdout + why.stderr
    # A new test file is found as one (its path and the known tests' files are the same kind).
    (root / "tests" / "test_new.py").write_text("def test_new():\n    pass\n")
    assert affected(root)["selected"] == ["tests/test_new.py", "tests/test_core.py::test_double"]
    # The chosen tests run: the child picks pytest's items by testwatch's names.
    rerun = cli("run", str(root), "--affected")
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    assert "FAILED tests/test_core.py::test_double" in rerun.stdout, rerun.stdout
    assert "tests/test_new.py::test_new" in rerun.stdout
    assert "tests/test_io.py" not in rerun.stdout


def test_a_conftest_edit_selects_the_tests_under_it_when_pytest_rootdir_is_above(
    make_project, cli, edit, affected
):
    root = _monorepo(make_project)
    (root / "other").mkdir()
    (root / "other" / "conftest.py").write_text("")
    (root / "other" / "test_other.py").write_text("def test_other():\n    pass\n")
    assert cli("run", str(root), "--deps").returncode == 0
    (root / "tests" / "conftest.py").write_text(
        (root / "tests" / "conftest.py").read_text() + "\n\ndef pytest_report_header():\n    return 'hi'\n"
    )
    result = affected(root)
    assert sorted(result["selected"]) == [
        "tests/test_core.py::test_double",
        "tests/test_core.py::test_negate",
        "tests/test_io.py::test_offset",
    ]


def test_watch_mode_reruns_what_an_edit_breaks_when_pytest_rootdir_is_above(
    make_project, edit, wait_for, tmp_path
):
    root = _monorepo(make_project)
    log = tmp_path / "watch.log"
    with headless_watch(root, log):
        wait_for(lambda: "waiting for changes" in log.read_text())
        edit(root / "calc/core.py", "return -x", "return x")
        wait_for(lambda: "waiting for changes" in log.read_text().partition("FAIL")[2])
    after = log.read_text().split("changed: calc/core.py")[-1]
    assert "selected 1 of 3" in after, after
    assert "FAILED tests/test_core.py::test_negate" in after, after


def test_a_history_naming_tests_from_the_rootdir_above_runs_everything_once(
    make_project, cli, edit, affected
):
    root = _monorepo(make_project)
    assert cli("run", str(root), "--deps").returncode == 0
    # As testwatch recorded such a project before it named tests from the project folder.
    conn = sqlite3.connect(root / ".testwatch" / "history.db")
    with conn:
        for table in ("results", "latest_results", "test_deps", "dep_owners"):
            conn.execute(f"update {table} set nodeid = 'sub/' || nodeid where nodeid like 'tests/%::%'")
    conn.close()
    edit(root / "calc" / "core.py", "return x * RATE", "return x * RATE + 1")
    result = affected(root)
    assert result["everything"] and "names tests from" in result["everything_reason"]
    assert "sub/tests/test_core.py::test_double" in result["selected"]
    assert cli("run", str(root), "--affected").returncode == 1  # every test, recorded anew
    edit(root / "calc" / "core.py", "return x * RATE + 1", "return x * RATE + 2")
    result = affected(root)
    assert not result["everything"], result["everything_reason"]
    assert result["selected"] == ["tests/test_core.py::test_double"]


def test_an_edit_selects_the_tests_it_breaks_when_pytest_rootdir_is_below_testwatch_root(
    make_project, cli, edit, affected
):
    # testwatch runs in a folder holding a pytest project; the pytest arguments name the project,
    # so pytest finds its config there and the rootdir is that folder, below testwatch's.
    proj = {name: text for name, text in SAMPLE.items() if name != "pyproject.toml"}
    proj["pytest.ini"] = "[pytest]\npythonpath = .\n"
    root = make_project({"pyproject.toml": '[tool.testwatch]\npytest_args = ["proj"]\n'}, name="top")
    make_project(proj, name="top/proj")
    done = cli("run", str(root), "--deps")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "proj/tests/test_core.py::test_double" in done.stdout
    edit(root / "proj" / "calc" / "core.py", "return -x", "return x")
    result = affected(root)
    assert not result["everything"], result["everything_reason"]
    assert result["selected"] == ["proj/tests/test_core.py::test_negate"]
    rerun = cli("run", str(root), "--affected")
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    assert "FAILED proj/tests/test_core.py::test_negate" in rerun.stdout, rerun.stdout


SHARED_CONFTEST = "import pytest\n\n\n@pytest.fixture(autouse=True)\ndef shared():\n    yield\n"


def _monorepo_with_shared_conftest(make_project):
    """A repository (``.git``) whose root conftest.py every subproject's tests use, below a folder
    with a conftest.py pytest never reads (above the repository)."""
    make_project({"conftest.py": "raise RuntimeError('never read')\n"}, name=".")
    make_project({"pyproject.toml": "[tool.pytest.ini_options]\n", "conftest.py": SHARED_CONFTEST,
                  ".git/HEAD": "ref: refs/heads/main\n"}, name="repo")
    return make_project(SUBPROJECT, name="repo/sub")


def test_an_edit_of_a_conftest_above_the_project_selects_every_test(make_project, cli, edit, affected):
    root = _monorepo_with_shared_conftest(make_project)
    assert cli("run", str(root), "--deps").returncode == 0
    edit(root.parent.parent / "conftest.py", "never read", "still never read")  # above the repository
    assert affected(root)["selected"] == []
    edit(root.parent / "conftest.py", "    yield", "    yield\n    assert False, 'shared teardown'")
    result = affected(root)
    assert result["everything"], result
    assert "above the project" in result["everything_reason"]
    assert len(result["selected"]) == 3
    rerun = cli("run", str(root), "--affected")
    assert rerun.returncode == 1 and "shared teardown" in rerun.stdout, rerun.stdout + rerun.stderr


def test_watch_mode_sees_a_conftest_above_the_project_change(make_project, edit, wait_for, tmp_path):
    root = _monorepo_with_shared_conftest(make_project)
    log = tmp_path / "watch.log"
    with headless_watch(root, log):
        wait_for(lambda: "waiting for changes" in log.read_text())
        edit(root.parent / "conftest.py", "    yield", "    yield\n    assert False, 'shared teardown'")
        wait_for(lambda: "waiting for changes" in log.read_text().partition("changed: ../conftest.py")[2])
    after = log.read_text().split("changed: ../conftest.py")[-1]
    assert "selected every test" in after, after
    assert "shared teardown" in after, after


def test_files_above_are_those_up_to_pytest_config_file(tmp_path):
    from testwatch.select.environment import files_above, places_above

    repo, sub = tmp_path / "repo", tmp_path / "repo" / "pkg" / "sub"
    sub.mkdir(parents=True)
    for folder in (tmp_path, repo, repo / "pkg"):
        (folder / "conftest.py").write_text("")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (repo / ".git").mkdir()
    assert places_above(sub) == []  # no pytest config up to the repository's top: rootdir is sub
    (repo / "tox.ini").write_text("[tox]\n")  # not pytest's
    (repo / "setup.cfg").write_text("[tool:pytest]\n")
    found = [relative for relative, _ in files_above(sub)]
    assert found == ["../conftest.py", "../../conftest.py", "../../tox.ini", "../../setup.cfg"]
    assert {path.parent for _, path in places_above(sub)} == {repo, repo / "pkg"}
    (sub / "pytest.ini").write_text("[pytest]\n")  # its own config: pytest reads nothing above
    assert places_above(sub) == []
