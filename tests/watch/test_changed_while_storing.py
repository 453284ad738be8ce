"""A file edited and put back while a recording is stored keeps one answer for the whole store:
changed during the run. Otherwise one test could get two fingerprints for one dependency (the
``test_deps`` key) and the store fail with a UNIQUE constraint, losing the run's dependencies."""

from __future__ import annotations

import os

import sqlite_utils

from testwatch.collectors.in_testwatch.project_files import IgnoreRules
from testwatch.config.settings import load_config
from testwatch.run.dep_recording import DepRecorder
from testwatch.select.file_states import FileStates


def test_a_file_seen_changed_stays_changed_for_the_store(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    module = tmp_path / "calc.py"
    module.write_text("def double(x):\n    return 2 * x\n")
    config = load_config(tmp_path)
    recorder = DepRecorder(config, IgnoreRules(config.root, config.ignore, config.history_path))
    recording = recorder.begin()
    recorder.states = FileStates(config.root, sqlite_utils.Database(memory=True))
    used = {}

    original, before = module.read_text(), module.stat()
    module.write_text("def double(x):\n    return x + x\n")
    os.utime(module, ns=(1, 1))  # a different stat, as an editor's save gives
    assert recorder._state(recording, "calc.py", used) is None

    module.write_text(original)  # put back, stat and all, while the store goes on
    os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert recorder._state(recording, "calc.py", used) is None
    assert recorder._state(recording, "missing.py", used) is None
    if recording.warmup is not None:
        recording.warmup.collect()


def test_an_unchanged_file_gives_its_state(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "calc.py").write_text("def double(x):\n    return 2 * x\n")
    config = load_config(tmp_path)
    recorder = DepRecorder(config, IgnoreRules(config.root, config.ignore, config.history_path))
    recording = recorder.begin()
    recorder.states = FileStates(config.root, sqlite_utils.Database(memory=True))
    used = {}
    assert recorder._state(recording, "calc.py", used) == "calc.py"
    assert used["calc.py"].sha
    if recording.warmup is not None:
        recording.warmup.collect()
