"""When a run records dependencies and coverage: watch mode, ``run --affected``, ``run --deps``,
or an explicit ``coverage = true`` in ``[tool.testwatch]``. Plain ``testwatch run`` stays lean:
line tracing every test costs more than the 5% budget on Python 3.11.
"""

from __future__ import annotations

from testwatch.config.settings import Config


def recording_requested(config: Config) -> bool:
    """True when the project's config sets ``coverage = true`` itself (the default records nothing)."""
    return "coverage" in config.from_project and config.coverage
