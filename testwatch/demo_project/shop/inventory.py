"""Stock levels per product."""


class OutOfStock(Exception):
    pass


class Inventory:
    def __init__(self) -> None:
        self._stock: dict[str, int] = {}

    def add(self, sku: str, count: int) -> None:
        if count <= 0:
            raise ValueError("count must be positive")
        self._stock[sku] = self._stock.get(sku, 0) + count

    def take(self, sku: str, count: int = 1) -> None:
        if self._stock.get(sku, 0) < count:
            raise OutOfStock(sku)
        self._stock[sku] -= count

    def level(self, sku: str) -> int:
        return self._stock.get(sku, 0)
