"""One module per ``testwatch`` subcommand: each has ``add_parser(subparsers)`` and ``run(args)``."""
