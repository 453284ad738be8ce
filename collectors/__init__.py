"""Data sources for testwatch: the pytest plugin, process sampling, memray, coverage and files.

Nothing in this package imports Textual; the pytest plugin imports only the standard library.
"""
