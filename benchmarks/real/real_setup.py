"""Fetch a real project's sdist, unpack it into a work folder and give it a venv of its own.

The venv holds the project (editable, so its tests measure the unpacked source), its pinned test
dependencies, the pinned measuring tools and testwatch from this checkout (editable), so the
child pytest and the CLI are the ones a user installs.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import tarfile
import textwrap
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from real_manifest import TESTMON, TOOLS, RealProject

REPO = Path(__file__).resolve().parents[2]
PLANTED_FILE = "test_zz_planted_memory.py"
PLANTED_MIB = 64
PLANTED_BIG = "test_planted_64mib"
PLANTED_SMALL = "test_planted_nothing"
PLANTED_TESTS = f'''
"""Planted by testwatch's real-project proving ground (benchmarks/real/): known allocations."""

PLANTED_MIB = {PLANTED_MIB}


def {PLANTED_BIG}():
    size = PLANTED_MIB * 1024 * 1024
    block = bytearray(size)
    for offset in range(0, size, 4096):  # touch every page: resident, not just reserved
        block[offset] = 1
    assert len(block) == size


def {PLANTED_SMALL}():
    assert sum(range(10)) == 45
'''
_INSTALL_TIMEOUT_S = 900
# The venv is made with the interpreter that runs the harness; each Python version has its own
# (and its own scratch files), so a 3.12 measurement does not replace the 3.11 venv; 3.11, the
# version the proving ground was built with first, keeps the names without a tag.
PYTHON_TAG = "" if sys.version_info[:2] == (3, 11) else f"-py{sys.version_info[0]}{sys.version_info[1]}"


class IndexUnreachable(RuntimeError):
    """The package index cannot be reached from this machine (no network)."""


@dataclass(frozen=True)
class ProjectEnv:
    """An unpacked real project and the venv that runs its tests."""

    project: RealProject
    root: Path  # the unpacked sdist, tests planted
    python: Path  # the venv's interpreter
    work: Path  # scratch files of the harness for this project (histories, reports, captures)

    def planted_nodeid(self, test: str) -> str:
        return f"{self.project.planted_dir}/{PLANTED_FILE}::{test}"


def prepare(project: RealProject, work_root: Path) -> ProjectEnv:
    """The project unpacked under ``work_root`` with its venv, reusing what an earlier call made."""
    work_root.mkdir(parents=True, exist_ok=True)
    sdist = fetch_sdist(project, work_root / "sdists")
    root = work_root / f"{project.name}-{project.version}"
    if not root.exists():
        unpack(sdist, work_root)
    plant_memory_tests(root / project.planted_dir)
    venv = work_root / f"{project.name}-{project.version}{PYTHON_TAG}.venv"
    python = venv / "bin" / "python"
    install(project, root, venv)
    work = work_root / f"{project.name}-{project.version}{PYTHON_TAG}.scratch"
    work.mkdir(exist_ok=True)
    return ProjectEnv(project, root, python, work)


def fetch_sdist(project: RealProject, folder: Path) -> Path:
    """The project's published sdist at its pinned version (downloaded once)."""
    folder.mkdir(parents=True, exist_ok=True)
    found = _sdist_in(project, folder)
    if found:
        return found
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
         "--disable-pip-version-check", project.requirement, "-d", str(folder)],
        capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S,
    )
    found = _sdist_in(project, folder)
    if done.returncode == 0 and found:
        return found
    if not index_reachable():
        raise IndexUnreachable(f"the package index cannot be reached to fetch {project.requirement}")
    raise RuntimeError(f"pip download {project.requirement} failed:\n{done.stdout}{done.stderr}")


def _sdist_in(project: RealProject, folder: Path) -> Path | None:
    stem = f"{project.name}-{project.version}"
    candidates = [folder / f"{stem}.tar.gz", folder / f"{stem.replace('-', '_', 1)}.tar.gz"]
    return next((path for path in candidates if path.exists()), None)


def index_reachable(timeout_s: float = 5.0) -> bool:
    """Whether a TCP connection to pip's index host opens."""
    url = _index_url()
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(parsed.path).exists()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _index_url() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True, text=True, timeout=60,
    )
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "https://pypi.org/simple"


def unpack(sdist: Path, into: Path) -> None:
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")


def plant_memory_tests(tests_dir: Path) -> None:
    """Add the harness's test file with known allocations to the project's tests."""
    path = tests_dir / PLANTED_FILE
    text = textwrap.dedent(PLANTED_TESTS).lstrip("\n")
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def install(project: RealProject, root: Path, venv: Path) -> None:
    """Create the venv and install into it, unless the same installation is already there."""
    wanted = [*TOOLS, *project.test_deps]
    stamp = venv / "proving-ground.sha256"
    testwatch_pins = (REPO / "pyproject.toml").read_text(encoding="utf-8")  # its dependencies
    plan = {"project": project.requirement, "wanted": wanted, "testwatch": str(REPO), "pins": testwatch_pins}
    digest = hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()
    if stamp.exists() and stamp.read_text(encoding="utf-8") == digest:
        return
    _run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
          "--disable-pip-version-check", "-e", str(root), "-e", str(REPO), *wanted])
    stamp.write_text(digest, encoding="utf-8")


def ensure_testmon(env: ProjectEnv) -> None:
    """The pinned pytest-testmon in the project's venv (an anchor, not one of the tools every
    check runs with: ``prepare`` leaves it out)."""
    found = subprocess.run(
        [str(env.python), "-c", "import importlib.metadata as m; print(m.version('pytest-testmon'))"],
        capture_output=True, text=True,
    )
    if found.returncode == 0 and found.stdout.strip() == TESTMON.partition("==")[2]:
        return
    _run([sys.executable, "-m", "pip", "--python", str(env.python), "install", "-q",
          "--disable-pip-version-check", TESTMON])


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
