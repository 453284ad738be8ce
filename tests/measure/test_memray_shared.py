"""memray mode's shared tracker: one capture over many tests, each test's figures read back from
its own window, delivered after its report and merged into its stored result."""

from __future__ import annotations

import json

from testwatch.collectors.in_pytest.memray_windows import SharedCapture

MIB = 1024 * 1024
KEPT: list = []


def test_each_window_gets_the_figures_of_its_own_test(tmp_path):
    delivered = {}
    capture = SharedCapture(str(tmp_path), lambda nodeid, figures: delivered.setdefault(nodeid, figures))
    made_before = bytearray(8 * MIB)
    with capture.window("frees"):
        data = bytearray(5 * MIB)
        del data
    outside = bytearray(30 * MIB)  # between two tests: nobody's
    with capture.window("keeps"):
        KEPT.append(bytearray(3 * MIB))
    with capture.window("frees an older allocation"):
        del made_before
    capture.flush()
    del outside
    assert list(delivered) == ["frees", "keeps", "frees an older allocation"]
    frees, keeps, older = delivered.values()
    assert 5 * MIB <= frees.heap_peak_bytes < 6 * MIB
    assert frees.leaked_bytes < 64 * 1024
    assert frees.top_allocations[0]["bytes"] >= 5 * MIB
    assert "test_each_window_gets_the_figures_of_its_own_test" in frees.top_allocations[0]["location"]
    assert 3 * MIB <= keeps.leaked_bytes < 4 * MIB
    assert older.heap_peak_bytes < MIB and older.leaked_bytes < MIB  # its free does not count
    assert not list(tmp_path.iterdir())  # the capture file is gone once read


def test_a_flushed_capture_starts_again_for_the_next_test(tmp_path):
    delivered = []
    capture = SharedCapture(str(tmp_path), lambda nodeid, figures: delivered.append((nodeid, figures)))
    for name, size in (("first", 2 * MIB), ("second", 4 * MIB)):
        with capture.window(name):
            data = bytearray(size)
            del data
        capture.flush()
    capture.flush()  # nothing running: nothing delivered twice
    assert [(name, figures.heap_peak_bytes // MIB) for name, figures in delivered] == [
        ("first", 2), ("second", 4)
    ]


SUITE = {
    "tests/test_mix.py": """
        import pytest

        KEPT = []


        def test_small():
            assert sum(range(100)) == 4950


        def test_keeps_three_megabytes():
            KEPT.append(bytearray(3 * 1024 * 1024))


        @pytest.mark.limit_memory("1 MB")
        def test_over_its_limit():
            data = bytearray(4 * 1024 * 1024)
            del data


        def test_frees_six_megabytes():
            data = bytearray(6 * 1024 * 1024)
            del data
    """,
    "pyproject.toml": """
        [tool.testwatch.thresholds]
        leaked_memory = "1 MB"
    """,
}


def _by_test(rows, root):
    found = rows(root, "select * from results where run_id = 1")
    return {row["nodeid"].split("::")[1]: row for row in found}


def test_memray_mode_stores_every_tests_figures_and_breaches(make_project, cli, rows):
    root = make_project(SUITE)
    done = cli("run", str(root), "--memray")
    result = _by_test(rows, root)
    assert result["test_over_its_limit"]["outcome"] == "failed", done.stdout + done.stderr
    assert "limit_memory" in result["test_over_its_limit"]["longrepr"]
    assert result["test_small"]["heap_peak_bytes"] < 1024 * 1024
    assert 3 * MIB <= result["test_keeps_three_megabytes"]["leaked_bytes"] < 4 * MIB
    assert 6 * MIB <= result["test_frees_six_megabytes"]["heap_peak_bytes"] < 7 * MIB
    assert result["test_frees_six_megabytes"]["leaked_bytes"] < 1024 * 1024
    top = json.loads(result["test_frees_six_megabytes"]["top_allocations"])
    assert "test_frees_six_megabytes" in top[0]["location"]
    assert "BREACH  leaked_memory" in done.stdout and "test_keeps_three_megabytes" in done.stdout
    breaches = rows(root, "select kind, nodeid from breaches")
    assert breaches == [{"kind": "leaked_memory", "nodeid": "tests/test_mix.py::test_keeps_three_megabytes"}]


def test_memray_mode_under_xdist_measures_every_test(make_project, cli, rows):
    root = make_project(SUITE)
    done = cli("run", str(root), "--memray", "--", "-n", "2")
    result = _by_test(rows, root)
    assert result["test_over_its_limit"]["outcome"] == "failed", done.stdout + done.stderr
    assert 3 * MIB <= result["test_keeps_three_megabytes"]["leaked_bytes"] < 4 * MIB
    assert 6 * MIB <= result["test_frees_six_megabytes"]["heap_peak_bytes"] < 7 * MIB
