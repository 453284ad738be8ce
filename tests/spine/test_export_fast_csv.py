"""The batched CSV export on a real history file: nasty names and outputs round-trip through
``csv.reader`` to the rows in SQLite, and the bytes are those ``csv.writer`` writes."""

from __future__ import annotations

import contextlib
import csv
import io
import random
import sqlite3

import pytest

from testwatch.history import export_workers
from testwatch.history.csv_batches import CsvBatchEncoder
from testwatch.history.csv_cells import neutralise
from testwatch.history.export import RowFilter, open_readonly, write_csv
from testwatch.history.store import open_history

NASTY_TEXTS = [
    'say "hi", then go', "line one\nline two", "carriage\rreturn", "crlf\r\nend", "=1+2", "+SUM(A1)",
    "-2+3", "@cmd", "\t=HYPERLINK(1)", "\r=1", "-12.5", "+3", "ünïcødé ✓ 日本語, \"quoted\"", "",
    "nul\x00inside", "marks \x01\x02 here", "a,b", '"', "plain", "tests/test_x.py::test_y[1-2]", "-", "=",
    "日本語",
]
# The encoder's stand-ins for separators: a batch holding one is written the careful way, so these
# only appear in the last batch, leaving the first ones to the fast path.
STAND_INS = ["unit\x1fseparator", "record\x1eseparator"]
NUMBERS = [0.1, -0.5, 1e-05, 1e16, 123456789.123456789, -0.0, 2.0, float("inf"), 0.30000000000000004]
INTEGERS = [0, -4096, 2**40, 7]


def _results_row(rng: random.Random, run_id: int, texts: list[str]) -> dict:
    """One results row whose cells are often hostile, sometimes NULL."""

    def text() -> str | None:
        return rng.choice([*texts, None, "ok", "ok", "ok"])

    return {
        "run_id": run_id, "nodeid": text() or "t::n", "file": text(), "lineno": rng.choice([*INTEGERS, None]),
        "outcome": rng.choice(["passed", "failed", "-x"]), "duration_s": rng.choice([*NUMBERS, None]),
        "call_s": rng.choice(NUMBERS), "longrepr": text(), "stdout": text(), "stderr": text(),
        "log": text(), "retained_bytes": rng.choice(INTEGERS), "extra": text(), "finished_at": text(),
    }


def _make_history(path, rows: int) -> None:
    open_history(path).close()  # the real schema
    rng = random.Random(4)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("insert into runs (id, started_at) values (1, '2026-01-01T00:00:00+00:00')")
        for index in range(rows):
            row = _results_row(rng, 1, NASTY_TEXTS + STAND_INS if index > 4500 else NASTY_TEXTS)
            marks = ", ".join("?" * len(row))
            conn.execute(f"insert into results ({', '.join(row)}) values ({marks})", list(row.values()))


def _exported(path, row_filter: RowFilter) -> bytes:
    out = io.BytesIO()
    conn = open_readonly(path)
    try:
        write_csv(conn, "results", row_filter, out)
    finally:
        conn.close()
    return out.getvalue()


def _stored(path, where: str = "") -> tuple[list[str], list[tuple]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        cursor = conn.execute(f"select * from results {where} order by rowid")
        return [d[0] for d in cursor.description], cursor.fetchall()


@pytest.fixture(params=["one process", "worker processes"])
def export_mode(request, monkeypatch):
    """Export in one process, or spread over two workers in ranges of 700 rowids."""
    if request.param == "worker processes":
        monkeypatch.setattr(export_workers, "worker_count", lambda first, last, requested: 2)
        monkeypatch.setattr(export_workers, "RANGE_ROWS", 700)
    return request.param


def test_nasty_cells_round_trip_and_match_csv_writer(tmp_path, export_mode):
    path = tmp_path / "history.db"
    _make_history(path, 5000)  # many fetch batches
    exported = _exported(path, RowFilter())
    columns, stored = _stored(path)

    reference = io.StringIO(newline="")
    writer = csv.writer(reference, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([neutralise(value) for value in row] for row in stored)
    assert exported == reference.getvalue().encode("utf-8")  # byte for byte what csv.writer writes

    read_back = list(csv.reader(io.StringIO(exported.decode("utf-8"), newline="")))
    assert read_back[0] == columns
    assert len(read_back) == len(stored) + 1
    for line, row in zip(read_back[1:], stored, strict=True):
        expected = ["" if value is None else str(neutralise(value)) for value in row]
        assert line == expected
    texts = {cell for line in read_back[1:] for cell in line}
    neutralised = {"'=1+2", "'\t=HYPERLINK(1)", "'\r=1", "'@cmd"}
    assert {*neutralised, "-12.5", "nul\x00inside", "line one\nline two", *STAND_INS} <= texts
    assert {"-4096", "0.30000000000000004", "1e-05", "1e+16", "inf"} <= texts  # numbers stay numbers


def test_a_filtered_export_keeps_only_its_rows_in_order(tmp_path, export_mode):
    path = tmp_path / "history.db"
    _make_history(path, 3000)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("insert into runs (id, started_at) values (2, '2026-01-02T00:00:00+00:00')")
        conn.execute("update results set run_id = 2 where id % 3 = 0")
    exported = _exported(path, RowFilter(run_id=2))
    _, stored = _stored(path, "where run_id = 2")
    read_back = list(csv.reader(io.StringIO(exported.decode("utf-8"), newline="")))[1:]
    assert [int(line[0]) for line in read_back] == [row[0] for row in stored]
    assert len(stored) == 1000


def test_workers_only_for_big_tables_and_as_asked():
    big = export_workers.MIN_PARALLEL_ROWS
    assert export_workers.worker_count(1, big - 1) == 0
    assert export_workers.worker_count(None, None) == 0  # an empty table
    assert export_workers.worker_count(1, big, requested=1) == 0
    assert export_workers.worker_count(1, big, requested=3) == 3


def test_batches_that_hold_the_stand_in_separators_are_written_exactly():
    encoder = CsvBatchEncoder(3)
    rows = [(1, "a\x1fb", -2.5), ("=x", "", 3), (4, "c\x1ed", "q\"uote")]
    reference = io.StringIO(newline="")
    csv.writer(reference, lineterminator="\r\n").writerows([neutralise(v) for v in row] for row in rows)
    assert encoder.encode(rows) == reference.getvalue().encode("utf-8")
    assert encoder.encode(rows[1:2]) == b"'=x,,3\r\n"  # a formula in the first cell of a batch
