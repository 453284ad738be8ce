"""Scenario 16: the project's Python has no pytest, or ``--python`` names nothing runnable: a clear
error that says what to install or fix, no traceback, and the run recorded with the reason."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROJECT = {"tests/test_one.py": "def test_one():\n    pass\n"}


def test_python_without_pytest_says_what_to_install(make_project, cli, history_of, query, tmp_path):
    root = make_project(PROJECT)
    venv = tmp_path / "bare venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    done = cli("run", str(root), "--python", str(python))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    advice = f"pytest is not installed for {python}: run {python} -m pip install pytest"
    assert advice in done.stdout
    [(message,)] = query(history_of(root), "select message from runs")
    assert advice in message


@pytest.mark.parametrize("python", ["/no/such/python", "/etc/hostname", "no-such-python-on-path"])
def test_missing_interpreter_is_a_clear_usage_error(python, make_project, cli):
    root = make_project(PROJECT)
    done = cli("run", str(root), "--python", python)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot run the Python interpreter {python} (" in done.stdout
    assert "a Python that has pytest installed" in done.stdout


def test_python_from_the_config_file_is_checked_too(make_project, cli):
    root = make_project({**PROJECT, "pyproject.toml": '[tool.testwatch]\npython = "venv/bin/python"\n'})
    done = cli("run", str(root))
    assert done.returncode == 4
    assert "cannot run the Python interpreter venv/bin/python (No such file or directory)" in done.stdout
