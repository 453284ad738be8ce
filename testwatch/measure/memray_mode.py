"""Which tests memray mode tracks. While memray tracks, every allocation and Python call in the
process is slower, and the shared tracker (``collectors/in_pytest/memray_windows.py``) only starts at a
tracked test and stops about a second later. So a test is tracked when it carries a
pytest-memray marker, when it has no memray figures yet, or when its figures matter: a test
whose last tracked run stayed under ``SMALL_HEAP_BYTES`` at its peak and leaked under
``SMALL_LEAK_BYTES``, and whose always-on kernel peak in its newest run is still under
``SMALL_HEAP_BYTES``, is not tracked again (its memray columns stay empty).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from testwatch.history.store import History

SMALL_HEAP_BYTES = 1024 * 1024
SMALL_LEAK_BYTES = 64 * 1024

_SMALL_SQL = """
select tracked.nodeid from results as tracked
join (select nodeid, max(id) as id from results where heap_peak_bytes is not null group by nodeid)
  as last_tracked on tracked.id = last_tracked.id
join (select nodeid, max(id) as id from results group by nodeid) as newest
  on newest.nodeid = tracked.nodeid
join results as latest on latest.id = newest.id
where tracked.heap_peak_bytes < ? and coalesce(tracked.leaked_bytes, 0) < ?
  and coalesce(latest.peak_growth_bytes, 0) < ? and latest.outcome = 'passed'
"""


def known_small_tests(history: History) -> list[str]:
    """Tests memray mode can leave untracked this run (see the module docstring)."""
    try:
        rows = history.rows(_SMALL_SQL, [SMALL_HEAP_BYTES, SMALL_LEAK_BYTES, SMALL_HEAP_BYTES])
        return [row["nodeid"] for row in rows]
    except sqlite3.Error:
        return []


def write_skip_file(history: History, folder: Path) -> Path:
    """The JSON list of node ids the child's memray plugin leaves untracked."""
    path = folder / "memray-small.json"
    path.write_text(json.dumps(known_small_tests(history)))
    return path
