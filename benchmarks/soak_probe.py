"""Where the soak's memory goes (not in CI): ``soak.py --probe DIR`` runs testwatch through this
module, which answers each sample with a report in DIR; ``compare`` shows what grew between two.

    python benchmarks/soak.py --minutes 8 --edit-every 2 --probe /tmp/probe
    python benchmarks/soak_probe.py compare /tmp/probe 001.0 end

A report holds the process's ``/proc/self/smaps_rollup`` and its mappings by kind, glibc's
``mallinfo2`` (heap in use and free), SQLite's own allocator figures, the live Python objects by
type and, with ``SOAK_TRACEMALLOC=1`` (slower, more memory), a tracemalloc snapshot.
Linux and glibc only.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import os
import runpy
import sys
import threading
import time
import tracemalloc
from pathlib import Path

TRIGGER = "take"


_MALLINFO2_FIELDS = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2_FIELDS]


def _mappings() -> dict[str, int]:
    """Resident kB by kind of mapping: heap, anonymous (malloc arenas, pymalloc), files, stacks."""
    kinds: collections.Counter[str] = collections.Counter()
    kind = ""
    with open("/proc/self/smaps") as f:
        for line in f:
            first = line.split(None, 6)
            if "-" in first[0] and len(first) >= 5 and not first[0].endswith(":"):
                name = first[5].strip() if len(first) > 5 else ""
                kind = name if name.startswith("[") else ("files" if name else "anonymous")
            elif first[0] == "Rss:":
                kinds[kind] += int(first[1])
    return dict(kinds)


def _pymalloc(directory: Path) -> dict[str, int]:
    """pymalloc's arenas and blocks (``sys._debugmallocstats``, which writes to the C stderr)."""
    path = directory / "mallocstats.txt"
    saved = os.dup(2)
    with open(path, "w") as f:
        os.dup2(f.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    figures = {}
    for line in path.read_text().splitlines():
        name, _, value = line.rpartition("=")
        if name.startswith("# ") and value.strip().replace(",", "").isdigit():
            figures[name[2:].strip()] = int(value.strip().replace(",", ""))
    return figures


def _report(directory: Path, label: str) -> None:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _Mallinfo2
    sqlite = ctypes.CDLL("libsqlite3.so.0")
    sqlite.sqlite3_memory_used.restype = ctypes.c_int64
    sqlite.sqlite3_memory_highwater.restype = ctypes.c_int64
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(str(directory / f"snap-{label}.pickle"))
    with open("/proc/self/smaps_rollup") as f:
        rollup = {line.split()[0].rstrip(":"): int(line.split()[1]) for line in f if line.endswith("kB\n")}
    info = libc.mallinfo2()
    report = {
        "rollup_kb": rollup,
        "mappings_kb": _mappings(),
        "malloc": {name: getattr(info, name) for name, _ in _Mallinfo2._fields_},
        "sqlite_used": sqlite.sqlite3_memory_used(),
        "sqlite_high": sqlite.sqlite3_memory_highwater(0),
        "blocks": sys.getallocatedblocks(),
        "pymalloc": _pymalloc(directory),
        "threads": [thread.name for thread in threading.enumerate()],
        "types": dict(collections.Counter(type(o).__qualname__ for o in gc.get_objects()).most_common(400)),
    }
    (directory / f"report-{label}.json").write_text(json.dumps(report))


def _answer(directory: Path) -> None:
    trigger = directory / TRIGGER
    while True:
        time.sleep(0.2)
        try:
            label = trigger.read_text().strip()
        except FileNotFoundError:
            continue
        _report(directory, label)
        trigger.unlink()


def take(directory: Path, label: str, timeout_s: float = 60) -> None:
    """Ask the probed testwatch for a report named ``label`` and wait for it (the soak's side)."""
    (directory / TRIGGER).write_text(label)
    deadline = time.monotonic() + timeout_s
    while (directory / TRIGGER).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def compare(directory: Path, first: str, last: str) -> None:
    """Print what grew between two reports."""
    a, b = (json.loads((directory / f"report-{x}.json").read_text()) for x in (first, last))
    for section in ("rollup_kb", "mappings_kb", "malloc", "pymalloc"):
        for key in sorted(set(a[section]) | set(b[section])):
            before, after = a.get(section, {}).get(key, 0), b.get(section, {}).get(key, 0)
            if before != after:
                print(f"{section:12} {key:18} {before:>14,} {after:>14,} {after - before:>+14,}")
    for key in ("sqlite_used", "sqlite_high", "blocks"):
        print(f"{key:31} {a[key]:>14,} {b[key]:>14,} {b[key] - a[key]:>+14,}")
    grown = sorted(((b["types"].get(t, 0) - a["types"].get(t, 0), t) for t in b["types"]), reverse=True)
    print("objects grown:", [(t, n) for n, t in grown[:20] if n > 0])
    print("threads:", a["threads"], "->", b["threads"])
    snaps = [directory / f"snap-{x}.pickle" for x in (first, last)]
    if all(snap.exists() for snap in snaps):
        skip = [tracemalloc.Filter(False, tracemalloc.__file__)]
        old, new = (tracemalloc.Snapshot.load(str(s)).filter_traces(skip) for s in snaps)
        for stat in new.compare_to(old, "lineno")[:25]:
            print(stat)


def main() -> None:
    if sys.argv[1:2] == ["compare"]:
        compare(Path(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    directory = Path(os.environ["SOAK_PROBE_DIR"])
    if os.environ.get("SOAK_TRACEMALLOC") == "1":
        tracemalloc.start(12)
    threading.Thread(target=_answer, args=(directory,), daemon=True, name="soak-probe").start()
    sys.argv = ["testwatch", *sys.argv[1:]]
    runpy.run_module("testwatch", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
