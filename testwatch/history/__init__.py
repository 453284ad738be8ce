"""The SQLite history: its store, schema and migrations, and every way out of it (CSV, JSON,
json-report). Imports ``testwatch.model`` and ``testwatch.config``."""
