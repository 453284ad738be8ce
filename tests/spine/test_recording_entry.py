"""The recording child's entry point (``record_first``) starts pytest through its public API only:
pytest 9.2 deprecates ``console_main`` for any caller but ``python -m pytest``, pytest 10 removes it."""

from __future__ import annotations

import subprocess
import sys

PROJECT = {
    "tests/test_one.py": """
        def test_one():
            assert 1 + 1 == 2
    """,
}


def test_the_recording_child_runs_pytest_without_deprecated_entry_points(make_project, tmp_path):
    root = make_project(PROJECT)
    out = tmp_path / "deps"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-W", "error:pytest.console_main() is deprecated", "-m",
         "testwatch.collectors.in_pytest.record_first", str(root),
         "-p", "testwatch.collectors.in_pytest.deps_plugin", f"--testwatch-deps={out}",
         "-p", "no:cacheprovider", "-q", "tests"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert [path.name for path in out.glob("deps.*.json")]  # it recorded


AUDIT_PROBE = """
import collections, sys
from testwatch.collectors.in_pytest import deps_plugin

seen = collections.Counter()
acts_on = deps_plugin.Recorder._on_audit

def counting(self, event, args):
    seen[event] += 1
    return acts_on(self, event, args)

deps_plugin.Recorder._on_audit = counting
out, root, data = sys.argv[1:]
recorder = deps_plugin.Recorder(out, root, branch=False)
recorder.current = set()
for _ in range(1000):
    id(recorder)  # an audited builtin: freezegun calls it for every attribute it patches
with open(data, encoding="utf-8") as f:
    f.read()
recorder.stop_tracing()
print(seen["builtins.id"], seen["open"] > 0, sorted(recorder.current))
"""


def test_the_recorders_audit_hook_passes_on_only_the_events_it_acts_on(make_project, tmp_path):
    # Every audited call in the child runs the hook; the recorder's Python code must run only
    # for the events it records (an open, an exec, a subprocess), not for each of these.
    root = make_project({**PROJECT, "data.txt": "input"})
    out = tmp_path / "deps"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", AUDIT_PROBE, str(out), str(root), str(root / "data.txt")],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(None, 2) == ["0", "True", f"['{root / 'data.txt'}']\n"]
