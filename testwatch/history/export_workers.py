"""A big CSV export spread over worker processes: each encodes one range of rowids with its own
read-only connection; the parent writes the ranges in order and holds only a few at a time.

Encoding a row costs far more CPU than writing it, so on a machine with more than one core the
export scales with the workers. Each worker reads the file as it is when its range starts; rows
added after the export began (beyond its last rowid) are left out, as with one process.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import BinaryIO

from testwatch.history.csv_batches import CsvBatchEncoder

MIN_PARALLEL_ROWS = 200_000  # below this, starting workers costs more than it saves
RANGE_ROWS = 20_000  # rowids per task: about 5 MB of CSV for a results row
MAX_WORKERS = 4


def worker_count(first_rowid: int | None, last_rowid: int | None, requested: int | None = None) -> int:
    """How many worker processes encode rowids ``first_rowid..last_rowid`` (0: this process alone).

    ``requested`` (``--workers``) overrides the default of one per core, at most ``MAX_WORKERS``.
    """
    if first_rowid is None or last_rowid is None or last_rowid - first_rowid + 1 < MIN_PARALLEL_ROWS:
        return 0
    if requested is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        requested = min(MAX_WORKERS, cores)
    return requested if requested > 1 else 0


def write_ranges(
    db_path: Path, range_sql: str, params: list, column_count: int,
    rowids: tuple[int, int], workers: int, out: BinaryIO,
) -> int:
    """Run ``range_sql`` (whose first two parameters bound the rowids) over ``rowids`` in ranges on
    ``workers`` processes and write the CSV rows to ``out`` in rowid order; returns the rows written."""
    first_rowid, last_rowid = rowids
    pending: deque[Future] = deque()
    count = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        try:
            for start in range(first_rowid, last_rowid + 1, RANGE_ROWS):
                bounds = [start, min(start + RANGE_ROWS - 1, last_rowid)]
                pending.append(pool.submit(encode_range, db_path, range_sql, bounds + params, column_count))
                if len(pending) > 2 * workers:  # bounded memory: a few ranges in flight
                    count += _write_next(pending, out)
            while pending:
                count += _write_next(pending, out)
        except BaseException:  # a closed pipe, a full disk, Ctrl-C: do not encode the rest first
            for future in pending:
                future.cancel()
            raise
    return count


def encode_range(db_path: Path, range_sql: str, params: list, column_count: int) -> tuple[bytes, int]:
    """In a worker: the CSV bytes of one range of rows and how many rows they are."""
    from testwatch.history.export import (  # here: testwatch.history.export imports this module
        open_readonly,
        write_rows,
    )

    conn = open_readonly(db_path)
    try:
        chunks: list[bytes] = []
        count = write_rows(conn.execute(range_sql, params), CsvBatchEncoder(column_count), chunks.append)
    finally:
        conn.close()
    return b"".join(chunks), count


def _write_next(pending: deque[Future], out: BinaryIO) -> int:
    data, count = pending.popleft().result()
    out.write(data)
    return count
