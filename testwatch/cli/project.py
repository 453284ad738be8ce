"""Open a project for a command: its config (with command-line overrides) and its history."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from testwatch.config.settings import Config, load_config

if TYPE_CHECKING:
    from testwatch.history.store import History


@dataclass
class Project:
    config: Config
    history: History


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """PATH, --db, --python and --timeout, shared by every command that opens a project."""
    parser.add_argument("path", nargs="?", default=".", help="project root (default: .)")
    parser.add_argument(
        "--db", help="history file (default: .testwatch/history.db; env TESTWATCH_DB)"
    )
    parser.add_argument(
        "--python", help="interpreter that runs pytest (default: this one; env TESTWATCH_PYTHON)"
    )
    parser.add_argument(
        "--timeout", help="per-test timeout, seconds or '2 min'; 0 turns it off (default 120)"
    )


def open_project(args: argparse.Namespace, **overrides) -> Project:
    """Load config and open the history; raises ConfigError or HistoryError for the CLI."""
    from testwatch.history.store import open_history  # SQLite: not before a plain run started pytest

    config = project_config(args, **overrides)
    return Project(config, open_history(config.history_path))


def project_config(args: argparse.Namespace, **overrides) -> Config:
    """The project's config with the command line's overrides; raises ConfigError."""
    root = Path(args.path).resolve()
    if not root.is_dir():
        from testwatch.config.settings import ConfigError

        raise ConfigError(f"{args.path}: no such folder")
    db = getattr(args, "db", None) or os.environ.get("TESTWATCH_DB")
    return load_config(
        root,
        {
            "history": str(Path(db).resolve()) if db else None,
            "python": getattr(args, "python", None) or os.environ.get("TESTWATCH_PYTHON"),
            "timeout": getattr(args, "timeout", None),
            **overrides,
        },
    )
