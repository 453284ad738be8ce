"""The app's contract with its controller: the watch loop and the tests' fake both fulfil
``Controller`` member by member, with the same parameters, so the Pilot tests drive what runs."""

from __future__ import annotations

import inspect

import pytest

from testwatch.config.settings import load_config
from testwatch.run.watch_loop import WatchLoop
from testwatch.tui.controller import Controller

from .conftest import FakeController


def protocol_members() -> dict[str, object]:
    """The methods and properties ``Controller`` declares."""
    return {
        name: member
        for name, member in vars(Controller).items()
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
    }


def test_the_protocol_names_what_the_app_asks():
    assert set(protocol_members()) == {
        "run",
        "request",
        "cancel_run",
        "paused",
        "pause",
        "resume",
        "memray",
        "set_memray",
        "marker_filter",
        "set_marker_filter",
    }


@pytest.mark.parametrize("implementation", [WatchLoop, FakeController])
def test_implementations_fulfil_the_protocol(implementation, project, history):
    controller = implementation(load_config(project), history, lambda event: None)
    assert isinstance(controller, Controller)
    for name, member in protocol_members().items():
        theirs = getattr(controller, name)
        if isinstance(member, property):
            assert isinstance(theirs, bool), f"{implementation.__name__}.{name} is not a bool"
            continue
        assert inspect.iscoroutinefunction(theirs) == inspect.iscoroutinefunction(member), name
        expected = list(inspect.signature(member).parameters)[1:]  # without self
        assert list(inspect.signature(theirs).parameters) == expected, f"{implementation.__name__}.{name}"


def test_a_class_missing_a_member_is_not_a_controller(project, history):
    class NoMarkers(FakeController):
        marker_filter = None

    assert not isinstance(NoMarkers(load_config(project), history, lambda event: None), Controller)
