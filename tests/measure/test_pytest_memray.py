"""With pytest-memray active in the same pytest, testwatch's tracker stays off and pytest-memray
owns the markers. Needs an interpreter with pytest-memray, which the dev venv must not have."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH_PYTHON = Path("/work/benchvenv-measure/bin/python")


@pytest.mark.skipif(not BENCH_PYTHON.exists(), reason="no interpreter with pytest-memray here")
def test_testwatch_defers_to_pytest_memray(make_project, cli, rows):
    root = make_project({
        "tests/test_a.py": """
            import pytest


            @pytest.mark.limit_memory("1 MB")
            def test_over_the_limit():
                data = bytearray(5 * 1024 * 1024)
                del data
        """,
    })
    pytest_args = ["-p", "no:monitor", "--memray"]
    done = cli("run", str(root), "--python", str(BENCH_PYTHON), "--memray", "--", *pytest_args)
    result = rows(root, "select outcome, longrepr, heap_peak_bytes, peak_rss_bytes from results")[0]
    assert result["outcome"] == "failed", done.stdout + done.stderr
    assert "Test was limited to 1.0MiB" in result["longrepr"]  # pytest-memray's own wording
    assert result["heap_peak_bytes"] is None  # testwatch's tracker stayed off
    assert result["peak_rss_bytes"] is not None  # the kernel peak still works beside it
