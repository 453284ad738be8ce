"""Sales reports: slow to build and memory hungry, like real ones."""

import time

_report_cache: list[bytes] = []


def build_report(rows: int) -> list[dict]:
    """A report of ``rows`` lines; takes a while."""
    time.sleep(1.2)
    return [{"row": i, "total": i * 1.5} for i in range(rows)]


def render_big_export(megabytes: int) -> int:
    """Render an export in memory and return its size (needs ``megabytes`` of RAM at peak)."""
    blob = bytearray(megabytes * 1024 * 1024)
    for i in range(0, len(blob), 4096):
        blob[i] = 1
    return len(blob)


def remember_report(size_bytes: int) -> None:
    """Keep a rendered report around "for later": a leak that grows with every call."""
    _report_cache.append(bytes(size_bytes))
