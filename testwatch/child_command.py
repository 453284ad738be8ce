"""The pytest child's command line and environment, built from the config alone.

Light on purpose (no asyncio, no history): ``testwatch run`` uses it to start pytest before the
engine is imported (see ``testwatch.launch``), and the engine uses it for every other start.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from testwatch.collectors import protocol
from testwatch.config import Config

# The modules the child imports from testwatch: the plugin and what it needs, standard library only.
CHILD_MODULES = (
    "__init__", "protocol", "pytest_plugin", "warm_server", "peak_memory", "memray_plugin", "leak_hunt",
    "deps_plugin", "memray_windows", "line_monitor", "leftovers", "record_first",
)
DEFAULT_PLUGINS = (
    "testwatch.collectors.pytest_plugin",
    "testwatch.collectors.peak_memory",
    "testwatch.collectors.memray_plugin",
)
DEPS_PLUGIN = "testwatch.collectors.deps_plugin"


def pytest_command(
    python: str, plugins: list[str], args: list[str], history_dir: Path | None, root: Path
) -> list[str]:
    """The child's argv: an argument list, never a shell string. When it records dependencies,
    ``record_first`` starts the recorder before pytest reads the project's configuration."""
    if DEPS_PLUGIN in plugins:
        argv = [python, "-m", "testwatch.collectors.record_first", str(root)]
    else:
        argv = [python, "-m", "pytest"]
    for plugin in plugins:
        argv += ["-p", plugin]
    argv.append("--continue-on-collection-errors")
    if history_dir is not None and history_dir != root and history_dir.is_relative_to(root):
        argv.append(f"--ignore={history_dir}")
    return argv + args


def plugin_path_for(python: str, workdir: Path) -> str | None:
    """A PYTHONPATH entry holding testwatch's child-side modules, for a foreign interpreter.

    The interpreter testwatch runs in imports them from the installed package; another one
    (``--python``) gets a copy of just these standard-library-only files.
    """
    # Not realpath: a venv's python is a symlink to the same binary as every other venv's.
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return None
    target = workdir / "shim" / "testwatch" / "collectors"
    target.mkdir(parents=True)
    (target.parent / "__init__.py").write_text("")
    source = Path(protocol.__file__).parent
    for name in CHILD_MODULES:
        shutil.copy(source / f"{name}.py", target / f"{name}.py")
    return str(workdir / "shim")


def child_env(
    config: Config, python: str, workdir: Path, select: list[str] | None = None,
    memray_skip_file: Path | None = None,
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
    if select is not None:
        select_file = workdir / "select.json"
        select_file.write_text(json.dumps(select))
        env[protocol.ENV_SELECT] = str(select_file)
    shim = plugin_path_for(python, workdir)
    if shim:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [shim, env.get("PYTHONPATH")]))
    return env
