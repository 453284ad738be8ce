"""Writing the current pane's table to a private CSV file, with formula-like cells neutralised."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from testwatch.history.csv_cells import neutralise
from testwatch.history.output_files import written_whole


def default_export_path(history_path: Path, pane_name: str) -> Path:
    """``<history folder>/exports/<pane>-<YYYYmmdd-HHMMSS>.csv``."""
    return history_path.parent / "exports" / f"{pane_name}-{time.strftime('%Y%m%d-%H%M%S')}.csv"


def write_csv(path: Path, headers: list[str], rows: list[list[object]]) -> int:
    """Write the table; returns the row count. Raises OSError when the file cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with written_whole(path) as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([neutralise(cell) for cell in row])
    return len(rows)
