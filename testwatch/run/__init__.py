"""Running pytest: the child process and its event stream, the run engine, warm start, dependency
recording and the watch loop. May import every core room below it (``model``, ``config``,
``history``, ``select``, ``measure``) and ``testwatch.collectors``. Kept light: ``launch`` starts
pytest before anything heavy is imported."""
