"""What the dependency recorder's audit hook costs each audited call in the tests it records.

Every audited call in the pytest child runs the hook, whatever the event: ``id()`` is one, and
freezegun calls it for each attribute of each module it patches (114,173 of the 128,051 events
in one recorded run of itsdangerous's 299 tests). This times ``id()`` in a fresh interpreter per
variant: no hook (the floor), the hook as ``deps_plugin`` installs it (a plain function that drops
the events it does not act on), and the recorder's bound method installed directly (as before
session 15), which CPython asks for ``__cantrace__`` at every event. Best of 5 runs of 10^6 calls.

    python benchmarks/audit_hook_cost.py [--python PYTHON ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap

_PROBE = textwrap.dedent("""
    import sys, timeit
    from testwatch.collectors.in_pytest.deps_plugin import _audit_hook

    class Recorder:
        current = None
        def on_audit(self, event, args):  # what the recorder does with an event it ignores
            if event == "exec" or event == "subprocess.Popen" or self.current is None:
                return

    variant = sys.argv[1]
    if variant == "plain function (shipped)":
        sys.addaudithook(_audit_hook(Recorder().on_audit))
    elif variant == "bound method":
        sys.addaudithook(Recorder().on_audit)
    seconds = min(timeit.repeat("id(x)", setup="x = object()", number=10**6, repeat=5))
    print(f"{seconds * 1000:.1f}")
""")
VARIANTS = ("no hook", "plain function (shipped)", "bound method")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", nargs="+", default=[sys.executable],
                        help="interpreters to time (each needs testwatch importable)")
    options = parser.parse_args()
    for python in options.python:
        version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        print(f"Python {version} ({python})")
        for variant in VARIANTS:
            done = subprocess.run([python, "-c", _PROBE, variant], capture_output=True, text=True, check=True)
            print(f"  {variant:<26} {float(done.stdout):6.1f} ns per id() call")


if __name__ == "__main__":
    main()
