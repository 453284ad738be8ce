"""``testwatch history``: the runs table, and pruning old runs with all their rows."""

from __future__ import annotations

import sqlite3


def test_lists_runs_newest_first_with_counts(make_project, cli):
    root = make_project({"tests/test_a.py": "def test_ok():\n    pass\n\ndef test_bad():\n    assert 0\n"})
    assert "no runs yet" in cli("history", str(root)).stdout
    assert not (root / ".testwatch").exists()  # looking does not create a history
    cli("run", str(root))
    cli("run", str(root), "--failed")
    lines = cli("history", str(root)).stdout.splitlines()
    assert lines[0].split()[:5] == ["run", "started", "(UTC)", "machine", "trigger"]
    assert lines[1].split()[0] == "2" and "failed" in lines[1] and lines[1].endswith("1 fail")
    assert lines[2].split()[0] == "1" and "manual" in lines[2] and lines[2].endswith("1 pass, 1 fail")


def test_prune_keeps_the_newest_runs_and_drops_their_rows(make_project, cli, tw):
    root = make_project({"tests/test_a.py": "def test_ok():\n    pass\n"})
    for _ in range(4):
        cli("run", str(root))
    db = tw.history_db(root)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("insert into samples (run_id, t_s, rss_bytes) values (1, 0.5, 1000)")
    conn.close()
    done = cli("history", str(root), "--prune", "--keep-runs", "2")
    assert done.returncode == 0 and "pruned 2 runs" in done.stdout
    assert [row[0] for row in tw.query(db, "select id from runs order by id")] == [3, 4]
    assert [row[0] for row in tw.query(db, "select distinct run_id from results order by 1")] == [3, 4]
    assert tw.query(db, "select count(*) from samples where run_id < 3")[0][0] == 0
    assert tw.query(db, "PRAGMA integrity_check")[0][0] == "ok"
    assert "pruned 0 runs" in cli("history", str(root), "--prune", "--keep-days", "1").stdout
    assert "pruned 2 runs" in cli("history", str(root), "--prune", "--keep-days", "0").stdout


def test_prune_needs_a_keep_option(make_project, cli):
    root = make_project({"tests/test_a.py": "def test_ok():\n    pass\n"})
    done = cli("history", str(root), "--prune")
    assert done.returncode == 4 and "--keep-days N or --keep-runs N" in done.stderr
