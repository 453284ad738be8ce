"""Export the history's latest complete dependency recording as a bundle, and seed a history from one.

A seeded history selects as the recording's own history would: its ``test_deps`` and
``file_state`` are the bundle's, so every file whose content differs from what the bundle recorded
is changed; its environment is the bundle's, so another Python, other packages or another config
select everything. Stat keys are kept only for files whose content here is the recorded one, so
later selections stat them instead of hashing them. The bundle's results become one run with
trigger ``seed``, which dates the recording (its ``started_at`` is the recorded run's).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from testwatch.collectors.in_testwatch.project_files import IgnoreRules, stat_key
from testwatch.history import dep_index
from testwatch.history.store import History, count_outcomes, now_iso
from testwatch.model.results import OUTCOMES, nodeid_file
from testwatch.select.bundle import Bundle, BundleError
from testwatch.select.content_hashes import content_hash
from testwatch.select.environment import environment_parts, parts_difference, parts_fingerprint
from testwatch.select.file_states import ENVIRONMENT_PATH
from testwatch.select.known_tests import KnownTests
from testwatch.select.selection import FolderListings, made_before

# A file modified this recently may change again within its mtime's resolution: its stat is not kept.
_RACY_MTIME_NS = 2 * 10**9


@dataclass(frozen=True)
class Recording:
    """The complete dependency recording a history holds: its run, and when that run started."""

    run_id: int | None
    started_at: str | None
    git_revision: str | None
    python: str | None
    environment: str
    started_ns: int | None  # the run's start (the environment row's ``mtime_ns``)

    def describe(self) -> str:
        return f"recorded {self.started_at or 'at an unknown time'}" + (
            f" at revision {self.git_revision}" if self.git_revision else "")


@dataclass(frozen=True)
class Seeded:
    """What ``seed_history`` did."""

    tests: int
    deps: int
    files: int
    differing_files: list[str]  # recorded files whose content here is not the recorded one
    environment_difference: str  # empty when this environment is the bundle's
    already: bool = False  # the history held this very recording: nothing was written


def latest_recording(conn: sqlite3.Connection) -> Recording | None:
    """The history's latest complete recording (its environment row and that row's run), or None."""
    row = conn.execute(
        "select f.run_id, r.started_at, r.git_revision, r.python, f.sha, f.mtime_ns from file_state f "
        "left join runs r on r.id = f.run_id where f.path = ?", [ENVIRONMENT_PATH],
    ).fetchone()
    return Recording(*row) if row is not None else None


def bundle_from_history(history: History, root: Path, rules: IgnoreRules, python: str | None) -> Bundle:
    """The bundle of what ``history`` selects from: raises BundleError when it holds no complete
    recording."""
    conn = history.conn
    recording = latest_recording(conn)
    if recording is None or recording.started_at is None:
        raise BundleError(f"{history.path or 'the history'} holds no complete dependency recording: "
                          "run testwatch run --deps first")
    parts = environment_parts(root, python)
    deps = conn.execute("select nodeid, path, kind, fingerprint from test_deps").fetchall()
    states = conn.execute(
        "select path, sha, blocks from file_state where path != ?", [ENVIRONMENT_PATH]).fetchall()
    results = conn.execute("select nodeid, outcome, duration_s from latest_results").fetchall()
    files_seen = KnownTests.read(conn, root).files_seen
    left_out = {}
    for relative in _test_files(rules):
        if relative not in files_seen and made_before(str(root / relative), recording.started_ns):
            left_out[relative] = content_hash((root / relative).read_bytes())
    return Bundle(
        recorded_at=recording.started_at, git_revision=recording.git_revision, python=recording.python,
        environment=recording.environment,
        # Parts computed now describe the recording only while the environment is still the same.
        environment_parts=parts if parts_fingerprint(parts) == recording.environment else [],
        deps=deps, states=states, results=results, left_out=left_out,
    )


def seed_history(history: History, root: Path, rules: IgnoreRules, bundle: Bundle, source: str,
                 python: str | None, force: bool = False) -> Seeded:
    """Replace the history's dependency recording with the bundle's; raises BundleError (nothing
    written) when the history holds a newer recording and ``force`` is false."""
    if history.in_memory:
        raise BundleError(f"the history cannot be written ({'; '.join(history.warnings)}); "
                          "nothing was seeded")
    conn = history.conn
    local = latest_recording(conn)
    if local is not None and not force:
        if (local.started_at, local.git_revision) == (bundle.recorded_at, bundle.git_revision):
            return Seeded(0, 0, 0, [], "", already=True)
        if local.started_at is None or local.started_at > bundle.recorded_at:
            raise BundleError(
                f"{history.path or 'the history'} holds a newer recording ({local.describe()}) than "
                f"{source} (recorded {bundle.recorded_at}); nothing was written: pass --force to replace it"
            )
    seed_ns = time.time_ns()
    states, differing = _state_rows(root, bundle, seed_ns)
    parts = environment_parts(root, python)
    difference = "" if parts_fingerprint(parts) == bundle.environment else parts_difference(
        bundle.environment_parts, parts)
    counts = count_outcomes(outcome for _, outcome, _ in bundle.results if outcome in OUTCOMES)
    run_id = history.start_run("seed", len(bundle.results), [source], started_at=bundle.recorded_at,
                               python=bundle.python, git_revision=bundle.git_revision)
    try:
        with conn:
            conn.execute("delete from test_deps")
            conn.execute("delete from file_state")
            conn.executemany("insert into test_deps (nodeid, path, kind, fingerprint, run_id) "
                             "values (?, ?, ?, ?, ?)", [(*row, run_id) for row in bundle.deps])
            conn.executemany("insert into file_state (path, sha, blocks, size_bytes, mtime_ns, run_id) "
                             "values (?, ?, ?, ?, ?, ?)", [(*row, run_id) for row in states])
            conn.executemany(
                "insert into results (run_id, nodeid, file, outcome, duration_s) values (?, ?, ?, ?, ?)",
                [(run_id, nodeid, nodeid_file(nodeid), outcome, duration_s)
                 for nodeid, outcome, duration_s in bundle.results],
            )
            dep_index.rebuild(conn)
            complete_ns = _complete_run_ns(conn, root, rules, bundle, seed_ns)
            conn.execute("insert into file_state (path, sha, run_id, mtime_ns) values (?, ?, ?, ?)",
                         [ENVIRONMENT_PATH, bundle.environment, run_id, complete_ns])
            conn.execute(
                f"update runs set status = 'finished', finished_at = ?, collected = ?, message = ?, "
                f"{', '.join(f'{name} = ?' for name in counts)} where id = ?",
                [now_iso(), len(bundle.results), f"seeded from {source}", *counts.values(), run_id],
            )
    except sqlite3.Error as exc:
        with conn:
            conn.execute("delete from runs where id = ?", [run_id])
        raise BundleError(f"cannot seed {history.path or 'the history'} from {source}: {exc}") from exc
    return Seeded(len(bundle.results), len(bundle.deps), len(states), differing, difference)


def _state_rows(root: Path, bundle: Bundle, seed_ns: int) -> tuple[list[tuple], list[str]]:
    """``file_state`` rows (path, sha, blocks, size, mtime): the stat of a file kept only when its
    content here is the recorded one; and the recorded files that differ here."""
    rows, differing = [], []
    for path, sha, blocks in bundle.states:
        key = stat_key(root / path)
        same = False
        if key is not None:
            try:
                same = content_hash((root / path).read_bytes()) == sha
            except OSError:
                same = False
        if not same:
            differing.append(path)
        kept = key if same and seed_ns - key[1] > _RACY_MTIME_NS else (None, None)
        rows.append((path, sha, blocks, *kept))
    return rows, sorted(differing)


def _complete_run_ns(conn: sqlite3.Connection, root: Path, rules: IgnoreRules, bundle: Bundle,
                     seed_ns: int) -> int:
    """The time to date the seeded recording by, for new test files (``Selector._scan``): a test
    file the recording did not see and that changed since (ctime) is new. Every such file here that
    the recording left out (there, with this content) is not; any other one is, so the time is
    before its ctime (the test files left out that changed later are selected too: when in doubt)."""
    files_seen = KnownTests.read(conn, root).files_seen
    complete_ns = seed_ns
    for relative in _test_files(rules):
        if relative in files_seen:
            continue
        try:
            path = root / relative
            if bundle.left_out.get(relative) != content_hash(path.read_bytes()):
                complete_ns = min(complete_ns, path.stat().st_ctime_ns)
        except OSError:
            continue  # gone: nothing to select
    return complete_ns


def _test_files(rules: IgnoreRules) -> list[str]:
    """The project's test files (not conftest.py) that the ignore rules keep, relative."""
    found = []
    for path in FolderListings(rules).files():
        relative = rules.relative(path)
        if relative and not relative.endswith("conftest.py") and not rules.ignored(path):
            found.append(relative)
    return sorted(found)
