"""One malloc arena for a long-lived testwatch process on glibc, so its threads share one heap.

glibc gives every thread that allocates an arena of its own (up to eight per core), and each arena
keeps the free memory of its busiest moment. The watch loop's threads (dependency recording and
memory sampling in asyncio's pool, watchfiles' watchers in anyio's) take turns under the GIL, so
separate arenas buy no speed; in issue 14's soak each one added its own warm-up, about 3 MB of
resident memory in the first minutes of watching.
"""

from __future__ import annotations

import os

M_ARENA_MAX = -8  # glibc's mallopt parameter (<malloc.h>)


def use_one_malloc_arena() -> bool:
    """Ask glibc for one arena, as ``MALLOC_ARENA_MAX=1`` would; threads that already have an arena
    keep it. Not on other C libraries, and not when the user set ``MALLOC_ARENA_MAX``.
    Returns whether the limit was set."""
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        glibc = None
    if not glibc or "MALLOC_ARENA_MAX" in os.environ:
        return False
    import ctypes  # here: only a process that watches pays for it

    try:
        return ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1) == 1
    except (OSError, AttributeError):
        return False
