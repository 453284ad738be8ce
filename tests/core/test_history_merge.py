"""``testwatch history import``: two real projects in two folders, run by real pytest children
under two machine names, and one history merged into the other (runs, results, samples, breaches)."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import sqlite3
import uuid
from pathlib import Path

import pytest

from tests.conftest import run_cli, sql_dump, write_files
from testwatch.history.merge import import_history
from testwatch.history.queries import FLAKY_SQL, metadata_path
from testwatch.history.schema import SCHEMA_VERSION
from testwatch.history.store import open_history
from testwatch.measure.latency import OWN_CALL_SQL, recent_latencies

FILES = {
    "tests/test_shop.py": """
        import os
        import time
        import pytest

        def test_steady():  # long enough for the process sampler to take samples
            time.sleep(0.3)

        def test_flips():  # fails where FLIP=1: flaky across machines at one revision
            assert os.environ.get("FLIP") != "1"

        @pytest.mark.skip(reason="not on this box")
        def test_skipped():
            pass
    """,
}
STEADY = "tests/test_shop.py::test_steady"
FLIPS = "tests/test_shop.py::test_flips"
# Samples every 50 ms, and a call-time limit every test goes over, so the runs record samples and
# breaches to carry along.
CONFIG = (
    "[tool.testwatch]\nsample_interval = 0.05\n\n[tool.testwatch.thresholds]\ncall_duration = 0.000000001\n"
)


def _run(root: Path, machine: str, **env: str) -> None:
    result = run_cli("run", str(root), env={"TESTWATCH_MACHINE": machine, **env})
    assert result.returncode in (0, 1), result.stdout + result.stderr


@pytest.fixture(scope="module")
def histories(tmp_path_factory) -> dict[str, Path]:
    """alpha.db (two runs, every test passing) and beta.db (one run, test_flips failing), made by
    ``testwatch run`` in two project folders; tests copy them before changing anything."""
    made = {}
    for machine, runs, env in (("alpha", 2, {}), ("beta", 1, {"FLIP": "1"})):
        root = tmp_path_factory.mktemp(machine) / "project"
        write_files(root, {**FILES, "pyproject.toml": CONFIG})
        for _ in range(runs):
            _run(root, machine, **env)
        made[machine] = root / ".testwatch" / "history.db"
    return made


def copied(source: Path, folder: Path) -> Path:
    """A copy of a history (with its write-ahead log) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", folder / f"history.db{suffix}")
    return folder / "history.db"



def rows(path: Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_adds_the_other_machines_runs_and_their_rows_with_new_run_ids(histories, tmp_path):
    here = copied(histories["alpha"], tmp_path / "here")
    there = histories["beta"]
    ((their_uuid, their_id),) = rows(there, "select uuid, id from runs")
    counts = {t: rows(there, f"select count(*) from {t}")[0][0] for t in ("results", "samples", "breaches")}
    assert counts["results"] == 3 and counts["samples"] > 0 and counts["breaches"] > 0

    result = run_cli("history", "import", str(there), "--db", str(here))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"imported 1 run from {there} (3 results, ")
    runs = rows(here, "select id, uuid, machine from runs order by id")
    assert [machine for _, _, machine in runs] == ["alpha", "alpha", "beta"]
    new_id = runs[-1][0]
    assert runs[-1][1] == their_uuid and new_id == 3 != their_id
    for table, count in counts.items():
        assert rows(here, f"select count(*) from {table} where run_id = ?", [new_id])[0][0] == count
    # Every result, sample and breach still belongs to a run of its own machine.
    for table in ("results", "samples", "breaches"):
        orphans = f"select count(*) from {table} where run_id not in (select id from runs)"
        assert rows(here, orphans)[0][0] == 0
    assert rows(here, "select outcome from results where run_id = ? and nodeid = ?", [new_id, FLIPS]) == [
        ("failed",)
    ]


def test_check_last_judges_this_machines_newest_run_not_an_imported_one(histories, tmp_path):
    here = copied(histories["alpha"], tmp_path / "here")
    assert run_cli("history", "import", str(histories["beta"]), "--db", str(here)).returncode == 0

    def check_last(machine: str):
        args = ("check", str(here.parent), "--last", "--db", str(here))
        return run_cli(*args, env={"TESTWATCH_MACHINE": machine})

    on_alpha, on_beta, elsewhere = check_last("alpha"), check_last("beta"), check_last("gamma")
    # alpha's runs are 1 and 2, beta's imported run is 3 (its test_flips failed there)
    assert on_alpha.stdout.lstrip().startswith("check of run 2:") and "1 test failed" not in on_alpha.stdout
    assert on_beta.stdout.lstrip().startswith("check of run 3:") and "1 test failed" in on_beta.stdout
    assert elsewhere.stdout.lstrip().startswith("check of run 3:")  # no run of its own: the newest of any


def test_importing_the_same_file_twice_changes_nothing_and_the_source_is_never_written(histories, tmp_path):
    here = copied(histories["alpha"], tmp_path / "here")
    there = copied(histories["beta"], tmp_path / "there")
    before_source = (digest(there), sorted(p.name for p in there.parent.iterdir()))
    assert run_cli("history", "import", str(there), "--db", str(here)).returncode == 0
    once = sql_dump(here)

    again = run_cli("history", "import", str(there), "--db", str(here))

    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"imported 0 runs from {there}; 1 already here"
    assert sql_dump(here) == once
    assert (digest(there), sorted(p.name for p in there.parent.iterdir())) == before_source


def test_history_lists_one_machine_with_machine(histories, tmp_path):
    here = copied(histories["alpha"], tmp_path / "here")
    run_cli("history", "import", str(histories["beta"]), "--db", str(here))

    every = run_cli("history", "--db", str(here)).stdout.splitlines()
    beta = run_cli("history", "--db", str(here), "--machine", "beta").stdout.splitlines()
    unknown = run_cli("history", "--db", str(here), "--machine", "gamma")

    assert every[0].split()[:4] == ["run", "started", "(UTC)", "machine"]
    assert [line.split()[3] for line in every[1:]] == ["beta", "alpha", "alpha"]
    assert [line.split()[3] for line in beta[1:]] == ["beta"]
    assert unknown.stdout.strip() == "no runs of machine 'gamma' (machines: alpha, beta)"


def test_flaky_detection_and_latency_work_across_machines(histories, tmp_path):
    here = copied(histories["alpha"], tmp_path / "here")
    history = open_history(here)
    try:
        flaky = lambda machine: [r["nodeid"] for r in history.rows(FLAKY_SQL, {"machine": machine})]  # noqa: E731
        assert flaky("") == []
        outcomes_before = history.last_outcomes()

        import_history(history, histories["beta"])

        # Passed on alpha, failed on beta, at the same revision: flaky across machines, on
        # neither alone.
        assert flaky("") == [FLIPS]
        assert flaky("alpha") == flaky("beta") == []
        # The newest result of each test here (what selection and `run --failed` read) is alpha's.
        assert history.last_outcomes() == outcomes_before
        # A test's latency is that of its newest run's machine: beta's imported run is newest.
        steady = recent_latencies(history, [STEADY])[STEADY]
        beta_call_s = rows(  # its own time: the call less what it waited for a CPU (latency.py)
            here,
            f"select {OWN_CALL_SQL} from results r join runs on runs.id = r.run_id "
            "where machine = 'beta' and nodeid = ?",
            [STEADY],
        )
        assert list(steady.durations_s) == [call_s for (call_s,) in beta_call_s]
    finally:
        history.close()


def _as_schema_7(path: Path) -> None:
    """Make a history what testwatch wrote before schema 8: no run uuids, no machine names."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("drop trigger runs_uuid")
        conn.execute("drop index idx_runs_uuid")
        conn.execute("alter table runs drop column uuid")
        conn.execute("alter table runs drop column machine")
        conn.execute("pragma user_version = 7")
    conn.close()


@pytest.mark.skipif(sqlite3.sqlite_version_info < (3, 35), reason="DROP COLUMN needs SQLite 3.35")
def test_an_older_history_is_migrated_in_a_copy_named_by_machine_and_merged_once(histories, tmp_path):
    here = copied(histories["alpha"], tmp_path / "here")
    old = copied(histories["beta"], tmp_path / "old")
    _as_schema_7(old)
    before = digest(old)

    first = run_cli("history", "import", str(old), "--db", str(here), "--machine", "old-ci")
    second = run_cli("history", "import", str(old), "--db", str(here), "--machine", "old-ci")

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "imported 1 run" in first.stdout
    assert second.stdout.strip() == f"imported 0 runs from {old}; 1 already here"
    assert rows(here, "select machine from runs order by id") == [("alpha",), ("alpha",), ("old-ci",)]
    assert rows(here, "select count(*) from results")[0][0] == 9
    assert digest(old) == before
    assert rows(old, "pragma user_version") == [(7,)]
    assert rows(here, "pragma user_version") == [(SCHEMA_VERSION,)]


def test_a_new_run_records_a_uuid_and_this_machine(tmp_path, monkeypatch):
    monkeypatch.delenv("TESTWATCH_MACHINE", raising=False)
    history = open_history(tmp_path / "history.db")
    try:
        first = history.start_run("manual", None, [])
        monkeypatch.setenv("TESTWATCH_MACHINE", "ci-linux")
        second = history.start_run("manual", None, [])
        runs = {run["id"]: run for run in history.recent_runs()}
    finally:
        history.close()
    assert runs[first]["machine"] == socket.gethostname()
    assert runs[second]["machine"] == "ci-linux"
    assert uuid.UUID(runs[first]["uuid"]).version == 4
    assert runs[first]["uuid"] != runs[second]["uuid"]


def test_the_shipped_datasette_metadata_names_real_columns_and_its_queries_run(histories, tmp_path):
    # Datasette is not a dependency: its file is checked against a real merged history with sqlite3.
    here = copied(histories["alpha"], tmp_path / "history")
    run_cli("history", "import", str(histories["beta"]), "--db", str(here))
    metadata = json.loads(metadata_path().read_text(encoding="utf-8"))
    database = metadata["databases"][here.stem]
    conn = sqlite3.connect(here)
    try:
        for table, spec in database["tables"].items():
            columns = {row[1] for row in conn.execute(f"pragma table_info({table})")}
            assert columns, f"no table {table}"
            named = [*spec.get("facets", []), *filter(None, [spec.get("sort"), spec.get("sort_desc")])]
            assert set(named) <= columns, (table, set(named) - columns)
        assert {"outcome"} <= set(database["tables"]["results"]["facets"])
        assert {"machine"} <= set(database["tables"]["runs"]["facets"])
        queries = database["queries"]
        assert set(queries) == {"flaky_tests", "slowest_tests"}
        for query in queries.values():
            assert query["params"] == ["machine"]
        flaky = conn.execute(queries["flaky_tests"]["sql"], {"machine": ""}).fetchall()
        assert [row[0] for row in flaky] == [FLIPS]
        slowest = conn.execute(queries["slowest_tests"]["sql"], {"machine": "beta"}).fetchall()
        assert {row[0] for row in slowest} == {STEADY} and {row[1] for row in slowest} == {"beta"}
        every = conn.execute(queries["slowest_tests"]["sql"], {"machine": ""}).fetchall()
        assert {(row[0], row[1]) for row in every} == {(STEADY, "alpha"), (STEADY, "beta"), (FLIPS, "alpha")}
    finally:
        conn.close()
