"""The project's own addopts, found the way pytest finds its configuration file."""

from __future__ import annotations

import pytest

from testwatch.config.pytest_ini import addopts, names_tests_by_default


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("pytest.ini", "[pytest]\naddopts = -x --tb=short\n", ["-x", "--tb=short"]),
        ("pyproject.toml", '[tool.pytest.ini_options]\naddopts = "-ra -n 2"\n', ["-ra", "-n", "2"]),
        ("pyproject.toml", '[tool.pytest.ini_options]\naddopts = ["--lf", "-q"]\n', ["--lf", "-q"]),
        ("pyproject.toml", '[tool.pytest]\naddopts = ["--maxfail=2"]\n', ["--maxfail=2"]),
        ("tox.ini", "[pytest]\naddopts = --pdb\n", ["--pdb"]),
        ("setup.cfg", "[tool:pytest]\naddopts = -p xdist\n", ["-p", "xdist"]),
        ("setup.cfg", "[metadata]\nname = x\n", []),
        ("pyproject.toml", '[project]\nname = "x"\n', []),
    ],
)
def test_each_kind_of_file(tmp_path, name, text, expected):
    (tmp_path / name).write_text(text)
    assert addopts(tmp_path, [], {}) == expected


def test_the_first_file_with_a_pytest_section_wins(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no pytest section: skipped
    (tmp_path / "tox.ini").write_text("[pytest]\naddopts = -x\n")
    (tmp_path / "setup.cfg").write_text("[tool:pytest]\naddopts = --lf\n")
    assert addopts(tmp_path, [], {}) == ["-x"]
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # pytest.ini wins even without addopts
    assert addopts(tmp_path, [], {}) == []


def test_config_file_argument_and_environment(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -x\n")
    (tmp_path / "ci.ini").write_text("[pytest]\naddopts = --ff\n")
    assert addopts(tmp_path, ["-c", "ci.ini"], {"PYTEST_ADDOPTS": "-n 2"}) == ["--ff", "-n", "2"]
    assert addopts(tmp_path, ["--config-file=ci.ini"], {}) == ["--ff"]


def test_a_broken_file_adds_nothing(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options\naddopts = '-x'\n")
    assert addopts(tmp_path, [], {"PYTEST_ADDOPTS": "'unclosed"}) == ["'unclosed"]


@pytest.mark.parametrize(
    ("name", "text", "args", "by_default"),
    [
        ("pyproject.toml", "[tool.pytest.ini_options]\ntestpaths = ['tests']\n", [], True),
        ("pyproject.toml", "[tool.pytest.ini_options]\npython_functions = ['check_*']\n", [], False),
        ("pyproject.toml", "[tool.pytest]\npython_classes = ['Describe*']\n", [], False),
        ("tox.ini", "[pytest]\npython_functions = check_*\n", [], False),
        ("pytest.ini", "[pytest]\naddopts = -o python_functions=check_*\n", [], False),
        ("pytest.ini", "[pytest]\n", ["-o", "python_classes=Check"], False),
        ("pyproject.toml", "[tool.pytest.ini_options\n", [], False),  # unreadable: cannot tell
    ],
)
def test_whether_the_project_names_its_tests_as_pytest_does(tmp_path, name, text, args, by_default):
    (tmp_path / name).write_text(text)
    assert names_tests_by_default(tmp_path, args) is by_default
