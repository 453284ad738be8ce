"""Each pane shows what the engine reported and what the history holds (real SQLite, Pilot)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from textual.widgets import DataTable, Sparkline, Static, Tree

from testwatch.model.events import (
    ChangesDetected,
    CoverageStored,
    EngineNotice,
    MemorySampled,
    RunStarted,
    SelectionMade,
    TestFinished,
    TestsCollected,
    ThresholdBreached,
    WatchStatus,
)
from testwatch.tui.panes.fitted_table import FittedTable
from testwatch.tui.panes.memory_graph import MemoryGraph
from testwatch.tui.panes.name_line import NameLine

from . import svg_snapshots
from .conftest import FakeController, detail_text, log_lines, play, reads_done, result, run_events, until


def cells(app, selector: str) -> list[list[str]]:
    """A DataTable's rows as plain strings."""
    table = app.query_one(selector, DataTable)
    return [[str(getattr(c, "plain", c)) for c in table.get_row(row.key)] for row in table.ordered_rows]


def screen_text(app) -> str:
    """The characters on screen, one line per terminal row."""
    return "\n".join(svg_snapshots.screen_text(svg_snapshots.normalized(app.export_screenshot())))


def record_run(history, results, trigger="all") -> int:
    run_id = history.start_run(trigger, None, [])
    history.add_results(run_id, results)
    bad = sum(r.is_bad for r in results)
    history.finish_run(run_id, status="finished", exit_status=1 if bad else 0, duration_s=0.5,
                       passed=len(results) - bad, failed=bad)
    return run_id


async def test_the_last_outcomes_show_before_anything_runs(build_app, history):
    bad = result("tests/test_a.py::test_bad", "failed", "boom")
    record_run(history, [result("tests/test_a.py::test_ok"), bad])
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        # read in a worker thread on a connection of its own: they come after the first frame
        await until(pilot, lambda: "failing" in screen_text(app))
        assert {nodeid: row.status for nodeid, row in app.state.tests.items()} == {
            "tests/test_a.py::test_ok": "passed", "tests/test_a.py::test_bad": "failed"}
        assert "tests/test_a.py  2  1 failing" in screen_text(app)


async def test_tests_pane_shows_traceback_output_and_reason(build_app):
    app = build_app()
    bad = result("tests/test_a.py::test_bad", "failed", "E   assert 1 == 2", stdout="printed\n")
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, [RunStarted(1, "change", 1, {"tests/test_a.py::test_bad": "uses a.py"}),
                                TestsCollected({bad.nodeid: ["slow"]}), TestFinished(bad)])
        tree = app.query_one("#tests-tree", Tree)
        tree.move_cursor(tree.root.children[0].children[0])
        await pilot.pause()
        detail = detail_text(app)
        for expected in ("✗ failed", "selected because: uses a.py", "markers: slow", "E   assert 1 == 2",
                         "captured stdout", "printed"):
            assert expected in detail
        assert "1/1" in str(app.query_one("#counts", Static).content)


async def test_a_failures_captured_sections_show_by_pytests_names_and_literally(build_app):
    app = build_app()
    sections = [("Captured stdout setup", "setup out\n"), ("Captured stdout call", "[red]call\x1b[0m\n"),
                ("Captured log call", "WARNING  app:a.py:3 log line\n")]
    bad = result("tests/test_a.py::test_bad", "failed", "E   assert 1 == 2",
                 stdout="setup out\n[red]call\x1b[0m\n", log="WARNING  app:a.py:3 log line\n",
                 sections=sections)
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, run_events([bad], 1))
        tree = app.query_one("#tests-tree", Tree)
        tree.move_cursor(tree.root.children[0].children[0])
        await pilot.pause()
        body = str(app.query_one("#detail-body").content)
        titles = [line for line in body.splitlines() if line.startswith("── ")]
        assert [t.split(" ──")[0][3:] for t in titles] == [
            "traceback", "Captured stdout setup", "Captured stdout call", "Captured log call"]
        assert "[red]call\\x1b[0m" in body  # markup and escapes shown as written, not obeyed
        assert "captured stdout" not in body  # the joined stream is not shown twice


async def test_memory_pane_graphs_samples_and_lists_heavy_tests(build_app, history):
    heavy = result("tests/test_a.py::test_heavy", extra={
        "peak_growth_bytes": 200_000_000, "peak_rss_bytes": 260_000_000, "memory_precision": "exact",
        "retained_bytes": 5_000_000,
        "top_allocations": [{"location": "load a.py:3", "bytes": 150_000_000, "allocations": 1}]})
    light = result("tests/test_a.py::test_light", extra={
        "peak_growth_bytes": 0, "peak_rss_bytes": 60_000_000, "memory_precision": "sampled"})
    record_run(history, [heavy, light])
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, [RunStarted(2, "all", None)])
        for t in range(8):  # one frame each: samples waiting in the same frame replace each other
            sample = MemorySampled(2, t / 4, 50_000_000 + t * 1_000_000, 1.0, 2, 1, heavy.nodeid)
            await play(pilot, app, [sample])
        await pilot.press("2")
        await until(pilot, lambda: len(cells(app, "#memory-table")) == 2)
        graph = app.query_one("#rss-graph", MemoryGraph)
        assert graph.data.values == tuple(50_000_000 + t * 1_000_000 for t in range(8))
        assert "running: tests/test_a.py::test_heavy" in str(app.query_one("#memory-now", Static).content)
        top, bottom = cells(app, "#memory-table")
        assert top[:4] == ["tests/test_a.py::test_heavy", "200.0 MB", "260.0 MB", "5.0 MB"]
        assert top[4] == "load a.py:3 150.0 MB"
        assert bottom[1:3] == ["0 B", "60.0 MB ~"]  # a sampled peak is not shown as exact


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_memory_graphs_have_a_scale_and_the_chosen_test_its_own_graph_with_its_limit(
    size, build_app, history
):
    for growth_mb in (40, 60, 250):  # the heavy test's growth over three runs; the light one stays small
        record_run(history, [
            result("tests/test_a.py::test_heavy", extra={"peak_growth_bytes": growth_mb * 1_000_000}),
            result("tests/test_a.py::test_light", extra={"peak_growth_bytes": 1_000_000}),
        ])
    app = build_app(thresholds={"peak_memory": "150 MB"})
    async with app.run_test(size=size) as pilot:
        await play(pilot, app, [RunStarted(4, "all", None)])
        for t in range(5):  # one frame each: samples waiting in the same frame replace each other
            await play(pilot, app, [MemorySampled(4, t / 4, (50 + 10 * t) * 1_000_000, 1.0, 2, 1, None)])
        await pilot.press("2")
        await until(pilot, lambda: len(cells(app, "#memory-table")) == 2)
        await pilot.pause()
        lines = screen_text(app).splitlines()
        top, _, bottom = [line.lstrip() for line in lines if "┤" in line][:3]  # this run's graph
        assert top.startswith("90.0 MB ┤") and bottom.startswith("50.0 MB ┤")
        title = app.query_one("#test-memory-title", NameLine).text.plain
        assert "limit 150.0 MB" in title and "test_heavy" in title  # the heaviest test is chosen first
        heavy = app.query_one("#test-memory", MemoryGraph).data
        assert heavy.values == (40_000_000, 60_000_000, 250_000_000) and heavy.limit_bytes == 150_000_000
        heavy_lines = "\n".join(lines[lines.index(next(li for li in lines if "limit 150.0 MB" in li)):])
        assert "250.0 MB ┤" in heavy_lines and "╌" in heavy_lines  # the limit is a line across the graph
        app.query_one("#memory-table").focus()
        await pilot.press("down")
        await until(pilot, lambda: "test_light" in app.query_one("#test-memory-title", NameLine).text.plain)
        assert app.query_one("#test-memory", MemoryGraph).data.values == (1_000_000,) * 3


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_latency_pane_flags_a_regression_and_names_it(size, build_app, history):
    slower = "tests/test_a.py::test_slower_since_the_last_change_to_the_parser"
    for _ in range(6):
        record_run(history, [result("tests/test_a.py::test_steady", duration_s=0.010),
                             result(slower, duration_s=0.010)])
    record_run(history, [result("tests/test_a.py::test_steady", duration_s=0.010),
                         result(slower, duration_s=0.500)])
    app = build_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await until(pilot, lambda: len(cells(app, "#latency-table")) == 2)
        await pilot.pause()
        rows = app.query_one("#latency-table", FittedTable).contents()[1]
        assert rows[0][0] == slower and rows[0][-1] == "slower"
        assert rows[1][0] == "tests/test_a.py::test_steady" and rows[1][-1] == ""
        summary = str(app.query_one("#latency-summary", Static).content)
        assert f"1 slower than usual: {slower}" in summary  # which one, not only how many
        screen = screen_text(app)
        assert "1 slower than usual:" in screen and slower in screen  # named whole in the summary
        flagged = next(line for line in screen.splitlines() if "500 ms" in line)
        assert flagged.rstrip().endswith("slower") and "p95" in screen  # p95 and the mark survive 80 columns


async def test_coverage_pane_marks_files_under_their_threshold(build_app, history):
    run_id = record_run(history, [result("tests/test_a.py::test_ok")])
    history.db["coverage"].insert_all([
        {"run_id": run_id, "file": "src/a.py", "statements": 10, "covered": 5, "percent": 50.0,
         "missing_lines": json.dumps([3, 4, 5, 9])},
        {"run_id": run_id, "file": "src/b.py", "statements": 10, "covered": 10, "percent": 100.0,
         "missing_lines": "[]"},
    ])
    app = build_app(thresholds={"coverage": 80})
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, [ChangesDetected(["src/a.py"])])
        await pilot.press("4")
        await until(pilot, lambda: len(cells(app, "#coverage-table")) == 2)
        assert cells(app, "#coverage-table")[0] == ["src/a.py", "10", "5", "50.0%", "3-5, 9", "under 80%"]
        summary = str(app.query_one("#coverage-summary", Static).content)
        assert "total 75.0%" in summary and "not covered in changed src/a.py: lines 3-5, 9" in summary


async def test_coverage_pane_shows_coverage_stored_after_the_run_ended(build_app, history):
    # A recording stores the run's coverage after RunFinished: the pane on screen must show it then.
    run_id = record_run(history, [result("tests/test_a.py::test_ok")])
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await play(pilot, app, run_events([result("tests/test_a.py::test_ok")], run_id))
        await until(pilot, lambda: reads_done(app))
        assert cells(app, "#coverage-table") == []
        history.db["coverage"].insert({"run_id": run_id, "file": "src/a.py", "statements": 4, "covered": 3,
                                       "percent": 75.0, "missing_lines": "[2]"})
        await play(pilot, app, [CoverageStored(run_id, whole_suite=True)])
        await until(pilot, lambda: len(cells(app, "#coverage-table")) == 1)
        assert cells(app, "#coverage-table")[0][:4] == ["src/a.py", "4", "3", "75.0%"]


def _coverage_rows(history, run_id, rows):
    history.db["coverage"].insert_all([
        {"run_id": run_id, "file": file, "statements": statements, "covered": covered,
         "percent": round(100.0 * covered / statements, 2), "missing_lines": json.dumps(missing)}
        for file, statements, covered, missing in rows
    ])


def record_selection(history, results, status="finished") -> int:
    run_id = history.start_run("change", len(results), [])
    history.add_results(run_id, results)
    history.finish_run(run_id, status=status, exit_status=0, duration_s=0.1, passed=len(results))
    return run_id


async def test_coverage_after_a_selection_shows_the_projects_figure_and_names_the_selections(
    build_app, history
):
    whole = record_run(history, [result(f"tests/test_a.py::test_{n}") for n in range(10)])
    _coverage_rows(history, whole, [("src/a.py", 10, 9, [7]), ("src/b.py", 10, 10, [])])
    rerun = record_selection(history, [result("tests/test_a.py::test_1")])
    _coverage_rows(history, rerun, [("src/a.py", 10, 3, [2, 3, 4, 5, 6, 7, 8])])
    app = build_app(thresholds={"coverage": 80})
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, [ChangesDetected(["src/a.py"])])
        await pilot.press("4")
        await until(pilot, lambda: len(cells(app, "#coverage-table")) == 2)
        summary = str(app.query_one("#coverage-summary", Static).content)
        lines = summary.splitlines()
        assert lines[0] == f"total 95.0% of 20 statements in 2 files (run {whole}, every test)"
        assert lines[1] == (f"run {rerun} ran 1 test: 30.0% of the 10 statements in the 1 file they ran "
                            "(their lines only, not the project's coverage)")
        assert lines[2] == f"not run by run {rerun}'s tests in changed src/a.py: lines 2-8"
        assert "total 30.0%" not in summary
        # the table is the project's: the selection's 30% is not a file under its limit
        assert cells(app, "#coverage-table") == [
            ["src/a.py", "10", "9", "90.0%", "7", ""], ["src/b.py", "10", "10", "100.0%", "", ""]]


async def test_coverage_of_selections_only_is_never_called_the_total(build_app, history):
    whole = record_run(history, [result("tests/test_a.py::test_0")])
    stopped = history.start_run("all", None, [])  # every test, cancelled: not the project's figure
    history.finish_run(stopped, status="cancelled", exit_status=2, duration_s=0.1)
    _coverage_rows(history, stopped, [("src/a.py", 10, 2, list(range(3, 11)))])
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: len(cells(app, "#coverage-table")) == 1)
        summary = str(app.query_one("#coverage-summary", Static).content)
        assert summary.splitlines() == [
            "no run of every test has measured coverage yet",
            f"run {stopped} ran 0 tests: 20.0% of the 10 statements in the 1 file they ran "
            "(their lines only, not the project's coverage)",
        ]
        assert "total" not in summary and whole != stopped
        assert cells(app, "#coverage-table")[0][:4] == ["src/a.py", "10", "2", "20.0%"]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_thresholds_pane_lists_breaches_and_enter_shows_the_test(size, build_app, history):
    run_id = record_run(history, [result("tests/test_a.py::test_ok"), result("tests/test_a.py::test_big")])
    history.db["breaches"].insert({"run_id": run_id, "nodeid": "tests/test_a.py::test_big",
                                   "kind": "peak_memory", "value": 3e8, "limit_value": 1e8,
                                   "created_at": "2026-01-02T03:04:05"})
    app = build_app()
    async with app.run_test(size=size) as pilot:
        breach = ThresholdBreached(run_id, "peak_memory", 3e8, 1e8, "tests/test_a.py::test_big")
        await play(pilot, app, [breach])
        await until(pilot, lambda: any("peak_memory" in n.message for n in app._notifications))
        await pilot.press("5")
        await until(pilot, lambda: len(cells(app, "#thresholds-table")) == 1)
        shown = ["tests/test_a.py::test_big", "peak_memory", "300.0 MB", "100.0 MB"]
        if size[0] >= 100:
            shown.append("2026-01-02 03:04:05")  # the time gives way first in a narrow window
        assert cells(app, "#thresholds-table")[0] == shown
        assert "300.0 MB" in screen_text(app) and "100.0 MB" in screen_text(app)  # fully on screen
        assert app.active_pane.export_table()[1][0][-1] == "2026-01-02 03:04:05"  # the export has it all
        await pilot.press("enter")
        await until(pilot, lambda: app.active_pane.NAME == "tests")
        assert app.tests_pane.selected_row.nodeid == "tests/test_a.py::test_big"


async def test_history_pane_shows_runs_results_trend_and_flaky_tests(build_app, history):
    ok = result("tests/test_a.py::test_ok")
    record_run(history, [result("tests/test_a.py::test_flip"), ok])
    record_run(history, [result("tests/test_a.py::test_flip", "failed", "boom"), ok])
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await until(pilot, lambda: len(cells(app, "#runs-table")) == 2 and reads_done(app))
        assert [row[0] for row in cells(app, "#runs-table")] == ["2", "1"]
        assert cells(app, "#run-results-table")[0][:2] == ["tests/test_a.py::test_flip", "✗ failed"]
        flaky = app.query_one("#flaky-table", FittedTable)
        assert flaky.contents()[1] == [["tests/test_a.py::test_flip", 2, 1]]  # whole; narrow on screen
        assert cells(app, "#flaky-table") == [["tests/test_a…y::test_flip", "2", "1"]]
        await pilot.press("down")  # the second run
        await until(pilot, lambda: cells(app, "#run-results-table")[0][1] == "✓ passed")
        app.query_one("#run-results-table", DataTable).focus()
        await pilot.press("down", "up")
        await until(pilot, lambda: "test_flip" in app.query_one("#trend-title", NameLine).text.plain)
        assert len(app.query_one("#trend-duration", Sparkline).data) == 2


async def test_history_pane_h_shows_one_machine_at_a_time(build_app, history, monkeypatch):
    flip = "tests/test_a.py::test_flip"
    for machine, outcome in (("laptop", "passed"), ("ci", "failed"), ("laptop", "passed")):
        monkeypatch.setenv("TESTWATCH_MACHINE", machine)
        record_run(history, [result(flip, outcome, "boom" if outcome == "failed" else "")])
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await until(pilot, lambda: len(cells(app, "#runs-table")) == 3)
        runs = app.query_one("#runs-table", FittedTable)
        assert [(row[0], row[2]) for row in runs.contents()[1]] == [(3, "laptop"), (2, "ci"), (1, "laptop")]
        assert [row[0] for row in cells(app, "#flaky-table")] != []  # flipped across machines
        await pilot.press("h")  # machines in name order: ci first
        await until(pilot, lambda: len(cells(app, "#runs-table")) == 1)
        assert [(row[0], row[2]) for row in runs.contents()[1]] == [(2, "ci")]
        assert cells(app, "#flaky-table") == []  # one machine alone saw no flip
        await pilot.press("h")
        await until(pilot, lambda: [row[2] for row in runs.contents()[1]] == ["laptop", "laptop"])
        await pilot.press("h")
        await until(pilot, lambda: len(cells(app, "#runs-table")) == 3)
        assert any("every machine" in n.message for n in app._notifications)


async def test_history_pane_at_80_columns_names_whole_and_no_flaky_heading_over_nothing(build_app, history):
    long_name = "tests/test_checkout.py::test_a_long_name_that_would_be_cut"
    record_run(history, [result(long_name), result("tests/test_a.py::test_ok")])
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        await until(pilot, lambda: len(cells(app, "#run-results-table")) == 2 and reads_done(app))
        await pilot.pause()
        screen = screen_text(app)
        assert long_name in screen, screen  # the results take the full width under 100 columns
        assert "no flaky tests" in screen and "flaky test " not in screen, screen


async def test_log_pane_and_notifications_for_engine_errors(build_app):
    app = build_app()
    async with app.run_test() as pilot:
        await play(pilot, app, [EngineNotice("pytest stopped: [bold]x", "error"),
                                WatchStatus("polling", "warning")])
        await until(pilot, lambda: any("[bold]x" in n.message for n in app._notifications))
        await pilot.press("7")
        assert log_lines(app) == ["error: pytest stopped: [bold]x", "warning: polling"]


async def test_status_line_says_what_changed_what_ran_and_how_fast(build_app):
    app = build_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await play(pilot, app, [
            ChangesDetected(["src/shop/cart.py"]),
            SelectionMade(["tests/test_a.py::test_ok"], {"tests/test_a.py::test_ok": "imports cart.py"},
                          3, 0.01),
            RunStarted(1, "change", 1, {"tests/test_a.py::test_ok": "imports cart.py"}),
            *run_events([result("tests/test_a.py::test_ok")], run_id=1, trigger="change")[1:],
        ])
        status = str(app.query_one("#status", Static).content)
        for expected in ("watching", "green", "changed: cart.py", "ran 1 of 3 tests (1 imports cart.py)",
                         "save→result 0 ms"):
            assert expected in status


async def test_a_controller_that_dies_is_reported_and_the_app_stays(project, history):
    from testwatch.config.settings import load_config
    from testwatch.tui.app import make_app

    class Broken(FakeController):
        async def run(self) -> None:
            raise RuntimeError("watcher exploded")

    app = make_app(load_config(project), history, Broken)
    async with app.run_test() as pilot:
        await until(pilot, lambda: any("watcher exploded" in n.message for n in app._notifications))
        await pilot.press("7")
        assert any("watcher exploded" in line for line in log_lines(app))
        assert app.is_running


async def test_memory_pane_names_the_top_allocator_memray_recorded(build_app, project, cli):
    (project / "tests" / "test_a.py").write_text(
        "def fill(size):\n"
        "    data = bytearray(size)\n"
        "    data[::4096] = b'\\1' * len(data[::4096])\n"
        "    return data\n\n\n"
        "def test_ok():\n"
        "    assert len(fill(30 * 1024 * 1024)) > 0\n"
    )
    done = cli("run", str(project), "--memray")
    assert "1 passed" in done.stdout, done.stdout + done.stderr
    app = build_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: len(cells(app, "#memory-table")) == 1)
        allocator = cells(app, "#memory-table")[0][-1]
        assert allocator.startswith("fill ") and "test_a.py:2 " in allocator, allocator
        assert allocator.endswith(" MB") and float(allocator.split()[-2]) >= 30, allocator


async def test_details_headline_is_the_assertion_of_a_real_report(build_app, project, cli):
    (project / "tests" / "test_a.py").write_text(
        "class Cart:\n    def total(self):\n        return 9.41\n\n\n"
        "def make_cart():\n    return Cart()\n\n\n"
        "def test_total():\n    assert make_cart().total() == 9.4\n"
    )
    cli("run", str(project))
    [stored] = _failed_longreprs(project)
    assert "+    where" in stored  # pytest's explanation lines under the assertion
    bad = result("tests/test_a.py::test_total", "failed", stored)
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await play(pilot, app, [RunStarted(2, "change", 1), TestsCollected({bad.nodeid: []}),
                                TestFinished(bad)])
        tree = app.query_one("#tests-tree", Tree)
        tree.move_cursor(tree.root.children[0].children[0])
        await pilot.pause()
        detail = detail_text(app).splitlines()
        assert detail[2] == "assert 9.41 == 9.4", detail[:4]


def _failed_longreprs(project) -> list[str]:
    conn = sqlite3.connect(project / ".testwatch" / "history.db")
    try:
        return [row[0] for row in conn.execute("select longrepr from results where outcome = 'failed'")]
    finally:
        conn.close()
