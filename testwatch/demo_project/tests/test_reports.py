import pytest

from shop import reports


@pytest.mark.slow
def test_build_report_is_slow_but_right():
    rows = reports.build_report(3)
    assert [r["total"] for r in rows] == [0.0, 1.5, 3.0]


@pytest.mark.memory
def test_big_export_needs_memory():
    assert reports.render_big_export(120) == 120 * 1024 * 1024


def test_remembered_reports_leak():
    for _ in range(20):
        reports.remember_report(256 * 1024)
    assert len(reports._report_cache) >= 20
