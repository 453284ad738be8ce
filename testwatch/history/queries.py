"""The SQL testwatch shares with the Datasette metadata it ships (``datasette-metadata.json``, the
canned queries ``flaky_tests`` and ``slowest_tests``): the file is where that SQL is written, so
the history pane and a browser on the history list the same flaky tests.

Each query takes ``:machine``: one machine's name, or ``''`` for every machine.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

METADATA_FILE = "datasette-metadata.json"
DATABASE = "history"  # Datasette names a database after its file: .testwatch/history.db


def metadata_path() -> Path:
    """The shipped Datasette metadata file (for ``datasette .testwatch/history.db -m PATH``)."""
    return Path(str(resources.files("testwatch.history").joinpath(METADATA_FILE)))


def canned_queries() -> dict[str, dict]:
    """The metadata's canned queries by name (title, description, sql, params)."""
    metadata = json.loads(metadata_path().read_text(encoding="utf-8"))
    return metadata["databases"][DATABASE]["queries"]


FLAKY_SQL = canned_queries()["flaky_tests"]["sql"]
