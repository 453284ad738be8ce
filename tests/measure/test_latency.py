"""Latency statistics over recent runs, read from a real history file."""

from __future__ import annotations

import os
import random
import re

import pytest

from testwatch.config.settings import Config
from testwatch.history.store import open_history
from testwatch.measure.latency import (
    Baseline,
    baseline_durations,
    is_regression,
    percentile,
    recent_latencies,
    run_slowdown,
)
from testwatch.measure.measuring import MeasuringListener
from testwatch.model.events import EngineNotice, RunEnding, RunStarted, TestFinished
from testwatch.model.results import PhaseReport, TestResult


def _noisy(median_s: float, n: int, seed: int) -> Baseline:
    rng = random.Random(seed)
    return Baseline.of([median_s * rng.uniform(0.9, 1.1) for _ in range(n)])


def test_percentile_interpolates_like_numpy():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(range(101), 95) == 95
    assert percentile([7.0], 95) == 7.0


def test_noise_is_not_a_regression_but_a_real_slowdown_is():
    baseline = _noisy(0.100, 15, seed=1)
    assert not is_regression(0.108, baseline)  # within the noise
    assert is_regression(0.200, baseline)  # twice as slow
    assert Baseline.of([0.1, 0.1, 0.1]) is None  # too little history to judge


def test_a_noisy_baseline_needs_more_than_a_percentage():
    rng = random.Random(2)
    baseline = Baseline.of([0.1 * rng.uniform(0.5, 2.0) for _ in range(15)])  # very noisy test
    assert not is_regression(0.16, baseline)  # +60% of the median, but inside its spread


def test_tiny_tests_need_an_absolute_slowdown():
    baseline = _noisy(0.0002, 15, seed=3)
    assert not is_regression(0.0006, baseline)  # 3x, but below the 10 ms floor
    assert not is_regression(0.003, _noisy(0.0003, 15, seed=4))  # seen on marshmallow at load 1
    assert is_regression(0.08, _noisy(0.01, 15, seed=5))  # 8x and 70 ms: a real slowdown


SUITE = [f"tests/test_suite.py::test_{index:02d}" for index in range(30)]
USUAL_S = {nodeid: 0.002 * (index + 1) for index, nodeid in enumerate(SUITE)}  # 2 ms to 60 ms
REGRESSED = SUITE[9]  # 20 ms usually


def _passed(nodeid: str, call_s: float, wait_s: float | None = None) -> TestResult:
    extra = {} if wait_s is None else {"call_wait_s": wait_s}
    return TestResult(nodeid, "passed", {"call": PhaseReport("passed", call_s)}, extra=extra)


def _judged_run(
    path, newest_s: dict[str, float], wait_s: float | None = None, previous_s: dict[str, float] | None = None,
) -> tuple[set[str], list[str]]:
    """Five runs of SUITE at their usual times (5% noise), then one more with ``previous_s``
    instead where given, then a run of ``newest_s`` (each call having waited ``wait_s`` for a
    CPU): the tests the latency pane flags, and the "slower than their recent runs" notices of the
    end of that run."""
    history = open_history(path)
    rng = random.Random(7)
    earlier = [dict(USUAL_S)] * 5 + ([{**USUAL_S, **previous_s}] if previous_s else [])
    for durations in earlier:
        run_id = history.start_run("all", None, [], measuring="plain")
        history.add_results(run_id, [_passed(n, s * rng.uniform(0.95, 1.05)) for n, s in durations.items()])
    published = []
    listener = MeasuringListener(Config(path.parent), history, published.append)
    run_id = history.start_run("all", None, [], measuring="plain")
    newest = [_passed(nodeid, call_s, wait_s) for nodeid, call_s in newest_s.items()]
    history.add_results(run_id, newest)
    for event in [RunStarted(run_id, "all", None), *map(TestFinished, newest), RunEnding(run_id)]:
        listener(event)
    try:
        latencies = recent_latencies(history, SUITE)
    finally:
        history.close()
    notices = [event.message for event in published if isinstance(event, EngineNotice)]
    return {nodeid for nodeid, latency in latencies.items() if latency.regressed}, [
        notice for notice in notices if "slower than their recent runs" in notice
    ]


def test_the_run_slowdown_follows_the_tests_long_enough_to_be_preempted():
    # Twenty 0.2 ms tests that no preemption caught and ten 20 ms tests at 3x: the run's time went
    # 3x; a plain median of the ratios would say 1.
    timed = [(0.0002, Baseline(0.0002, 0.00001))] * 20 + [(0.06, Baseline(0.02, 0.001))] * 10
    assert run_slowdown(timed) == 3.0
    assert run_slowdown(timed[:19]) == 1.0  # too few tests to tell the machine from a change
    assert run_slowdown([(0.01, Baseline(0.02, 0.001))] * 30) == 1.0  # a faster run is judged as is


def test_a_run_slowed_as_a_whole_flags_only_the_test_slower_beyond_it(tmp_path):
    # A busy machine: every test of the run at 2.5x its usual time, 3 to 90 ms above it.
    busy = {nodeid: usual * 2.5 for nodeid, usual in USUAL_S.items()}
    assert _judged_run(tmp_path / "busy.db", busy) == (set(), [])
    # The same run with one test five times slower than that: a regression, and the only one.
    flagged, notices = _judged_run(tmp_path / "slower.db", {**busy, REGRESSED: USUAL_S[REGRESSED] * 2.5 * 5})
    assert flagged == {REGRESSED}
    (notice,) = notices
    assert f"{REGRESSED} (250 ms, usually" in notice and " and " not in notice, notice
    assert re.search(r"allowing for this run's 2\.[456]x overall slowdown", notice), notice


def test_a_rerun_of_a_few_tests_is_judged_without_a_run_slowdown(tmp_path):
    # Too few tests to tell the machine from a change: each is judged against its own baseline.
    assert _judged_run(tmp_path / "one.db", {REGRESSED: USUAL_S[REGRESSED] * 3})[0] == {REGRESSED}
    three = {nodeid: USUAL_S[nodeid] * 3 for nodeid in SUITE[9:12]}
    flagged, (notice,) = _judged_run(tmp_path / "three.db", three)
    assert flagged == set(three) and "slowdown" not in notice, notice


def test_a_moderate_slowdown_is_flagged_from_its_second_run_and_a_large_one_at_once(tmp_path):
    # One run at 1.6x is what a shared machine does to a test's CPU time now and then (starlette's
    # form-parser tests, 17 then 29 ms, with no wait and no garbage collection); twice running is
    # the test. At 3x and 40 ms above its usual, one run is enough.
    moderate = {REGRESSED: USUAL_S[REGRESSED] * 1.6}
    assert _judged_run(tmp_path / "once.db", moderate) == (set(), [])
    flagged, (notice,) = _judged_run(tmp_path / "twice.db", moderate, previous_s=moderate)
    assert flagged == {REGRESSED} and f"{REGRESSED} (32 ms, usually 20 ms)" in notice, notice
    assert _judged_run(tmp_path / "large.db", {REGRESSED: USUAL_S[REGRESSED] * 3})[0] == {REGRESSED}
    # 2.6x, but 10 ms: a 6 ms test starlette's suite once ran at 17 ms.
    assert _judged_run(tmp_path / "short.db", {SUITE[2]: 0.0167})[0] == set()


def test_a_call_that_waited_for_a_cpu_is_judged_without_the_wait(tmp_path):
    # A 2 ms test preempted for 40 ms by a busy machine is not slower; the same 42 ms spent in the
    # test itself (asleep, or on a CPU) is.
    preempted = _judged_run(tmp_path / "preempted.db", {SUITE[0]: 0.042}, wait_s=0.040)
    assert preempted == (set(), [])
    flagged, (notice,) = _judged_run(tmp_path / "slower.db", {SUITE[0]: 0.042}, wait_s=0.0)
    assert flagged == {SUITE[0]} and f"{SUITE[0]} (42 ms, usually 2 ms)" in notice, notice


@pytest.mark.skipif(not os.access("/proc/thread-self/schedstat", os.R_OK), reason="no schedstat here")
def test_the_child_records_how_long_each_call_waited_for_a_cpu(make_project, cli, rows):
    root = make_project({
        "tests/test_a.py": """
            import time


            def test_sleeps():
                time.sleep(0.02)


            def test_spins():
                sum(range(200_000))
        """,
    })
    assert cli("run", str(root)).returncode == 0
    timed = rows(root, "select nodeid, call_s, call_wait_s from results order by nodeid")
    assert [row["nodeid"] for row in timed] == ["tests/test_a.py::test_sleeps", "tests/test_a.py::test_spins"]
    for row in timed:
        assert row["call_wait_s"] is not None and 0 <= row["call_wait_s"] <= row["call_s"], row


def test_a_full_garbage_collection_during_a_call_counts_as_waiting(make_project, cli, rows):
    # The collector sweeps the whole session's objects on whichever test it interrupts (70-90 ms
    # a time on starlette's suite, where the tests take 3 ms): not the test's own latency.
    root = make_project({
        "tests/test_a.py": """
            import gc

            HEAP = [[index] for index in range(600_000)]  # objects the collector must walk


            def test_collects():
                gc.collect()


            def test_small():
                assert len(HEAP) == 600_000
        """,
    })
    assert cli("run", str(root)).returncode == 0
    timed = {row["nodeid"]: row for row in rows(root, "select nodeid, call_s, call_wait_s from results")}
    collecting = timed["tests/test_a.py::test_collects"]
    assert collecting["call_s"] > 0.01, collecting  # a walk of 600,000 lists
    assert 0.5 * collecting["call_s"] < collecting["call_wait_s"] <= collecting["call_s"], collecting
    small = timed["tests/test_a.py::test_small"]
    assert 0 <= small["call_wait_s"] <= small["call_s"], small


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
