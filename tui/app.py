"""The testwatch app: composes the panes, routes news to them, and defines the actions keys start."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane, Tree
from textual.worker import Worker, WorkerState

from testwatch.config.settings import Config
from testwatch.history.store import History
from testwatch.model.terminal_text import safe
from testwatch.model.wording import counted
from testwatch.run.watch_loop import WatchLoop
from testwatch.tui import messages
from testwatch.tui.bridge import NewsBridge
from testwatch.tui.commands import TestwatchCommands
from testwatch.tui.controller import Controller, ControllerFactory
from testwatch.tui.controller_thread import ControllerInLoop, ControllerThread, host_controller
from testwatch.tui.editor import editor_argv, failure_location
from testwatch.tui.footer import KeysFooter
from testwatch.tui.heap import AppHeap
from testwatch.tui.help import HelpScreen, widget_keys
from testwatch.tui.history_reads import HistoryReads
from testwatch.tui.lifeline import on_hangup
from testwatch.tui.markers import marker_matcher
from testwatch.tui.notices import notice_for
from testwatch.tui.panes.base import Pane
from testwatch.tui.panes.registry import PANES, tab_id
from testwatch.tui.panes.tests import TestsPane
from testwatch.tui.panes.thresholds import ThresholdsPane
from testwatch.tui.prompt import PromptScreen
from testwatch.tui.state import EVERY_PANE, SessionState
from testwatch.tui.status import StatusLine
from testwatch.tui.verdict import announce_verdict
from testwatch.tui.view_export import default_export_path

Autoplay = Callable[[Callable[[str], None]], Awaitable[None]]
FRAME_S = 1 / 10  # news is drawn at most this often
KEY_FIRST_S = 0.1  # after a key or a click has been drawn, news waits this long (the next key may come),
MAX_NEWS_DELAY_S = 0.5  # but never longer than this after the last batch drawn
# Textual's one-shot timer (set_timer) never fires when its delay has passed before its task looks
# at the clock (its missed-tick skip): a wait shorter than this is no wait; a news batch overdue
# by STALLED_S (a timer lost all the same) is applied by the periodic check.
MIN_WAIT_S = 0.005
STALLED_S = 1.0
CHECK_S = 0.5  # how often the app asks whether a full garbage collection may run (tui/heap.py), and
# whether news is stalled
_INPUT = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)
QUIT_WAIT_S = 10.0
# Actions that need the main screen (not a prompt, the palette or the help).
_MAIN_SCREEN_ACTIONS = {"next_pane", "previous_pane", "show_pane", "filter", "export", "open_editor"}


class TestwatchApp(App[int]):
    """Watches a project through a controller (the watch loop) and shows what it reports."""

    __test__ = False
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it
    TITLE = "testwatch"
    COMMANDS = App.COMMANDS | {TestwatchCommands}
    BINDINGS = [
        Binding("r", "rerun_affected", "Affected"),
        Binding("a", "run_all", "All"),
        Binding("f", "run_failed", "Failed"),
        Binding("slash", "filter", "Filter"),
        Binding("m", "marker_filter", "Marker", show=False),
        # One key, two labels: check_action shows the one that says what p does now.
        Binding("p", "toggle_pause('pause')", "Pause"),
        Binding("p", "toggle_pause('resume')", "Resume"),
        Binding("c", "cancel_run", "Cancel"),
        Binding("M", "toggle_memray", "Memray", show=False),
        Binding("e", "export", "Export", show=False),
        Binding("o", "open_editor", "Open"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("tab", "next_pane", "Next pane", show=False, priority=True),
        Binding("shift+tab", "previous_pane", "Previous pane", show=False, priority=True),
        *(Binding(pane.key, f"show_pane({pane.id!r})", f"Pane {pane.key}", show=False) for pane in PANES),
    ]

    def __init__(
        self, config: Config, history: History, controller_factory: ControllerFactory,
        autoplay: Autoplay | None = None, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            # A sliding tab underline costs some 18 frames per pane switch: keys answer sooner without.
            self.animation_level = "none"
        self.config = config
        self.history = history
        self.controller_factory = controller_factory
        self.autoplay = autoplay
        self.state = SessionState(clock, lambda test_file: (config.root / test_file).is_file())
        self.state.memray = config.memray
        self.bridge = NewsBridge(self)
        self.host: ControllerThread | ControllerInLoop | None = None  # runs the controller
        self._last_apply_s = 0.0
        self._last_input_s = 0.0
        self._apply_scheduled = False
        self.reads = HistoryReads(self, history, self._report)
        self.heap = AppHeap()  # settled once the app has started
        self.panes: list[Pane] = [spec.pane_class.for_session(history, self.state, config) for spec in PANES]

    def compose(self) -> ComposeResult:
        with TabbedContent(id="panes"):
            for spec, pane in zip(PANES, self.panes, strict=True):
                with TabPane(spec.tab_label, id=spec.tab_id):
                    yield pane
        yield StatusLine(id="status")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        for hangup in (signal.SIGHUP, signal.SIGTERM):  # SSH dropped, or asked to stop: quit cleanly
            loop.add_signal_handler(hangup, lambda: self.call_later(self.run_action, "quit"))
        if self.is_web:  # served: quit when the server is gone, even if it could not say so
            on_hangup((0, 1), lambda: loop.call_soon_threadsafe(self.call_later, self.run_action, "quit"))
        self.read_history("outcomes", self.tests_pane, History.last_outcomes, self._outcomes_read)
        self.state.notices += [("warning", warning) for warning in self.history.warnings]
        self.host = host_controller(self._build_controller, self.config, self.history, self.bridge)
        self.run_worker(
            self.host.run(), name="controller", group="controller", exclusive=True,
            exit_on_error=False, description="the watch loop",
        )
        if callable(self.autoplay):
            self.run_worker(
                self.autoplay(lambda text: self.notify(text, markup=False)), name="autoplay",
                group="autoplay", exit_on_error=False, description="the demo autoplay",
            )
        self._draw({EVERY_PANE})
        self.query_one("#tests-tree").focus()
        self.call_after_refresh(self._settle_heap)

    def _build_controller(self, config: Config, history: History, listener: Callable) -> Controller:
        """The controller; the full collection a watch loop runs after each run (from its thread, it
        held the app's loop 0.8 s after 2,000 tests) waits for the app's idle time instead."""
        controller = self.controller_factory(config, history, listener)
        if isinstance(controller, WatchLoop):
            controller.collect_cycles = self.heap.request_deep
        return controller

    def _outcomes_read(self, outcomes: dict[str, str]) -> None:
        """The tests the history knows, with their last outcome, shown until this session runs them."""
        self.state.load_outcomes(outcomes)
        self._draw({EVERY_PANE})

    def _settle_heap(self) -> None:
        self.heap.settle()
        self.set_interval(CHECK_S, self._periodic_checks)

    def _periodic_checks(self) -> None:
        now = time.monotonic()
        if self._apply_scheduled and now - self._last_apply_s > MAX_NEWS_DELAY_S + STALLED_S:
            self.apply_news()  # its timer was lost
        self.heap.collect_when_idle(now - self._last_input_s)

    def on_unmount(self) -> None:
        self.heap.release()

    # ----- news from the controller, one batch per frame

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _INPUT):
            self._last_input_s = time.monotonic()
        await super().on_event(event)
        if isinstance(event, _INPUT) and self.screen_stack:
            # The key's frame may take longer than KEY_FIRST_S to draw: count from when it is drawn.
            self.screen.call_after_refresh(self._input_drawn)

    def _input_drawn(self) -> None:
        self._last_input_s = max(self._last_input_s, time.monotonic())

    def on_news_arrived(self, _: messages.NewsArrived) -> None:
        if not self._apply_scheduled:
            self._apply_when_due()

    def _apply_when_due(self) -> None:
        """Apply the news now, or set a timer for when it is due (checked again then: keys go first)."""
        due_s = max(
            self._last_apply_s + FRAME_S,
            min(self._last_input_s + KEY_FIRST_S, self._last_apply_s + MAX_NEWS_DELAY_S),
        )
        wait_s = due_s - time.monotonic()
        self._apply_scheduled = wait_s >= MIN_WAIT_S
        if self._apply_scheduled:
            self.set_timer(wait_s, self._apply_when_due)
        else:
            self.apply_news()

    def apply_news(self) -> None:
        """Apply everything the bridge holds and redraw the panes it touched."""
        self._apply_scheduled = False
        if not self.is_running:
            return  # the app is closing: its screens are gone, and the news with them
        self._last_apply_s = time.monotonic()
        touched: set[str] = set()
        kinds: set[type] = set()
        for news in self.bridge.drain():
            touched |= self.state.apply(news)
            kinds.add(type(news))
            notice = notice_for(news)
            if notice is not None:
                text, severity = notice
                self.notify(text, severity=severity, markup=False)
        self._draw(touched)
        if kinds & {messages.RunBegan, messages.RunEnded}:
            self.refresh_bindings()
            if self.state.verdict_flipped:
                self.state.verdict_flipped = False
                announce_verdict(self.config.notify, bool(self.state.green), self.bell)

    def _draw(self, touched: set[str]) -> None:
        # NoMatches: news that arrives while the app is closing finds the panes' widgets gone.
        with contextlib.suppress(NoMatches), self.batch_update():
            for pane in self.panes:
                if pane.NAME in touched or EVERY_PANE in touched:
                    pane.refresh_from(self.state)
            self.reads.reload_if_stale(self.active_pane)
            self.query_one(StatusLine).show(self.state)
        self.state.changed.clear()
        self.state.structure_changed = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._report(f"{event.worker.description} stopped: {event.worker.error!r}")

    def _report(self, message: str) -> None:
        """An error of the app's own: a notification and a line in the log pane."""
        self.state.notices.append(("error", message))
        self.notify(safe(message), severity="error", markup=False)
        self._draw({"log"})

    @property
    def controller(self) -> Controller | None:
        """The controller, once built (in its own thread, it is built there, soon after the start)."""
        return self.host.controller if self.host is not None else None

    # ----- panes

    @property
    def active_pane(self) -> Pane:
        active = self.query_one(TabbedContent).active
        return next(pane for pane in self.panes if tab_id(pane.NAME) == active)

    @property
    def tests_pane(self) -> TestsPane:
        return self.panes[0]

    @on(Tree.NodeHighlighted)
    def _test_highlighted(self) -> None:
        if self.screen_stack:  # else the app is closing
            self.refresh_bindings()  # "o" applies to failures only

    @on(TabbedContent.TabActivated)
    def _pane_shown(self, event: TabbedContent.TabActivated) -> None:
        if not self.screen_stack:
            return  # the app is closing
        shown = next((pane for pane in self.panes if tab_id(pane.NAME) == event.pane.id), None)
        if shown is not None:
            shown.catch_up()
            self.reads.reload_if_stale(shown)
        self.refresh_bindings()

    def read_history(self, kind: str, pane: Pane, read: Callable[[History], object], show: Callable) -> None:
        """``show(read(history))`` for ``pane``, the read off the app's loop (``HistoryReads.start``)."""
        self.reads.start(kind, pane, read, show)

    def action_show_pane(self, pane_id: str) -> None:
        pane = next(pane for pane in self.panes if pane_id == pane.NAME)
        if pane is not self.active_pane:
            pane.catch_up()  # before the switch, so the new pane is laid out and drawn once
            self.query_one(TabbedContent).active = tab_id(pane.NAME)
        # At once, not with Widget.focus (after the queued messages): a key pressed right after the
        # switch must land, the focus must not linger in the pane just hidden (its tab would come
        # back), and one change of focus restyles the screen once (set_focus(None) first drew a frame
        # of the old pane).
        self.screen.set_focus(pane.main_widget)

    def action_next_pane(self) -> None:
        self._show_pane_after(1)

    def action_previous_pane(self) -> None:
        self._show_pane_after(-1)

    def _show_pane_after(self, step: int) -> None:
        index = (self.panes.index(self.active_pane) + step) % len(self.panes)
        self.action_show_pane(self.panes[index].NAME)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _MAIN_SCREEN_ACTIONS and len(self.screen_stack) > 1:
            return False
        if action == "toggle_pause":
            return parameters == (("resume",) if self.state.paused else ("pause",))
        if action == "cancel_run":
            return self.state.running
        if action == "run_failed":
            return self.state.failing > 0
        if action == "open_editor":
            row = self.tests_pane.selected_row
            failure = row is not None and row.rank == 0 and row.result is not None
            return failure and self.active_pane is self.tests_pane
        return True

    # ----- runs

    def action_rerun_affected(self) -> None:
        self.host.call("request", "affected")

    def action_run_all(self) -> None:
        self.host.call("request", "all")

    def action_run_failed(self) -> None:
        self.host.call("request", "failed")

    def action_run_selected(self) -> None:
        row = self.tests_pane.selected_row
        if row is not None:
            self.host.call("request", "tests", [row.nodeid])

    @on(TestsPane.RunTests)
    def _run_tests(self, event: TestsPane.RunTests) -> None:
        self.host.call("request", "tests", event.nodeids)

    @on(ThresholdsPane.ShowTest)
    def _show_test(self, event: ThresholdsPane.ShowTest) -> None:
        self.action_show_pane(TestsPane.NAME)
        self.tests_pane.show_test(event.nodeid)

    def action_cancel_run(self) -> None:
        self.host.call("cancel_run")

    def action_toggle_pause(self, _label: str = "") -> None:
        """Pause or resume, whichever the footer shows (``_label``)."""
        self.state.paused = not self.state.paused
        self.host.call("pause" if self.state.paused else "resume")
        self._draw(set())
        self.refresh_bindings()

    def action_toggle_memray(self) -> None:
        self.state.memray = not self.state.memray  # the app's word, whether the controller is ready yet
        self.host.call("set_memray", self.state.memray)
        self.notify(f"memray {'on' if self.state.memray else 'off'} from the next run")

    # ----- filters, export, editor, help, quit

    def action_filter(self) -> None:
        self.action_show_pane(TestsPane.NAME)
        self.tests_pane.open_filter()

    @work(exclusive=True, group="prompt")
    async def action_marker_filter(self) -> None:
        current = self.state.marker_filter
        expression = await self.push_screen_wait(
            PromptScreen("Run and show only tests matching a marker expression (pytest -m):", current,
                         "e.g. slow and not db; empty for every test")
        )
        if expression is None:
            return
        expression = expression.strip()
        try:
            matcher = marker_matcher(expression) if expression else None
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.host.call("set_marker_filter", expression)
        self.state.marker_filter = expression
        self.tests_pane.set_marker_filter(matcher)
        self.notify(f"marker filter: {expression or 'off'}", markup=False)

    @work(exclusive=True, group="prompt")
    async def action_export(self) -> None:
        pane = self.active_pane
        headers, rows = pane.export_table()
        default = default_export_path(self.config.history_path, pane.NAME)
        answer = await self.push_screen_wait(PromptScreen(f"Export the {pane.TITLE} table to:", str(default)))
        if not answer:
            return
        path = Path(answer).expanduser()
        path = path if path.is_absolute() else self.config.root / path
        from testwatch.history.export import write_rows_csv  # 16 ms of imports the start-up does not need

        try:  # in a thread: a big table takes a while to encode and write
            count = await asyncio.to_thread(write_rows_csv, path, headers, rows)
        except OSError as exc:
            self.notify(f"cannot write {path}: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.notify(f"wrote {counted(count, 'row')} to {path}", markup=False)

    def action_open_editor(self) -> None:
        row = self.tests_pane.selected_row
        if row is None:
            return
        path, line = failure_location(row, self.config.root)
        argv = editor_argv(os.environ.get("VISUAL") or os.environ.get("EDITOR"), path, line)
        try:
            with self.suspend():
                subprocess.run(argv, cwd=self.config.root, check=False)
        except OSError as exc:
            self.notify(f"cannot start the editor {argv[0]!r}: {exc.strerror or exc}", severity="error",
                        markup=False)
        except Exception as exc:  # SuspendNotSupported, e.g. in a browser
            self.notify(f"cannot open an editor here ({type(exc).__name__})", severity="warning")

    def action_help(self) -> None:
        """The keys: the app's by what they do, then those of the widget that has the focus."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        focused = self.focused
        own = [
            (self.get_key_display(binding), binding)
            for namespace, binding, _, _ in self.screen.active_bindings.values()
            if namespace is focused and focused is not None
        ]
        self.push_screen(HelpScreen(_widget_kind(focused), widget_keys(own)))

    async def action_quit(self) -> None:
        """Cancel the run and the watch loop, wait until the pytest child is gone, and leave."""
        if self.host is not None:
            self.host.call("cancel_run")
            self.host.stop()
        stopping = [w for group in ("controller", "autoplay") for w in self.workers.cancel_group(self, group)]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(worker.wait() for worker in stopping), return_exceptions=True), QUIT_WAIT_S
            )
        self.exit(0)


def _widget_kind(widget: Widget | None) -> str:
    """What the user would call the focused widget: "tree", "data table" (its Textual class)."""
    for cls in type(widget).__mro__:
        if cls.__module__.startswith("textual.widgets"):
            return "".join(f" {c.lower()}" if c.isupper() else c for c in cls.__name__).strip()
    return "view"


def make_app(
    config: Config, history: History, controller_factory: ControllerFactory,
    autoplay: Autoplay | None = None, clock: Callable[[], float] = time.monotonic,
) -> TestwatchApp:
    """The app on a project; the CLI, the tests and the screenshots all build it here."""
    return TestwatchApp(config, history, controller_factory, autoplay=autoplay, clock=clock)


def run_tui(config: Config, history: History, autoplay: Autoplay | None = None) -> int:
    """Open the app in this terminal until the user quits; returns the exit status."""
    app = make_app(config, history, WatchLoop, autoplay=autoplay)
    try:
        app.run()
    finally:
        history.close()
    return app.return_code or 0
