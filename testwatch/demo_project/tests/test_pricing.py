import pytest

from shop.pricing import convert, discount, with_vat


@pytest.mark.parametrize(
    ("net", "gross"), [(10.0, 12.0), (0.0, 0.0), (99.99, 119.99), (1.0, 1.2), (250.0, 300.0)]
)
def test_with_vat(net, gross):
    assert with_vat(net) == gross


@pytest.mark.parametrize(("price", "percent", "expected"), [(100, 10, 90), (80, 25, 60), (5, 0, 5)])
def test_discount(price, percent, expected):
    assert discount(price, percent) == expected


def test_discount_rejects_more_than_100_percent():
    with pytest.raises(ValueError, match="between 0 and 100"):
        discount(10, 150)


@pytest.mark.parametrize(("currency", "expected"), [("USD", 108.0), ("GBP", 85.0), ("EUR", 100.0)])
def test_convert_reads_rates_file(currency, expected):
    assert convert(100, currency) == expected
