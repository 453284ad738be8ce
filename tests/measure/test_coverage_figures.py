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
