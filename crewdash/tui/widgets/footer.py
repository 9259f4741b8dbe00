"""A Footer that rebuilds its keys only when the keys it shows change.

Textual's Footer recomposes (removes and mounts every key widget) whenever the screen's active
bindings change, which is on every focus change, even when the keys it shows stay the same:
moving between the form's fields, say, changes only hidden bindings. Each rebuild costs a
frame's worth of work and leaves ~1,500 objects in reference cycles for the garbage collector
(see gc_pacer.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.widgets import Footer

from crewdash.tui.textual_compat.widgets import footer_bindings_ready, mark_footer_bindings_ready

if TYPE_CHECKING:
    from textual.screen import Screen


def shown_keys(screen: Screen[Any], palette_key: str | None) -> tuple[Any, ...]:
    """Everything Footer.compose reads from the bindings, for the keys it would show."""
    active = screen.active_bindings
    shown = tuple(
        (
            binding.key,
            binding.action,
            binding.description,
            binding.key_display,
            binding.group,
            enabled,
            tooltip,
        )
        for _node, binding, enabled, tooltip in active.values()
        if binding.show
    )
    palette = active.get(palette_key) if palette_key is not None else None
    if palette is not None:
        _node, binding, enabled, tooltip = palette
        return (*shown, ("palette", binding.key, binding.description, enabled, tooltip))
    return shown


class QuietFooter(Footer):
    """`Footer`, minus the rebuilds that would show the same keys again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[Any, ...] | None = None
        self.rebuilds = 0  # tests read it

    def compose(self) -> ComposeResult:
        """The keys in the screen's first frame (see `mark_footer_bindings_ready`): the
        bindings known at mount are the screen's and the app's, which is what it shows."""
        if not footer_bindings_ready(self):
            mark_footer_bindings_ready(self)
            palette = self.app.COMMAND_PALETTE_BINDING if self.show_command_palette else None
            self._shown = shown_keys(self.screen, palette)
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            super().bindings_changed(screen)  # Textual's own rules for these cases
            return
        palette = self.app.COMMAND_PALETTE_BINDING if self.show_command_palette else None
        shown = shown_keys(screen, palette)
        if shown == self._shown and footer_bindings_ready(self):
            return
        self._shown = shown
        self.rebuilds += 1
        super().bindings_changed(screen)
