"""Private parts of Textual's stock widgets (Footer, OptionList, TextArea) crewdash relies on."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.widgets import Footer, OptionList

# TextArea is imported only by the screens that use it (its import costs start-up): until one
# has, no TextArea can have the focus. Textual's public `textual.widgets` loads it lazily from
# this private module.
TEXT_AREA_MODULE = "textual.widgets._text_area"


def loaded_text_area_type() -> type[Any] | None:
    """TextArea's class if something imported it already, else None (without importing it)."""
    module = sys.modules.get(TEXT_AREA_MODULE)
    if module is None:
        return None
    text_area: type[Any] = module.TextArea
    return text_area


def footer_bindings_ready(footer: Footer) -> bool:
    """Whether the Footer has composed its keys once (Textual's private reactive)."""
    return bool(footer._bindings_ready)


def mark_footer_bindings_ready(footer: Footer) -> None:
    """Let the Footer compose its keys now. Textual's Footer shows none until the screen first
    publishes its bindings, then recomposes after the next refresh: its keys arrive two
    frames after the first paint (~90 ms measured on a pty)."""
    from textual.widgets import Footer

    footer.set_reactive(Footer._bindings_ready, True)


def prune_footer_watchers(screens: list[Screen[Any]]) -> None:
    """Drop the Footer's watchers whose key widget has left the DOM.

    Textual 8's Footer recomposes on every focus change; each new FooterKey binds to the
    Footer's `compact` and the binding outlives the key. `watch()` scans that list, so
    every focus change got slower: measured on a pty, `/` then Esc 60 times took the
    filter's appearance from ~30 to ~300 ms and RSS up 0.5 MB per round trip."""
    from textual.dom import DOMNode
    from textual.widgets import Footer

    for screen in screens:
        for footer in screen.query(Footer):
            # name-mangled in Textual (`DOMNode.__watchers` set by `watch`): getattr it is
            watchers: dict[str, list[tuple[Any, Any]]] = getattr(footer, "__watchers", {})
            for entries in watchers.values():
                entries[:] = [
                    (node, callback)
                    for node, callback in entries
                    if not isinstance(node, DOMNode) or node.is_attached
                ]


def guard_option_list_paging() -> None:
    """Make PageUp/PageDown of every OptionList do nothing until its lines are laid out
    (idempotent)."""
    from textual.widgets import OptionList

    move_page = OptionList._move_page
    if getattr(move_page, "crewdash_guard", False):
        return

    def guarded(self: OptionList, direction: Any) -> None:
        if (self.highlighted or 0) not in self._index_to_line:
            return  # not laid out yet: nothing to page through
        move_page(self, direction)

    guarded.crewdash_guard = True  # type: ignore[attr-defined]  # marks the wrapper: idempotent
    guarded.original = move_page  # type: ignore[attr-defined]  # the test reads Textual's own
    OptionList._move_page = guarded  # type: ignore[method-assign]  # the patch itself
