"""The bundled demo project: copy it somewhere safe, and script edits that show the loop working."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEMO_SOURCE = Path(__file__).parents[1] / "demo_project"


def copy_demo(destination: Path | None = None) -> Path:
    """Copy the demo project into ``destination`` (default: a new temp folder); return its root."""
    root = destination or Path(tempfile.mkdtemp(prefix="testwatch-demo-")) / "shop-demo"
    shutil.copytree(DEMO_SOURCE, root, ignore=shutil.ignore_patterns("__pycache__", ".testwatch"))
    return root


@dataclass(frozen=True)
class DemoEdit:
    """One scripted edit: replace ``old`` with ``new`` in ``path``, explained by ``story``."""

    story: str
    path: str
    old: str
    new: str


AUTOPLAY_EDITS = (
    DemoEdit(
        "fix: the loyalty test now expects nearest rounding",
        "tests/test_cart.py",
        "assert make_cart().total(percent_off=5) == 9.40",
        "assert make_cart().total(percent_off=5) == 9.41",
    ),
    DemoEdit(
        "regression: VAT goes up to 21% (a module-level constant)",
        "shop/pricing.py", "VAT_RATE = 0.20", "VAT_RATE = 0.21",
    ),
    DemoEdit("revert the VAT change", "shop/pricing.py", "VAT_RATE = 0.21", "VAT_RATE = 0.20"),
    DemoEdit(
        "memory spike: the export renders twice as much",
        "shop/reports.py",
        "blob = bytearray(megabytes * 1024 * 1024)",
        "blob = bytearray(megabytes * 2 * 1024 * 1024)",
    ),
    DemoEdit(
        "revert the memory spike",
        "shop/reports.py",
        "blob = bytearray(megabytes * 2 * 1024 * 1024)",
        "blob = bytearray(megabytes * 1024 * 1024)",
    ),
)


def apply_edit(root: Path, edit: DemoEdit) -> None:
    """Apply one edit as an editor would save it (write a temp file, rename over the original)."""
    path = root / edit.path
    text = path.read_text(encoding="utf-8")
    if edit.old not in text:
        raise ValueError(f"{edit.path} no longer contains {edit.old!r}; was the demo edited by hand?")
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text.replace(edit.old, edit.new, 1), encoding="utf-8")
    temporary.replace(path)


async def autoplay(
    root: Path, say: Callable[[str], None], pause_s: float = 6.0,
    edits: tuple[DemoEdit, ...] = AUTOPLAY_EDITS,
) -> None:
    """Apply the scripted edits one by one, ``pause_s`` apart, telling ``say`` each story."""
    for number, edit in enumerate(edits, start=1):
        await asyncio.sleep(pause_s)
        apply_edit(root, edit)
        say(f"autoplay {number}/{len(edits)}: {edit.story} ({edit.path})")
