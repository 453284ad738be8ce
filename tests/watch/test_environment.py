"""The environment fingerprint is the one of the interpreter that runs the tests (``--python``),
whichever interpreter testwatch itself runs on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest


@pytest.fixture
def tests_venv(tmp_path) -> Path:
    """A second venv of this venv's base interpreter (the same real executable), with nothing
    installed of its own: it sees this venv's packages through a ``.pth`` file."""
    venv = tmp_path / "tests-venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(purelib, "borrowed.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    assert os.path.realpath(python) == os.path.realpath(sys.executable)
    return python


def test_affected_from_another_interpreter_keeps_the_recorded_environment(recorded, cli, tests_venv):
    out = cli("run", str(recorded), "--deps", "--python", str(tests_venv))
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(cli("affected", str(recorded), "--json", "--python", str(tests_venv)).stdout)[
        "selected"] == []
    # testwatch itself now runs on the tests' venv, still pointed at it by --python.
    out = subprocess.run(
        [str(tests_venv), "-m", "testwatch", "affected", str(recorded), "--json", "--python",
         str(tests_venv)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["everything"] is False, result["everything_reason"]
    assert result["selected"] == []


def test_the_tests_python_version_comes_from_the_interpreter_that_runs_them(tests_venv, tmp_path):
    # Which recorder a run will use (coverage.py before 3.12) is the tests' interpreter's affair.
    from testwatch.select.environment import python_version

    assert python_version(None) == sys.version_info[:2]
    assert python_version(str(tests_venv)) == sys.version_info[:2]  # from its pyvenv.cfg
    assert python_version(str(tmp_path / "nowhere" / "python")) is None
    uv = tmp_path / "uv-venv"
    (uv / "bin").mkdir(parents=True)
    (uv / "pyvenv.cfg").write_text("home = /usr/bin\nimplementation = CPython\nversion_info = 3.13.1\n")
    assert python_version(str(uv / "bin" / "python")) == (3, 13)
    other = sorted(Path.home().glob(".pyenv/versions/3.1[23].*/bin/python3"))
    if other:  # no virtualenv: the interpreter is asked
        asked = subprocess.run([str(other[0]), "-c", "import sys; print(sys.version_info[1])"],
                               capture_output=True, text=True, check=True).stdout.strip()
        assert python_version(str(other[0])) == (3, int(asked))
