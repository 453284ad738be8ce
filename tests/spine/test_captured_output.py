"""A failure's captured output in ``testwatch run``: pytest's sections, by pytest's names and in its
order, printed literally, and pytest's own ``--show-capture`` and ``-s`` obeyed. Real pytest
children (testwatch's and a plain one beside it), a real history."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

LOUD = {
    "tests/test_loud.py": r"""
        import logging
        import sys

        import pytest


        @pytest.fixture
        def noisy():
            print("setup says hi")
            yield
            print("teardown says bye")


        def test_fails_loudly(noisy):
            print("out \x1b[31mred\x1b[0m [bold]not markup[/bold]")
            print("err line", file=sys.stderr)
            logging.getLogger("app").warning("log line")
            assert 1 == 2


        @pytest.fixture
        def broken():
            print("before the fixture broke")
            raise RuntimeError("fixture exploded")


        def test_errors_in_setup(broken):
            pass


        def test_passes_quietly():
            print("a passing test's output is not printed")
    """,
}
_SECTION = re.compile(r"^-+ (Captured .+?) -+$", re.MULTILINE)


def _blocks(output: str, headline: re.Pattern) -> dict[str, list[str]]:
    """Test name -> the captured section titles printed under its failure report."""
    found: dict[str, list[str]] = {}
    parts = headline.split(output)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        found[name] = _SECTION.findall(body)
    return found


def _pytest_sections(root, *args: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    cut = done.stdout.split("short test summary info")[0]
    return _blocks(cut, re.compile(r"^_+ (?:ERROR at \w+ of )?(test_\w+) _+$", re.MULTILINE))


def _testwatch_sections(output: str) -> dict[str, list[str]]:
    headline = re.compile(r"^_+ tests/test_loud\.py::(test_\w+) \[\w+\] _+$", re.MULTILINE)
    return _blocks(output.split("\n\nFAILED ")[0].split("\n\nERROR ")[0], headline)


def test_a_failure_prints_pytests_captured_sections_literally(make_project, cli):
    root = make_project(LOUD)
    done = cli("run", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    shown = _testwatch_sections(done.stdout)
    assert shown["test_fails_loudly"] == [
        "Captured stdout setup", "Captured stdout call", "Captured stderr call", "Captured log call",
        "Captured stdout teardown",
    ]
    assert shown == _pytest_sections(root)  # the names and order pytest prints, test by test
    out = done.stdout
    lines = out.splitlines()
    for printed in ("setup says hi", "err line", "teardown says bye", "before the fixture broke"):
        assert printed in lines
    assert re.search(r"^WARNING +app:test_loud\.py:\d+ log line$", out, re.MULTILINE)  # pytest's format
    assert "\x1b" not in out  # the test's escape is shown, not obeyed
    assert r"out \x1b[31mred\x1b[0m [bold]not markup[/bold]" in out
    assert "a passing test's output is not printed" not in lines


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--show-capture=log"], ["Captured log call"]),
        (["--show-capture=stderr"], ["Captured stderr call"]),
        (["--show-capture=no"], []),
        (["-s"], ["Captured log call"]),  # pytest captures no stdout or stderr: nothing to print
    ],
    ids=["log", "stderr", "no", "capture-no"],
)
def test_pytests_own_capture_options_choose_the_sections(make_project, cli, args, expected):
    root = make_project(LOUD)
    done = cli("run", str(root), "--", *args)
    assert done.returncode == 1, done.stdout + done.stderr
    shown = _testwatch_sections(done.stdout)
    assert shown["test_fails_loudly"] == expected
    assert shown == _pytest_sections(root, *args)
    assert ("err line" in done.stdout.splitlines()) == ("Captured stderr call" in expected)


def test_show_capture_from_the_projects_addopts_counts(make_project, cli):
    root = make_project({**LOUD, "pytest.ini": "[pytest]\naddopts = --show-capture=stdout\n"})
    done = cli("run", str(root))
    assert done.returncode == 1, done.stdout + done.stderr
    assert _testwatch_sections(done.stdout)["test_fails_loudly"] == [
        "Captured stdout setup", "Captured stdout call", "Captured stdout teardown",
    ]
    lines = done.stdout.splitlines()
    assert "err line" not in lines and not any(line.endswith(" log line") for line in lines)
