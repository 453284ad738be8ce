"""``[tool.testwatch]`` from the project's pyproject.toml: every key, its type and its default.

A key that is unknown or of the wrong type stops testwatch with one sentence naming the key and
the file; nothing starts on a half-understood config.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from testwatch.config.thresholds import Thresholds, parse_thresholds
from testwatch.config.units import parse_duration, parse_size


class ConfigError(Exception):
    """The project's config cannot be used; the message names the file and the key."""


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return list(value)


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    return value


# The values an enumerated key may take; its parser checks against the same Literal.
OnChange = Literal["restart", "wait"]
NotifyMode = Literal["off", "bell", "desktop"]


def _choice(choices: object) -> Callable[[object], str]:
    """The parser of a key whose value is one of the ``Literal`` type ``choices``."""
    allowed = get_args(choices)

    def parse(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value  # type: ignore[return-value]

    return parse


def _table(value: object) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"expected a table, got {value!r}")
    return value


# key -> parser of its value. Durations become seconds, sizes bytes; defaults live on Config.
KEYS: dict[str, Callable[[object], Any]] = {
    "timeout": parse_duration,
    "pytest_args": _strings,
    "python": _string,
    "history": _string,
    "max_output": parse_size,
    "max_restarts": _count,
    "ignore": _strings,
    "debounce": parse_duration,
    "on_change": _choice(OnChange),
    "poll": _boolean,
    "rescan": parse_duration,
    "memray": _boolean,
    "sample_interval": parse_duration,
    "coverage": _boolean,
    "branch": _boolean,
    "notify": _choice(NotifyMode),
    "warm": _boolean,
    "results_first": _boolean,
    "thresholds": _table,  # then parse_thresholds, whose errors name the key inside the table
}


@dataclass
class Config:
    """The parsed ``[tool.testwatch]`` table; attribute names are the keys."""

    root: Path
    source: Path | None = None
    timeout: float = 120.0
    pytest_args: list[str] = field(default_factory=list)
    python: str | None = None
    history: str | None = None
    max_output: int = 64 * 1024
    max_restarts: int = 20
    ignore: list[str] = field(default_factory=list)
    debounce: float = 0.05
    on_change: OnChange = "restart"
    poll: bool = False
    rescan: float = 30.0
    memray: bool = False
    sample_interval: float = 0.25
    coverage: bool = True
    branch: bool = False
    notify: NotifyMode = "off"
    warm: bool | None = None  # None: on while watching (watch, the app), off for one run
    # None: on where recording traces lines with coverage.py (the tests' Python before 3.12, or
    # branch coverage), off where sys.monitoring records for little more than a plain run.
    results_first: bool | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    from_user: frozenset[str] = frozenset()  # keys set by the command line or the environment
    from_project: frozenset[str] = frozenset()  # keys set by the project's [tool.testwatch]

    @property
    def history_path(self) -> Path:
        """Where the SQLite history lives (``history`` is relative to the project root)."""
        if self.history:
            return (self.root / self.history).resolve()
        return self.root / ".testwatch" / "history.db"


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read ``root/pyproject.toml``'s ``[tool.testwatch]``, then apply command-line overrides."""
    root = root.resolve()
    pyproject = root / "pyproject.toml"
    table: dict = {}
    source = None
    if pyproject.is_file():
        source = pyproject
        table = _testwatch_table(pyproject)
    values = {}
    for key, raw in table.items():
        values[key] = _parse_key(key, raw, f"{pyproject} [tool.testwatch]")
    for key, raw in (overrides or {}).items():
        if raw is not None:
            values[key] = _parse_key(key, raw, "command line")
    if "thresholds" in values:
        try:
            values["thresholds"] = parse_thresholds(values["thresholds"])
        except ValueError as exc:
            raise ConfigError(f"{pyproject} [tool.testwatch.thresholds] {exc}") from None
    from_user = frozenset(key for key, raw in (overrides or {}).items() if raw is not None)
    config = Config(root=root, source=source, from_user=from_user, from_project=frozenset(table), **values)
    from testwatch.config.trust import check_project_choices

    check_project_choices(config)
    return config


def _testwatch_table(pyproject: Path) -> dict:
    """The ``[tool.testwatch]`` table of ``pyproject`` ({} when it has none); raises ConfigError."""
    try:
        with pyproject.open("rb") as f:
            document = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{pyproject}: not valid TOML: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{pyproject}: cannot be read: {exc.strerror}") from None
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{pyproject}: tool: expected a table, got {tool!r}")
    table = tool.get("testwatch", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject} [tool]: testwatch: expected a table, got {table!r}")
    return table


def _parse_key(key: str, raw: object, where: str) -> Any:
    if key not in KEYS:
        known = ", ".join(sorted(KEYS))
        raise ConfigError(f"{where}: unknown key {key!r} (known keys: {known})")
    parser = KEYS[key]
    try:
        return parser(raw)
    except ValueError as exc:
        raise ConfigError(f"{where}: {key}: {exc}") from None
