"""The footer: Textual's, recomposed only when keys it has never shown appear.

Textual's ``Footer`` removes and mounts all its keys whenever bindings are refreshed, which happens
on every focus move and pane switch; that recompose (and the relayout it causes) cost more than the
pane switch itself, though the keys shown rarely change. A key that comes and goes (``o`` on a
failure, ``c`` while running) is hidden and shown again in place once it has been composed.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """A ``Footer`` that skips the recompose when the shown keys and their states are unchanged."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None
        self._composed: tuple = ()  # the keys the footer's widgets were composed for

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)  # after the refresh, as Footer does

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return  # the app is closing
        shown = _shown_keys(self.screen)
        if shown == self._shown:
            return
        self._shown = shown
        if not self._show_only(shown):
            self._composed = shown
            await self.recompose()

    def _show_only(self, shown: tuple) -> bool:
        """Hide the composed keys not in ``shown``, if ``shown`` is among them in the same order."""
        composed = iter(self._composed)
        if not all(key in composed for key in shown):  # consumes ``composed``: an in-order check
            return False
        visible = {(key, action) for key, _, action, _, _ in shown}
        for footer_key in self.query("FooterKey"):  # Textual exports the type only privately
            footer_key.display = (footer_key.key, footer_key.action) in visible
        return True


def _shown_keys(screen: Screen) -> tuple:
    """What the footer would show: every shown binding's key, label, action, state and tooltip."""
    return tuple(
        (binding.key, binding.description, binding.action, enabled, tooltip)
        for _, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show or binding.action == "command_palette"
    )
