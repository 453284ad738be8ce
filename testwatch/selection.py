"""Which tests the working tree's changes can affect, why, and in which order to run them.

A test is selected when a dependency recorded at its last run (a function body it executed, a
module its file imported, a data file it opened) no longer has the fingerprint it had then; when
it failed, crashed or timed out last time; when it has no recorded dependencies; when it is in a
new test file or under a changed ``conftest.py``. A changed Python version, installed package or
config file selects everything. When in doubt, select. Order: last failures first, then the tests
that touch the change most directly, then the fastest.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from testwatch.collectors.project_files import IgnoreRules
from testwatch.dep_recording import CHANGED_DURING_RUN
from testwatch.environment import environment_fingerprint
from testwatch.file_states import ENVIRONMENT_PATH, FileState, FileStates
from testwatch.fingerprints import MODULE_BLOCK
from testwatch.history import History
from testwatch.results import BAD_OUTCOMES, nodeid_file
from testwatch.run_coverage import is_test_file

# Directness ranks: lower runs earlier.
_RULE, _DIRECT, _IMPORTED = 0, 1, 2
# A folder modified this recently may change again within its mtime's resolution: not cached.
_RACY_MTIME_NS = 2 * 10**9


@dataclass
class Selection:
    """The affected tests in run order; ``everything`` means run the whole suite."""

    selected: list[str]
    reasons: dict[str, str]
    total_known: int
    elapsed_s: float = 0.0
    everything: bool = False
    everything_reason: str = ""
    known: set[str] = field(default_factory=set)  # every test the history knows
    dep_counts: dict[str, int] = field(default_factory=dict)  # owner -> recorded dependencies

    def why_not(self, nodeid: str) -> str:
        """Why a test is not in the selection (or the reason it is)."""
        if self.everything:
            return f"selected: {self.everything_reason}"
        if nodeid in self.reasons:
            return f"selected: {self.reasons[nodeid]}"
        if nodeid not in self.known:
            return "testwatch has never seen this test (not in the history)"
        count = self.dep_counts.get(nodeid, 0) + self.dep_counts.get(nodeid_file(nodeid), 0)
        return (f"not selected: none of its {count} recorded dependencies "
                "changed since it last ran")


def _describe(path: str, kind: str, state: FileState | None) -> str:
    if state is None:
        return f"{path} was deleted"
    if kind == "file":
        return f"data file {path} changed"
    if kind == "module":
        return f"module-level code of {path} changed (imported by its file)"
    block = kind.removeprefix("block:")
    if block == MODULE_BLOCK:
        return f"module-level code of {path} changed (run by the test)"
    return f"{path}::{block} changed"


def _dep_changed(kind: str, fingerprint: str, state: FileState | None) -> bool:
    if state is None or fingerprint == CHANGED_DURING_RUN:
        return True
    if kind == "file":
        return state.sha != fingerprint
    block = MODULE_BLOCK if kind == "module" else kind.removeprefix("block:")
    return state.hashes.get(block) != fingerprint


class FolderListings:
    """The project's files, each folder listed again only when its mtime changed.

    Adding, removing or renaming an entry changes its folder's mtime; the ignore rules are fixed
    for the life of ``rules``. A folder modified in the last two seconds is not cached.
    """

    def __init__(self, rules: IgnoreRules) -> None:
        self.rules = rules
        self._cache: dict[str, tuple[int, list[str], list[str]]] = {}  # folder -> mtime, files, folders

    def files(self) -> list[str]:
        """Absolute paths of every project file."""
        found: list[str] = []
        stack = [str(self.rules.root)]
        while stack:
            folder = stack.pop()
            try:
                mtime_ns = os.stat(folder).st_mtime_ns
            except OSError:
                continue
            cached = self._cache.get(folder)
            if cached is None or cached[0] != mtime_ns:
                cached = (mtime_ns, *self._list(folder))
                if time.time_ns() - mtime_ns > _RACY_MTIME_NS:
                    self._cache[folder] = cached
            found += cached[1]
            stack += cached[2]
        return found

    def _list(self, folder: str) -> tuple[list[str], list[str]]:
        files, folders = [], []
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return files, folders
        for entry in entries:
            if self.rules.ignored(entry.path):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
            elif entry.is_file():
                files.append(entry.path)
        return files, folders


class Selector:
    """Computes selections for one project; cheap to call on every change."""

    def __init__(self, config, history: History, rules: IgnoreRules, states: FileStates) -> None:
        self.config = config
        self.history = history
        self.rules = rules
        self.states = states
        self.listings = FolderListings(rules)
        self._loaded: tuple[tuple[int, int, int], tuple] | None = None  # (history version, _load())

    def select(self) -> Selection:
        started = time.monotonic()
        selection = self._select()
        selection.elapsed_s = time.monotonic() - started
        return selection

    def _history_version(self) -> tuple[int, int, int]:
        """Changes when this connection or any other commits to the history file (or it reopens)."""
        conn = self.history.conn
        return id(conn), conn.total_changes, conn.execute("pragma data_version").fetchone()[0]

    def _load(self):
        """Last outcomes, durations, dependency counts and dependencies by path; kept until the
        history changes."""
        version = self._history_version()
        if self._loaded is None or self._loaded[0] != version:
            conn = self.history.conn
            outcomes, durations = self._last_results()
            # Counted and grouped by SQLite: one row per owner and per distinct dependency.
            counts = dict(conn.execute("select nodeid, count(*) from test_deps group by nodeid"))
            by_path: dict[str, list[tuple[str, str, list[str]]]] = {}
            grouped = (
                "select path, kind, fingerprint, group_concat(nodeid, char(0)) from test_deps "
                "group by path, kind, fingerprint"
            )
            for path, kind, fingerprint, owners in conn.execute(grouped):
                by_path.setdefault(path, []).append((kind, fingerprint, owners.split("\0")))
            self._loaded = (version, (outcomes, durations, counts, by_path))
        return self._loaded[1]

    def _select(self) -> Selection:
        outcomes, durations, counts, by_path = self._load()
        known = set(outcomes) | {owner for owner in counts if "::" in owner}
        stored_env = self.states.stored().get(ENVIRONMENT_PATH)
        env = environment_fingerprint(self.config.root, self.config.python)
        if not counts or stored_env is None:
            return Selection([], {}, len(known), everything=True,
                             everything_reason="no recorded dependencies yet: running every test")
        if stored_env.sha != env:
            return Selection([], {}, len(known), everything=True, everything_reason=(
                "the Python version, installed packages or pytest/testwatch config changed"))
        hits = self._changed_owners(by_path)
        picked: dict[str, tuple[int, str]] = {}
        file_exists: dict[str, bool] = {}
        for nodeid in sorted(known):
            test_file = nodeid_file(nodeid)
            if test_file not in file_exists:
                file_exists[test_file] = (self.config.root / test_file).is_file()
            if not file_exists[test_file]:
                continue
            if outcomes.get(nodeid) in BAD_OUTCOMES:
                picked[nodeid] = (_RULE, f"{outcomes[nodeid]} last time")
            elif nodeid not in counts or test_file not in counts:
                picked[nodeid] = (_RULE, "no recorded dependencies yet")
            elif hit := hits.get(nodeid) or hits.get(test_file):
                picked[nodeid] = hit
        test_files, conftests = self._scan()
        self._pick_under_changed_conftests(conftests, known, picked)
        files_seen = {nodeid_file(n) for n in known} | {o for o in counts if "::" not in o}
        whole_files = {rel: "new test file" for rel in test_files if rel not in files_seen}
        reasons = {nodeid: why for nodeid, (_, why) in picked.items()}
        order = sorted(
            picked,
            key=lambda n: (outcomes.get(n) not in BAD_OUTCOMES, picked[n][0], durations.get(n, 0.0), n),
        )
        for path, why in sorted(whole_files.items()):
            reasons[path] = why
        selected = [p for p in sorted(whole_files) if p not in picked] + order
        return Selection(selected, reasons, len(known), known=known, dep_counts=counts)

    def _changed_owners(self, by_path) -> dict[str, tuple[int, str]]:
        """Each test or test file with a changed dependency -> (rank, reason), the most direct first."""
        hits: dict[str, tuple[int, str]] = {}
        for path, groups in by_path.items():
            state = self.states.get(path)
            for kind, fingerprint, owners in groups:
                if not _dep_changed(kind, fingerprint, state):
                    continue
                hit = (_IMPORTED if kind == "module" else _DIRECT, _describe(path, kind, state))
                for owner in owners:
                    if owner not in hits or hit < hits[owner]:
                        hits[owner] = hit
        return hits

    def _last_results(self) -> tuple[dict[str, str], dict[str, float]]:
        sql = (
            "select nodeid, outcome, duration_s from results where id in "
            "(select max(id) from results group by nodeid)"
        )
        outcomes, durations = {}, {}
        for nodeid, outcome, duration_s in self.history.conn.execute(sql):
            if "::" in nodeid:
                outcomes[nodeid] = outcome
                durations[nodeid] = duration_s or 0.0
            elif outcome in BAD_OUTCOMES and (self.config.root / nodeid).is_file():
                outcomes[nodeid] = outcome  # a file that failed to collect
        return outcomes, durations

    def _scan(self) -> tuple[list[str], list[str]]:
        """The project's test files and conftest.py files, as they are on disk now."""
        test_files, conftests = [], []
        prefix = len(str(self.rules.root)) + 1
        for path in self.listings.files():
            rel = path[prefix:].replace(os.sep, "/")
            if rel.rpartition("/")[2] == "conftest.py":
                conftests.append(rel)
            elif is_test_file(rel):
                test_files.append(rel)
        return test_files, conftests

    def _pick_under_changed_conftests(self, conftests, known, picked) -> None:
        stored = self.states.stored()
        for rel in conftests:
            state = self.states.get(rel)
            before = stored.get(rel)
            if state is not None and before is not None and before.sha == state.sha:
                continue
            folder = rel.rpartition("/")[0]
            prefix = f"{folder}/" if folder else ""
            why = f"{rel} changed (a conftest.py applies to every test under {folder or 'the root'})"
            for nodeid in known:
                if nodeid.startswith(prefix) and nodeid not in picked:
                    picked[nodeid] = (_RULE, why)
