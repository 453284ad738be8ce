"""The plain data every room speaks: a test's result, the events of a run, failure headlines and
terminal-safe text. Imports nothing else from testwatch; no I/O."""
