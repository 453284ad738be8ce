"""Issue 14, item 13: a history on read-only media (a WAL file whose folder cannot be written, so
SQLite cannot create its ``-shm`` file) can still be read by ``history``, ``check --last`` and
``export``. The media is a real read-only bind mount, made in a user namespace with ``unshare``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MOUNT_READ_ONLY = 'mount --bind "$0" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"'


def _read_only_view(source: Path, target: Path, *argv: str) -> subprocess.CompletedProcess:
    """Run ``argv`` with ``target`` a read-only mount of ``source``."""
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", MOUNT_READ_ONLY, str(source), str(target), *argv],
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def read_only(tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) for a read-only mount")
    target = tmp_path / "media"
    target.mkdir()
    probe = _read_only_view(tmp_path, target, "true")
    if probe.returncode != 0:
        pytest.skip(f"this system does not allow a read-only mount in a user namespace: {probe.stderr}")
    return lambda source, *argv: _read_only_view(source, target, sys.executable, "-m", "testwatch", *argv)


@pytest.mark.parametrize("command", [["history"], ["check", "--last"], ["export", "-o", "OUT"]],
                         ids=["history", "check-last", "export"])
def test_a_history_on_read_only_media_can_be_read(command, read_only, make_project, cli, tmp_path):
    root = make_project({"tests/test_one.py": "def test_one():\n    pass\n"})
    assert cli("run", str(root)).returncode == 0
    out = tmp_path / "export.csv"
    argv = [str(out) if arg == "OUT" else arg for arg in command]
    done = read_only(root, argv[0], str(tmp_path / "media"), *argv[1:])
    assert done.returncode == 0, done.stdout + done.stderr
    if command == ["history"]:
        assert "finished" in done.stdout and "1 pass" in done.stdout
    elif command[0] == "check":
        assert "check of run 1" in done.stdout
    else:
        assert "tests/test_one.py::test_one" in out.read_text()
