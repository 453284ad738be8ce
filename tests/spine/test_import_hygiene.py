"""Layering: core, collectors, engine, CLI and the pytest plugin never import Textual; nothing
imports ``tui`` or ``collectors`` as top-level names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEADLESS = [
    "testwatch", "testwatch.collectors", "testwatch.run.engine", "testwatch.cli.main",
    "testwatch.collectors.in_pytest.pytest_plugin", "testwatch.history.export", "testwatch.history.store",
]


def test_headless_modules_do_not_import_textual():
    code = "; ".join(f"import {name}" for name in HEADLESS) + (
        "; import sys; bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))"
        "; print(bad); raise SystemExit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_file_imports_tui_or_collectors_as_top_level_names():
    offenders = []
    for folder in ("testwatch", "tui", "collectors", "tests", "benchmarks"):
        for path in (REPO / folder).rglob("*.py"):
            if "demo_project" in path.parts or ".work" in path.parts:  # .work: benchmarks' venvs
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                offenders += [
                    f"{path.relative_to(REPO)}:{node.lineno} imports {name}"
                    for name in names if name.split(".")[0] in ("tui", "collectors")
                ]
    assert offenders == []
