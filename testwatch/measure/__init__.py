"""What a run measures beside outcomes: live memory samples, per-test latency and its regressions,
line coverage, threshold breaches, memray mode. Imports ``model``, ``config``, ``history``,
``select`` and ``testwatch.collectors.in_testwatch``."""
