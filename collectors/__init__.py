"""Data sources for testwatch, split by where they run: ``in_pytest`` inside the user's pytest child
(standard library only), ``in_testwatch`` in testwatch's own process (files, process tree).

Nothing in this package imports Textual or the testwatch core.
"""
