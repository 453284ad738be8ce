"""A tiny shop: prices, an inventory and a cart."""
