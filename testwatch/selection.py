"""Which tests the working tree's changes can affect, why, and in which order to run them.

A test is selected when a dependency recorded at its last run (a function body it executed, a
module its file imported, a data file it opened) no longer has the fingerprint it had then; when
it failed, crashed or timed out last time; when it has no recorded dependencies; when it is in a
new test file or under a changed ``conftest.py``. A changed Python version, installed package or
config file selects everything. When in doubt, select. Order: last failures first, then the tests
that touch the change most directly, then the fastest.
"""

from __future__ import annotations

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


@dataclass
class Selection:
    """The affected tests in run order; ``everything`` means run the whole suite."""

    selected: list[str]
    reasons: dict[str, str]
    total_known: int
    elapsed_s: float = 0.0
    everything: bool = False
    everything_reason: str = ""
    unchanged: dict[str, str] = field(default_factory=dict)  # nodeid -> why it was not selected

    def why_not(self, nodeid: str) -> str:
        """Why a test is not in the selection (or the reason it is)."""
        if self.everything:
            return f"selected: {self.everything_reason}"
        if nodeid in self.reasons:
            return f"selected: {self.reasons[nodeid]}"
        return self.unchanged.get(nodeid, "testwatch has never seen this test (not in the history)")


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


def _count(deps: dict[str, list], nodeid: str) -> int:
    return len(deps.get(nodeid, [])) + len(deps.get(nodeid_file(nodeid), []))


def _dep_changed(kind: str, fingerprint: str, state: FileState | None) -> bool:
    if state is None or fingerprint == CHANGED_DURING_RUN:
        return True
    if kind == "file":
        return state.sha != fingerprint
    block = MODULE_BLOCK if kind == "module" else kind.removeprefix("block:")
    return state.hashes.get(block) != fingerprint


class Selector:
    """Computes selections for one project; cheap to call on every change."""

    def __init__(self, config, history: History, rules: IgnoreRules, states: FileStates) -> None:
        self.config = config
        self.history = history
        self.rules = rules
        self.states = states

    def select(self) -> Selection:
        started = time.monotonic()
        selection = self._select()
        selection.elapsed_s = time.monotonic() - started
        return selection

    def _select(self) -> Selection:
        outcomes, durations = self._last_results()
        deps: dict[str, list[tuple[str, str, str]]] = {}
        for row in self.history.rows("select nodeid, path, kind, fingerprint from test_deps"):
            deps.setdefault(row["nodeid"], []).append((row["path"], row["kind"], row["fingerprint"]))
        known = set(outcomes) | {owner for owner in deps if "::" in owner}
        stored_env = self.states.stored().get(ENVIRONMENT_PATH)
        env = environment_fingerprint(self.config.root, self.config.python)
        if not deps or stored_env is None:
            return Selection([], {}, len(known), everything=True,
                             everything_reason="no recorded dependencies yet: running every test")
        if stored_env.sha != env:
            return Selection([], {}, len(known), everything=True, everything_reason=(
                "the Python version, installed packages or pytest/testwatch config changed"))
        states: dict[str, FileState | None] = {}

        def changed(owner: str) -> tuple[int, str] | None:
            for path, kind, fingerprint in deps.get(owner, ()):
                if path not in states:
                    states[path] = self.states.get(path)
                if _dep_changed(kind, fingerprint, states[path]):
                    rank = _IMPORTED if kind == "module" else _DIRECT
                    return rank, _describe(path, kind, states[path])
            return None

        picked: dict[str, tuple[int, str]] = {}
        file_owner_changes = {}
        for nodeid in sorted(known):
            test_file = nodeid_file(nodeid)
            if not (self.config.root / test_file).is_file():
                continue
            if outcomes.get(nodeid) in BAD_OUTCOMES:
                picked[nodeid] = (_RULE, f"{outcomes[nodeid]} last time")
            elif nodeid not in deps or test_file not in deps:
                picked[nodeid] = (_RULE, "no recorded dependencies yet")
            elif hit := changed(nodeid):
                picked[nodeid] = hit
            else:
                if test_file not in file_owner_changes:
                    file_owner_changes[test_file] = changed(test_file)
                if file_owner_changes[test_file]:
                    picked[nodeid] = file_owner_changes[test_file]
        test_files, conftests = self._scan()
        self._pick_under_changed_conftests(conftests, known, picked)
        files_seen = {nodeid_file(n) for n in known} | {o for o in deps if "::" not in o}
        whole_files = {rel: "new test file" for rel in test_files if rel not in files_seen}
        reasons = {nodeid: why for nodeid, (_, why) in picked.items()}
        order = sorted(
            picked,
            key=lambda n: (outcomes.get(n) not in BAD_OUTCOMES, picked[n][0], durations.get(n, 0.0), n),
        )
        for path, why in sorted(whole_files.items()):
            reasons[path] = why
        selected = [p for p in sorted(whole_files) if p not in picked] + order
        unchanged = {
            nodeid: f"not selected: none of its {_count(deps, nodeid)} recorded dependencies "
            "changed since it last ran"
            for nodeid in known if nodeid not in picked
        }
        return Selection(selected, reasons, len(known), unchanged=unchanged)

    def _last_results(self) -> tuple[dict[str, str], dict[str, float]]:
        sql = (
            "select nodeid, outcome, duration_s from results where id in "
            "(select max(id) from results group by nodeid)"
        )
        outcomes, durations = {}, {}
        for row in self.history.rows(sql):
            if "::" in row["nodeid"]:
                outcomes[row["nodeid"]] = row["outcome"]
                durations[row["nodeid"]] = row["duration_s"] or 0.0
            elif row["outcome"] in BAD_OUTCOMES and (self.config.root / row["nodeid"]).is_file():
                outcomes[row["nodeid"]] = row["outcome"]  # a file that failed to collect
        return outcomes, durations

    def _scan(self) -> tuple[list[str], list[str]]:
        """The project's test files and conftest.py files, as they are on disk now."""
        test_files, conftests = [], []
        for path in self.rules.walk():
            rel = path.relative_to(self.rules.root).as_posix()
            if path.name == "conftest.py":
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
