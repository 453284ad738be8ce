"""The start of a dependency recording: what must be taken before its pytest starts.

Light on purpose (no SQLite, no coverage.py, no parser): ``testwatch run --deps`` takes it and
starts pytest before the engine is imported (``testwatch.run.launch``), as a plain run does. The
snapshot of every project file's stat comes first: a file the tests read that changes after it
is noticed when the recording is stored (``DepRecorder.finish``), so no change is lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from testwatch.collectors.in_testwatch.project_files import IgnoreRules, snapshot
from testwatch.run.workdirs import make_workdir

if TYPE_CHECKING:
    from testwatch.run.fingerprint_warmup import Warmup


@dataclass
class Recording:
    """One run's recording: where the child writes, and the project's stats at the start."""

    out_dir: Path
    start_keys: dict[str, tuple[int, int]]
    pytest_args: list[str] = field(default_factory=list)
    started_ns: int = 0  # wall clock (time.time_ns) before the start snapshot
    first_read: dict[str, str | None] = field(default_factory=dict)  # data file -> hash tests read
    warmup: Warmup | None = None  # the project's Python files, parsed while the tests run


def start_recording(rules: IgnoreRules, branch: bool) -> Recording:
    """A new recording of the project ``rules`` walks: its side folder, its pytest arguments and
    the stat of every project file, taken now (call it just before the run's pytest starts)."""
    started_ns = time.time_ns()
    out_dir = make_workdir("tw-deps-")
    args = [f"--testwatch-deps={out_dir}", *(["--testwatch-branch"] if branch else [])]
    return Recording(out_dir, snapshot(rules), args, started_ns)
