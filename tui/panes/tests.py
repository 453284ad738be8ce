"""The tests pane: every test grouped by file with its status, failures first, and the details of
the highlighted test (traceback, captured output, why it was selected).

Below ``NARROW_COLUMNS`` the details go under the tree, full width, so the failing assertion shows with
no key pressed; ``d`` gives the details the whole screen and Escape gives it back. The details' head
(the test's whole name, its status and headline) wraps; tracebacks and captured output never wrap:
they scroll sideways (Left and Right)."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, ProgressBar, Static, TabbedContent, Tree

from testwatch.config.units import format_duration
from testwatch.model.failure_text import headline
from testwatch.model.results import nodeid_file
from testwatch.model.terminal_text import one_line
from testwatch.model.wording import counted
from testwatch.tui.outcomes import status_text
from testwatch.tui.panes.base import Pane
from testwatch.tui.panes.tests_tree import TestsTree
from testwatch.tui.state import SessionState, TestRow
from testwatch.tui.text import literal

NARROW_COLUMNS = 100  # below this the details go under the tree instead of beside it
SIDEWAYS_STEP = 8  # columns the details scroll per Left or Right


class DetailsScroll(ScrollableContainer):
    """The details' scroll view, both ways; ``d`` may give it the whole screen."""

    ALLOW_MAXIMIZE = True


class TestsPane(Pane):
    """Tree of files and tests; ``/`` filters by name or file as you type."""

    __test__ = False
    NAME = "tests"
    TITLE = "Tests"
    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("d", "zoom_details", "Details", show=False),  # said in the details; the footer keeps app keys
        Binding("left", "scroll_details(-1)", "Scroll details left", show=False),
        Binding("right", "scroll_details(1)", "Scroll details right", show=False),
    ]

    class RunTests(Message):
        """The user asked to run these tests (Enter on a test)."""

        __test__ = False

        def __init__(self, nodeids: list[str]) -> None:
            super().__init__()
            self.nodeids = nodeids

    def __init__(self, history, state) -> None:
        super().__init__(history, state)
        self.name_filter = ""
        self.marker_filter = None  # a callable(markers) -> bool, or None
        self._changed: set[str] = set()  # tests changed since last drawn (while hidden, say)
        self._restructure = False
        self._filters_changed = False
        self._run_ended: object | None = None  # the last RunFinished drawn
        self._detail_of: str | None = None  # the test whose details are drawn
        self._shapes: dict[str | None, tuple | None] = {}  # the details' widgets: the shape of their text

    def compose(self) -> ComposeResult:
        with Horizontal(id="run-progress"):
            yield Static(id="counts")
            yield ProgressBar(id="progress", show_eta=False)
        yield Input(placeholder="filter by test name or file", id="filter", classes="hidden")
        with Horizontal(id="tests-split"):
            yield TestsTree(id="tests-tree")
            with DetailsScroll(id="detail-scroll"):
                yield Static(id="detail", markup=False)
                yield Static(id="detail-body", markup=False)

    def on_mount(self) -> None:
        self.refresh_from(self.state)
        self.watch(self.screen, "maximized", self._zoom_changed, init=False)
        tabs = next(widget for widget in self.ancestors if isinstance(widget, TabbedContent))
        self.watch(tabs, "active", self._tab_changed, init=False)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW_COLUMNS, "-narrow")

    # ----- drawing

    def refresh_from(self, state: SessionState) -> None:
        """Note what changed; draw it now if the pane shows, else when it is next shown."""
        self._changed |= state.changed
        self._restructure = self._restructure or state.structure_changed
        if self.shown:
            self.catch_up()

    def catch_up(self) -> None:
        changed, self._changed = self._changed, set()
        tree = self.query_one(TestsTree)
        if self._restructure or self._filters_changed:
            self._restructure = False
            self._restructure_tree(tree)
        tree.relabel_tests([self.state.tests[nodeid] for nodeid in changed if nodeid in self.state.tests])
        self._draw_progress(self.state)
        if self._detail_of in changed:
            self._detail_of = None  # its test has news: draw it again
        self.call_after_refresh(self._follow_cursor)  # after the cursor's own move (scheduled above)

    def _follow_cursor(self) -> None:
        """Show the details of the test under the cursor, if they are not what is shown."""
        node = self.query_one(TestsTree).cursor_node
        nodeid = node.data if node is not None and node.data in self.state.tests else None
        if nodeid != self._detail_of:
            self.show_detail(nodeid)

    def rebuild(self) -> None:
        """Build the tree again from the state, applying the filters; keeps the cursor on its test."""
        self._filters_changed = True
        self.catch_up()

    def _restructure_tree(self, tree: TestsTree) -> None:
        """New tests, a new order or new filters: change the tree (node by node where it can).

        When a run has just ended with failures, the cursor goes to the first failure; else it stays on
        its test (nothing chosen yet: the first test).
        """
        chosen = tree.cursor_node.data if tree.cursor_node is not None else None
        filtered = bool(self.name_filter or self.marker_filter)
        tree.failing_in = None if filtered else self.state.failing_in
        groups = self.state.files(self._keep if filtered else None)
        if self._filters_changed or not tree.update_groups(groups):
            self._filters_changed = False
            tree.show_groups(groups, keep_open=nodeid_file(chosen or ""))
        run = self.state.run
        ended = run.finished if run is not None else None
        target = None
        if ended is not None and ended is not self._run_ended:
            self._run_ended = ended
            target = tree.first_failure()
        on_file = tree.file_nodes[chosen][0] if chosen in tree.file_nodes else None  # on a file's line
        target = target or tree.leaves.get(chosen) or on_file or next(iter(tree.leaves.values()), None)
        if target is None:
            return
        if target is not tree.cursor_node:
            # New nodes get their line when the tree next lays out, so the cursor moves after the refresh.
            self.call_after_refresh(tree.move_cursor, target)
        elif target.data != chosen:  # the cursor's leaf was given another test (a new order)
            tree.post_message(Tree.NodeHighlighted(target))

    def _keep(self, row: TestRow) -> bool:
        needle = self.name_filter.lower()
        if needle and needle not in row.nodeid.lower():
            return False
        return self.marker_filter is None or self.marker_filter(row.markers)

    @on(Tree.NodeExpanded)
    def _file_opened(self, event: Tree.NodeExpanded) -> None:
        tree = self.query_one(TestsTree)
        if event.node.data in tree.file_nodes:
            tree.open_file(event.node.data)

    def _draw_progress(self, state: SessionState) -> None:
        run = state.run
        counts = self.query_one("#counts", Static)
        bar = self.query_one(ProgressBar)
        # An empty bar would pulse (animate) forever; a finished run's counts take the whole line.
        bar.display = run is not None and run.finished is None
        if run is None:
            known = Text(f"{counted(len(state.tests), 'test')} known; no run yet", style="dim")
            counts.update(known, layout=False)
            return
        parts = [f"{run.done}/{run.total if run.total is not None else '?'}"]
        parts += [f"{n} {outcome}" for outcome, n in sorted(run.counts.items()) if n]
        if run.finished is not None:
            parts.append(f"in {format_duration(run.finished.duration_s)}")
            if run.finished.cancelled:
                parts.append("cancelled")
        counts.update(Text("  ".join(parts)), layout=False)  # fixed size in app.tcss: no relayout per frame
        bar.update(total=run.total or max(run.done, 1), progress=run.done)

    def show_detail(self, nodeid: str | None) -> None:
        """Show the test's traceback, output and selection reason in the detail view."""
        row = self.state.tests.get(nodeid) if nodeid else None
        self._detail_of = row.nodeid if row else None
        head = _detail_head(row) if row else Text("Choose a test to see its details.", style="dim")
        body = _detail_body(row) if row else Text()
        detail = self.query_one("#detail", Static)
        width = detail.content_region.width
        shape = None
        if width:  # its height as Static wraps it
            content = Content.from_rich_text(head, console=self.app.console)
            shape = (width, content.get_height(detail.styles, width))
        self._set_text(detail, head, shape)
        lines = body.split(allow_blank=True)  # never wrapped: its width is its longest line's
        shape = (len(lines), max(line.cell_len for line in lines))
        self._set_text(self.query_one("#detail-body", Static), body, shape)
        self.query_one("#detail-scroll").scroll_to(x=0, y=0, animate=False)

    def _set_text(self, static: Static, text: Text, shape: tuple | None) -> None:
        """Update ``static``; lay the screen out again only if the text's ``shape`` (its lines, their
        width) changed: moving the cursor between two passing tests then repaints, no more."""
        static.update(text, layout=shape is None or shape != self._shapes.get(static.id))
        self._shapes[static.id] = shape

    def action_zoom_details(self) -> None:
        """Give the details the whole screen (Escape gives it back); there, arrow keys scroll them."""
        details = self.query_one("#detail-scroll")
        self.screen.maximize(details, container=False)
        details.focus()

    def _zoom_changed(self, maximized) -> None:
        # Back to the tree when the details are given back here (not when another pane took the screen).
        if maximized is None and self.shown and self.screen.focused is self.query_one("#detail-scroll"):
            self.query_one(TestsTree).focus()

    def _tab_changed(self, _: str) -> None:
        if self.screen.maximized is self.query_one("#detail-scroll"):
            self.screen.minimize()  # another pane is shown: the details must not stay over it

    def action_scroll_details(self, direction: int) -> None:
        details = self.query_one("#detail-scroll")
        details.scroll_to(x=details.scroll_x + direction * SIDEWAYS_STEP, animate=False)

    # ----- what the user does

    @property
    def selected_row(self) -> TestRow | None:
        node = self.query_one(TestsTree).cursor_node
        return self.state.tests.get(node.data) if node is not None and node.data else None

    def show_test(self, nodeid: str) -> None:
        """Put the cursor on a test, clearing the filters if they hide it."""
        tree = self.query_one(TestsTree)
        if nodeid_file(nodeid) not in tree.file_nodes:
            self.name_filter, self.marker_filter = "", None
            self.query_one("#filter", Input).value = ""
            self.rebuild()
        if nodeid_file(nodeid) in tree.file_nodes:
            tree.open_file(nodeid_file(nodeid))
        if nodeid in tree.leaves:
            self.call_after_refresh(tree.move_cursor, tree.leaves[nodeid])
        tree.focus()

    def open_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.remove_class("hidden")
        self.call_after_refresh(field.focus)  # a widget can take focus once it is displayed

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.value = ""
        field.add_class("hidden")
        self.query_one(Tree).focus()

    def set_marker_filter(self, matches) -> None:
        self.marker_filter = matches
        self.rebuild()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.name_filter = event.value
        self.rebuild()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(Tree).focus()

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        self.show_detail(data if data in self.state.tests else None)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected) -> None:
        if event.node.data in self.state.tests:
            self.post_message(self.RunTests([event.node.data]))

    def export_table(self) -> tuple[list[str], list[list[object]]]:
        rows = [
            [row.file, row.name, row.status, row.result.duration_s if row.result else None, row.reason]
            for _, file_rows in self.state.files() for row in file_rows
        ]
        return ["file", "test", "status", "duration_s", "reason"], rows


def _detail_head(row: TestRow) -> Text:
    """The test's whole name, status, the headline of its failure, and why it ran (wrapped)."""
    text = literal(row.nodeid, style="bold")
    text.append("\n")
    text.append_text(status_text(row.status))
    result = row.result
    if result is not None:
        text.append(f"  {format_duration(result.duration_s)}", style="dim")
        error = headline(result.longrepr)
        if error:
            text.append("\n")
            text.append_text(literal(error, style="bold red"))
    if row.reason:
        text.append("\nselected because: ", style="dim")
        text.append_text(literal(row.reason))
    if row.markers:
        text.append("\nmarkers: ", style="dim")
        text.append_text(literal(", ".join(row.markers)))
    return text


def _detail_body(row: TestRow) -> Text:
    """The traceback and the captured output, line for line (never wrapped: they scroll sideways)."""
    text = Text(no_wrap=True, overflow="ignore")
    result = row.result
    if result is None:
        return text
    hint = "  ← → scroll sideways, d: whole screen"
    # A failure's sections as pytest titles them ("Captured stdout call"); a result read back from
    # the history keeps each stream's output joined.
    captured = result.sections or [
        ("captured stdout", result.stdout), ("captured stderr", result.stderr), ("captured log", result.log),
    ]
    for title, body in [("traceback", result.longrepr), *captured]:
        if body:
            text.append(f"\n── {one_line(title)} ──", style="bold dim")  # plain text, never markup
            if hint:  # the first block says how to see it all
                text.append(hint, style="dim")
                hint = ""
            text.append("\n")
            text.append_text(literal(body.rstrip("\n")))
            text.append("\n")
    return text
