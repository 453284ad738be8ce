import pytest

from shop.inventory import Inventory, OutOfStock


@pytest.fixture
def inventory():
    inv = Inventory()
    inv.add("apple", 3)
    return inv


def test_add_accumulates(inventory):
    inventory.add("apple", 2)
    assert inventory.level("apple") == 5


def test_take_reduces(inventory):
    inventory.take("apple")
    assert inventory.level("apple") == 2


def test_take_too_many_raises(inventory):
    with pytest.raises(OutOfStock):
        inventory.take("apple", 4)


def test_unknown_sku_is_zero(inventory):
    assert inventory.level("pear") == 0


def test_add_rejects_zero(inventory):
    with pytest.raises(ValueError):
        inventory.add("apple", 0)


def test_restock_after_sellout(inventory):
    inventory.take("apple", 3)
    inventory.add("apple", 1)
    assert inventory.level("apple") == 1
