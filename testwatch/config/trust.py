"""What a project's own config may make testwatch run or write: the trust model (README, Security).

A cloned repository's ``[tool.testwatch]`` is not the user's word. Its ``python`` runs only when it
lies in the project's own virtualenv (``.venv`` or ``venv``, with its ``pyvenv.cfg``); its
``history`` must stay inside the project. The command line and the environment (``--python``,
``TESTWATCH_PYTHON``, ``--db``, ``TESTWATCH_DB``) are the user's own choice and are not limited.
"""

from __future__ import annotations

import os
from pathlib import Path

from testwatch.config.settings import Config, ConfigError

VENV_FOLDERS = (".venv", "venv")


def check_project_choices(config: Config) -> None:
    """Raise ConfigError when the project's config names an interpreter or a history it may not."""
    where = f"{config.source} [tool.testwatch]"
    outside = not config.history_path.is_relative_to(config.root)
    if config.history and "history" not in config.from_user and outside:
        raise ConfigError(
            f"{where}: history = {config.history!r} lies outside the project; a project's config "
            "keeps its history inside the project (choose another place with --db or TESTWATCH_DB)"
        )
    if config.python and "python" not in config.from_user and not _runs_from_project_venv(config):
        raise ConfigError(
            f"{where}: python = {config.python!r} is not in the project's virtualenv (.venv or venv "
            "with pyvenv.cfg), so testwatch does not run it on the project's say-so; if you trust it, "
            f"pass --python {config.python} or set TESTWATCH_PYTHON"
        )


def _runs_from_project_venv(config: Config) -> bool:
    """Whether the config's interpreter is a project virtualenv's (or missing: then nothing runs)."""
    python = config.python or ""
    if os.sep not in python and "/" not in python:
        return False  # a bare name: whatever PATH finds, not the project's virtualenv
    path = Path(os.path.normpath(config.root / python))
    if not path.exists():
        return True  # nothing to run: the engine says the interpreter is missing
    real = Path(os.path.realpath(path))
    for name in VENV_FOLDERS:
        venv = config.root / name
        if path.is_relative_to(venv) and (venv / "pyvenv.cfg").is_file():
            # Its link may lead to the base interpreter, never to another file of the project.
            return real.is_relative_to(venv) or not real.is_relative_to(config.root)
    return False
