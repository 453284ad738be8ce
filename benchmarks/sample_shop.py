"""The selection benchmarks' sample project: real modules, module-level constants, a class attribute,
a data file, conftest fixtures, parametrized tests; and the mutations applied to it.

    from sample_shop import write_sample, MUTATIONS
"""

from __future__ import annotations

import textwrap
from pathlib import Path

FILES = {
    "pyproject.toml": """
        [project]
        name = "sample-shop"
        version = "0"

        [tool.pytest.ini_options]
        testpaths = ["tests"]
        pythonpath = ["."]
    """,
    "shop/__init__.py": "",
    "shop/pricing.py": """
        import json
        from pathlib import Path

        VAT_RATE = 0.20
        RATES_FILE = Path(__file__).parent / "rates.json"


        def with_vat(net, rate=VAT_RATE):
            return round(net * (1 + rate), 2)


        def discount(price, percent):
            if not 0 <= percent <= 100:
                raise ValueError("percent out of range")
            return round(price * (100 - percent) / 100, 2)


        def convert(amount, currency):
            rates = json.loads(RATES_FILE.read_text())
            return round(amount * rates[currency], 2)
    """,
    "shop/rates.json": '{"EUR": 1.0, "USD": 1.1, "GBP": 0.8}',
    "shop/cart.py": """
        from shop.pricing import discount, with_vat


        class Cart:
            currency = "EUR"
            max_items = 50

            def __init__(self):
                self.lines = []

            def add(self, name, price, quantity=1):
                if len(self.lines) + 1 > self.max_items:
                    raise ValueError("cart full")
                self.lines.append((name, price, quantity))

            def net(self):
                return round(sum(price * qty for _, price, qty in self.lines), 2)

            def total(self, percent_off=0):
                return with_vat(discount(self.net(), percent_off))

            def label(self):
                return f"{len(self.lines)} items, {self.total()} {self.currency}"
    """,
    "shop/inventory.py": """
        class Inventory:
            def __init__(self):
                self.levels = {}

            def add(self, sku, count):
                if count <= 0:
                    raise ValueError("count must be positive")
                self.levels[sku] = self.levels.get(sku, 0) + count

            def take(self, sku, count):
                if self.levels.get(sku, 0) < count:
                    raise ValueError("not enough stock")
                self.levels[sku] -= count

            def level(self, sku):
                return self.levels.get(sku, 0)
    """,
    "shop/text.py": """
        SEPARATOR = ", "


        def join_names(names):
            return SEPARATOR.join(sorted(names))


        def shout(text):
            return text.upper() + "!"
    """,
    "tests/conftest.py": """
        import pytest

        from shop.cart import Cart
        from shop.inventory import Inventory


        @pytest.fixture
        def cart():
            c = Cart()
            c.add("pen", 2.0, 3)
            c.add("book", 10.0)
            return c


        @pytest.fixture
        def stock():
            inv = Inventory()
            inv.add("pen", 10)
            return inv
    """,
    "tests/test_pricing.py": """
        import pytest

        from shop.pricing import convert, discount, with_vat


        @pytest.mark.parametrize("net,gross", [(10, 12.0), (0, 0.0), (2.5, 3.0), (100, 120.0)])
        def test_with_vat(net, gross):
            assert with_vat(net) == gross


        def test_with_vat_explicit_rate():
            assert with_vat(10, 0.1) == 11.0


        @pytest.mark.parametrize("price,percent,after", [(100, 10, 90.0), (80, 25, 60.0), (5, 0, 5.0)])
        def test_discount(price, percent, after):
            assert discount(price, percent) == after


        def test_discount_rejects_over_100():
            with pytest.raises(ValueError):
                discount(10, 101)


        @pytest.mark.parametrize("currency,expected", [("EUR", 100.0), ("USD", 110.0), ("GBP", 80.0)])
        def test_convert(currency, expected):
            assert convert(100, currency) == expected
    """,
    "tests/test_cart.py": """
        from shop.cart import Cart


        def test_net(cart):
            assert cart.net() == 16.0


        def test_total(cart):
            assert cart.total() == 19.2


        def test_total_with_discount(cart):
            assert cart.total(percent_off=50) == 9.6


        def test_label(cart):
            assert cart.label() == "2 items, 19.2 EUR"


        def test_empty():
            assert Cart().net() == 0
    """,
    "tests/test_inventory.py": """
        import pytest


        def test_add(stock):
            stock.add("pen", 5)
            assert stock.level("pen") == 15


        def test_take(stock):
            stock.take("pen", 4)
            assert stock.level("pen") == 6


        def test_take_too_many(stock):
            with pytest.raises(ValueError):
                stock.take("pen", 11)


        @pytest.mark.parametrize("count", [0, -1])
        def test_add_rejects(stock, count):
            with pytest.raises(ValueError):
                stock.add("pen", count)
    """,
    "tests/test_text.py": """
        import pytest

        from shop.text import join_names, shout


        @pytest.mark.parametrize("names,joined", [(["b", "a"], "a, b"), (["x"], "x"), ([], "")])
        def test_join(names, joined):
            assert join_names(names) == joined


        def test_shout():
            assert shout("hi") == "HI!"
    """,
}

# name -> (kind, file, old text, new text). Every mutation breaks at least one test.
MUTATIONS = {
    "function body": ("function-body", "shop/pricing.py",
                      "return round(price * (100 - percent) / 100, 2)",
                      "return round(price * (100 - percent) / 100, 1) + 0.01"),
    "function body (method)": ("function-body", "shop/inventory.py",
                               "self.levels[sku] -= count", "self.levels[sku] -= count + 1"),
    "function body (leaf)": ("function-body", "shop/text.py",
                             'return text.upper() + "!"', 'return text.upper() + "?"'),
    "module-level constant": ("module", "shop/pricing.py", "VAT_RATE = 0.20", "VAT_RATE = 0.25"),
    "default argument": ("module", "shop/pricing.py", "rate=VAT_RATE", "rate=0.1"),
    "class attribute": ("module", "shop/cart.py", 'currency = "EUR"', 'currency = "USD"'),
    "data file": ("data", "shop/rates.json", '"USD": 1.1', '"USD": 1.2'),
    "conftest fixture": ("conftest", "tests/conftest.py", 'inv.add("pen", 10)', 'inv.add("pen", 12)'),
    "add an import": ("module", "shop/text.py", 'SEPARATOR = ", "',
                      'from shop.missing import SEPARATOR'),
    "rename a function": ("module", "shop/text.py", "def join_names(", "def join_all_names("),
}


def write_sample(root: Path) -> None:
    """Write the sample project under ``root``."""
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def mutate(root: Path, name: str) -> None:
    """Apply one mutation in place."""
    _, relative, old, new = MUTATIONS[name]
    path = root / relative
    text = path.read_text()
    if old not in text:
        raise ValueError(f"mutation {name!r}: {old!r} is not in {relative}")
    path.write_text(text.replace(old, new, 1))
