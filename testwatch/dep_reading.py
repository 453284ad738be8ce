"""Reads what ``collectors/deps_plugin.py`` left in a run's side folder: one JSON record and one
coverage.py data file per pytest process (the child, or each pytest-xdist worker)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from coverage import CoverageData

from testwatch.collectors.project_files import IgnoreRules


@dataclass
class ChildRecord:
    """One pytest process's record: tests run (with their def location), files opened, imports."""

    locations: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    opened: dict[str, list[str]] = field(default_factory=dict)
    collected: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    error: str = ""


class RunCoverage:
    """The coverage.py data of every process of a run, merged."""

    def __init__(self, data: CoverageData) -> None:
        self.data = data

    def project_files(self, rules: IgnoreRules) -> list[str]:
        return [f for f in self.data.measured_files() if not rules.ignored(f)]

    def lines_by_test(self, rules: IgnoreRules) -> dict[str, dict[str, set[int]]]:
        """nodeid -> project file -> lines it executed (lines run outside any test are left out)."""
        result: dict[str, dict[str, set[int]]] = {}
        for measured in self.project_files(rules):
            relative = rules.relative(measured)
            for lineno, contexts in self.data.contexts_by_lineno(measured).items():
                for context in contexts:
                    if context:
                        result.setdefault(context, {}).setdefault(relative, set()).add(lineno)
        return result


def read_child_records(out_dir: Path, root: Path) -> tuple[list[ChildRecord], RunCoverage | None]:
    """Every process's record (a process killed before its session ended leaves none)."""
    records = []
    for path in sorted(out_dir.glob("deps.*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        locations = {nodeid: (loc[0], loc[1]) for nodeid, loc in raw.get("locations", {}).items()}
        records.append(ChildRecord(locations, raw.get("opened", {}), raw.get("collected", {}),
                                   raw.get("error", "")))
    merged = None
    for path in sorted(out_dir.glob("cov.*")):
        if path.suffix == ".tmp":
            continue
        data = CoverageData(no_disk=True)
        data.loads(path.read_bytes())
        if merged is None:
            merged = CoverageData(no_disk=True)
        merged.update(data)
    return records, RunCoverage(merged) if merged is not None else None
