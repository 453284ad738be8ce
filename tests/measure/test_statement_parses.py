"""A file's coverage row from coverage.py's parse made while the tests run equals the row
``Coverage.analysis2`` gives after them: same statements, same missing lines, on code whose lines
coverage.py must translate (statements over several lines, some of whose first lines never run
as such: ``while (``, and on 3.12 ``if (`` and ``assert (``; decorators, docstrings, excluded
lines). Measured by a real coverage.py run of the file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import coverage

from testwatch.measure.line_coverage import _analysed_row
from testwatch.measure.statement_parses import parse_statements
from testwatch.run.fingerprint_warmup import Warmup
from testwatch.select.blocks_cache import BlocksCache
from testwatch.select.content_hashes import content_hash

TRICKY = '''
"""A module docstring."""
import functools

LIMIT = (
    10
    + 5
)


def decorate(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)
    return wrapper


@decorate
def total(prices,
          discount=0):
    """Sum, less a discount."""
    kept = [
        price
        for price in prices
        if price < LIMIT
    ]
    return (sum(kept)
            - discount)


def never_called(value):
    if value:  # pragma: no cover
        return "excluded"
    return {
        "key": value,
        "other": lambda x: (
            x + 1
        ),
    }


class Basket:
    items = (
        "apple",
        "pear",
    )

    def count(self):
        if not self.items:
            raise NotImplementedError
        return len(self.items)


def checked(a, b):
    if (
        a
        and b
    ):
        x = 1
    else:
        x = 2
    while (
        x < 3
    ):
        x += 1
    assert (
        x
    ), "never"
    return x


def debug_only():
    raise NotImplementedError("not here")
'''


DRIVER = """
import tricky

tricky.total([1, 20, 3], discount=1)
tricky.Basket().count()
tricky.checked(1, 0)
"""


def _measured(tmp_path, exclude_also: list[str] | None = None):
    """``tricky.py`` run under a real ``coverage run`` (in a child: coverage.py started here
    would stay referenced by its exit handler); a Coverage object holding that data, and the path."""
    path = tmp_path / "tricky.py"
    path.write_text(textwrap.dedent(TRICKY))
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    config = tmp_path / ".coveragerc"
    lines = ["[report]", "exclude_also ="] + [f"    {pattern}" for pattern in exclude_also or []]
    config.write_text("\n".join(lines) + "\n")
    data = tmp_path / ".coverage"
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--rcfile={config}", f"--data-file={data}",
         f"--include={path}", "driver.py"],
        cwd=tmp_path, check=True, capture_output=True,
    )
    cov = coverage.Coverage(data_file=str(data), config_file=str(config))
    cov.load()
    return cov, str(path)


def test_the_early_parse_gives_the_row_analysis2_gives(tmp_path):
    cov, path = _measured(tmp_path)
    lines_run = cov.get_data().lines(path)
    assert lines_run  # the measurement ran

    parsed = parse_statements(cov, path, _sha(path))
    assert parsed is not None
    early = parsed.row("tricky.py", lines_run)
    after = _analysed_row(cov, path, "tricky.py")
    assert early == after
    assert 0 < early["covered"] < early["statements"]  # some of each: a real comparison


def test_excluded_lines_of_the_settings_count_as_in_analysis2(tmp_path):
    cov, path = _measured(tmp_path, exclude_also=["raise NotImplementedError"])
    parsed = parse_statements(cov, path, _sha(path))
    assert parsed is not None
    early = parsed.row("tricky.py", cov.get_data().lines(path))
    assert early == _analysed_row(cov, path, "tricky.py")
    (tmp_path / "plain").mkdir()
    plain_cov, plain_path = _measured(tmp_path / "plain")
    plain_parse = parse_statements(plain_cov, plain_path, _sha(plain_path))
    plain = plain_parse.row("tricky.py", plain_cov.get_data().lines(plain_path))
    assert early["statements"] < plain["statements"]  # the settings' exclusions were applied


def test_a_file_that_does_not_parse_gets_no_early_parse(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def half(:\n")
    cov = coverage.Coverage(data_file=None, config_file=False)
    assert parse_statements(cov, str(broken), _sha(str(broken))) is None


def test_a_file_changed_since_its_fingerprint_gets_no_early_parse(tmp_path):
    cov, path = _measured(tmp_path)
    before = _sha(path)
    with open(path, "a") as f:
        f.write("\nAFTER = 1\n")
    assert parse_statements(cov, path, before) is None
    assert parse_statements(cov, path, _sha(path)) is not None


def test_the_recordings_warmup_parses_the_files_new_to_it_under_the_projects_settings(tmp_path):
    files = {
        "pyproject.toml": '[tool.coverage.run]\nomit = ["shop/legacy.py"]\n',
        "shop/__init__.py": "",
        "shop/prices.py": "def total(prices):\n    return sum(prices)\n",
        "shop/legacy.py": "def old():\n    return 1\n",
        "tests/test_prices.py": "def test_total():\n    assert True\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    python_files = sorted(rel for rel in files if rel.endswith(".py"))
    cache = BlocksCache(None, tmp_path)

    first = Warmup(tmp_path, python_files, {}, cache, coverage=True)
    _wait_for(lambda: first.finished)
    assert sorted(first.collect()) == python_files
    # the test file and the file the settings omit get no coverage parse
    assert sorted(first.statements) == ["shop/__init__.py", "shop/prices.py"]
    assert first.statements["shop/prices.py"].row("shop/prices.py", [1])["missing_lines"] == "[2]"

    again = Warmup(tmp_path, python_files, {}, cache, coverage=True)  # same contents: rows are cached
    _wait_for(lambda: again.finished)
    assert sorted(again.collect()) == python_files
    assert again.statements == {}


def _sha(path: str) -> str:
    return content_hash(Path(path).read_bytes())


def _wait_for(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the warm-up thread did not get there"
        time.sleep(0.01)
