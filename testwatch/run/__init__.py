"""Running pytest: the child process and its event stream (``child``, ``child_session``), the run
model (``run_model``: states, blame, exit status), the history writer, the listeners' bus, the
engine that conducts them, warm start, dependency recording and the watch loop. May import every
core room below it (``model``, ``config``, ``history``, ``select``, ``measure``) and
``testwatch.collectors``. Kept light: ``launch`` starts pytest before anything heavy is imported."""
