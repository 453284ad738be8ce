"""Module-level edits select the tests that can observe the changed names, not every importer.

Each test records a real project with ``run --affected`` (real pytest child, real history), edits
module-level code, and checks ``affected`` against what a full run would show: the test that
reads the name (and breaks) is selected, the one that cannot observe it is not.
"""

from __future__ import annotations

import pytest

from testwatch.select.module_names import module_facts

PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]
    """,
    "shop/__init__.py": "",
    "shop/prices.py": """
        RATE = 2
        LIMITS = {"max": 10}
        SCALE = RATE * 10
        unused = 5


        def double(x):
            return x * RATE


        def clamp(x, top=10):
            return min(x, top)


        def limit():
            return LIMITS["max"]


        def plain(x):
            return x + 1


        class Base:
            unit = "EUR"

            def label(self):
                return "base"


        class Price(Base):
            def show(self, n):
                return f"{n} {self.unit}"
    """,
    "shop/report.py": """
        from shop.prices import SCALE as FACTOR


        def scaled(x):
            return x * FACTOR
    """,
    "shop/alias.py": """
        from shop.prices import RATE as R


        def triple_rate():
            return R * 3
    """,
    "tests/test_prices.py": """
        from shop.prices import Price, clamp, double, limit, plain


        def test_double():
            assert double(2) == 4


        def test_clamp():
            assert clamp(20) == 10


        def test_limit():
            assert limit() == 10


        def test_plain():
            assert plain(1) == 2


        def test_show():
            assert Price().show(3) == "3 EUR"
    """,
    "tests/test_report.py": """
        from shop.report import scaled


        def test_scaled():
            assert scaled(1) == 20
    """,
    "tests/test_alias.py": """
        from shop.alias import triple_rate


        def test_triple_rate():
            assert triple_rate() == 6
    """,
}


@pytest.fixture
def shop(make_project, cli):
    return _recorded(make_project(PROJECT), cli)


def _recorded(root, cli):
    """The project at ``root`` after one ``run --affected``: its dependencies recorded."""
    out = cli("run", str(root), "--affected")
    assert out.returncode == 0, out.stdout + out.stderr
    return root


def _selected(affected, root) -> set[str]:
    result = affected(root)
    assert not result["everything"], result["everything_reason"]
    return set(result["selected"])


def test_constant_read_by_a_function_selects_its_callers_only(shop, edit, affected):
    edit(shop / "shop/prices.py", 'LIMITS = {"max": 10}', 'LIMITS = {"max": 11}')
    result = affected(shop)
    assert set(result["selected"]) == {"tests/test_prices.py::test_limit"}
    assert "reads LIMITS" in result["reasons"]["tests/test_prices.py::test_limit"]


def test_default_argument_selects_the_tests_that_ran_the_function(shop, edit, affected):
    edit(shop / "shop/prices.py", "def clamp(x, top=10):", "def clamp(x, top=11):")
    result = affected(shop)
    assert set(result["selected"]) == {"tests/test_prices.py::test_clamp"}
    assert "clamp" in result["reasons"]["tests/test_prices.py::test_clamp"]


def test_class_attribute_reaches_the_subclass_users(shop, edit, affected):
    edit(shop / "shop/prices.py", 'unit = "EUR"', 'unit = "USD"')
    assert _selected(affected, shop) == {"tests/test_prices.py::test_show"}


def test_import_time_derived_constant_follows_into_other_modules(shop, edit, affected):
    # SCALE = RATE * 10 is derived at import; report.py reads it as FACTOR.
    edit(shop / "shop/prices.py", "RATE = 2", "RATE = 3")
    assert _selected(affected, shop) == {
        "tests/test_prices.py::test_double",
        "tests/test_report.py::test_scaled",
        "tests/test_alias.py::test_triple_rate",
    }


def test_from_import_alias_is_followed(shop, edit, affected):
    edit(shop / "shop/prices.py", "SCALE = RATE * 10", "SCALE = 21")
    result = affected(shop)
    assert set(result["selected"]) == {"tests/test_report.py::test_scaled"}
    assert "reads FACTOR" in result["reasons"]["tests/test_report.py::test_scaled"]


def test_an_edited_operator_on_names_also_selects_every_test_that_ran_the_module(shop, edit, affected):
    # RATE * 11 could raise at import (RATE could be anything): importing would then fail for
    # every importer, so every test that ran code of prices.py runs, as pytest-testmon's would.
    edit(shop / "shop/prices.py", "SCALE = RATE * 10", "SCALE = RATE * 11")
    result = affected(shop)
    assert "reads FACTOR" in result["reasons"]["tests/test_report.py::test_scaled"]
    assert "may raise at import" in result["reasons"]["tests/test_prices.py::test_plain"]
    assert "tests/test_alias.py::test_triple_rate" not in result["selected"]


def test_an_undefined_name_at_import_selects_every_importer(shop, edit, affected, cli):
    # A typo: prices.py no longer imports, so every test whose file imports it (test_alias's
    # through shop.alias, though it runs none of prices.py's code) fails.
    edit(shop / "shop/prices.py", "unused = 5", "unused = RATES")
    result = affected(shop)
    assert "tests/test_alias.py::test_triple_rate" in result["selected"]
    why = result["reasons"]["tests/test_alias.py::test_triple_rate"]
    assert "reads RATES at import before anything binds it" in why
    run = cli("run", str(shop), "--", "tests/test_alias.py")
    assert run.returncode != 0 and "RATES" in run.stdout + run.stderr


def test_an_attribute_read_at_import_also_selects_every_test_that_ran_the_module(shop, edit, affected):
    edit(shop / "shop/prices.py", "unused = 5", "unused = RATE.real")
    result = affected(shop)
    assert {"tests/test_prices.py::test_plain", "tests/test_prices.py::test_show"} <= set(result["selected"])
    assert "tests/test_alias.py::test_triple_rate" not in result["selected"]


def test_a_new_function_selects_nothing_until_something_reads_it(shop, edit, affected):
    edit(shop / "shop/prices.py", "def plain(x):", "def helper(x):\n    return x\n\n\ndef plain(x):")
    assert _selected(affected, shop) == set()


def test_a_new_function_that_shadows_a_builtin_selects_its_readers(shop, edit, affected):
    # clamp() calls min(): a module-level min defined after it now shadows the builtin.
    edit(shop / "shop/prices.py", "def limit():", "def min(*values):\n    return 0\n\n\ndef limit():")
    assert _selected(affected, shop) == {"tests/test_prices.py::test_clamp"}


def test_a_moved_function_still_falls_back(shop, edit, affected):
    # The layout changed and no name is new: nothing to follow by name.
    source = (shop / "shop/prices.py").read_text()
    plain = "def plain(x):\n    return x + 1\n"
    edit(shop / "shop/prices.py", source, plain + "\n\n" + source.replace(plain, ""))
    result = affected(shop)
    assert "tests/test_alias.py::test_triple_rate" in result["selected"]
    assert "removed or reordered" in result["reasons"]["tests/test_alias.py::test_triple_rate"]


def test_a_new_test_in_a_test_module_runs_alone(shop, edit, affected, cli):
    edit(
        shop / "tests/test_prices.py",
        "def test_plain():",
        "@pytest.mark.parametrize('n', [1, 2])\ndef test_new(n):\n    assert double(n) == 3\n\n\n"
        "def test_plain():",
    )
    edit(shop / "tests/test_prices.py", "from shop.prices", "import pytest\n\nfrom shop.prices")
    # A new import is not followed by name: the module's tests run, test_new among them.
    assert "tests/test_prices.py::test_plain" in affected(shop)["selected"]
    first = cli("run", str(shop), "--affected")
    assert first.returncode == 1 and "test_new[1]" in first.stdout, first.stdout
    edit(shop / "tests/test_prices.py", "assert double(n) == 3", "assert double(n) == 2 * n")
    _insert_before_test_plain(edit, shop, "def test_other():\n    assert plain(2) == 3")
    result = affected(shop)
    assert set(result["selected"]) == {
        "tests/test_prices.py::test_new[1]", "tests/test_prices.py::test_new[2]",  # failed last time
        "tests/test_prices.py::test_other",
    }
    assert "new: written into tests/test_prices.py" in result["reasons"]["tests/test_prices.py::test_other"]
    assert "2 of 9 known tests selected, and 1 new in" in cli("affected", str(shop)).stdout
    run = cli("run", str(shop), "--affected")
    assert run.returncode == 0, run.stdout
    assert "3 passed" in run.stdout


def _insert_before_test_plain(edit, root, code: str) -> None:
    edit(root / "tests/test_prices.py", "def test_plain():", f"{code}\n\n\ndef test_plain():")


def test_a_new_fixture_or_setup_in_a_test_module_selects_its_tests(shop, edit, affected):
    _insert_before_test_plain(edit, shop, "def setup_module():\n    pass")
    result = affected(shop)
    assert "tests/test_prices.py::test_plain" in result["selected"]
    why = result["reasons"]["tests/test_prices.py::test_plain"]
    assert "setup_module is read by Python or pytest" in why


def test_projects_naming_their_tests_fall_back_on_new_names_in_test_modules(
    make_project, cli, edit, affected
):
    files = dict(PROJECT)
    files["pyproject.toml"] = PROJECT["pyproject.toml"] + '        python_functions = ["test_*", "check_*"]\n'
    root = _recorded(make_project(files), cli)
    _insert_before_test_plain(edit, root, "def check_new():\n    assert False")
    result = affected(root)
    assert "tests/test_prices.py::test_plain" in result["selected"]
    assert "python_functions" in result["reasons"]["tests/test_prices.py::test_plain"]
    assert cli("run", str(root), "--affected").returncode == 1  # check_new ran, and failed


def test_a_name_no_test_reads_selects_nothing(shop, edit, affected):
    edit(shop / "shop/prices.py", "unused = 5", "unused = 6")
    assert _selected(affected, shop) == set()


def test_dynamic_access_falls_back_to_every_importer(shop, edit, affected):
    edit(
        shop / "shop/prices.py",
        "def plain(x):\n    return x + 1",
        'def plain(x):\n    return x + globals()["RATE"] - 1',
    )
    out = affected(shop)  # plain's body changed: record again so only the constant differs
    assert "tests/test_prices.py::test_plain" in out["selected"]
    edit(shop / "shop/prices.py", "RATE = 2", "RATE = 3")
    result = affected(shop)
    assert {"tests/test_prices.py::test_plain", "tests/test_prices.py::test_clamp"} <= set(result["selected"])
    assert "globals()" in result["reasons"]["tests/test_prices.py::test_clamp"]


def test_a_changed_call_also_selects_every_test_that_ran_the_module(shop, edit, affected):
    edit(shop / "shop/prices.py", "unused = 5", "unused = print()")
    result = affected(shop)
    assert "tests/test_prices.py::test_plain" in result["selected"]
    assert "tests/test_alias.py::test_triple_rate" not in result["selected"]


DICTS = {
    "pyproject.toml": PROJECT["pyproject.toml"],
    "shop/__init__.py": "",
    "shop/records.py": """
        KEYS = ("name", "price")
        ERROR_KEYS = Exception("x").__dict__.keys()  # a call's result: an object, not the module


        class Defaults:
            currency = "EUR"


        def fields(record):
            return {k: v for k, v in record.__dict__.items() if k in KEYS}


        def defaults(cls=Defaults):
            return {k: v for k, v in cls.__dict__.items() if not k.startswith("_")}


        def plain():
            return 1
    """,
    "tests/test_records.py": """
        from types import SimpleNamespace

        from shop.records import defaults, fields, plain


        def test_fields():
            assert fields(SimpleNamespace(name="a", price=1, other=2)) == {"name": "a", "price": 1}


        def test_defaults():
            assert defaults() == {"currency": "EUR"}


        def test_plain():
            assert plain() == 1
    """,
}


def test_an_objects_dict_is_not_the_modules_names(make_project, cli, edit, affected):
    # fields() reads record.__dict__ (an instance's attributes): KEYS is still followed by name.
    root = make_project(DICTS)
    assert cli("run", str(root), "--affected").returncode == 0
    edit(root / "shop/records.py", 'KEYS = ("name", "price")', 'KEYS = ("name",)')
    assert _selected(affected, root) == {"tests/test_records.py::test_fields"}


def test_a_class_read_through_an_objects_dict_selects_the_dict_readers(make_project, cli, edit, affected):
    # defaults() reads a class's attributes through cls.__dict__: no name to follow, so every
    # function of the module that reads an object's __dict__ observes the class; plain() does not.
    records = DICTS["shop/records.py"].replace('ERROR_KEYS = Exception("x").__dict__.keys()', "")
    root = make_project({**DICTS, "shop/records.py": records})
    assert cli("run", str(root), "--affected").returncode == 0
    edit(root / "shop/records.py", 'currency = "EUR"', 'currency = "USD"')
    result = affected(root)
    fields, defaults = "tests/test_records.py::test_fields", "tests/test_records.py::test_defaults"
    assert set(result["selected"]) == {defaults, fields}
    assert "reads objects' __dict__" in result["reasons"][fields]
    assert cli("run", str(root), "--affected").returncode == 1  # test_defaults breaks


def test_module_level_code_reading_an_objects_dict_falls_back(make_project, cli, edit, affected):
    # ERROR_KEYS reads a call's result's __dict__ at import: that object may be the class.
    root = make_project(DICTS)
    assert cli("run", str(root), "--affected").returncode == 0
    edit(root / "shop/records.py", 'currency = "EUR"', 'currency = "USD"\n    code = "EU"')
    result = affected(root)
    plain = "tests/test_records.py::test_plain"
    assert plain in result["selected"]
    assert "module-level code reads objects' __dict__" in result["reasons"][plain]


WEB = {
    "pyproject.toml": PROJECT["pyproject.toml"],
    "web/__init__.py": "",
    "web/responses.py": """
        class Response:
            media_type = None
            charset = "utf-8"
            max_items = 3

            def __init__(self, body):
                self.body = body

            def header(self):
                return f"{self.media_type}; charset={self.charset}"

            @property
            def size(self):
                return len(self.body)

            @classmethod
            def check(cls, n):
                return n <= cls.max_items


        class JSONResponse(Response):
            media_type = "application/json"

            def render(self):
                return "{" + self.body + "}"


        OK = JSONResponse("ok")


        class Redirect:
            def __init__(self, url):
                self.url = url
    """,
    "web/routing.py": """
        SEPARATOR = "/"


        def compile_path(path):
            return path.split(SEPARATOR)
    """,
    "web/client.py": """
        class Client:
            def __init__(self, app):
                self.app = app

            def get(self):
                return self.app["parts"]
    """,
    "tests/test_responses.py": """
        from web.responses import JSONResponse, Response


        def test_header():
            assert Response("x").header() == "None; charset=utf-8"


        def test_size():
            assert Response("abc").size == 3


        def test_render():
            assert JSONResponse("a").render() == "{a}"


        def test_check():
            assert Response.check(3)
    """,
    "tests/test_redirect.py": """
        from web.responses import Redirect


        def test_redirect():
            assert Redirect("/a").url == "/a"
    """,
    "tests/test_routing.py": """
        from web.client import Client
        from web.routing import compile_path

        app = {"parts": compile_path("a/b")}


        def test_get():
            assert Client(app).get() == ["a", "b"]
    """,
    "tests/test_client.py": """
        from web.client import Client


        def test_client():
            assert Client(1).app == 1
    """,
}


@pytest.fixture
def web(make_project, cli):
    return _recorded(make_project(WEB), cli)


RESPONSE_USERS = {f"tests/test_responses.py::test_{name}" for name in ("header", "size", "render", "check")}


def test_a_class_attribute_value_selects_the_class_users_not_every_test_of_the_module(
    web, edit, affected, cli
):
    # Response has a decorated method: a change of the class statement "makes calls" and would
    # select every test that ran code of responses.py. An attribute's value is seen by the code
    # that reads it (check(): cls.max_items) and by the users of the class and its subclasses.
    edit(web / "web/responses.py", "max_items = 3", "max_items = 2")
    result = affected(web)
    assert set(result["selected"]) == RESPONSE_USERS
    assert "Response.max_items changed" in result["reasons"]["tests/test_responses.py::test_check"]
    assert cli("run", str(web), "--affected").returncode == 1  # test_check breaks


def test_a_class_attribute_read_after_an_instance_is_made_at_import(web, edit, affected):
    # OK = JSONResponse("ok") is made at import, but no code that runs then reads charset.
    edit(web / "web/responses.py", 'charset = "utf-8"', 'charset = "latin-1"')
    assert _selected(affected, web) == RESPONSE_USERS


def test_a_class_attribute_edit_that_changes_the_class_otherwise_selects_its_users(web, edit, affected):
    edit(web / "web/responses.py", "max_items = 3", "max_items = 3\n    min_items = 0")
    assert "tests/test_responses.py::test_size" in _selected(affected, web)


def test_a_test_modules_names_are_read_as_attributes_only_where_it_is_imported(web, edit, affected):
    # app in tests/test_routing.py is derived from SEPARATOR at import; test_client reads .app
    # of an object, which cannot be a test module it never imports.
    edit(web / "web/routing.py", 'SEPARATOR = "/"', 'SEPARATOR = "-"')
    assert _selected(affected, web) == {"tests/test_routing.py::test_get"}


STAR = {
    "pyproject.toml": PROJECT["pyproject.toml"],
    "pkg/__init__.py": """
        from .core import *
        from .loose import *
    """,
    "pkg/core.py": """
        __all__ = ["total", "LIMIT"]

        LIMIT = 10
        HIDDEN = 3


        def total(x):
            return x * HIDDEN


        def helper():
            return LIMIT
    """,
    "pkg/loose.py": """
        SPARE = 1


        def spare():
            return SPARE
    """,
    "pkg/other.py": """
        def other():
            return 1
    """,
    "tests/test_pkg.py": """
        import pkg
        from pkg import LIMIT
        from pkg.other import other


        def test_total():
            assert pkg.total(2) == 6


        def test_limit():
            assert LIMIT == 10


        def test_other():
            assert other() == 1


        def test_spare():
            assert pkg.spare() == 1
    """,
}


@pytest.fixture
def star(make_project, cli):
    return _recorded(make_project(STAR), cli)


def test_a_star_import_of_a_module_with_a_literal_all_is_followed_by_name(star, edit, affected):
    # from .core import * binds just core.__all__: as ``from .core import total, LIMIT``.
    edit(star / "pkg/core.py", "HIDDEN = 3", "HIDDEN = 4")
    assert _selected(affected, star) == {"tests/test_pkg.py::test_total"}
    edit(star / "pkg/core.py", "HIDDEN = 4", "HIDDEN = 3")
    edit(star / "pkg/core.py", "LIMIT = 10", "LIMIT = 11")
    assert _selected(affected, star) == {"tests/test_pkg.py::test_limit"}


def test_a_star_import_of_a_module_without_all_binds_its_public_names(star, edit, affected):
    edit(star / "pkg/loose.py", "SPARE = 1", "SPARE = 2")
    assert _selected(affected, star) == {"tests/test_pkg.py::test_spare"}


def test_a_star_import_of_a_module_binding_names_from_functions_falls_back(star, edit, affected, cli):
    # reset() binds a module-level name at run time: what the star import binds cannot be told.
    reset = "def reset():\n    global SPARE\n    SPARE = 1"
    edit(star / "pkg/loose.py", "def spare():", f"{reset}\n\n\ndef spare():")
    assert cli("run", str(star), "--affected").returncode == 0
    edit(star / "pkg/loose.py", "SPARE = 1\n\n\ndef reset", "SPARE = 2\n\n\ndef reset")
    result = affected(star)
    assert set(result["selected"]) >= {"tests/test_pkg.py::test_spare", "tests/test_pkg.py::test_other"}
    assert "imports * from it" in result["reasons"]["tests/test_pkg.py::test_other"]


@pytest.mark.parametrize(("source", "exported"), [
    ("__all__ = ['a', 'b']\n", ("a", "b")),
    ("__all__: tuple = ('a',)\n", ("a",)),
    ("__all__ = ['a']\n__all__ += ['b']\n", None),
    ("__all__ = ['a']\n__all__.append('b')\n", None),
    ("__all__ = ['a']\nglobals()['__all__'] = ['b']\n", None),
    ("__all__ = ['a'] + other.__all__\n", None),
    ("if X:\n    __all__ = ['a']\n", None),
    ("def f():\n    global __all__\n    __all__ = ['b']\n__all__ = ['a']\n", None),
    ("A = 1\n_hidden = 2\n\n\ndef f():\n    pass\n", ("A", "f")),  # no __all__: the public names
    ("from os.path import *\nA = 1\n", None),
    ("A = 1\n\n\ndef f():\n    global B\n    B = 2\n", None),
])
def test_only_a_literal_all_bound_once_says_what_a_star_import_binds(source, exported):
    assert module_facts(source.encode(), "pkg/core.py").exported == exported


IMPORT_TIME = {
    "pyproject.toml": PROJECT["pyproject.toml"],
    "pkg/__init__.py": "from pkg.core import *\n",
    "pkg/core.py": """
        def make():
            return "a"


        VAL = make()
        RATE = 2
        REGISTRY = {"make": make}  # holds the function, does not run it
        build = make
        BUILT = build()


        def double(x):
            return x * RATE


        def plain():
            return 1
    """,
    "pkg/names.py": """
        import pkg.core as core


        def exported(attr=None):
            return sorted(getattr(core, name) for name in ("RATE",))


        def shadowed(core):
            return getattr(core, "x" + "y", None)
    """,
    "tests/test_core.py": """
        from pkg import RATE, VAL, double, plain
        from pkg.core import make

        LOCAL = make()


        def test_val():
            assert VAL == "a"


        def test_local():
            assert LOCAL == "a"


        def test_double():
            assert double(RATE) == 4


        def test_plain():
            assert plain() == 1
    """,
    "tests/test_registry.py": """
        from pkg import BUILT, REGISTRY


        def test_registry():
            assert "make" in REGISTRY


        def test_built():
            assert BUILT == "a"
    """,
    "tests/test_names.py": """
        from pkg.names import exported, shadowed


        def test_exported():
            assert exported() == [2]


        def test_shadowed():
            assert shadowed(object()) is None
    """,
}


@pytest.fixture
def import_time(make_project, cli):
    return _recorded(make_project(IMPORT_TIME), cli)


def test_a_function_run_at_import_selects_the_readers_of_what_it_made(import_time, edit, affected, cli):
    # make() runs only at import: no test runs its body, but VAL and LOCAL hold what it returned
    # (and exported() may read VAL by a computed name; shadowed() reads its parameter's).
    edit(import_time / "pkg/core.py", 'return "a"', 'return "b"')
    result = affected(import_time)
    assert set(result["selected"]) == {
        "tests/test_core.py::test_val", "tests/test_core.py::test_local",
        "tests/test_names.py::test_exported",
        "tests/test_registry.py::test_built",  # BUILT = build(), build another name for make
    }
    assert "the body of make changed" in result["reasons"]["tests/test_core.py::test_val"]
    run = cli("run", str(import_time))
    assert run.stdout.count("FAIL ") == 3, run.stdout  # test_val, test_local, test_built


def test_a_star_import_without_all_binds_the_public_names(import_time, edit, affected):
    # pkg/__init__.py star-imports core, which has no __all__: its public names, followed by name.
    # exported() reads core by computed names: it observes every name of core.
    edit(import_time / "pkg/core.py", "RATE = 2", "RATE = 3")
    assert _selected(affected, import_time) == {
        "tests/test_core.py::test_double", "tests/test_names.py::test_exported",
    }
