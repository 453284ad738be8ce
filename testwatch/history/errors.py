"""The one error a command reports when the history cannot be used; light, so the CLI can catch
it without importing SQLite before ``testwatch run`` has started pytest."""


class HistoryError(Exception):
    """The history file cannot be opened as asked; the message says why and what to do."""
