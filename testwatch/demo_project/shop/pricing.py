"""Prices, discounts and VAT."""

import json
from pathlib import Path

VAT_RATE = 0.20
RATES_FILE = Path(__file__).parent / "data" / "rates.json"


def with_vat(net: float, rate: float = VAT_RATE) -> float:
    """The gross price of a net price."""
    return round(net * (1 + rate), 2)


def discount(price: float, percent: float) -> float:
    """The price after a percentage off; percent must be between 0 and 100."""
    if not 0 <= percent <= 100:
        raise ValueError(f"discount must be between 0 and 100, got {percent}")
    return round(price * (100 - percent) / 100, 2)


def convert(amount: float, currency: str) -> float:
    """An amount in euros converted with the rates in data/rates.json."""
    rates = json.loads(RATES_FILE.read_text())
    return round(amount * rates[currency], 2)
