"""pytest's configuration file as pytest finds it, and the options it adds to every run from the
project's own settings: ``addopts`` of that file and ``PYTEST_ADDOPTS``.

``run_phases`` looks at a run's options before it splits the run into sessions; options that
act on the whole run (``-x``, ``--lf``, pytest-xdist's ``-n``) are as often in ``addopts`` as on
the command line. The file is the one pytest would pick in the project root: ``-c``/
``--config-file`` when given, else the first of ``pytest.ini``, ``.pytest.ini``,
``pyproject.toml`` (``[tool.pytest.ini_options]`` or pytest 9's ``[tool.pytest]``), ``tox.ini``
(``[pytest]``) and ``setup.cfg`` (``[tool:pytest]``) that holds a pytest section. A file that
cannot be read or parsed adds nothing: pytest itself reports it when the run starts.
The selection asks whether the project names its tests as pytest does by default
(``names_tests_by_default``): a new ``test_*`` function is then a new test, a new helper not.
"""

from __future__ import annotations

import configparser
import os
import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path

_INI_SECTIONS = {
    "pytest.ini": "pytest", ".pytest.ini": "pytest", "tox.ini": "pytest", "setup.cfg": "tool:pytest",
}
_ORDER = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def addopts(root: Path, args: list[str], environ: Mapping[str, str]) -> list[str]:
    """The file's ``addopts`` then ``PYTEST_ADDOPTS``, split into words as pytest splits them."""
    return _addopts_of(_file_section(root, args) or {}, environ)


def holds_pytest_config(folder: Path) -> bool:
    """Whether ``folder`` holds a file pytest takes as its configuration (one with a pytest
    section, or ``pytest.ini``): pytest reads no ``conftest.py`` above such a folder."""
    for name in _ORDER:
        try:
            if _read(folder / name) is not None:
                return True
        except (OSError, ValueError, UnicodeDecodeError, configparser.Error, tomllib.TOMLDecodeError):
            return True  # pytest stops here too, to report it
    return False


def names_tests_by_default(root: Path, args: list[str]) -> bool:
    """Whether pytest collects the default test names (``test*`` functions, ``Test*`` classes)
    and no others: neither the configuration file nor ``args``, ``addopts`` or
    ``PYTEST_ADDOPTS`` (``-o``) set ``python_functions`` or ``python_classes``."""
    section = _file_section(root, args)
    if section is None or any(key in section for key in _NAMING):
        return False
    words = [*args, *_addopts_of(section, os.environ)]
    return not any(name in word for word in words for name in _NAMING)  # -o python_functions=...


_NAMING = ("python_functions", "python_classes")


def _addopts_of(section: Mapping[str, object], environ: Mapping[str, str]) -> list[str]:
    value = section.get("addopts", [])
    words = [str(word) for word in value] if isinstance(value, list) else _split(str(value))
    return [*words, *_split(environ.get("PYTEST_ADDOPTS", ""))]


def _file_section(root: Path, args: list[str]) -> Mapping[str, object] | None:
    """The pytest section of the configuration file pytest picks ({} when none has one); None
    when that file cannot be read (pytest will report it)."""
    chosen = _config_file_arg(args)
    candidates = [root / chosen] if chosen else [root / name for name in _ORDER]
    for path in candidates:
        try:
            found = _read(path)
        except (OSError, ValueError, UnicodeDecodeError, configparser.Error, tomllib.TOMLDecodeError):
            return None
        if found is not None:
            return found
    return {}


def _read(path: Path) -> Mapping[str, object] | None:
    """The pytest section of a file ({} when it is empty); None when the file is missing or has
    no pytest section (pytest goes on to the next)."""
    if not path.is_file():
        return None
    if path.suffix == ".toml":
        tool = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
        pytest_table = tool.get("pytest")
        if not isinstance(pytest_table, dict):
            return None
        section = pytest_table.get("ini_options", pytest_table)
        return section if isinstance(section, dict) else {}
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(path.read_text(encoding="utf-8"))
    section = _INI_SECTIONS.get(path.name, "pytest")
    if not parser.has_section(section):
        # pytest.ini and .pytest.ini are pytest's files even without the section.
        return {} if path.name in ("pytest.ini", ".pytest.ini") else None
    return dict(parser.items(section))


def _config_file_arg(args: list[str]) -> str | None:
    for index, arg in enumerate(args):
        if arg in ("-c", "--config-file") and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--config-file="):
            return arg.split("=", 1)[1]
        if arg.startswith("-c") and len(arg) > 2:
            return arg[2:]
    return None


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unclosed quote: pytest will say so
        return text.split()
