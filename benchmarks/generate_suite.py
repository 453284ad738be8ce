"""Write a synthetic pytest suite of N small, fast, passing tests spread over M files.

Used by the benchmarks (plain pytest vs testwatch, export speed, selection) so that every
benchmark measures the same shape of suite. Run as a script or import ``generate_suite``.

    python benchmarks/generate_suite.py /tmp/suite --tests 2000 --files 40 [--shared 4]

With ``--shared K`` every test file also imports one of K shared modules (``pkg/shared_<k>.py``)
and every test calls it, so each test depends on two source modules.
"""

from __future__ import annotations

import argparse
from pathlib import Path

PYPROJECT = """\
[project]
name = "generated-suite"
version = "0"

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
"""

MODULE_HEADER = '''\
"""Generated module {index}: small arithmetic helpers."""


def add_{index}(a, b):
    return a + b


def scale_{index}(values, factor):
    return [v * factor for v in values]
'''

TEST_HEADER = '''\
"""Generated tests for module {index}."""

from pkg.mod_{index} import add_{index}, scale_{index}
'''

SHARED_MODULE = '''\
"""Generated shared module {shared}: a helper many test files call."""


def clamp_{shared}(value, low, high):
    return max(low, min(value, high))
'''

SHARED_IMPORT = "from pkg.shared_{shared} import clamp_{shared}\n"

SHARED_CALL = "    assert clamp_{shared}({case}, 0, {case}) == {case}\n"

TEST_BODY = '''

def test_case_{index}_{case}():
    assert add_{index}({case}, 1) == {case} + 1
    assert scale_{index}([1, 2, 3], {case}) == [{case}, {double}, {triple}]
'''


def tests_per_file(total_tests: int, file_count: int) -> list[int]:
    """Split ``total_tests`` across ``file_count`` files as evenly as possible."""
    base, extra = divmod(total_tests, file_count)
    return [base + (1 if index < extra else 0) for index in range(file_count)]


def generate_suite(
    root: Path, total_tests: int = 2000, file_count: int = 40, shared_modules: int = 0
) -> Path:
    """Write a project with ``total_tests`` passing tests in ``file_count`` test files under ``root``.

    With ``shared_modules`` > 0, test file i also imports ``pkg/shared_<i % shared_modules>.py`` and
    each of its tests calls it. Returns ``root``. Existing generated files are overwritten; the
    folder is created if needed.
    """
    if total_tests < 0 or file_count < 1 or shared_modules < 0:
        raise ValueError("need total_tests >= 0, file_count >= 1 and shared_modules >= 0")
    root = Path(root)
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    for shared in range(shared_modules):
        text = SHARED_MODULE.format(shared=shared)
        (root / "pkg" / f"shared_{shared}.py").write_text(text, encoding="utf-8")
    for index, count in enumerate(tests_per_file(total_tests, file_count)):
        (root / "pkg" / f"mod_{index}.py").write_text(MODULE_HEADER.format(index=index), encoding="utf-8")
        shared = index % shared_modules if shared_modules else None
        body = [TEST_HEADER.format(index=index)]
        if shared is not None:
            body.append(SHARED_IMPORT.format(shared=shared))
        for case in range(count):
            body.append(TEST_BODY.format(index=index, case=case, double=2 * case, triple=3 * case))
            if shared is not None:
                body.append(SHARED_CALL.format(shared=shared, case=case))
        (root / "tests" / f"test_mod_{index}.py").write_text("".join(body), encoding="utf-8")
    return root


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tests", type=int, default=2000, help="number of tests (default 2000)")
    parser.add_argument("--files", type=int, default=40, help="number of test files (default 40)")
    parser.add_argument("--shared", type=int, default=0, help="shared modules every test calls (default 0)")
    args = parser.parse_args(argv)
    generate_suite(args.folder, args.tests, args.files, args.shared)
    print(f"wrote {args.tests} tests in {args.files} files to {args.folder}")


if __name__ == "__main__":
    main()
