"""The tests pane's tree: files and their tests, kept in step with the session state node by node.

A file's tests become nodes only when the file is open (the files at the top open up to ``OPEN_TESTS``
tests), so ten thousand tests cost some hundred file nodes. News changes the labels of the nodes it
touched; a new run's tests add file nodes at the end; a finished run re-sorts (failures first) the open
files whose order changed by relabelling their leaves. Only a change in the order of the files
themselves (or a filter) builds the tree again. Names are cut in the middle to the tree's width.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from testwatch.config.units import format_duration
from testwatch.tui.outcomes import status_symbol
from testwatch.tui.shorten import shorten_middle
from testwatch.tui.state import TestRow
from testwatch.tui.text import literal

OPEN_TESTS = 300
MIN_NAME = 12  # a name is never cut shorter than this (the tree scrolls sideways instead)
Groups = list[tuple[str, list[TestRow]]]


class TestsTree(Tree[str]):
    """Tree of files (data: the file) and tests (data: the node id)."""

    __test__ = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("tests", *args, **kwargs)
        self.show_root = False
        self.guide_depth = 2
        self.leaves: dict[str, TreeNode[str]] = {}  # node id -> leaf, for the open files
        self.file_nodes: dict[str, tuple[TreeNode[str], list[TestRow]]] = {}  # in the tree's order
        self._open_budget = OPEN_TESTS  # tests files appended at the end may still open with
        self.label_width: int | None = None  # cells a label may take; None until laid out
        # file -> its failing tests, kept by the session state; None: count the file's rows (a filter
        # shows some of them). A count per label cost a walk of the file's rows for every batch.
        self.failing_in: Callable[[str], int] | None = None

    def get_label_width(self, node: TreeNode[str]) -> int:
        """The label's width without rendering it (Tree measures every line at each rebuild)."""
        icon = len(self.ICON_NODE) if node.allow_expand else 0
        return icon + node.label.cell_len

    def on_resize(self, _: events.Resize) -> None:
        """Shorten the labels to the new width (names are cut in the middle, whole in the details)."""
        width = self.size.width - self.styles.scrollbar_size_vertical
        if width <= 0 or width == self.label_width:
            return
        self.label_width = width
        for file, (node, rows) in self.file_nodes.items():
            self._relabel(node, self._file_label(file, rows))
            by_nodeid = {row.nodeid: row for row in rows}
            for leaf in node.children:
                if leaf.data in by_nodeid:
                    self._relabel(leaf, self._test_label(by_nodeid[leaf.data]))

    # ----- structure

    def show_groups(self, groups: Groups, keep_open: str | None) -> None:
        """Build the tree from ``groups`` (files in order, each with its tests in order)."""
        self.clear()
        self.leaves = {}
        self.file_nodes = {}
        self._open_budget = OPEN_TESTS
        for file, rows in groups:
            self._add_file(file, rows, force_open=file == keep_open)

    def update_groups(self, groups: Groups) -> bool:
        """Bring the tree to ``groups`` node by node; False if the files' order changed (build it anew)."""
        shown = list(self.file_nodes)
        if [file for file, _ in groups[: len(shown)]] != shown:
            return False
        for file, rows in groups[: len(shown)]:
            node, _ = self.file_nodes[file]
            self.file_nodes[file] = (node, rows)
            self._relabel(node, self._file_label(file, rows))
            if node.children and [leaf.data for leaf in node.children] != [row.nodeid for row in rows]:
                self._fill(file)
        for file, rows in groups[len(shown):]:
            self._add_file(file, rows, force_open=False)
        return True

    def _add_file(self, file: str, rows: list[TestRow], force_open: bool) -> None:
        node = self.root.add(self._file_label(file, rows), data=file, allow_expand=True)
        self.file_nodes[file] = (node, rows)
        if len(rows) <= self._open_budget or force_open:
            self._open_budget = max(0, self._open_budget - len(rows))
            self.open_file(file)
        else:
            self._open_budget = 0  # keep the files in order: no small file opens below a closed one

    def open_file(self, file: str) -> None:
        """Give the file's node its tests (once) and expand it."""
        node, _ = self.file_nodes[file]
        if not node.children:
            self._fill(file)
        if not node.is_expanded:  # expand() always posts NodeExpanded, which comes back here
            node.expand()

    def _fill(self, file: str) -> None:
        """Give the file's tests their leaves in order, reusing the leaves it has (a new order only
        relabels them: no node is added or removed, so the tree keeps its layout)."""
        node, rows = self.file_nodes[file]
        leaves = list(node.children)
        for leaf in leaves:
            self.leaves.pop(leaf.data, None)
        for leaf, row in zip(leaves, rows, strict=False):  # the lengths differ when tests were added
            leaf.data = row.nodeid
            self._relabel(leaf, self._test_label(row))
            self.leaves[row.nodeid] = leaf
        for row in rows[len(leaves):]:
            self.leaves[row.nodeid] = node.add_leaf(self._test_label(row), data=row.nodeid)
        for leaf in leaves[len(rows):]:
            leaf.remove()

    # ----- labels

    def relabel_tests(self, rows: list[TestRow]) -> None:
        """Redraw the labels of these tests and of their files."""
        files = set()
        for row in rows:
            leaf = self.leaves.get(row.nodeid)
            if leaf is not None:
                self._relabel(leaf, self._test_label(row))
            files.add(row.file)
        for file in files & self.file_nodes.keys():
            node, file_rows = self.file_nodes[file]
            self._relabel(node, self._file_label(file, file_rows))

    @staticmethod
    def _relabel(node: TreeNode[str], label: Text) -> None:
        if node.label != label:  # an unchanged label costs no repaint
            node.set_label(label)

    def first_failure(self) -> TreeNode[str] | None:
        """The leaf of the first failing test (failures sort first), opening its file if needed."""
        file, (_, rows) = next(iter(self.file_nodes.items()), (None, (None, [])))
        if not rows or rows[0].rank != 0:
            return None
        self.open_file(file)
        return self.leaves[rows[0].nodeid]

    def _file_label(self, file: str, rows: list[TestRow]) -> Text:
        bad = sum(row.rank == 0 for row in rows) if self.failing_in is None else self.failing_in(file)
        counts = Text(f"  {len(rows)}", style="dim")
        if bad:
            counts.append(f"  {bad} failing", style="red")
        room = None
        if self.label_width is not None:
            room = self.label_width - len(self.ICON_NODE) - counts.cell_len
        return self._fit(literal(file, style="bold"), room) + counts

    def _test_label(self, row: TestRow) -> Text:
        label = status_symbol(row.status)
        label.append(" ")
        duration = Text()
        if row.result is not None:
            duration.append(f"  {format_duration(row.result.duration_s)}", style="dim")
        room = None
        if self.label_width is not None:
            room = self.label_width - self.guide_depth - label.cell_len - duration.cell_len
        return label + self._fit(literal(row.name), room) + duration

    @staticmethod
    def _fit(name: Text, room: int | None) -> Text:
        """The name cut in the middle to ``room`` cells (never under ``MIN_NAME``), or whole."""
        return name if room is None else shorten_middle(name, max(room, MIN_NAME))
