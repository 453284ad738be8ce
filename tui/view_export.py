"""Where the current pane's table is exported by default (the writing is
``testwatch.history.export.write_rows_csv``, the CSV export's own encoder)."""

from __future__ import annotations

import time
from pathlib import Path


def default_export_path(history_path: Path, pane_name: str) -> Path:
    """``<history folder>/exports/<pane>-<YYYYmmdd-HHMMSS>.csv``."""
    return history_path.parent / "exports" / f"{pane_name}-{time.strftime('%Y%m%d-%H%M%S')}.csv"
