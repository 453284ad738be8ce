"""Fixtures shared by the whole suite: real temp projects and the real ``testwatch`` CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def write_files(root: Path, files: dict[str, str]) -> None:
    """Write dedented ``files`` (relative path -> text) under ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


DEADLINE_S = 60.0


def wait_for(
    condition: Callable[[], object], timeout_s: float = DEADLINE_S, what: str | Callable[[], str] = ""
) -> object:
    """Poll ``condition`` until it returns something truthy; fail after a generous deadline.

    ``what`` names the awaited state in the failure; a callable is read at the time of failure.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    described = what() if callable(what) else what
    pytest.fail(f"timed out after {timeout_s:g} s waiting for {described or condition}")


@pytest.fixture(name="wait_for")
def wait_for_fixture():
    return wait_for


@pytest.fixture
def make_project(tmp_path):
    """Create a project folder from a dict of files; returns its root."""

    def make(files: dict[str, str], name: str = "project") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        write_files(root, files)
        return root

    return make


def coverage_py_files(root: Path, *run_args: str) -> dict[str, dict]:
    """The reference: ``coverage run [run_args] -m pytest -q`` in ``root``, then ``coverage json``:
    its ``files`` (path -> ``summary``, ``missing_lines``...)."""
    for command in (["run", *run_args, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                    ["json", "-o", "coverage.json"]):
        done = subprocess.run([sys.executable, "-m", "coverage", *command], cwd=root,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "coverage.json").read_text())["files"]


def sql_dump(path: Path) -> list[str]:
    """Every row of every table of the SQLite file at ``path``, as SQL text."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120, env: dict | None = None):
    """Run the real ``testwatch`` command line in a subprocess; returns CompletedProcess. A
    variable ``env`` maps to None is left out of the environment."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("TESTWATCH_DB", None)
    full_env = {name: value for name, value in full_env.items() if value is not None}
    return subprocess.run(
        [sys.executable, "-m", "testwatch", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli
