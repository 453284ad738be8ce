"""Scenario 12: an invalid ``[tool.testwatch]`` table stops testwatch with one clear sentence that
names the file and the key, exit status 4 (pytest's usage error), no traceback and no history."""

from __future__ import annotations

import pytest

from testwatch.cli.main import main

CASES = {
    "unknown key": ('colour = "red"', "[tool.testwatch]: unknown key 'colour' (known keys: "),
    "wrong type": ('pytest_args = "-x"', "[tool.testwatch]: pytest_args: expected a list of strings"),
    "bad duration": ('timeout = "soon"', "[tool.testwatch]: timeout: 'soon' is not a number"),
    "negative duration": ("timeout = -3", "[tool.testwatch]: timeout: a duration cannot be negative"),
    "negative count": ("max_restarts = -1", "max_restarts: expected a whole number >= 0, got -1"),
    "bad choice": ('on_change = "explode"', "on_change: expected one of 'restart', 'wait'"),
    "negative threshold": (
        "[tool.testwatch.thresholds]\npeak_memory = -5",
        "[tool.testwatch.thresholds] peak_memory: a size cannot be negative, got -5",
    ),
    "threshold out of range": (
        "[tool.testwatch.thresholds]\ncoverage = 150",
        "[tool.testwatch.thresholds] coverage: expected a percentage from 0 to 100, got 150",
    ),
    "unknown threshold": ("[tool.testwatch.thresholds]\nduration = 1", "duration: unknown threshold"),
    "invalid TOML": ("timeout = ", "pyproject.toml: not valid TOML: "),
}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_config_names_the_file_and_key(case, make_project, capsys):
    setting, expected = CASES[case]
    root = make_project({
        "pyproject.toml": f"[tool.testwatch]\n{setting}\n",
        "tests/test_one.py": "def test_one():\n    pass\n",
    })
    # The real command line, in this process: the config is checked before anything starts.
    assert main(["run", str(root)]) == 4
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"testwatch: {root / 'pyproject.toml'}")
    assert expected in line
    assert not (root / ".testwatch").exists()  # nothing started on a half-understood config


def test_invalid_command_line_value_names_the_option(make_project, capsys):
    root = make_project({"tests/test_one.py": "def test_one():\n    pass\n"})
    assert main(["run", str(root), "--timeout", "-1"]) == 4
    message = capsys.readouterr().err.strip()
    assert message == "testwatch: command line: timeout: '-1' is not a number with an optional unit"
