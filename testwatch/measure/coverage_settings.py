"""The project's own coverage.py settings, so that testwatch's coverage figures are the ones
``coverage report`` gives the user: the files it measures (``[run] source`` and ``source_pkgs``,
when given: a folder, or a package found in the root or under ``src/``), the files it omits
(``[run] omit``, ``[report] omit``) and the lines it excludes (``exclude_lines``, ``exclude_also``,
``partial_branches``) count as they do there.

The file is found the way coverage.py finds it, in the project root: ``.coveragerc``,
``.coveragerc.toml``, then ``setup.cfg`` and ``tox.ini`` with a ``[coverage:...]`` section, then
``pyproject.toml`` with ``[tool.coverage...]``. A file coverage.py cannot use (a syntax error, a
plugin testwatch's interpreter cannot import) gives coverage.py's defaults, and says why.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from pathlib import Path

from testwatch.select.content_hashes import content_hash

_INI_FILES = ("setup.cfg", "tox.ini")


def coverage_config_file(root: Path) -> Path | None:
    """The file coverage.py would read its settings from, run in ``root``."""
    for name in (".coveragerc", ".coveragerc.toml"):
        if (root / name).is_file():
            return root / name
    for name in _INI_FILES:
        path = root / name
        try:
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, configparser.Error):
            continue
        if any(section.startswith("coverage:") for section in parser.sections()):
            return path
    path = root / "pyproject.toml"
    try:
        tool = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return path if isinstance(tool, dict) and "coverage" in tool else None


class CoverageSettings:
    """A ``coverage.Coverage`` holding the project's settings, and the files they omit."""

    def __init__(self, root: Path) -> None:
        import coverage  # here: the selection imports this room on every affected call

        self.problem = ""
        self.fingerprint = ""  # of the settings file used, for caches of figures made with it
        self.coverage = None
        omit: list[str] = []
        self._sources: list[Path] | None = None  # None: the whole project is measured
        config = coverage_config_file(root)
        if config is not None:
            try:
                project = coverage.Coverage(data_file=None, config_file=str(config))
                project.get_data()  # loads the plugins the settings name: a failure shows here
                omit = [*(project.get_option("run:omit") or ()), *(project.get_option("report:omit") or ())]
                self._sources = _source_places(
                    root, project.get_option("run:source") or (), project.get_option("run:source_pkgs") or ()
                )
                self.fingerprint = content_hash(config.read_bytes())
                self.coverage = project
            except Exception as exc:  # coverage.py's ConfigError, a plugin that does not import
                self.problem = f"coverage settings in {config.name} not used: {exc}"
                omit = []
        if self.coverage is None:
            self.coverage = coverage.Coverage(data_file=None, config_file=False)
        self._omit = _globs(omit, root)

    def omitted(self, path: str) -> bool:
        """True when the project's settings leave ``path`` (absolute) out of coverage reports:
        outside the sources it names, or matched by its ``omit`` patterns."""
        if self._sources is not None:
            real = Path(os.path.realpath(path))
            if not any(real == place or real.is_relative_to(place) for place in self._sources):
                return True
        return self._omit is not None and self._omit.match(path.replace(os.sep, "/")) is not None


def _source_places(root: Path, sources: list[str], packages: list[str]) -> list[Path] | None:
    """The folders and module files that ``[run] source`` and ``source_pkgs`` name, as coverage.py
    reads them run in ``root``: a ``source`` entry that is a folder is that folder, any other is a
    package (or module) name. None (measure everything, as without them) when none is named or a
    name is not found in the root or under ``src/`` (coverage.py would import it to find it)."""
    places = []
    names = list(packages)
    for entry in sources:
        if (root / entry).is_dir():
            places.append((root / entry).resolve())
        else:
            names.append(entry)
    for name in names:
        place = _package_place(root, name)
        if place is None:
            return None
        places.append(place)
    return places or None


def _package_place(root: Path, name: str) -> Path | None:
    relative = name.replace(".", "/")
    for base in (root, root / "src"):
        if (base / relative).is_dir():
            return (base / relative).resolve()
        if (base / f"{relative}.py").is_file():
            return (base / f"{relative}.py").resolve()
    return None


def _globs(patterns: list[str], root: Path) -> re.Pattern[str] | None:
    """One regex for coverage.py's file patterns: one without a slash matches a file name
    anywhere; a relative one is relative to the project root; ``**`` spans folders."""
    parts = []
    for pattern in patterns:
        pattern = pattern.replace(os.sep, "/")
        if "/" not in pattern:
            pattern = f"**/{pattern}"
        elif not pattern.startswith(("/", "*")):
            pattern = f"{root.as_posix().rstrip('/')}/{pattern}"
        parts.append(_glob_regex(pattern))
    return re.compile("|".join(f"(?:{part})" for part in parts) + r"\Z") if parts else None


def _glob_regex(pattern: str) -> str:
    """coverage.py's reading of a pattern: a leading ``*/`` is any folders, a trailing ``/*``
    anything below, ``**/`` any folders, ``*`` and ``?`` stay within a name, ``[a-f]`` a class."""
    out = []
    index = 0
    if match := re.match(r"\*+/", pattern):
        out.append("(?:.*/)?")
        index = match.end()
    tail = ""
    if re.search(r"/\*+$", pattern[index:]):
        pattern, tail = pattern.rstrip("*")[:-1], "/.*"
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        elif pattern[index] == "[" and (end := pattern.find("]", index)) > index:
            out.append(pattern[index : end + 1])
            index = end + 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return "".join(out) + tail
