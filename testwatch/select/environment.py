"""The fingerprint of what every test depends on: Python version, installed packages, config files.

When it differs from the one stored at the last complete recorded run, every test is selected.
Packages are fingerprinted by the names of the ``*.dist-info`` folders (name and version) in the
site-packages of the interpreter that runs the tests (``--python`` or the config's ``python``, else
testwatch's own), which is cheap enough to do on every change. A virtualenv's interpreter is read
from its folder (``pyvenv.cfg``, ``lib/python*/site-packages``), never run: ``testwatch
affected`` runs nothing the project provides. No part names a folder, so the same environment
in another folder or on another machine (a CI job that seeds a selection bundle) has the same
fingerprint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import suppress
from functools import lru_cache
from pathlib import Path

from testwatch.config.pytest_ini import holds_pytest_config
from testwatch.select.content_hashes import content_hash

CONFIG_FILES = ("pyproject.toml", "pytest.ini", "tox.ini", "setup.cfg", "setup.py", ".testwatch.toml")
ABOVE_FILES = ("conftest.py", ".pytest.ini")  # read by pytest from the folders above too
# pyvenv.cfg keys that name folders (where the venv or its base interpreter is): only their file name
# is kept (``python3.12`` of ``executable``), or nothing when it is a folder.
_VENV_PATH_KEYS = ("home", "command", "executable", "base-executable", "base-prefix", "base-exec-prefix",
                   "prompt")
_PROBE = "import json, site, sys; print(json.dumps([sys.version, [p for p in sys.path if p]]))"


@lru_cache(maxsize=8)
def _interpreter(python: str) -> tuple[str, tuple[str, ...]]:
    """The version and import path of ``python``: this process's own only when it is the very
    same program path. Two venvs of one base interpreter resolve to the same real executable but
    hold different packages, so a resolved path says nothing about what the tests import."""
    venv = Path(python).absolute().parent.parent  # not resolved: the link lives in the virtualenv
    with suppress(OSError):
        described = _portable((venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace"))
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


def python_version(python: str | None) -> tuple[int, int] | None:
    """The ``(major, minor)`` version of the interpreter that runs the tests (``python``, else this
    one): from its virtualenv's ``pyvenv.cfg`` or by asking it; None when it cannot be told."""
    if python is None:
        return sys.version_info[:2]
    described, _ = _interpreter(python)
    found = re.search(r"^(?:virtualenv .*?)?version(?:_info)? = (\d+)\.(\d+)|^(\d+)\.(\d+)", described, re.M)
    if found is None:
        return None
    numbers = [int(part) for part in found.groups() if part is not None]
    return numbers[0], numbers[1]


def _portable(described: str) -> str:
    """``pyvenv.cfg`` without the folders it names (an executable keeps its file name)."""
    lines = []
    for line in described.splitlines():
        key, _, value = (part.strip() for part in line.partition("="))
        if key.lower() not in _VENV_PATH_KEYS:
            lines.append(f"{key} = {value}")
        elif key.lower() in ("executable", "base-executable"):
            lines.append(f"{key} = {os.path.basename(value)}")
    return "\n".join(sorted(lines))


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


def environment_parts(root: Path, python: str | None) -> list[str]:
    """What the fingerprint is made of: the interpreter's version, its installed packages' names,
    the hash of each config file (``NAME:-`` when absent) and of the files above the project
    pytest may read (``files_above``)."""
    version, paths = _interpreter(_located(root, python) if python else sys.executable)
    parts = [version, *_installed(paths)]
    for name in CONFIG_FILES:
        try:
            parts.append(f"{name}:{content_hash((root / name).read_bytes())}")
        except OSError:
            parts.append(f"{name}:-")
    for relative, path in files_above(root):
        with suppress(OSError):
            parts.append(f"{relative}:{content_hash(path.read_bytes())}")
    return parts


def files_above(root: Path) -> list[tuple[str, Path]]:
    """The ``conftest.py`` and config files above the project that pytest reads, as
    (``../NAME``, path): those up to the folder of pytest's configuration file when it is above
    the project (a monorepo's), where pytest's rootdir is and below which it loads every
    ``conftest.py``. testwatch records only the project's own files, so a change to one of these
    changes the environment (every test is selected). None when the project holds its own pytest
    configuration, or ``.git`` (a repository of its own); the search ends at a ``.git`` above."""
    return [(relative, path) for relative, path in places_above(root) if path.is_file()]


def places_above(root: Path) -> list[tuple[str, Path]]:
    """Where ``files_above`` looks, whether a file is there or not."""
    if (root / ".git").exists() or holds_pytest_config(root):
        return []
    places = []
    for depth, folder in enumerate(root.parents, start=1):
        places += [("../" * depth + name, folder / name) for name in (*ABOVE_FILES, *CONFIG_FILES)]
        if holds_pytest_config(folder):
            return places
        if (folder / ".git").exists():
            break
    return []  # no pytest configuration above: pytest's rootdir is not there, nor its conftest.py files


def parts_fingerprint(parts: list[str]) -> str:
    """The fingerprint of ``environment_parts``."""
    return content_hash("\n".join(parts).encode("utf-8"))


def environment_fingerprint(root: Path, python: str | None) -> str:
    """A hash of the interpreter version, its installed packages and the project's config files."""
    return parts_fingerprint(environment_parts(root, python))


def parts_difference(recorded: list[str], current: list[str]) -> str:
    """How a recorded environment differs from the current one, in a few words (both given as
    ``environment_parts``; ``recorded`` empty when unknown)."""
    if not recorded:
        return "the recorded environment's parts are unknown"
    configs = (*(f"{name}:" for name in CONFIG_FILES), "../")
    reasons = []
    if recorded[0] != current[0]:
        there, here = (_version_of(parts[0]) for parts in (recorded, current))
        reasons.append(f"Python {there} there, {here} here" if there != here else "another Python build")
    there = {p for p in recorded[1:] if not p.startswith(configs)}
    here = {p for p in current[1:] if not p.startswith(configs)}
    if there != here:
        only_there, only_here = sorted(there - here), sorted(here - there)
        reasons.append(f"installed packages differ (only there: {', '.join(only_there[:3]) or '-'}"
                       f"{' ...' if len(only_there) > 3 else ''}; only here: "
                       f"{', '.join(only_here[:3]) or '-'}{' ...' if len(only_here) > 3 else ''})")
    changed = sorted({p.partition(":")[0] for p in set(recorded) ^ set(current) if p.startswith(configs)})
    if changed:
        reasons.append(f"{', '.join(changed)} differ{'s' if len(changed) == 1 else ''}")
    return "; ".join(reasons) or "the same parts in another order"


def _version_of(described: str) -> str:
    found = re.search(r"\d+\.\d+\.\d+\S*", described)
    return found.group(0) if found else "unknown"
