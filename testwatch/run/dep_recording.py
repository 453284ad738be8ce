"""Engine side of dependency recording: turn what the child recorded into history rows.

``DepRecorder.begin()`` gives the pytest arguments for a run (``collectors/in_pytest/deps_plugin.py`` does the
recording), remembers every project file's stat (``recording_start``, which ``testwatch run
--deps`` takes before pytest starts) and starts parsing the Python files while the tests run
(``fingerprint_warmup``); ``finish(run_id)`` reads the side files and
writes ``test_deps`` (what each test depends on, with the fingerprint it had when the test ran),
``file_state`` and the run's ``coverage`` rows. A file that changed while the run went on gets
the fingerprint ``changed-during-run``, so its tests are selected again: no change is lost.

``dep_index.refresh`` keeps the index beside ``test_deps`` in step, in the same transaction.

``finish`` runs in a thread of its own, on that thread's connection: the recorder owns its file
states (and the parses it keeps from run to run) and hands back what it stored as a frozen
mapping (``RecordSummary.file_states``) for the selection to adopt on its own thread.

``test_deps`` rows: ``nodeid`` is a test id (its file named from the project folder, as every
path here: ``collectors/in_pytest/node_ids.py``), or a test file's path for what the whole file
depends on; ``kind`` is ``block:<name>`` (a function body or ``<module>``), ``module`` (a project
module imported by the file, fingerprinted by its ``<module>`` block) or ``file`` (a data file
opened).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from testwatch.collectors.in_pytest.node_ids import ProjectIds
from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.config.settings import Config
from testwatch.history import dep_index
from testwatch.history.dep_index import CHANGED_DURING_RUN, MODULE_BLOCK, UNRECORDED_PROCESS
from testwatch.measure import line_coverage
from testwatch.measure.coverage_settings import CoverageSettings
from testwatch.run.child_command import DEPS_PLUGIN
from testwatch.run.fingerprint_warmup import Warmup
from testwatch.run.recording_start import Recording, start_recording
from testwatch.select import blocks_cache
from testwatch.select.blocks_cache import BlocksCache
from testwatch.select.dep_reading import ChildRecord, lost_records, read_child_records
from testwatch.select.file_states import ENVIRONMENT_PATH, FileState, FileStates
from testwatch.select.fingerprints import ImportStatement, python_blocks
from testwatch.select.import_graph import ImportGraph

if TYPE_CHECKING:
    import sqlite_utils

PLUGIN = DEPS_PLUGIN
_Dep = tuple[str, str, str | None]  # (path, kind, block) of one dependency
_INSERT_DEPS = (
    "insert or replace into test_deps (nodeid, path, kind, fingerprint, run_id) values (?, ?, ?, ?, ?)"
)
_DELETE_DEP = "delete from test_deps where nodeid = ? and path = ? and kind = ?"


@dataclass
class RecordSummary:
    tests: int = 0
    rows: int = 0
    warnings: list[str] = field(default_factory=list)  # the recording is incomplete: none stored
    notices: list[str] = field(default_factory=list)  # stored, with something the user should know
    deps_stored: bool = False  # the run's dependencies are in the history
    coverage_stored: bool = False  # the run's coverage rows are in the history
    file_states: Mapping[str, FileState] = field(default_factory=lambda: MappingProxyType({}))  # stored


class DepRecorder:
    """Records dependencies and coverage for runs of one project."""

    def __init__(self, config: Config, rules: IgnoreRules, cache_dir: Path | None = None):
        """``cache_dir``: where the parses of earlier recordings are kept (beside the history),
        None to keep them in memory only."""
        self.config = config
        self.rules = rules
        in_cache_dir = (lambda name: cache_dir / name) if cache_dir else (lambda name: None)
        self._blocks_cache = BlocksCache(in_cache_dir(blocks_cache.CACHE_NAME), config.root)
        self._rows_cache = line_coverage.rows_cache(in_cache_dir(line_coverage.CACHE_NAME), config.root)
        self._parsed: dict[str, FileState] = {}  # files parsed for line spans, kept across runs
        self.states: FileStates | None = None  # the states of the finish in progress
        self._block_of_line: dict[str, dict[int, str]] = {}  # relative -> line -> block, this finish

    def begin(self, recording: Recording | None = None) -> Recording:
        """Call just before a run (pass ``recording.pytest_args`` to pytest), or just after its
        pytest started with a ``recording`` taken before (``start_recording``): starts parsing
        the project's Python files while the tests run."""
        if recording is None:
            recording = start_recording(self.rules, self.config.branch)
        recording.warmup = Warmup(
            self.config.root, sorted(recording.start_keys), self._parsed, self._blocks_cache,
            coverage=not self.config.branch,
        )
        return recording

    def finish(self, recording: Recording, run_id: int | None, db: sqlite_utils.Database) -> RecordSummary:
        """Call once the run's last pytest session has ended (or the run was cancelled): store
        what the children recorded. ``db`` is a connection of the calling thread. One finish at a
        time; then ``store_environment`` if the run turns out complete."""
        warmup = recording.warmup
        if warmup is not None:
            self._parsed.update(warmup.collect())
        self.states = FileStates(self.config.root, db, self._parsed)
        self._block_of_line = {}
        try:
            records, data = read_child_records(recording.out_dir, self.config.root)
            summary = RecordSummary(warnings=[r.error for r in records if r.error])
            lost = lost_records(recording.out_dir)
            if lost:
                summary.notices.append(
                    f"no coverage stored for this run: {lost} pytest process(es) ended before writing "
                    "what their tests executed (a crash or a timeout); their tests are recorded when "
                    "they next run"
                )
            if not records or summary.warnings:
                # Without executed lines a test's deps would look complete and hide changes:
                # store none, so its tests keep being selected.
                return summary
            recording.first_read = self._first_read(records)
            rows, states = self._rows(recording, records, data, run_id)
            self._store(db, rows, states, records, run_id)
            summary.deps_stored = True
            if run_id is not None and data is not None and not lost:
                early = warmup.coverage_settings if warmup is not None else None
                settings = early or CoverageSettings(self.config.root)
                if settings.problem:
                    summary.notices.append(settings.problem)
                parsed = warmup.statements if early is not None else None
                rows_of_run = line_coverage.coverage_rows(
                    data, self.rules, self._rows_cache, settings, parsed
                )
                self._store_coverage(db, run_id, rows_of_run)
                summary.coverage_stored = True
            # Handed to another thread: frozen states, without this thread's parse trees.
            summary.file_states = MappingProxyType(
                {relative: dataclasses.replace(state, blocks=None) for relative, state in states.items()}
            )
            summary.tests = sum(len(r.locations) for r in records)
            summary.rows = len(rows)
            return summary
        finally:
            self.states = None
            recording.warmup = None  # its coverage.py objects sit in reference cycles: let them go
            shutil.rmtree(recording.out_dir, ignore_errors=True)
            self._blocks_cache.save()
            self._rows_cache.save()

    # ----- building rows

    def _first_read(self, records: list[ChildRecord]) -> dict[str, str | None]:
        """Each opened project file -> its content when the tests first read it (None when two
        processes read different contents)."""
        found: dict[str, str | None] = {}
        for record in records:
            for path, sha in record.first_read.items():
                relative = self.rules.relative(path)
                if relative is not None:
                    found[relative] = sha if found.get(relative, sha) == sha else None
        return found

    def _state(self, recording: Recording, relative: str, used: dict[str, FileState | None]) -> str | None:
        """The file's state as the run saw it; None if it changed during the run (or is gone).

        A data file whose stat changed but whose content is what the tests first read (a test
        that rewrites it with the same content) did not change. The answer is kept in ``used``
        for the whole store: a file edited and restored while the rows are built must not give
        one test two fingerprints for one dependency.
        """
        if relative not in used:
            state = self.states.get(relative, need_spans=True)
            stat_changed = state is not None and state.key != recording.start_keys.get(relative)
            if state is None or (stat_changed and state.sha != recording.first_read.get(relative)):
                state = None
            used[relative] = state
        return relative if used[relative] is not None else None

    def _rows(self, recording, records: list[ChildRecord], data, run_id) -> tuple[list[tuple], dict]:
        """``test_deps`` rows as (nodeid, path, kind, fingerprint, run_id), and the file states used."""
        used: dict[str, FileState | None] = {}
        # owner (a test, or a test file for its collection) -> (path, kind, fingerprint)
        deps: defaultdict[str, set[tuple[str, str, str]]] = defaultdict(set)

        fingerprinted: dict[tuple[str, str, str | None], tuple[str, str, str]] = {}  # one per dependency

        def fingerprint_of(relative: str, kind: str, block: str | None) -> tuple[str, str, str]:
            """The dependency with its fingerprint, worked out once and kept in ``fingerprinted``."""
            if self._state(recording, relative, used) is None:
                fingerprint = CHANGED_DURING_RUN
            else:
                state = used[relative]
                fingerprint = state.hashes.get(block, CHANGED_DURING_RUN) if block else state.sha
            fingerprinted[relative, kind, block] = (relative, kind, fingerprint)
            return fingerprinted[relative, kind, block]

        def add(owner: str, relative: str, kind: str, block: str | None = None) -> None:
            dep = fingerprinted.get((relative, kind, block)) or fingerprint_of(relative, kind, block)
            deps[owner].add(dep)

        lines = data.lines_by_test(self.rules) if data is not None else {}
        relative_of = functools.cache(self.rules.relative)  # a test file's path recurs per test

        def context_deps(record: ChildRecord, context: str) -> set[tuple[str, str, str | None]]:
            """(path, kind, block) of what a test or a fixture setup ran and opened."""
            found = set()
            for relative, numbers in lines.get(context, {}).items():
                found |= self._code_deps(recording, relative, numbers, used)
            for opened in record.opened.get(context, []):
                relative = relative_of(opened)
                if relative is not None and not self.rules.ignored(opened):
                    found.add((relative, "file", None))
            return found

        for record in records:
            fixture_deps = {}  # a fixture setup's deps, computed once for all the tests using it
            project_id = self._project_ids(record)
            for nodeid, (path, line0) in record.locations.items():
                found = context_deps(record, nodeid)
                for context in record.fixtures.get(nodeid, ()):
                    if context not in fixture_deps:
                        fixture_deps[context] = context_deps(record, context)
                    found |= fixture_deps[context]
                relative = relative_of(path)
                if relative is not None and line0 is not None and self._state(recording, relative, used):
                    blocks = used[relative].blocks
                    own = blocks.defs.get(line0 + 1) if blocks else None
                    if own:
                        found.add((relative, f"block:{own}", own))
                    elif not found:  # no lines and no def found: it depends on its file's module code
                        found.add((relative, "module", MODULE_BLOCK))
                owner_deps = deps[project_id(nodeid)]
                owner_deps.update(fingerprinted.get(dep) or fingerprint_of(*dep) for dep in found)
                started = [record.unrecorded[c] for c in (nodeid, *record.fixtures.get(nodeid, ()))
                           if c in record.unrecorded]
                if started:
                    owner_deps.add((UNRECORDED_PROCESS, "subprocess", started[0]))
        graph = ImportGraph(
            [rel for rel in recording.start_keys if rel.endswith(".py")],
            functools.partial(self._imports, recording, used),
        )
        for record in records:
            for test_file, seen in record.collected.items():
                owner = self.rules.relative(test_file)
                if owner is None:
                    continue
                start = {owner, *_conftests_above(owner, recording.start_keys)}
                start |= {
                    r for m in seen.get("modules", [])
                    if (r := self.rules.relative(m)) and not self.rules.ignored(m)  # a generated _version.py
                }
                python_start = {path for path in start if path.endswith(".py")}
                for module in graph.closure(python_start):
                    add(owner, module, "module", MODULE_BLOCK)
                # A test file a plugin collects (a doctest text file, a conftest.py's File) and an
                # extension module imported: their content, as any file read.
                for path in start - python_start:
                    add(owner, path, "file")
                for opened in seen.get("opened", []):
                    relative = self.rules.relative(opened)
                    if relative is not None and not self.rules.ignored(opened):
                        add(owner, relative, "file")
        # In key order: SQLite appends to its indexes instead of inserting all over them (a third
        # less). Owner by owner: one sort of all the rows, whose node ids share long prefixes, took
        # a third of building them (26,740 rows on marshmallow).
        rows = [(owner, *dep, run_id) for owner in sorted(deps) for dep in sorted(deps[owner])]
        return rows, {path: state for path, state in used.items() if state}

    def _project_ids(self, record: ChildRecord) -> ProjectIds:
        """The record's node ids (relative to pytest's rootdir) as testwatch names tests: its
        contexts keep pytest's ids, the rows' owners are the project's (``node_ids``)."""
        return ProjectIds(record.rootdir or str(self.config.root), str(self.config.root))

    def _code_deps(self, recording, relative: str, numbers: set[int], used) -> set[_Dep]:
        """(path, kind, block) of code a test ran from ``relative``: the blocks it ran of a Python
        file; the whole content of another kind of file that code was compiled from (a template);
        the archive it was imported from (a zip on ``sys.path``); nothing when the file was there
        neither before the run nor after it (a module the test wrote and removed: its own scratch).
        """
        if self._state(recording, relative, used) is None and not (self.config.root / relative).exists():
            archive = _archive_holding(self.config.root, relative)
            if archive is not None:
                return {(archive, "file", None)}
            if relative not in recording.start_keys:
                return set()
        elif used[relative] is not None and used[relative].blocks is None:
            return {(relative, "file", None)}
        blocks = self._blocks_of(recording, relative, numbers, used)
        return {(relative, f"block:{block}", block) for block in blocks}

    def _blocks_of(self, recording, relative: str, numbers: set[int], used) -> set[str]:
        if self._state(recording, relative, used) is None:
            return {MODULE_BLOCK}
        blocks = used[relative].blocks
        if blocks is None:
            return {MODULE_BLOCK}
        # The same lines recur test after test: each one's block is looked up once per file.
        block_of = self._block_of_line.setdefault(relative, {})
        found = set()
        for n in numbers:
            block = block_of.get(n)
            if block is None:
                block = block_of[n] = blocks.block_at(n)
            found.add(block)
        return found

    def _imports(self, recording, used, relative: str) -> list[ImportStatement] | None:
        """The file's import statements, from the parse its fingerprint came from when there is one."""
        if self._state(recording, relative, used) is not None and used[relative].blocks is not None:
            return used[relative].blocks.imports
        try:  # changed during the run, or not a .py file: parse what is there now
            return python_blocks((self.config.root / relative).read_bytes()).imports
        except OSError:
            return None

    # ----- storing

    def _store(self, db, rows: list[tuple], states: dict[str, FileState], records, run_id) -> None:
        owners = {row[0] for row in rows}
        for record in records:
            owners.update(map(self._project_ids(record), record.locations))
        owners |= {rel for r in records for f in r.collected if (rel := self.rules.relative(f))}
        state_rows = [
            {
                "path": relative, "sha": state.sha, "blocks": json.dumps(state.hashes),
                "size_bytes": state.key[0] if state.key else None,
                "mtime_ns": state.key[1] if state.key else None, "run_id": run_id,
            }
            for relative, state in states.items()
        ]
        with db.conn:
            stored = _stored_deps(db.conn, owners)
            recorded = {(nodeid, path, kind): fingerprint for nodeid, path, kind, fingerprint, _ in rows}
            gone = [key for key in stored if key not in recorded]
            # Only the rows that differ are written: a rerun of unchanged code rewrites nothing.
            changed = [row for row in rows if stored.get(row[:3]) != row[3]]
            db.conn.executemany(_DELETE_DEP, gone)
            db.conn.executemany(_INSERT_DEPS, changed)  # plain values: sqlite-utils' checks cost more
            db["file_state"].upsert_all(state_rows, pk="path", batch_size=500)
            rewritten = {key[0] for key in gone} | {row[0] for row in changed}
            dep_index.refresh(db.conn, rewritten, {row[1] for row in rows} | set(states))

    def _store_coverage(self, db, run_id: int, rows: list[dict]) -> None:
        for row in rows:
            row["run_id"] = run_id
        with db.conn:
            db["coverage"].upsert_all(rows, pk=("run_id", "file"))

    def store_environment(
        self, summary: RecordSummary, recording: Recording, environment: str, run_id: int | None, db
    ) -> None:
        """After ``finish`` stored a complete run of every test: its environment, and when it
        started (as ``mtime_ns``): a test file older than that which the run did not collect is
        one pytest leaves out, not a new one. Added to ``summary.file_states``."""
        started_ns = recording.started_ns
        state = FileState(environment, {}, (None, started_ns))
        with db.conn:
            db["file_state"].upsert(
                {"path": ENVIRONMENT_PATH, "sha": environment, "blocks": None, "run_id": run_id,
                 "size_bytes": None, "mtime_ns": started_ns},
                pk="path",
            )
        summary.file_states = MappingProxyType({**summary.file_states, ENVIRONMENT_PATH: state})


def _stored_deps(conn, owners: set[str]) -> dict[tuple[str, str, str], str]:
    """The stored ``test_deps`` rows of ``owners``: (nodeid, path, kind) -> fingerprint."""
    stored = {}
    ordered = sorted(owners)
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"select nodeid, path, kind, fingerprint from test_deps where nodeid in ({marks})"
        for nodeid, path, kind, fingerprint in conn.execute(sql, chunk):
            stored[nodeid, path, kind] = fingerprint
    return stored


def _conftests_above(relative: str, files) -> list[str]:
    parts = relative.split("/")[:-1]
    candidates = ["/".join([*parts[:i], "conftest.py"]) for i in range(len(parts) + 1)]
    return [c for c in candidates if c in files]


def _archive_holding(root: Path, relative: str) -> str | None:
    """The file among ``relative``'s parents (a zip archive on ``sys.path``), relative to ``root``."""
    parts = relative.split("/")
    for end in range(len(parts) - 1, 0, -1):
        candidate = "/".join(parts[:end])
        if (root / candidate).is_file():
            return candidate
    return None
