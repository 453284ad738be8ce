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
