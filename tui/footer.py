"""The footer: Textual's, recomposed only when the keys it shows change.

Textual's ``Footer`` removes and mounts all its keys whenever bindings are refreshed, which happens
on every focus move and pane switch; that recompose (and the relayout it causes) cost more than the
pane switch itself, though the keys shown rarely change.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """A ``Footer`` that skips the recompose when the shown keys and their states are unchanged."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)  # after the refresh, as Footer does

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return  # the app is closing
        shown = _shown_keys(self.screen)
        if shown != self._shown:
            self._shown = shown
            await self.recompose()


def _shown_keys(screen: Screen) -> tuple:
    """What the footer would show: every shown binding's key, label, action, state and tooltip."""
    return tuple(
        (binding.key, binding.description, binding.action, enabled, tooltip)
        for _, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show or binding.action == "command_palette"
    )
