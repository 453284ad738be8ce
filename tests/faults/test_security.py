"""Security: the history (which holds captured output, maybe secrets) is private to the user; no
shell ever sees user data; ``testwatch serve`` listens on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import ast
import os
import shlex
import stat
from pathlib import Path

from testwatch.cli.commands.serve import app_command
from testwatch.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("testwatch", "tui", "collectors")


def test_history_folder_and_files_are_private(make_project, cli, history_of):
    root = make_project({"tests/test_secret.py": "def test_secret():\n    print('API_KEY=hunter2')\n"})
    old_umask = os.umask(0o022)  # a typical permissive umask
    try:
        done = cli("run", str(root))
    finally:
        os.umask(old_umask)
    assert done.returncode == 0, done.stdout + done.stderr
    db = history_of(root)
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for path in db.parent.iterdir():  # history.db and any -wal/-shm SQLite left
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def _shell_uses(path: Path) -> list[str]:
    """Calls in a source file that would hand a command line to a shell."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput") or (
            name.endswith("create_subprocess_shell")
        ):
            found.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}")
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: shell={ast.unparse(keyword.value)}")
    return found


def test_no_shell_is_ever_used():
    files = [p for d in SOURCE_DIRS for p in (REPO / d).rglob("*.py") if "demo_project" not in p.parts]
    assert len(files) > 20
    assert [use for path in files for use in _shell_uses(path)] == []


def test_serve_listens_on_localhost_and_quotes_its_one_command_string(tmp_path):
    args = build_parser().parse_args(["serve", str(tmp_path)])
    assert args.host == "127.0.0.1"
    # textual-serve takes one command string for a shell; a hostile path must stay one argument.
    hostile = tmp_path / "a b; touch pwned $(id) `id` 'q\""
    hostile.mkdir()
    args = build_parser().parse_args(["serve", str(hostile), "--db", str(hostile / "h.db")])
    args.pytest_args = ["-k", "x; rm -rf ~"]
    argv = app_command(args)
    assert shlex.split(shlex.join(argv)) == argv
    assert argv[argv.index("tui") + 1] == str(hostile)
