"""A shopping cart priced with shop.pricing."""

from shop.pricing import discount, with_vat


class Cart:
    def __init__(self) -> None:
        self.lines: list[tuple[str, float, int]] = []

    def add(self, sku: str, price: float, quantity: int = 1) -> None:
        self.lines.append((sku, price, quantity))

    def net_total(self) -> float:
        return round(sum(price * quantity for _, price, quantity in self.lines), 2)

    def total(self, percent_off: float = 0) -> float:
        """Gross total after an optional discount."""
        return with_vat(discount(self.net_total(), percent_off))
