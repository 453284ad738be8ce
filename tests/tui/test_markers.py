"""The marker filter agrees with the installed pytest's own ``-m`` on real collections."""

from __future__ import annotations

import subprocess
import sys

import pytest

from testwatch.tui.markers import marker_matcher

MARKERS = {"test_plain": [], "test_slow": ["slow"], "test_db": ["db"], "test_slow_db": ["slow", "db"],
           "test_web": ["web"]}
EXPRESSIONS = ["slow", "not slow", "slow and not db", "slow or web", "(slow or web) and not db",
               "not (slow and db)", "slow and db or web", "nonexistent", "not not slow"]


@pytest.fixture(scope="module")
def marked_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("marked")
    lines = ["import pytest", ""]
    for name, markers in MARKERS.items():
        lines += [f"@pytest.mark.{marker}" for marker in markers] + [f"def {name}():", "    pass", ""]
    (root / "test_marked.py").write_text("\n".join(lines), encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n  slow\n  db\n  web\n", encoding="utf-8")
    return root


def selected_by_pytest(root, expression: str) -> set[str]:
    output = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", expression],
        cwd=root, capture_output=True, text=True, check=False,
    ).stdout
    return {line.split("::")[-1] for line in output.splitlines() if "::" in line}


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_matcher_selects_what_pytest_selects(marked_project, expression):
    matches = marker_matcher(expression)
    ours = {name for name, markers in MARKERS.items() if matches(markers)}
    assert ours == selected_by_pytest(marked_project, expression)


def test_keyword_arguments_are_accepted_and_match_by_name(marked_project):
    """The tree knows a test's marker names, not their arguments: it may show more, never fewer."""
    matches = marker_matcher("db(reason='x', n=1)")
    assert {name for name, markers in MARKERS.items() if matches(markers)} == {"test_db", "test_slow_db"}
    assert selected_by_pytest(marked_project, "db(reason='x', n=1)") <= {"test_db", "test_slow_db"}


@pytest.mark.parametrize("expression", ["slow and", "(slow", "slow db", "not", "slow & db", "slow)"])
def test_an_expression_pytest_rejects_is_refused_in_one_sentence(marked_project, expression):
    rejected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", expression],
        cwd=marked_project, capture_output=True, text=True, check=False,
    )
    assert rejected.returncode == 4
    with pytest.raises(ValueError, match=r"^marker expression .* is not valid: .+"):
        marker_matcher(expression)
