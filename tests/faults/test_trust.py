"""The trust model: a project's config names an interpreter; testwatch runs it only from the
project's own virtualenv or when the user says so, and ``affected``, ``history`` and ``export``
run nothing the project provides (a cloned repo's ``python = "./evil.sh"`` ran on ``affected``)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

SUITE = {"tests/test_one.py": "def test_one():\n    pass\n"}


def _script(path: Path, marker: Path, then: str = "exit 1") -> None:
    """An executable that leaves ``marker`` behind when anything runs it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\necho ran >> "{marker}"\n{then}\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize("command", ["affected", "history", "export", "run"])
def test_an_interpreter_the_config_names_outside_its_virtualenv_never_runs(make_project, cli, command,
                                                                            tmp_path):
    marker = tmp_path / "evil-ran"
    root = make_project({**SUITE, "pyproject.toml": '[tool.testwatch]\npython = "./evil.sh"\n'})
    _script(root / "evil.sh", marker)
    assert cli("run", str(root), "--python", sys.executable).returncode == 0  # a history to read
    done = cli(command, str(root))
    assert done.returncode == 4, done.stdout + done.stderr
    assert "python = './evil.sh' is not in the project's virtualenv" in done.stderr
    assert "--python ./evil.sh or set TESTWATCH_PYTHON" in done.stderr
    assert not marker.exists()


def test_the_users_word_and_the_projects_virtualenv_are_trusted(make_project, cli, tmp_path):
    marker = tmp_path / "venv-python-ran"
    root = make_project({**SUITE, "pyproject.toml": '[tool.testwatch]\npython = ".venv/bin/python"\n',
                         ".venv/pyvenv.cfg": f"home = {Path(sys.executable).parent}\n"})
    # The virtualenv's interpreter: a wrapper that notes each start, then is this Python.
    _script(root / ".venv" / "bin" / "python", marker, then=f'exec "{sys.executable}" "$@"')
    done = cli("run", str(root), "--deps")
    assert done.returncode == 0, done.stdout + done.stderr
    assert marker.exists()  # the run used the project's virtualenv
    marker.unlink()
    for command in ("affected", "history", "export"):
        done = cli(command, str(root))
        assert done.returncode == 0, done.stdout + done.stderr
    assert not marker.exists()  # the read-only commands ran nothing from the project
    assert "0 of 1 known tests selected" in cli("affected", str(root)).stdout  # same fingerprint

    evil = {**SUITE, "pyproject.toml": '[tool.testwatch]\npython = "./evil.sh"\n'}
    root = make_project(evil, name="cloned")
    _script(root / "evil.sh", marker)
    assert cli("run", str(root), "--python", sys.executable).returncode == 0
    assert cli("run", str(root), env={"TESTWATCH_PYTHON": sys.executable}).returncode == 0
    assert not marker.exists()


def test_a_virtualenv_link_to_another_project_file_is_not_trusted(make_project, cli, tmp_path):
    marker = tmp_path / "evil-ran"
    root = make_project({**SUITE, "pyproject.toml": '[tool.testwatch]\npython = ".venv/bin/python"\n',
                         ".venv/pyvenv.cfg": "home = /usr/bin\n"})
    _script(root / "tools" / "evil.sh", marker)
    (root / ".venv" / "bin").mkdir()
    os.symlink(root / "tools" / "evil.sh", root / ".venv" / "bin" / "python")
    done = cli("affected", str(root))
    assert done.returncode == 4
    assert not marker.exists()
