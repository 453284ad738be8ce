"""Latency statistics over recent runs, read from a real history file."""

from __future__ import annotations

import random

import pytest

from testwatch.history.store import open_history
from testwatch.measure.latency import baseline_durations, is_regression, percentile, recent_latencies
from testwatch.model.results import PhaseReport, TestResult


def _noisy(median_s: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [median_s * rng.uniform(0.9, 1.1) for _ in range(n)]


def test_percentile_interpolates_like_numpy():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(range(101), 95) == 95
    assert percentile([7.0], 95) == 7.0


def test_noise_is_not_a_regression_but_a_real_slowdown_is():
    baseline = _noisy(0.100, 15, seed=1)
    assert not is_regression(0.108, baseline)  # within the noise
    assert is_regression(0.200, baseline)  # twice as slow
    assert not is_regression(0.200, baseline[:3])  # too little history to judge


def test_a_noisy_baseline_needs_more_than_a_percentage():
    rng = random.Random(2)
    baseline = [0.1 * rng.uniform(0.5, 2.0) for _ in range(15)]  # very noisy test
    assert not is_regression(0.16, baseline)  # +60% of the median, but inside its spread


def test_tiny_tests_need_an_absolute_slowdown():
    baseline = _noisy(0.0002, 15, seed=3)
    assert not is_regression(0.0006, baseline)  # 3x, but below the 10 ms floor
    assert not is_regression(0.003, _noisy(0.0003, 15, seed=4))  # seen on marshmallow at load 1
    assert is_regression(0.08, _noisy(0.01, 15, seed=5))  # 8x and 70 ms: a real slowdown


def test_recent_latencies_use_passed_call_durations_newest_last(tmp_path):
    history = open_history(tmp_path / "history.db")
    for index, call_s in enumerate([0.1, 0.2, 0.3, 0.4]):
        run_id = history.start_run("manual", None, [])
        outcome = "failed" if index == 2 else "passed"
        result = TestResult("tests/test_a.py::test_x", outcome, {"call": PhaseReport(outcome, call_s)})
        history.add_results(run_id, [result])
    latency = recent_latencies(history, ["tests/test_a.py::test_x"], runs=2)["tests/test_a.py::test_x"]
    assert latency.durations_s == (0.2, 0.4)  # the failed run is left out; only the last 2
    assert latency.newest_s == 0.4 and latency.median_s == pytest.approx(0.3)


def test_a_run_names_the_tests_slower_than_their_recent_runs(make_project, cli):
    # The test sleeps as long as delay.txt says: 10 ms for five runs, then 80 ms.
    root = make_project({
        "delay.txt": "0.01",
        "tests/test_timed.py": """
            import pathlib
            import time


            def test_steady():
                pass


            def test_timed():
                time.sleep(float(pathlib.Path(__file__).parent.parent.joinpath("delay.txt").read_text()))
        """,
    })
    for _ in range(5):
        done = cli("run", str(root))
        assert "slower than their recent runs" not in done.stdout, done.stdout
    (root / "delay.txt").write_text("0.08")
    done = cli("run", str(root))
    notice = next(line for line in done.stdout.splitlines() if "slower than their recent runs" in line)
    assert "tests/test_timed.py::test_timed (8" in notice and "usually 1" in notice, notice
    assert "test_steady" not in notice


def test_a_run_under_another_measuring_mode_is_not_compared_with_plain_runs(make_project, cli):
    # Five plain runs at 10 ms; then 80 ms under memray mode (as memray's tracking slows tests):
    # no memray run to compare with, so no regression. The same 80 ms in a plain run is one.
    root = make_project({
        "delay.txt": "0.01",
        "tests/test_timed.py": """
            import pathlib
            import time


            def test_timed():
                time.sleep(float(pathlib.Path(__file__).parent.parent.joinpath("delay.txt").read_text()))
        """,
    })
    for _ in range(5):
        cli("run", str(root))
    (root / "delay.txt").write_text("0.08")
    done = cli("run", str(root), "--memray")
    assert done.returncode == 0 and "slower than their recent runs" not in done.stdout, done.stdout
    history = open_history(root / ".testwatch" / "history.db")
    try:
        modes = [row["measuring"] for row in history.rows("select measuring from runs order by id")]
        latency = recent_latencies(history, ["tests/test_timed.py::test_timed"])
    finally:
        history.close()
    assert modes == ["plain"] * 5 + ["memray"]
    assert not latency["tests/test_timed.py::test_timed"].regressed  # the latency pane agrees
    assert len(latency["tests/test_timed.py::test_timed"].durations_s) == 1
    done = cli("run", str(root))
    assert "tests/test_timed.py::test_timed (8" in done.stdout, done.stdout  # a real slowdown


def test_recent_latencies_follow_the_measuring_mode_of_the_newest_run(tmp_path):
    history = open_history(tmp_path / "history.db")
    for measuring, call_s in [("plain", 0.1), ("memray", 0.5), ("plain", 0.2), ("memray", 0.6)]:
        run_id = history.start_run("manual", None, [], measuring=measuring)
        history.add_results(run_id, [
            TestResult("tests/test_a.py::test_x", "passed", {"call": PhaseReport("passed", call_s)})
        ])
    latency = recent_latencies(history, ["tests/test_a.py::test_x"])["tests/test_a.py::test_x"]
    assert latency.durations_s == (0.5, 0.6)
    assert baseline_durations(history, "tests/test_a.py::test_x", run_id, "plain") == [0.1, 0.2]
    history.close()
