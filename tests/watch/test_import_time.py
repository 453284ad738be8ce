"""Whether a module-level statement can fail at import: a name read before anything binds it, or
new code that does more than bind names (an attribute, a call, arithmetic on names)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from testwatch.select.fingerprints import bound_names
from testwatch.select.import_time import settled, undefined_at_import


def _statements(source: str) -> list[ast.stmt]:
    return ast.parse(textwrap.dedent(source)).body


@pytest.mark.parametrize(
    ("source", "undefined"),
    [
        ("X = 1\nY = X + len([])", ""),
        ("Y = X\nX = 1", "X"),  # read before it is bound
        ("def f(a=DEFAULT):\n    return a", "DEFAULT"),
        ("def f(a: Path) -> int:\n    return a", "Path"),
        # block_reads drops never evaluated annotations (below)
        ("from __future__ import annotations\ndef f(a: Path):\n    pass", ""),
        ("def f(a=lambda x: x + later):\n    pass\nlater = 1", ""),  # a lambda's body runs later
        ("KEYS = [k for k in range(3)]", ""),
        ("class C(Base):\n    pass", "Base"),
        ("class C:\n    a = 1\n    b = a + 1\n    def m(self, x=b):\n        pass", ""),
        ("try:\n    import simplejson as json\nexcept ImportError:\n    json = None\nJ = json", ""),
        ("if TYPE_CHECKING:\n    X = Missing", ""),  # may not run
        ("from os.path import *\nY = join", ""),  # a star import may bind anything
        ("X += 1", "X"),
        ("print(__name__, __file__)", ""),
    ],
)
def test_names_read_at_import_before_anything_binds_them(source, undefined):
    statements = _statements(source)
    if "__future__" in source:  # annotations are never evaluated: block_reads drops them
        statements[1].args.args[0].annotation = None
    assert undefined_at_import(statements, bound_names) == undefined


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("RATE = 0.2", True),
        ("LIMITS = {'max': 10, 'min': -1}", True),
        ("NAMES = (RATE, 'x', [1, 2])", True),
        ("MAX = 2 ** 16 - 1", True),
        ("URL = f'{BASE}/api'", True),
        ("a, b = 1, 2", True),
        ("def clamp(x, top=10, key=lambda v: v.real):\n    pass", True),
        ("@pytest.mark.parametrize('n', [1, pytest.param(2, id='two')])\ndef test_n(n):\n    pass", True),
        ("class Response:\n    charset = 'utf-8'\n    def header(self, sep=';'):\n        pass", True),
        ("PATTERN = re.compile('[a-z]+', re.I)", True),
        ("LAYOUT = struct.Struct('>Q')", True),
        ("KEYS = frozenset(NAMES)", True),
        ("TEXT = ', '.join(NAMES)", True),
        ("N = int('12')", True),
        ("ALPHABET = f'{string.ascii_letters}{string.digits}-_='.encode('ascii')", True),
        ("FLAGS = re.I | re.X", True),
        ("FLAGS = re.IGNORCASE", False),
        ("PATTERN = re.compile('(')", False),  # the edit's own call fails at import
        ("LAYOUT = struct.Struct('Z')", False),
        ("N = int('x')", False),
        ("SEP = os.sep", True),
        ("SEP = settings.SEP", False),  # an attribute may not exist
        ("SCALE = RATE * 10", False),  # an operator on a name may raise
        ("INV = 1 / 0", False),
        ("BIG = 'x' * 10", False),
        ("X = compute()", False),
        ("a, b = VALUES", False),
        ("D['k'] = 1", False),
        ("def f(x=settings.sep):\n    pass", False),
        ("@pytest.mark.skipif(sys.platform == 'win32', reason='')\ndef test_x():\n    pass", False),
        ("@pytest.fixture\ndef thing():\n    pass", False),
        ("if FLAG:\n    X = 1", False),
        ("import os", False),
    ],
)
def test_settled_statements_can_only_bind_their_names(source, expected):
    (statement,) = _statements(source)
    assert settled(statement) is expected
