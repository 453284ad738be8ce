"""The pytest child's command line and environment, built from the config alone.

Light on purpose (no asyncio, no history): ``testwatch run`` uses it to start pytest before the
engine is imported (see ``testwatch.run.launch``), and the engine uses it for every other start.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from testwatch.collectors.in_pytest import protocol
from testwatch.config.settings import Config

DEFAULT_PLUGINS = (
    "testwatch.collectors.in_pytest.pytest_plugin",
    "testwatch.collectors.in_pytest.peak_memory",
    "testwatch.collectors.in_pytest.phase_clock",
    "testwatch.collectors.in_pytest.cpu_wait",
    "testwatch.collectors.in_pytest.memray_plugin",
)
DEPS_PLUGIN = "testwatch.collectors.in_pytest.deps_plugin"


def pytest_command(
    python: str, plugins: list[str], args: list[str], history_dir: Path | None, root: Path
) -> list[str]:
    """The child's argv: an argument list, never a shell string. When it records dependencies,
    ``record_first`` starts the recorder before pytest reads the project's configuration."""
    if DEPS_PLUGIN in plugins:
        argv = [python, "-m", "testwatch.collectors.in_pytest.record_first", str(root)]
    else:
        argv = [python, "-m", "pytest"]
    for plugin in plugins:
        argv += ["-p", plugin]
    argv.append("--continue-on-collection-errors")
    if history_dir is not None and history_dir != root and history_dir.is_relative_to(root):
        argv.append(f"--ignore={history_dir}")
    return argv + args


def with_plugin_path(env: dict[str, str], python: str, workdir: Path) -> dict[str, str]:
    """``env`` with testwatch's child-side modules importable by ``python``.

    The interpreter testwatch runs in imports them from the installed package; another one
    (``--python``) gets a copy of ``collectors/in_pytest`` (standard library only) in ``workdir``,
    first on its ``PYTHONPATH``.
    """
    # Not realpath: a venv's python is a symlink to the same binary as every other venv's.
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return env
    target = workdir / "shim" / "testwatch" / "collectors" / "in_pytest"
    target.parent.mkdir(parents=True)
    for package in (target.parent.parent, target.parent):
        (package / "__init__.py").write_text("")
    shutil.copytree(Path(protocol.__file__).parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    shim = str(workdir / "shim")
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [shim, env.get("PYTHONPATH")]))}


def child_env(
    config: Config, python: str, workdir: Path, select: list[str] | None = None,
    memray_skip_file: Path | None = None, known: frozenset[str] | None = None,
) -> dict[str, str]:
    """The child's environment: the socket in ``workdir``, output cap, memray mode, selection."""
    env = dict(os.environ)
    env[protocol.ENV_SOCKET] = str(workdir / "events.sock")
    env[protocol.ENV_MAX_OUTPUT] = str(config.max_output)
    env.pop(protocol.ENV_SELECT, None)
    env.pop(protocol.ENV_TEST, None)
    env[protocol.ENV_MEMRAY] = "1" if config.memray else ""
    env.pop(protocol.ENV_MEMRAY_SKIP, None)
    if memray_skip_file is not None:
        env[protocol.ENV_MEMRAY_SKIP] = str(memray_skip_file)
    env.update(selection_env(workdir, select, known))
    return with_plugin_path(env, python, workdir)


def selection_env(
    workdir: Path, select: list[str] | None, known: frozenset[str] | None = None
) -> dict[str, str]:
    """The variable that tells the child its selection, written to a file in ``workdir``; none
    when it runs every test. With ``known`` (the tests testwatch knows in the selected files),
    the child also runs the tests it collects there that testwatch does not know: new ones."""
    if select is None:
        return {}
    select_file = workdir / "select.json"
    select_file.write_text(json.dumps({"tests": select, "known": None if known is None else sorted(known)}))
    return {protocol.ENV_SELECT: str(select_file)}
