"""The fingerprint of what every test depends on: Python version, installed packages, config files.

When it differs from the one stored at the last complete recorded run, every test is selected.
Packages are fingerprinted by the names of the ``*.dist-info`` folders (name and version) in the
site-packages of the interpreter that runs the tests (``--python`` or the config's ``python``, else
testwatch's own), which is cheap enough to do on every change. A virtualenv's interpreter is read
from its folder (``pyvenv.cfg``, ``lib/python*/site-packages``), never run: ``testwatch
affected`` runs nothing the project provides.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import suppress
from functools import lru_cache
from pathlib import Path

from testwatch.select.fingerprints import content_hash

CONFIG_FILES = ("pyproject.toml", "pytest.ini", "tox.ini", "setup.cfg", "setup.py", ".testwatch.toml")
_PROBE = "import json, site, sys; print(json.dumps([sys.version, [p for p in sys.path if p]]))"


@lru_cache(maxsize=8)
def _interpreter(python: str) -> tuple[str, tuple[str, ...]]:
    """The version and import path of ``python``: this process's own only when it is the very
    same program path. Two venvs of one base interpreter resolve to the same real executable but
    hold different packages, so a resolved path says nothing about what the tests import."""
    venv = Path(python).absolute().parent.parent  # not resolved: the link lives in the virtualenv
    with suppress(OSError):
        described = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
        site_folders = [*venv.glob("lib/python*/site-packages"), *venv.glob("Lib/site-packages")]
        return f"virtualenv {described}", tuple(sorted(map(str, site_folders)))
    if os.path.abspath(shutil.which(python) or python) == os.path.abspath(sys.executable):
        return sys.version, tuple(p for p in sys.path if p)
    try:
        out = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=30)
        version, paths = json.loads(out.stdout)
        return version, tuple(paths)
    except (OSError, ValueError, subprocess.SubprocessError):
        return f"unknown interpreter {python}", ()


def _installed(paths: tuple[str, ...]) -> list[str]:
    names = []
    for folder in paths:
        if "site-packages" not in folder and "dist-packages" not in folder:
            continue
        try:
            names += [e for e in os.listdir(folder) if e.endswith((".dist-info", ".egg-info", ".pth"))]
        except OSError:
            continue
    return sorted(names)


def _located(root: Path, python: str) -> str:
    """Where ``python`` is: a path is relative to the project (as the child starts there); a bare
    name is looked up on PATH."""
    if "/" in python or os.sep in python:
        return str(root / python)
    return shutil.which(python) or python


def environment_fingerprint(root: Path, python: str | None) -> str:
    """A hash of the interpreter version, its installed packages and the project's config files."""
    version, paths = _interpreter(_located(root, python) if python else sys.executable)
    parts = [version, *_installed(paths)]
    for name in CONFIG_FILES:
        try:
            parts.append(f"{name}:{content_hash((root / name).read_bytes())}")
        except OSError:
            parts.append(f"{name}:-")
    return content_hash("\n".join(parts).encode("utf-8"))
