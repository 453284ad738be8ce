"""Phase durations stay true when a test freezes time (freezegun, as itsdangerous 2.2.0's timed
tests do): pytest's own clock is swapped then, and its reports say 1.3e9 s setups."""

from __future__ import annotations

import pytest

FROZEN_TESTS = {
    "tests/test_frozen.py": """
        import time

        import pytest
        from freezegun import freeze_time


        @pytest.fixture
        def frozen():
            with freeze_time("2011-06-21 12:00:00"):
                yield


        def test_sleeps_in_frozen_time(frozen):
            time.sleep(0.05)


        def test_plain():
            time.sleep(0.01)
    """,
}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_test_freezing_time_keeps_its_real_phase_durations(make_project, cli, rows, workers):
    root = make_project(FROZEN_TESTS)
    done = cli("run", str(root), "--", *workers)
    assert done.returncode == 0, done.stdout + done.stderr
    timed = {row["nodeid"].rsplit("::", 1)[1]: row for row in rows(
        root, "select nodeid, setup_s, call_s, teardown_s, call_wait_s from results")}
    frozen = timed["test_sleeps_in_frozen_time"]
    assert 0.05 <= frozen["call_s"] < 5, frozen
    assert 0 <= frozen["setup_s"] < 5 and 0 <= frozen["teardown_s"] < 5, frozen
    assert 0 <= frozen["call_wait_s"] <= frozen["call_s"], frozen
    assert 0.01 <= timed["test_plain"]["call_s"] < 5, timed["test_plain"]
