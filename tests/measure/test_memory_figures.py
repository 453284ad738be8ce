"""Per-test peak and retained memory from real allocations, in a real pytest child, checked
against the sizes the tests allocate and against memray's own heap peak (``--memray``)."""

from __future__ import annotations

import json
import sqlite3

from testwatch.history.store import open_history

MIB = 1024 * 1024

ALLOCATIONS = {
    "tests/test_alloc.py": """
        import pytest

        KEPT = []


        def touch(size):
            data = bytearray(size)
            data[::4096] = b"\\1" * len(data[::4096])
            return data


        def test_200mb_freed():
            data = touch(200 * 1024 * 1024)
            del data


        def test_50mb_kept():
            KEPT.append(touch(50 * 1024 * 1024))


        def test_nothing():
            # The process's resident size while this test runs, for the check of its peak.
            status = open("/proc/self/status").read()
            rss_kb = int(status.split("VmRSS:")[1].split("kB")[0])
            open("rss_during_test_nothing.txt", "w").write(str(rss_kb * 1024))


        @pytest.mark.limit_memory("10 MB")
        def test_over_its_memray_limit():
            data = touch(20 * 1024 * 1024)
            del data


        @pytest.mark.limit_memory("100 MB")
        def test_under_its_memray_limit():
            data = touch(20 * 1024 * 1024)
            del data
    """,
}


def _by_test(rows, root, run_id):
    found = rows(root, "select * from results where run_id = ?", (run_id,))
    return {row["nodeid"].split("::")[1]: row for row in found}


def test_peak_growth_and_retained_match_the_allocations(make_project, cli, rows):
    root = make_project(ALLOCATIONS)
    done = cli("run", str(root))
    assert "test_200mb_freed" in done.stdout, done.stdout + done.stderr
    result = _by_test(rows, root, 1)
    freed, kept, nothing = result["test_200mb_freed"], result["test_50mb_kept"], result["test_nothing"]
    assert 190 * MIB <= freed["peak_growth_bytes"] <= 230 * MIB
    assert abs(freed["retained_bytes"]) < 20 * MIB
    assert 48 * MIB <= kept["retained_bytes"] <= 56 * MIB
    assert 48 * MIB <= kept["peak_growth_bytes"] <= 60 * MIB
    assert nothing["peak_growth_bytes"] < 5 * MIB
    assert {row["memory_precision"] for row in result.values()} == {"exact"}


def test_peak_rss_is_the_process_peak_during_the_test(make_project, cli, rows):
    # Labelled exact, the peak is the process's true peak: at least the RSS the test itself read,
    # not the 0 of a test that allocated nothing; growth is the figure that may be 0.
    root = make_project(ALLOCATIONS)
    cli("run", str(root))
    result = _by_test(rows, root, 1)
    nothing, freed = result["test_nothing"], result["test_200mb_freed"]
    rss_during = int((root / "rss_during_test_nothing.txt").read_text())
    assert nothing["memory_precision"] == "exact"
    # The kernel's per-thread RSS counters lag by up to 64 pages: a quarter MiB either way.
    assert rss_during - MIB <= nothing["peak_rss_bytes"] <= rss_during + 5 * MIB
    held_at_start = freed["peak_rss_bytes"] - freed["peak_growth_bytes"]
    assert 10 * MIB < held_at_start < rss_during + 20 * MIB  # a pytest process holds over 10 MiB


def test_an_older_history_keeps_its_figure_as_growth(tmp_path):
    # Before schema v7 peak_rss_bytes held the growth over the test's start: the migration moves
    # it to peak_growth_bytes and claims no peak it never measured.
    path = tmp_path / "history.db"
    history = open_history(path)
    history.close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("alter table results drop column peak_growth_bytes")
        conn.execute("insert into runs (id, trigger, status) values (1, 'manual', 'finished')")
        conn.execute("insert into results (run_id, nodeid, outcome, peak_rss_bytes, memory_precision) "
                     "values (1, 't.py::test_a', 'passed', 4096, 'exact')")
        conn.execute("pragma user_version = 6")
    conn.close()
    history = open_history(path)
    try:
        [row] = history.rows("select peak_rss_bytes, peak_growth_bytes from results")
    finally:
        history.close()
    assert (row["peak_rss_bytes"], row["peak_growth_bytes"]) == (None, 4096)


def test_memray_markers_are_honoured_without_memray_mode(make_project, cli, rows):
    root = make_project(ALLOCATIONS)
    done = cli("run", str(root))
    result = _by_test(rows, root, 1)
    assert result["test_over_its_memray_limit"]["outcome"] == "failed", done.stdout
    assert "limit_memory" in result["test_over_its_memray_limit"]["longrepr"]
    assert result["test_under_its_memray_limit"]["outcome"] == "passed"
    # Only marked tests were tracked.
    assert result["test_nothing"]["heap_peak_bytes"] is None
    assert result["test_over_its_memray_limit"]["heap_peak_bytes"] >= 20 * MIB


def test_memray_mode_agrees_with_the_kernel_peak_within_ten_percent(make_project, cli, rows):
    root = make_project(ALLOCATIONS)
    cli("run", str(root), "--memray")
    result = _by_test(rows, root, 1)
    for name in ("test_200mb_freed", "test_50mb_kept"):
        row = result[name]
        assert abs(row["peak_growth_bytes"] - row["heap_peak_bytes"]) <= 0.1 * row["heap_peak_bytes"], row
    kept = result["test_50mb_kept"]
    assert 48 * MIB <= kept["leaked_bytes"] <= 52 * MIB
    top = json.loads(result["test_200mb_freed"]["top_allocations"])
    assert top[0]["bytes"] >= 200 * MIB
    assert "touch" in top[0]["location"] and "test_alloc.py" in top[0]["location"]
    assert result["test_nothing"]["heap_peak_bytes"] < MIB


def test_limit_leaks_marker_fails_a_leaking_test(make_project, cli, rows):
    root = make_project({
        "tests/test_leak.py": """
            import pytest

            CACHE = []


            @pytest.mark.limit_leaks("1 MB")
            def test_leaks_two_megabytes():
                CACHE.append(bytearray(2 * 1024 * 1024))


            @pytest.mark.limit_leaks("1 MB")
            def test_frees_everything():
                data = bytearray(2 * 1024 * 1024)
                del data
        """,
    })
    done = cli("run", str(root))
    result = _by_test(rows, root, 1)
    assert result["test_leaks_two_megabytes"]["outcome"] == "failed", done.stdout
    assert "limit_leaks" in result["test_leaks_two_megabytes"]["longrepr"]
    assert result["test_frees_everything"]["outcome"] == "passed", result["test_frees_everything"]["longrepr"]


def test_memray_reruns_leave_known_small_tests_untracked(make_project, cli, rows):
    root = make_project(ALLOCATIONS)
    cli("run", str(root), "--memray")
    cli("run", str(root), "--memray")
    second = _by_test(rows, root, 2)
    assert second["test_nothing"]["heap_peak_bytes"] is None  # small last time: not tracked again
    assert second["test_200mb_freed"]["heap_peak_bytes"] >= 200 * MIB  # big: tracked every run
    assert second["test_50mb_kept"]["leaked_bytes"] >= 48 * MIB
