"""The environment the benchmarks run tools in: a developer's machine's, not this sandbox's.

The machines these benchmarks were written on set PYTHONDONTWRITEBYTECODE=1. Under it every
pytest run compiles and assertion-rewrites every test file again, which doubles plain pytest's
time on the generated suite and so shrinks every ratio against it. Python's default is to cache
bytecode, and that is what users have: the tools run without the variable, and each benchmark's
warm-up run writes the caches (testwatch's own modules included, as installing it would).
"""

from __future__ import annotations

import os


def user_env() -> dict[str, str]:
    """This process's environment without PYTHONDONTWRITEBYTECODE."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
