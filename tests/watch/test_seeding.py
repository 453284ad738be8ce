"""Selection bundles: ``testwatch run --deps --bundle`` records in one folder, ``testwatch seed``
starts another copy's selection from it (another path prefix), with no local run."""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.watch.conftest import SAMPLE
from testwatch.select.environment import environment_fingerprint

# A test file pytest leaves out (outside testpaths): no run collects it, so it is not new.
LEFT_OUT = {"other/test_outside.py": "def test_outside():\n    assert False\n"}


@pytest.fixture
def recorded_with_bundle(make_project, cli, tmp_path):
    """Project A recorded by ``run --deps --bundle``, and the bundle."""
    root = make_project({**SAMPLE, **LEFT_OUT}, name="ci/checkout/project")
    bundle = tmp_path / "selection.twb"
    out = cli("run", str(root), "--deps", "--bundle", str(bundle))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"wrote {bundle}: 3 tests" in out.stdout
    return root, bundle


@pytest.fixture
def seeded_copy(make_project, recorded_with_bundle, cli):
    """Project B, the same files in another folder (made after the recording), seeded."""
    _, bundle = recorded_with_bundle
    copy = make_project({**SAMPLE, **LEFT_OUT}, name="laptop/work/elsewhere/project")
    out = cli("seed", str(bundle), str(copy))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "seeded" in out.stdout and "differ" not in out.stdout, out.stdout
    return copy


def _history_bytes(root: Path) -> bytes | None:
    path = root / ".testwatch" / "history.db"
    return path.read_bytes() if path.exists() else None


def test_the_seeded_copy_selects_what_the_recording_folder_selects(
        recorded_with_bundle, seeded_copy, edit, affected):
    recorded, _ = recorded_with_bundle
    for root in (recorded, seeded_copy):
        assert affected(root)["selected"] == []
    for root in (recorded, seeded_copy):
        edit(root / "calc/core.py", "return -x", "return 0 - x")
    in_recorded, in_copy = affected(recorded), affected(seeded_copy)
    assert in_copy["selected"] == in_recorded["selected"] == ["tests/test_core.py::test_negate"]
    assert in_copy["reasons"] == in_recorded["reasons"]
    # Module-level code and a data file, on top of the edit above.
    for root in (recorded, seeded_copy):
        edit(root / "calc/core.py", "RATE = 2", "RATE = 3")
        edit(root / "calc/data.json", "10", "11")
    in_recorded, in_copy = affected(recorded), affected(seeded_copy)
    assert sorted(in_copy["selected"]) == sorted(in_recorded["selected"]) == [
        "tests/test_core.py::test_double", "tests/test_core.py::test_negate", "tests/test_io.py::test_offset"]
    assert in_copy["everything"] is in_recorded["everything"] is False


def test_a_file_that_differs_from_the_bundle_before_seeding_is_changed(
        make_project, recorded_with_bundle, cli, affected):
    _, bundle = recorded_with_bundle
    copy = make_project({**SAMPLE, **LEFT_OUT, "calc/io.py": SAMPLE["calc/io.py"].replace(
        '["offset"]', '["offset"] + 0'), "tests/test_new.py": "def test_new():\n    pass\n"},
        name="branch/project")
    out = cli("seed", str(bundle), str(copy))
    assert out.returncode == 0, out.stderr
    assert "1 recorded file differs here and counts as changed: calc/io.py" in out.stdout
    result = affected(copy, "--explain")
    # A test file the bundle does not know is new; the left-out one may be selected with it (when
    # both were written within the clock's resolution): more, never fewer.
    assert {"tests/test_io.py::test_offset", "tests/test_new.py"} <= set(result["selected"])
    assert set(result["selected"]) <= {"tests/test_io.py::test_offset", "tests/test_new.py", *LEFT_OUT}
    assert result["reasons"]["tests/test_new.py"] == "new test file"


def test_another_environment_selects_everything_and_says_why(
        make_project, recorded_with_bundle, cli, affected):
    _, bundle = recorded_with_bundle
    pyproject = SAMPLE["pyproject.toml"].replace('pythonpath = ["."]', 'pythonpath = ["."]\naddopts = "-q"')
    copy = make_project({**SAMPLE, **LEFT_OUT, "pyproject.toml": pyproject}, name="other/project")
    out = cli("seed", str(bundle), str(copy))
    assert out.returncode == 0, out.stderr
    assert "the environment differs from the bundle's (pyproject.toml differs)" in out.stdout
    result = affected(copy)
    assert result["everything"] is True
    assert "config changed" in result["everything_reason"]


def test_the_environment_fingerprint_does_not_depend_on_where_the_venv_is(tmp_path):
    base = getattr(sys, "_base_executable", sys.executable)
    venvs = [tmp_path / "ci" / "venv", tmp_path / "home" / "me" / ".venv"]
    for venv in venvs:
        subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    assert str(venvs[0]) in (venvs[0] / "pyvenv.cfg").read_text()  # the path is in the file...
    prints = [environment_fingerprint(tmp_path, str(venv / "bin" / "python")) for venv in venvs]
    assert prints[0] == prints[1]  # ...and not in the fingerprint
    purelib = next((venvs[1] / "lib").glob("python*/site-packages"))
    (purelib / "extra-1.0.dist-info").mkdir()
    assert environment_fingerprint(tmp_path, str(venvs[1] / "bin" / "python")) != prints[0]


def test_a_newer_local_recording_is_kept_unless_forced(recorded_with_bundle, seeded_copy, cli):
    _, bundle = recorded_with_bundle
    assert "already holds the recording" in cli("seed", str(bundle), str(seeded_copy)).stdout
    out = cli("run", str(seeded_copy), "--deps")
    assert out.returncode == 0, out.stdout + out.stderr
    before = _history_bytes(seeded_copy)
    out = cli("seed", str(bundle), str(seeded_copy))
    assert out.returncode == 4
    assert "holds a newer recording" in out.stderr and "--force" in out.stderr
    assert out.stderr.count("\n") == 1
    assert _history_bytes(seeded_copy) == before
    out = cli("seed", str(bundle), str(seeded_copy), "--force")
    assert out.returncode == 0, out.stderr
    assert "seeded" in out.stdout


def _damaged(bundle: Path, into: Path) -> Path:
    """Its second half overwritten: not a complete gzip file."""
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2 :] = b"\xff" * (len(data) - len(data) // 2)
    into.write_bytes(bytes(data))
    return into


def _truncated(bundle: Path, into: Path) -> Path:
    data = bundle.read_bytes()
    into.write_bytes(data[: len(data) // 2])
    return into


def _damaged_inside(bundle: Path, into: Path) -> Path:
    """A complete gzip file around a SQLite file whose pages after the first are overwritten."""
    data = bytearray(gzip.decompress(bundle.read_bytes()))
    data[4096:] = b"\xff" * (len(data) - 4096)
    into.write_bytes(gzip.compress(bytes(data)))
    return into


def _other_version(bundle: Path, into: Path) -> Path:
    database = into.with_suffix(".db")
    database.write_bytes(gzip.decompress(bundle.read_bytes()))
    with sqlite3.connect(database) as conn:
        conn.execute("update bundle_info set value = '99' where key = 'format_version'")
    conn.close()
    into.write_bytes(gzip.compress(database.read_bytes()))
    return into


@pytest.mark.parametrize(
    ("make_bad", "says"),
    [
        (_damaged, "is not a testwatch selection bundle"),
        (_truncated, "is not a testwatch selection bundle"),
        (_damaged_inside, "is not a testwatch selection bundle"),
        (_other_version, "has bundle format version 99, this testwatch reads version 1"),
        (lambda bundle, into: Path(__file__), "is not a testwatch selection bundle"),
    ],
)
def test_a_bad_bundle_is_refused_and_nothing_is_written(
        make_project, recorded_with_bundle, cli, tmp_path, make_bad, says):
    recorded, bundle = recorded_with_bundle
    bad = make_bad(bundle, tmp_path / "bad.twb")
    copy = make_project(SAMPLE, name="fresh/project")
    out = cli("seed", str(bad), str(copy))
    assert out.returncode == 4
    assert says in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert not (copy / ".testwatch").exists()
    before = _history_bytes(recorded)  # a history with a recording is left as it was too
    assert cli("seed", str(bad), str(recorded)).returncode == 4
    assert _history_bytes(recorded) == before


def test_a_history_is_not_a_bundle_nor_written_over_by_one(recorded_with_bundle, cli, tmp_path):
    recorded, bundle = recorded_with_bundle
    history = recorded / ".testwatch" / "history.db"
    out = cli("seed", str(history), str(recorded))
    assert out.returncode == 4 and "not a testwatch selection bundle" in out.stderr
    before = history.read_bytes()
    out = cli("bundle", str(recorded), "-o", str(history))
    assert out.returncode == 4 and "is not a selection bundle; it was left untouched" in out.stderr
    assert history.read_bytes() == before
    out = cli("bundle", str(recorded), "-o", str(bundle))  # a bundle is replaced
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"wrote {bundle}: 3 tests")


def test_no_bundle_without_a_complete_recording(make_project, cli, tmp_path):
    root = make_project(SAMPLE, name="plain/project")
    assert cli("run", str(root)).returncode == 0
    out = cli("bundle", str(root), "-o", str(tmp_path / "none.twb"))
    assert out.returncode == 4
    assert "holds no complete dependency recording: run testwatch run --deps first" in out.stderr
    assert not (tmp_path / "none.twb").exists()


def test_a_failing_ci_run_still_writes_its_bundle_and_its_failures_are_selected_first(
        make_project, cli, tmp_path, affected):
    failing = {**SAMPLE, "tests/test_io.py": SAMPLE["tests/test_io.py"].replace("== 10", "== 11")}
    root = make_project(failing, name="ci/project")
    bundle = tmp_path / "failing.twb"
    out = cli("run", str(root), "--deps", "--bundle", str(bundle))
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"wrote {bundle}" in out.stdout
    copy = make_project(failing, name="dev/project")
    assert cli("seed", str(bundle), str(copy)).returncode == 0
    result = affected(copy, "--explain")
    assert result["selected"] == ["tests/test_io.py::test_offset"]
    assert result["reasons"]["tests/test_io.py::test_offset"] == "failed last time"
