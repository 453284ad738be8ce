"""The wire format between the pytest plugin and the run engine: one JSON object per line.

Kept dependency-free because the pytest plugin imports it inside the user's test process.
"""

SCHEMA_VERSION = 2  # 2: a test's phases travel in one "test" event

# Environment variables the engine sets for the pytest child.
ENV_SOCKET = "TESTWATCH_EVENTS_SOCKET"
ENV_SELECT = "TESTWATCH_SELECT_FILE"
ENV_MAX_OUTPUT = "TESTWATCH_MAX_OUTPUT_BYTES"
ENV_MEMRAY = "TESTWATCH_MEMRAY"  # "1": memray tracks every test (config memray / --memray)
ENV_MEMRAY_SKIP = "TESTWATCH_MEMRAY_SKIP"  # JSON list of tests memray mode leaves untracked
# "1": the plugin holds pytest after collection, before its first test, until the engine writes
# GO on the event socket (the engine's only write to it): a run's next session starts early.
ENV_HOLD = "TESTWATCH_HOLD"
GO = b"go\n"
# "1": a recording child started before its run was chosen (``testwatch run --affected``) imports
# pytest and the plugins, then reads the rest of its run from stdin as one JSON line (``ARGS``:
# pytest arguments to append, ``ENV``: variables to set); an empty stdin ends it, nothing run.
ENV_ARGS_ON_STDIN = "TESTWATCH_ARGS_ON_STDIN"
# Set by the plugin in the child's own environment: the test running now. Processes a test starts
# inherit it, so one left running after the run can be named (``collectors/in_pytest/leftovers.py``).
ENV_TEST = "TESTWATCH_TEST"

# Prefix of the item.user_properties entries that carry per-test figures from helper plugins
# (memory peak, dependencies...) through pytest-xdist's report serialisation to the engine.
EXTRA_PREFIX = "testwatch."


# Characters of captured text one test's event may carry, whatever ``max_output`` says: with JSON's
# escapes (at most 6 bytes a character) its line stays below the engine's 64 MiB line limit.
# Half goes to the tracebacks (up to three phases), half is shared by the output streams.
EVENT_TEXT_LIMIT = 8 * 1024 * 1024


def cap_text(text: str, limit: int) -> str:
    """Keep the head and tail of ``text`` so it is at most about ``limit`` characters."""
    if limit <= 0 or len(text) <= limit:
        return text
    half = limit // 2
    dropped = len(text) - 2 * half
    return f"{text[:half]}\n… [{dropped} characters cut by testwatch] …\n{text[-half:]}"
