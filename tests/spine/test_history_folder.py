"""The history folder testwatch makes stays out of ``git status``, as pytest's cache does; a folder
the user made and named for the history is left as it is."""

from __future__ import annotations

import subprocess


def _untracked(root) -> list[str]:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=root, capture_output=True,
        text=True, check=True,
    )
    return sorted(line[3:] for line in done.stdout.splitlines())


def test_git_does_not_see_the_history_folder(make_project, cli):
    # A project's own .gitignore leaves out Python's __pycache__ (pytest writes it), not the history.
    root = make_project({"test_one.py": "def test_one():\n    pass\n", ".gitignore": "__pycache__/\n"})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert cli("run", str(root), cwd=root).returncode == 0
    assert (root / ".testwatch" / "history.db").is_file()
    assert _untracked(root) == [".gitignore", "test_one.py"]


def test_a_folder_the_user_made_gets_no_ignore_file(make_project, cli):
    root = make_project({"test_one.py": "def test_one():\n    pass\n", "data/keep.txt": "mine\n"})
    assert cli("run", str(root), "--db", str(root / "data" / "history.db"), cwd=root).returncode == 0
    assert (root / "data" / "history.db").is_file()
    assert not (root / "data" / ".gitignore").exists()
