"""The project's coverage figure after a run of selected tests: the newest run of every test's, with
the selection's own beside it, never in its place. Real pytest children, real SQLite."""

from __future__ import annotations

from testwatch.history.store import open_history
from testwatch.measure.coverage_figures import coverage_figures

from .test_coverage_gate import HALF_COVERED


def test_a_selection_run_leaves_the_projects_figure_to_the_run_of_every_test(make_project, cli):
    root = make_project(HALF_COVERED)
    assert cli("run", str(root), "--deps").returncode == 0
    tax = root / "shop" / "tax.py"
    tax.write_text(tax.read_text().replace("amount * 0.2", "amount / 5"))
    done = cli("run", str(root), "--affected")
    assert done.returncode == 0, done.stdout + done.stderr
    history = open_history(root / ".testwatch" / "history.db")
    try:
        figures = coverage_figures(history)
        project, selection = figures.project, figures.selection
        assert (project.run_id, project.tests) == (1, 2)
        assert {row["file"]: (row["statements"], row["covered"]) for row in project.rows} == {
            "shop/__init__.py": (0, 0), "shop/prices.py": (7, 3), "shop/tax.py": (2, 2)}
        assert round(project.percent, 2) == round(100 * 5 / 9, 2)
        assert (selection.run_id, selection.tests) == (2, 1)  # test_vat only
        assert selection.percent < project.percent
        assert "shop/tax.py" in {row["file"] for row in selection.rows}
    finally:
        history.close()


def test_before_any_coverage_there_are_no_figures(tmp_path):
    history = open_history(tmp_path / "history.db")
    try:
        figures = coverage_figures(history)
        assert (figures.project, figures.selection) == (None, None)
    finally:
        history.close()


def test_a_run_whose_pytest_crashed_stores_no_coverage_figure(make_project, cli):
    # The crashed process took what its tests executed: a figure from the rest would be wrong
    # (asgiref 3.13.0 read 40% instead of 77%), so none is stored, and the run says why.
    root = make_project({
        **HALF_COVERED,
        "tests/test_m_crash.py": "import os\n\n\ndef test_exit():\n    os._exit(3)\n",  # then a restart
    })
    done = cli("run", str(root), "--deps")
    assert done.returncode == 1, done.stdout
    assert "no coverage stored for this run: 1 pytest process(es) ended before writing" in done.stdout
    history = open_history(root / ".testwatch" / "history.db")
    try:
        assert coverage_figures(history).project is None
        outcomes = history.last_outcomes()
        assert outcomes["tests/test_m_crash.py::test_exit"] == "crashed"
        assert outcomes["tests/test_prices.py::test_total"] == "passed"
    finally:
        history.close()
