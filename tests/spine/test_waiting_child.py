"""``testwatch run --affected`` starts its recording pytest before the selection is made: the
child imports pytest and the plugins, then waits on stdin for the rest of its run
(``launch.launch_waiting``, ``record_first``)."""

from __future__ import annotations

import subprocess
import sys

from testwatch.config.settings import load_config
from testwatch.run.child_command import DEFAULT_PLUGINS, DEPS_PLUGIN, pytest_command, selection_env
from testwatch.run.launch import launch_waiting
from testwatch.run.recording_start import start_recording

PROJECT = {
    "tests/test_marks.py": """
        import pathlib


        def test_first():
            pathlib.Path("first-ran").write_text("x")


        def test_second():
            pathlib.Path("second-ran").write_text("x")
    """,
}


def _whole_argv(config, args: list[str]) -> list[str]:
    return pytest_command(
        sys.executable, [*DEFAULT_PLUGINS, DEPS_PLUGIN], args, config.history_path.parent, config.root
    )


def test_a_waiting_child_runs_the_selection_it_is_given(make_project):
    root = make_project(PROJECT)
    config = load_config(root)
    child = launch_waiting(config)
    assert child is not None and child.waiting
    recording = start_recording_for(config)
    try:
        select = ["tests/test_marks.py::test_second"]
        argv = _whole_argv(config, [*recording.pytest_args, "tests/test_marks.py"])
        assert child.release(argv, selection_env(child.workdir, select))
        output = child.process.stdout.read().decode()
        assert child.process.wait(timeout=120) == 0, output
        assert (root / "second-ran").exists()
        assert not (root / "first-ran").exists()  # the selection reached the plugin
        assert list(recording.out_dir.glob("deps.*.json"))  # and it recorded
    finally:
        child.adopted = False
        child.discard()


def test_a_waiting_child_runs_nothing_when_its_stdin_ends(make_project):
    root = make_project(PROJECT)
    config = load_config(root)
    child = launch_waiting(config)
    assert child is not None
    child.process.stdin.close()  # what testwatch's exit, or a discard, does
    assert child.process.wait(timeout=60) == 0
    assert not (root / "first-ran").exists() and not (root / "second-ran").exists()
    child.discard()
    assert not child.workdir.exists()


def test_a_waiting_child_is_not_given_a_run_it_was_not_started_for(make_project):
    root = make_project(PROJECT)
    config = load_config(root)
    child = launch_waiting(config)
    assert child is not None
    try:
        other = [sys.executable, "-m", "pytest", "tests"]
        assert not child.release(other, {})
        assert child.waiting and child.process.poll() is None  # still waiting, nothing sent
    finally:
        child.discard()
    assert child.process.poll() is not None
    assert not child.workdir.exists()


def test_run_affected_with_nothing_selected_leaves_no_child(make_project, tmp_path):
    root = make_project(PROJECT)
    run = [sys.executable, "-m", "testwatch", "run", str(root), "--affected"]
    assert subprocess.run(run, capture_output=True, timeout=120).returncode == 0
    (root / "first-ran").unlink()
    temp = tmp_path / "temp"
    temp.mkdir()
    done = subprocess.run(run, capture_output=True, text=True, timeout=120, env=_env(TMPDIR=str(temp)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "info: no tests are affected by the changes" in done.stdout
    assert not (root / "first-ran").exists()
    assert list(temp.iterdir()) == []  # the waiting child's folder went with it


def test_a_waiting_child_runs_under_the_projects_filterwarnings_error(make_project, cli):
    # It imports testwatch's plugins before pytest loads them with -p; a plugin without pytest's
    # PYTEST_DONT_REWRITE mark made pytest warn that it cannot rewrite it, which
    # filterwarnings = error (itsdangerous's, toolz's) turned into a failed start: no test ran.
    # (The deprecation pytest-asyncio, of the test extra, warns of in projects that do not set
    # its loop scope is let through.)
    config = ('[tool.pytest.ini_options]\n'
              'filterwarnings = ["error", "ignore::pytest.PytestDeprecationWarning"]\n')
    root = make_project({**PROJECT, "pyproject.toml": config})
    first = cli("run", str(root), "--affected")  # no history: every test, in a waiting child
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2 passed" in first.stdout
    tests = root / "tests" / "test_marks.py"
    second = '("second-ran").write_text'
    tests.write_text(tests.read_text().replace(f'{second}("x")', f'{second}("y")'))
    again = cli("run", str(root), "--affected")  # a selection, in a waiting child
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 passed" in again.stdout


def start_recording_for(config):
    from testwatch.collectors.in_testwatch.project_files import IgnoreRules

    return start_recording(IgnoreRules(config.root, config.ignore, config.history_path), config.branch)


def _env(**extra: str) -> dict[str, str]:
    import os

    return {**{k: v for k, v in os.environ.items() if k != "TESTWATCH_DB"}, **extra}
