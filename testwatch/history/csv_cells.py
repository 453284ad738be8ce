"""CSV cells a spreadsheet cannot run: text that would start a formula gets a leading quote.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula (or
becomes one) in Excel, LibreOffice and Google Sheets. Test names and output are the user's data,
so such text is prefixed with ``'``, which spreadsheets show but do not run. Numbers, negative
ones included, stay numbers. The export finds such cells a batch at a time
(``testwatch.history.csv_batches``).
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"

_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def neutralise(value: object) -> object:
    """The cell to write for ``value``: formula-like text gets a leading ``'``; the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return NEUTRALISER + value
    return value
