"""The headless output of a run: a line per finished test and a summary, or JSON lines."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from typing import TextIO

from testwatch.config.units import format_duration
from testwatch.measure.breaches import describe_breach
from testwatch.model.events import (
    ChildRestarted,
    CollectionError,
    EngineEvent,
    EngineNotice,
    RunFinished,
    RunStarted,
    SessionStarted,
    TestFinished,
    ThresholdBreached,
    WatchStatus,
)
from testwatch.model.failure_text import headline, locations
from testwatch.model.outcome_labels import OUTCOME_LABELS
from testwatch.model.terminal_text import one_line, safe
from testwatch.model.wording import counted


def error_summary(longrepr: str) -> str:
    """One line from a pytest error report: where it happened and what it was.

    ``mod.py:1: ModuleNotFoundError: No module named 'x'`` or ``tests/t.py:3: SyntaxError: ...``.
    """
    what = headline(longrepr)
    syntax = _SYNTAX_AT.findall(longrepr)
    frames = [f"{at.path}:{at.lineno}" for at in locations(longrepr)]
    where = f"{syntax[-1][0]}:{syntax[-1][1]}" if syntax else frames[-1] if frames else ""
    return f"{where}: {what}" if where else what


_SYNTAX_AT = re.compile(r'File "([^"]+)", line (\d+)')


class LineReporter:
    """Prints one line per result; failures' tracebacks at the end of the run. A run that records
    what a results-first run's tests depend on (trigger ``record``) repeats those tests: only its
    failures' lines and its summary are printed."""

    def __init__(self, out: TextIO | None = None, tracebacks: bool = True) -> None:
        self.out = out or sys.stdout or stop_printing(None)
        self.tracebacks = tracebacks
        self.show_capture = "all"  # pytest's --show-capture in the run's session
        self._failures: list = []
        self._repeating = False  # the run under way is a ``record`` run

    def __call__(self, event: EngineEvent) -> None:
        try:
            self._report(event)
        except OSError:  # a closed pipe, a full disk: the run goes on, recorded
            self.out = stop_printing(self.out)

    def _report(self, event: EngineEvent) -> None:
        write = self.out.write
        if isinstance(event, RunStarted):
            scope = "all tests" if event.selected_count is None else counted(event.selected_count, "test")
            self._repeating = event.trigger == "record"
            write(f"run {event.run_id or '-'} ({event.trigger}): {scope}\n")
        elif isinstance(event, SessionStarted):
            self.show_capture = event.show_capture
        elif isinstance(event, TestFinished):
            result = event.result
            known = OUTCOME_LABELS.get(result.outcome)
            label = known.word if known else result.outcome.upper()
            if result.is_bad or not self._repeating:
                write(f"{label:<7} {format_duration(result.duration_s):>9}  {one_line(result.nodeid)}\n")
            if result.is_bad and not self._repeating:
                self._failures.append(result)
        elif isinstance(event, CollectionError):
            write(f"ERROR   collecting {one_line(event.path)}: {safe(error_summary(event.message))}\n")
        elif isinstance(event, ChildRestarted):
            write(f"pytest {event.reason}; restarting for the {counted(event.remaining, 'test')} left\n")
        elif isinstance(event, (EngineNotice, WatchStatus)):  # WatchStatus: ``run --affected`` ran none
            write(f"{event.severity}: {safe(event.message)}\n")
        elif isinstance(event, ThresholdBreached):
            write(f"BREACH  {safe(describe_breach(event))}\n")
        elif isinstance(event, RunFinished):
            self._summary(event)
        self.out.flush()

    def _summary(self, event: RunFinished) -> None:
        write = self.out.write
        if self.tracebacks:
            for result in self._failures:
                write(f"\n{'_' * 20} {one_line(result.nodeid)} [{result.outcome}] {'_' * 20}\n")
                write(safe(result.longrepr).rstrip() + "\n")
                for title, text in shown_sections(result.sections, self.show_capture):
                    write(f"{'-' * 20} {one_line(title)} {'-' * 20}\n")
                    write(safe(text.removesuffix("\n")) + "\n")
        if self._failures:
            write("\n")
        for result in self._failures:  # as pytest's short test summary
            what = one_line(headline(result.longrepr))
            write(f"{result.outcome.upper()} {one_line(result.nodeid)} - {what}\n")
        self._failures.clear()
        parts = [f"{n} {outcome}" for outcome, n in event.counts.items() if n]
        state = "cancelled" if event.cancelled else f"exit {event.exit_status}"
        summary = ", ".join(parts) or "no tests ran"
        if event.message:
            summary = f"{summary} ({event.message})"
        write(f"\n{summary} in {format_duration(event.duration_s)} ({state})\n")


def shown_sections(sections: list[tuple[str, str]], show_capture: str) -> list[tuple[str, str]]:
    """The captured sections pytest prints under a failure with ``--show-capture=show_capture``:
    every one for ``all``, none for ``no``, else those whose title names it (``Captured log call``
    for ``log``), as pytest's terminal report chooses them."""
    if show_capture == "no":
        return []
    return [(title, text) for title, text in sections if show_capture == "all" or show_capture in title]


class JsonReporter:
    """One JSON object per engine event, for scripts."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout or stop_printing(None)

    def __call__(self, event: EngineEvent) -> None:
        record = {"event": type(event).__name__, **dataclasses.asdict(event)}
        try:
            self.out.write(json.dumps(record, default=str) + "\n")
            self.out.flush()
        except OSError:
            self.out = stop_printing(self.out)


def stop_printing(out: TextIO | None) -> TextIO:
    """Our output cannot be written (``testwatch run | head`` whose reader left, a full disk,
    a closed stdout): print nothing more, keep recording."""
    devnull = open(os.devnull, "w")  # noqa: SIM115 - replaces the stream for the rest of the process
    if out is not None and out is sys.stdout:
        # Also stop the interpreter's final flush of stdout from failing on the closed pipe.
        os.dup2(devnull.fileno(), sys.stdout.fileno())
    return devnull
