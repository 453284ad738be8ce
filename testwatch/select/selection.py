"""Which tests the working tree's changes can affect, why, and in which order to run them.

A test is selected when a dependency recorded at its last run (a function body it executed, a
module its file imported, a data file it opened) no longer has the fingerprint it had then; when
it failed, crashed or timed out last time; when it has no recorded dependencies; when it is in a
new test file or under a changed ``conftest.py``. An edit of a module's module-level code selects
the tests whose executed code can observe the names it changed (``module_names.py``), or every
importer where the names cannot be followed. A changed Python version, installed package or
config file selects everything. When in doubt, select. Order: last failures first, then the tests
that touch the change most directly, then the fastest. A test function or class an edit added to
a test module is selected by its name (``module_names``: nothing else in the module observes a
new name unless it reads it); the history has never seen it. Tests the history has never seen in
a selected test's file (one just written, a new parameter) are found only when pytest collects
the file: the child runs them too, before the others (``Selection.known_in_selected_files``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from testwatch.collectors.in_testwatch.project_files import IgnoreRules, is_test_file
from testwatch.config.pytest_ini import names_tests_by_default
from testwatch.history import dep_index
from testwatch.history.dep_index import MODULE_BLOCK
from testwatch.history.store import History
from testwatch.model.results import nodeid_file
from testwatch.select.environment import environment_fingerprint
from testwatch.select.facts_cache import CACHE_NAME, MISSING, FactsCache
from testwatch.select.file_states import ENVIRONMENT_PATH, FileState, FileStates
from testwatch.select.fingerprints import UNPARSABLE, is_name_key
from testwatch.select.known_tests import KnownTests
from testwatch.select.module_names import Impact, ModuleFacts, body_impact, module_facts, module_impact

# What ``@pytest.fixture`` is called in a conftest.py's decorators.
_FIXTURE_DECORATORS = frozenset({"fixture", "yield_fixture"})
# Directness ranks: lower runs earlier.
_RULE, _DIRECT, _IMPORTED = 0, 1, 2
# A folder modified this recently may change again within its mtime's resolution: not cached.
_RACY_MTIME_NS = 2 * 10**9


@dataclass
class Selection:
    """The affected tests in run order; ``everything`` means run the whole suite (``selected``
    then lists every known test)."""

    selected: list[str]
    reasons: dict[str, str]
    total_known: int
    elapsed_s: float = 0.0
    everything: bool = False
    everything_reason: str = ""
    known: set[str] = field(default_factory=set)  # every test the history knows
    known_by_file: dict[str, list[str]] = field(default_factory=dict)  # test file -> its known tests
    dep_counts: dict[str, int] = field(default_factory=dict)  # owner -> recorded dependencies

    def known_in_selected_files(self) -> frozenset[str]:
        """The known tests of the files the selection's tests are in: a run of the selection
        also runs the tests collected there that are not among them, which are new."""
        files = {nodeid_file(nodeid) for nodeid in self.selected}
        return frozenset(nodeid for test_file in files for nodeid in self.known_by_file.get(test_file, ()))

    def why_not(self, nodeid: str) -> str:
        """Why a test is not in the selection (or the reason it is)."""
        if self.everything:
            return f"selected: {self.everything_reason}"
        if nodeid in self.reasons:
            return f"selected: {self.reasons[nodeid]}"
        if nodeid not in self.known:
            return ("testwatch has never seen this test (not in the history, which names tests "
                    "from the project folder, as pytest takes them there)")
        count = self.dep_counts.get(nodeid, 0) + self.dep_counts.get(nodeid_file(nodeid), 0)
        return (f"not selected: none of its {count} recorded dependencies "
                "changed since it last ran")


def _describe(path: str, kind: str, fingerprint: str, state: FileState | None) -> str:
    if kind == "subprocess":
        return f"it starts {fingerprint}, whose code testwatch cannot record"
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


def _hit(hits: dict[str, tuple[int, str]], owners: list[str], hit: tuple[int, str]) -> None:
    """Keep the most direct reason of each owner."""
    for owner in owners:
        if owner not in hits or hit < hits[owner]:
            hits[owner] = hit


def _everything(known: KnownTests, reason: str) -> Selection:
    """The whole suite: every known test is listed (last failures first), as it will run."""
    selected = sorted(known.tests, key=lambda nodeid: (nodeid not in known.failed, nodeid))
    return Selection(selected, {}, len(known.tests), everything=True, everything_reason=reason,
                     known=known.tests, dep_counts=known.counts)


def _named_from_above(root: Path, tests_by_file) -> Path | None:
    """The folder above ``root`` that known tests are named from, when the history holds such
    node ids and not yet the same tests named from the project (as testwatch names them since it
    maps pytest's ids, ``collectors/in_pytest/node_ids.py``): recorded earlier under a pytest
    rootdir above the project, their dependencies cannot be told apart from a deleted test's.
    None when there are none (read once per history version: a string comparison per test file
    and folder above, in the usual case)."""
    prefixes = {f"{root.relative_to(above).as_posix()}/": above for above in root.parents}
    for test_file in tests_by_file:
        for prefix, above in prefixes.items():
            if (
                test_file.startswith(prefix)
                and test_file[len(prefix):] not in tests_by_file
                and (above / test_file).is_file()
                and not (root / test_file).is_file()
            ):
                return above
    return None


def made_before(path: str, started_ns: int | None) -> bool:
    """True when the file's last status change (creation, rename, write) is before ``started_ns``."""
    if started_ns is None:
        return False
    try:
        return os.stat(path).st_ctime_ns < started_ns
    except OSError:
        return False


class FolderListings:
    """The project's test and conftest files, each folder listed again only when its mtime changed.

    Folders the ignore rules exclude are not entered; files are matched by name only (the caller
    applies the ignore rules to the few it needs). Adding, removing or renaming an entry changes
    its folder's mtime; the ignore rules are fixed for the life of ``rules``. A folder modified in
    the last two seconds is not cached, and one that a walk no longer reaches (removed, or moved
    away) is forgotten, so folders that come and go in a long watch session are not kept.
    """

    def __init__(self, rules: IgnoreRules) -> None:
        self.rules = rules
        self._cache: dict[str, tuple[int, list[str], list[str]]] = {}  # folder -> mtime, files, folders

    def files(self) -> list[str]:
        """Absolute paths of every file named like a test file or conftest.py."""
        found: list[str] = []
        listed: dict[str, tuple[int, list[str], list[str]]] = {}  # this walk's folders only
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
                listed[folder] = cached
            found += cached[1]
            stack += cached[2]
        self._cache = listed
        return found

    def _list(self, folder: str) -> tuple[list[str], list[str]]:
        files, folders = [], []
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return files, folders
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not self.rules.ignored(entry.path):
                    folders.append(entry.path)
            elif is_test_file(entry.name) and entry.is_file():
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
        self._loaded: tuple[tuple[int, int, int], KnownTests] | None = None  # (history version, _load())
        self._named_from: Path | None = None  # _named_from_above(), for the loaded history version
        self._groups: dict[str, list[tuple[str, str, list[str]]]] = {}  # path -> its rows, grouped
        self._facts: dict[str, tuple[str, ModuleFacts | None]] = {}  # path -> (sha, facts)
        self._tests_by_default: bool | None = None  # names_tests_by_default, once per selection
        on_disk = history.path.parent / CACHE_NAME if history.path is not None else None
        self.facts_cache = FactsCache(on_disk, config.root)  # earlier selections' facts, by content hash

    def select(self) -> Selection:
        started = time.monotonic()
        selection = self._select()
        self.facts_cache.save()
        selection.elapsed_s = time.monotonic() - started
        return selection

    def _history_version(self) -> tuple[int, int, int]:
        """Changes when this connection or any other commits to the history file (or it reopens)."""
        conn = self.history.conn
        return id(conn), conn.total_changes, conn.execute("pragma data_version").fetchone()[0]

    def _load(self) -> KnownTests:
        """What the history knows about tests; kept until the history changes (each changed
        path's rows are read once per history version, in ``_groups``)."""
        version = self._history_version()
        if self._loaded is None or self._loaded[0] != version:
            self.states.reload_stored()  # another process may have recorded since
            self._groups = {}
            known = KnownTests.read(self.history.conn, self.config.root)
            self._loaded = (version, known)
            self._named_from = _named_from_above(self.config.root, known.tests_by_file)
        return self._loaded[1]

    def _select(self) -> Selection:
        self._tests_by_default = None
        known = self._load()
        stored_env = self.states.stored().get(ENVIRONMENT_PATH)
        env = environment_fingerprint(self.config.root, self.config.python)
        if not known.counts or stored_env is None:
            return _everything(known, "no recorded dependencies yet: running every test")
        if stored_env.sha != env:
            return _everything(
                known, "the Python version, installed packages or pytest/testwatch config changed "
                "(or a conftest.py or config file above the project)")
        if self._named_from is not None:
            return _everything(
                known, f"the history names tests from {self._named_from} (pytest's rootdir, as "
                "testwatch did before it named them from the project folder): running every test "
                "records them anew")
        hits, new_tests = self._changed_owners(known.stale)
        picked = self._pick(known, hits)
        new_test_files, conftests = self._scan(known.files_seen, stored_env.key)
        self._pick_under_changed_conftests(conftests, known.tests, picked)
        whole_files = dict.fromkeys(new_test_files, "new test file")
        new_tests = {nodeid: why for nodeid, why in new_tests.items() if nodeid not in picked}
        reasons = {**new_tests, **{nodeid: why for nodeid, (_, why) in picked.items()}}
        durations = known.durations(self.history.conn, picked)
        order = sorted(
            picked,
            key=lambda n: (n not in known.failed, picked[n][0], durations.get(n) or 0.0, n),
        )
        for path, why in sorted(whole_files.items()):
            reasons[path] = why
        selected = [p for p in sorted(whole_files) if p not in picked] + sorted(new_tests) + order
        return Selection(selected, reasons, len(known.tests), known=known.tests,
                         known_by_file=known.tests_by_file, dep_counts=known.counts)

    def _pick(self, known: KnownTests, hits) -> dict[str, tuple[int, str]]:
        """Known tests (in files that still exist) that failed last time, have no recorded
        dependencies, or have a changed one -> (rank, reason). Visits only those candidates."""
        counts, by_file = known.counts, known.tests_by_file
        candidates = set(known.failed) | (known.tests - counts.keys()) | (hits.keys() & known.tests)
        whole = [f for f in by_file if f in hits or f not in counts]
        candidates.update(nodeid for test_file in whole for nodeid in by_file[test_file])
        picked: dict[str, tuple[int, str]] = {}
        file_exists: dict[str, bool] = {}
        root_text = str(self.config.root)
        for nodeid in candidates:
            test_file = nodeid_file(nodeid)
            if test_file not in file_exists:
                file_exists[test_file] = os.path.isfile(os.path.join(root_text, test_file))
            if not file_exists[test_file]:
                continue
            if nodeid in known.failed:
                picked[nodeid] = (_RULE, f"{known.failed[nodeid]} last time")
            elif nodeid not in counts or test_file not in counts:
                picked[nodeid] = (_RULE, "no recorded dependencies yet")
            elif hit := hits.get(nodeid) or hits.get(test_file):
                picked[nodeid] = hit
        return picked

    def _changed_owners(self, stale: set[str]) -> tuple[dict[str, tuple[int, str]], dict[str, str]]:
        """Each test or test file with a changed dependency -> (rank, reason), the most direct
        first; and the tests an edit added to a test module (``file::name``) -> why they run.

        Only the rows of stale paths and of files that differ from their ``file_state`` are read,
        and, after an edit of module-level code that is followed name by name, the rows of the
        files holding code that reads a changed name.
        """
        hits: dict[str, tuple[int, str]] = {}
        impacts: dict[str, Impact] = {}
        for path in sorted(self._changed_paths(stale)):
            state = self.states.get(path)
            sha, hashes = (state.sha, state.hashes) if state is not None else (None, {})
            for kind, fingerprint, owners in self._rows_of(path):
                if not dep_index.dep_changed(kind, fingerprint, sha, hashes):
                    continue
                why = _describe(path, kind, fingerprint, state)
                if kind == "module" and state is not None:
                    impact = impacts.get(path) or self._impact(path, fingerprint, state)
                    if not impact.fallback:
                        impacts[path] = impact  # its observers are picked below, by name
                        continue
                    why = f"{why}: not followed by name, {impact.fallback}"
                _hit(hits, owners, (_IMPORTED if kind == "module" else _DIRECT, why))
            if path.endswith(".py") and state is not None:
                self._pick_import_time_readers(path, state, hits)
        new_tests = {}
        for impact in impacts.values():
            self._pick_observers(impact, hits)
            for name in impact.new_tests:
                why = f"new: written into {impact.origin} since its tests ran"
                new_tests[f"{impact.origin}::{name}"] = why
        return hits, new_tests

    def _pick_import_time_readers(self, path: str, state: FileState, hits: dict) -> None:
        """The tests that read what an edited function body of ``path`` made at import
        (``module_names.body_impact``): a test that runs the function is a hit of its block."""
        before = self.states.stored().get(path)
        if before is None:
            return
        bodies = {
            block for block, fingerprint in before.hashes.items()
            if block in state.hashes and fingerprint != state.hashes[block]
            and block not in (MODULE_BLOCK, UNPARSABLE) and not is_name_key(block)
        }
        if not bodies:
            return
        python_files = self._python_files()
        impact = body_impact(path, bodies, python_files, self._module_facts)
        if not impact.fallback:
            self._pick_observers(impact, hits, widening=False)
            return
        why = f"code of {path} that runs at import changed: not followed by name, {impact.fallback}"
        for kind, _, owners in self._rows_of(path):
            if kind == "module":
                _hit(hits, owners, (_IMPORTED, why))

    def _rows_of(self, path: str) -> list[tuple[str, str, list[str]]]:
        if path not in self._groups:
            self._groups[path] = dep_index.groups_of(self.history.conn, path)
        return self._groups[path]

    def _impact(self, path: str, fingerprint: str, state: FileState) -> Impact:
        """What the edit of ``path``'s module-level code changed, name by name."""
        before = self.states.stored().get(path)
        if before is None or before.hashes.get(MODULE_BLOCK) != fingerprint:
            return Impact(path, fallback="its tests ran against an older version than the last recorded")
        python_files = self._python_files()
        if self._tests_by_default is None:
            self._tests_by_default = names_tests_by_default(self.config.root, self.config.pytest_args)
        return module_impact(
            path, before.hashes, state.hashes, python_files, self._module_facts, self._tests_by_default
        )

    def _python_files(self) -> list[str]:
        """The project's Python files the history has a state of (recorded when tests ran)."""
        return [path for path in self.states.stored() if path.endswith(".py")]

    def _module_facts(self, path: str) -> ModuleFacts | None:
        """What a Python file binds and reads now (parsed only when no earlier selection, here or
        in ``facts_cache``, saw this content)."""
        state = self.states.get(path)
        if state is None:
            return None
        cached = self._facts.get(path)
        if cached is None or cached[0] != state.sha:
            facts = self.facts_cache.get(path, state.sha)
            if facts is MISSING:
                try:
                    source = (self.config.root / path).read_bytes()
                except OSError:
                    return None
                facts = module_facts(source, path)
                self.facts_cache.put(path, state.sha, facts)
            cached = (state.sha, facts)
            self._facts[path] = cached
        return cached[1]

    def _pick_observers(self, impact: Impact, hits: dict, widening: bool = True) -> None:
        """The tests whose recorded blocks read a changed name (or, ``widening``, ran the edited
        module's code, when the changed statements make calls)."""
        for path in self._python_files():
            facts = self._module_facts(path)
            observers = impact.observers(path, facts) if facts is not None else {}
            widen = impact.widen if widening and path == impact.origin else ""
            if not observers and not widen:
                continue
            for kind, _, owners in self._rows_of(path):
                block = kind.removeprefix("block:")
                if block in observers:
                    _hit(hits, owners, (_DIRECT, observers[block]))
                elif widen and kind.startswith("block:"):
                    why = f"module-level code of {path} changed and ran by the test ({widen})"
                    _hit(hits, owners, (_IMPORTED, why))
        for test_file, why in impact.test_modules.items():
            _hit(hits, [test_file], (_IMPORTED, why))

    def _changed_paths(self, stale: set[str]) -> set[str]:
        """Stale paths and every recorded file whose content is not what ``file_state`` holds."""
        changed = set(stale)
        for path, before in self.states.stored().items():
            if path == ENVIRONMENT_PATH:
                continue
            state = self.states.get(path)
            if state is None or state.sha != before.sha:
                changed.add(path)
        return changed

    def _scan(self, files_seen: set[str], complete_run) -> tuple[list[str], list[str]]:
        """The project's new test files and its conftest.py files, on disk now.

        A test file is new when no run saw it and it was made (its ctime, which no copy or
        archive sets back) after the last complete run (``complete_run``: the environment's
        stored key, whose time is that run's start). One that was there then and that the
        complete run did not collect is left out by pytest's own settings (``norecursedirs``,
        ``testpaths``, ``collect_ignore``): selecting it would select it on every change.
        """
        started_ns = complete_run[1] if complete_run else None
        new_test_files, conftests = [], []
        prefix = len(str(self.rules.root)) + 1
        for path in self.listings.files():
            rel = path[prefix:].replace(os.sep, "/")
            is_conftest = rel.rpartition("/")[2] == "conftest.py"
            if (is_conftest or rel not in files_seen) and not self.rules.ignored(path):
                if is_conftest:
                    conftests.append(rel)
                elif not made_before(path, started_ns):
                    new_test_files.append(rel)
        return new_test_files, conftests

    def _pick_under_changed_conftests(self, conftests, known, picked) -> None:
        stored = self.states.stored()
        for rel in conftests:
            state = self.states.get(rel)
            before = stored.get(rel)
            if state is not None and before is not None and before.sha == state.sha:
                continue
            if before is not None and state is not None and self._only_fixtures_changed(rel, before, state):
                continue  # the tests that ran them are picked by their recorded blocks
            folder = rel.rpartition("/")[0]
            prefix = f"{folder}/" if folder else ""
            why = f"{rel} changed (a conftest.py applies to every test under {folder or 'the root'})"
            for nodeid in known:
                if nodeid.startswith(prefix) and nodeid not in picked:
                    picked[nodeid] = (_RULE, why)

    def _only_fixtures_changed(self, rel: str, before: FileState, now: FileState) -> bool:
        """True when the edit of a ``conftest.py`` changed only bodies of fixtures: code that runs
        only in a test's setup or teardown, where it is recorded for that test (a wider-scoped
        fixture's, for every test that uses it). Its module-level code (decorators, signatures,
        hooks' existence) must be as recorded; a hook's or a helper's body, which may run outside
        any test, keeps the rule that selects every test under it."""
        module_before = before.hashes.get(MODULE_BLOCK)
        if module_before is None or module_before != now.hashes.get(MODULE_BLOCK):
            return False
        facts = self._module_facts(rel)
        if facts is None:
            return False
        fixtures = {
            name
            for statement in facts.statements
            if statement.kind == "def" and statement.calls & _FIXTURE_DECORATORS
            for name in statement.bound
        }
        changed = {
            block
            for block in before.hashes.keys() | now.hashes.keys()
            if before.hashes.get(block) != now.hashes.get(block)
        }
        return all(block.partition(".")[0].partition("#")[0] in fixtures for block in changed)
