"""The app's panes in tab order, each with its id, title, digit key and class: the one list that the
tabs, the digit keys, the command palette and the snapshot tests all read."""

from __future__ import annotations

from dataclasses import dataclass

from testwatch.tui.panes.base import Pane
from testwatch.tui.panes.coverage import CoveragePane
from testwatch.tui.panes.history import HistoryPane
from testwatch.tui.panes.latency import LatencyPane
from testwatch.tui.panes.log import LogPane
from testwatch.tui.panes.memory import MemoryPane
from testwatch.tui.panes.tests import TestsPane
from testwatch.tui.panes.thresholds import ThresholdsPane


@dataclass(frozen=True)
class PaneSpec:
    """One pane: ``id`` names it in the app (and its widget ``pane-<id>``), ``key`` shows it."""

    id: str
    title: str
    key: str
    pane_class: type[Pane]

    @property
    def tab_id(self) -> str:
        """The id of the tab that holds the pane."""
        return tab_id(self.id)

    @property
    def tab_label(self) -> str:
        """What the tab reads, e.g. ``2 Memory``."""
        return f"{self.key} {self.title}"


def tab_id(pane_id: str) -> str:
    """The id of the tab that holds the pane ``pane_id``."""
    return f"tab-{pane_id}"


_IN_TAB_ORDER = (TestsPane, MemoryPane, LatencyPane, CoveragePane, ThresholdsPane, HistoryPane, LogPane)
PANES: tuple[PaneSpec, ...] = tuple(
    PaneSpec(pane.NAME, pane.TITLE, str(number), pane) for number, pane in enumerate(_IN_TAB_ORDER, start=1)
)


def pane_spec(pane_id: str) -> PaneSpec:
    """The registered pane ``pane_id``."""
    return next(spec for spec in PANES if spec.id == pane_id)
