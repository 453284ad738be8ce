"""A wrong history path never costs the user a file: a file that is not a SQLite database is never
moved or written (whoever named it: --db, TESTWATCH_DB, the config); a project's config cannot put
its history outside the project; and testwatches that find one corrupt history at once keep it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SUITE = {"tests/test_one.py": "def test_one():\n    pass\n"}
PYPROJECT = '[project]\nname = "victim"\nversion = "1"\n'


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("how", ["--db", "TESTWATCH_DB"])
@pytest.mark.parametrize("command", ["run", "affected", "history"])
def test_a_file_that_is_not_sqlite_is_never_moved_or_written(make_project, cli, how, command):
    root = make_project({**SUITE, "pyproject.toml": PYPROJECT, "notes": "", "data.bin": "SQLite format 2"})
    before = _tree(root)
    for victim in ("pyproject.toml", "notes", "data.bin"):
        path = str(root / victim)
        args, env = ([command, str(root), "--db", path], None) if how == "--db" else (
            [command, str(root)], {"TESTWATCH_DB": path})
        done = subprocess.run([sys.executable, "-m", "testwatch", *args], capture_output=True, text=True,
                              timeout=120, env={**os.environ, **(env or {})})
        assert done.returncode == 4, (victim, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert f"{path} is " in done.stderr and "it was left untouched" in done.stderr
    assert _tree(root) == before  # nothing moved, written, or added next to the files


def test_a_config_history_outside_the_project_is_refused(make_project, cli, tmp_path):
    victim = tmp_path / "outside_victim.txt"
    victim.write_text("the user's own notes\n")
    for history in ("../outside_victim.txt", "../new-history.db", str(tmp_path / "abs.db")):
        root = make_project({**SUITE, "pyproject.toml": f'[tool.testwatch]\nhistory = "{history}"\n'})
        for command in ("affected", "run"):
            done = cli(command, str(root))
            assert done.returncode == 4, (history, done.stdout, done.stderr)
            assert f"history = {history!r} lies outside the project" in done.stderr
    assert victim.read_text() == "the user's own notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside_victim.txt", "project"]
    # Inside the project it is fine, and the user's own --db may go anywhere.
    root = make_project({**SUITE, "pyproject.toml": '[tool.testwatch]\nhistory = "var/h.db"\n'})
    assert cli("run", str(root)).returncode == 0
    assert (root / "var" / "h.db").is_file()
    assert cli("run", str(root), "--db", str(tmp_path / "mine.db")).returncode == 0
    assert (tmp_path / "mine.db").is_file()


def _corrupt(db: Path) -> bytes:
    """A file with SQLite's header whose pages are garbage: SQLite calls it malformed."""
    content = b"SQLite format 3\x00" + os.urandom(8000)
    db.write_bytes(content)
    return content


def test_corrupt_histories_set_aside_one_after_another_keep_every_one(tmp_path):
    from testwatch.history.store import open_history

    db = tmp_path / "history.db"
    originals = []
    for _ in range(3):  # within a second or two: today's aside names only had seconds
        originals.append(_corrupt(db))
        open_history(db).close()
    kept = sorted(p.read_bytes() for p in tmp_path.glob("history.db.corrupt-*") if p.name[-1].isdigit())
    assert kept == sorted(originals)


OPEN_WHEN_TOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from testwatch.history.store import open_history

    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.001)
    history = open_history(Path(sys.argv[1]))
    history.close()
""")


def test_four_processes_opening_one_corrupt_history_never_lose_it(tmp_path):
    for round_number in range(8):
        folder = tmp_path / f"round{round_number}"
        folder.mkdir()
        db, go = folder / "history.db", folder / "go"
        original = _corrupt(db)
        openers = [
            subprocess.Popen([sys.executable, "-c", OPEN_WHEN_TOLD, str(db), str(go)]) for _ in range(4)
        ]
        go.touch()
        assert [opener.wait(timeout=120) for opener in openers] == [0, 0, 0, 0]
        kept = [p.read_bytes() for p in folder.glob("history.db.corrupt-*") if p.name[-1].isdigit()]
        assert kept.count(original) == 1, f"round {round_number}: the original is lost or kept twice"
        assert len(kept) == 1, f"round {round_number}: a fresh history was set aside as corrupt"


def test_a_history_set_aside_between_look_and_read_is_not_refused(tmp_path, monkeypatch):
    """Another testwatch sets the corrupt history aside and starts an empty one after this one
    looked at the path and before it read the header: that empty file is a history, not a stranger."""
    from testwatch.history import store

    db = tmp_path / "history.db"
    _corrupt(db)
    real_stat = os.stat

    def stat_then_set_aside(path, *args, **kwargs):
        found = real_stat(path, *args, **kwargs)
        if Path(path) == db and found.st_size:
            os.replace(db, tmp_path / "history.db.corrupt-by-the-other")
            db.touch()
        return found

    monkeypatch.setattr(store.os, "stat", stat_then_set_aside)
    store.refuse_foreign_file(db)  # raised "is not a SQLite database" when size and header came apart
    monkeypatch.undo()
    assert db.read_bytes() == b""
