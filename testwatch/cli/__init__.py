"""The ``testwatch`` command line: the entry point, one module per subcommand in ``commands/``, the
headless reporter and opening a project. The top of the house: may import every room and
``testwatch.tui`` (only inside the commands that open the app)."""
