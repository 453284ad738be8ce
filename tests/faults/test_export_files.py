"""Every file testwatch writes for the user (``export -o``, the app's ``e`` key) is made exclusively
in its folder, private (0600, as the history) unless asked otherwise, and renamed over the target:
a link planted at the temporary name or at the target is never written through."""

from __future__ import annotations

import csv
import io
import os
import stat

from testwatch.history.csv_cells import neutralise
from testwatch.history.export import write_rows_csv

SUITE = {"tests/test_one.py": "def test_one():\n    print('API_KEY=hunter2')\n"}


def _mode(path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_export_writes_a_private_file_and_follows_no_planted_link(make_project, cli, tmp_path):
    root = make_project(SUITE)
    assert cli("run", str(root)).returncode == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's file\n")
    out_dir = tmp_path / "shared"
    out_dir.mkdir()
    target = out_dir / "results.csv"
    os.symlink(victim, out_dir / ".results.csv.partial")  # what the old export wrote through
    old_umask = os.umask(0o022)
    try:
        done = cli("export", str(root), "-o", str(target))
    finally:
        os.umask(old_umask)
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "the user's file\n"
    assert not target.is_symlink() and "test_one" in target.read_text()
    assert _mode(target) == 0o600
    assert sorted(p.name for p in out_dir.iterdir()) == [".results.csv.partial", "results.csv"]

    # A link at the target itself is replaced, not written through; --mode asks for other permissions.
    os.unlink(target)
    os.symlink(victim, target)
    assert cli("export", str(root), "-o", str(target), "--format", "json", "--mode", "644").returncode == 0
    assert victim.read_text() == "the user's file\n"
    assert not target.is_symlink() and _mode(target) == 0o644
    done = cli("export", str(root), "-o", str(target), "--mode", "rw")
    assert done.returncode == 4 and "--mode rw: expected an octal permission mode" in done.stderr


def test_the_apps_csv_export_is_private_and_replaces_a_planted_link(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's file\n")
    target = tmp_path / "exports" / "tests.csv"
    target.parent.mkdir()
    os.symlink(victim, target)
    old_umask = os.umask(0o022)
    try:
        assert write_rows_csv(target, ["test", "outcome"], [["tests/test_one.py::test_one", "passed"]]) == 1
    finally:
        os.umask(old_umask)
    assert victim.read_text() == "the user's file\n"
    assert not target.is_symlink() and _mode(target) == 0o600
    assert target.read_text().splitlines() == ["test,outcome", "tests/test_one.py::test_one,passed"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["tests.csv"]


def test_the_apps_csv_export_writes_the_bytes_csv_writer_writes(tmp_path):
    rows = [[None, 1.5, "=SUM(A1)", 'a,"b"', -3], ["line\nbreak", True, "", "\tx", "ok"]]
    target = tmp_path / "view.csv"
    assert write_rows_csv(target, ["a", "b", "c", "d", "e"], rows) == 2
    expected = io.StringIO(newline="")
    writer = csv.writer(expected)
    writer.writerow(["a", "b", "c", "d", "e"])
    writer.writerows([[neutralise(cell) for cell in row] for row in rows])
    assert target.read_bytes() == expected.getvalue().encode()
