"""Files testwatch writes for the user (exports): private, whole, never through a planted link.

The file is made in the target's folder by ``tempfile.mkstemp`` (O_EXCL, so a link planted at its
name is never followed; mode 0600, as private as the history it comes from), written, then renamed
over the target, which replaces a link there instead of writing through it.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

PRIVATE_MODE = 0o600


@contextlib.contextmanager
def written_whole(path: Path, mode: int = PRIVATE_MODE, errors: str = "strict") -> Iterator[TextIO]:
    """UTF-8 text (newlines untranslated) that appears at ``path`` whole when the block ends, or
    not at all; raises OSError when the folder cannot take it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with io.TextIOWrapper(os.fdopen(fd, "wb"), encoding="utf-8", errors=errors, newline="") as out:
            yield out
        if mode != PRIVATE_MODE:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def parse_mode(text: str) -> int:
    """An octal permission mode such as ``600`` or ``0644``; raises ValueError."""
    mode = int(text, 8)
    if not 0 <= mode <= 0o777:
        raise ValueError(f"{text!r} is not a permission mode like 600 or 644")
    return mode
