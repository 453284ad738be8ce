"""What the user and the project configure: ``[tool.testwatch]`` and its thresholds, the grammar of
sizes and durations, and what a project's config may make testwatch run (trust, ``serve`` access).
Imports only ``testwatch.model``."""
