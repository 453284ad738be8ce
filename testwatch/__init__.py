"""testwatch: rerun the affected pytest tests on every save, with memory, latency and coverage."""

__version__ = "0.1.0"
