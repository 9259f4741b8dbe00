"""Every place crewdash relies on Textual's private parts, in one module. Each is checked by
tests/tui/test_textual_compat.py against the installed Textual, so an upgrade that changes one
fails loudly there instead of silently here.

- `CrashReporting`: Textual 8 handles an unhandled exception in `App._handle_exception` (exit
  code 1, the exception kept for the test harness) and prints the traceback to the terminal
  in `App._print_error_renderables` after restoring it. crewdash writes a crash report
  instead and prints one line (`crewdash.tui.crash`).
- `write_to_terminal`: Textual has no public way to write an escape sequence; `bell()` and
  `copy_to_clipboard()` use the driver the same way.
- `prune_footer_watchers`: Footer's per-key watchers outlive the keys (see the function).
- `guard_option_list_paging`: Textual 8.2's `OptionList._move_page` reads the line of the
  highlighted option before the list has laid its lines out: PageUp/PageDown in the command
  palette (or the crew list) as it opens raised KeyError and ended the app (found by the
  random-key soak). Until the lines exist there is nothing to page through.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App

from crewdash.tui.crash import write_crash_report

if TYPE_CHECKING:
    from textual.screen import Screen

ReturnType = TypeVar("ReturnType")

HOOKED = ("_handle_exception", "_print_error_renderables", "_driver", "OptionList._move_page")


class CrashReporting(App[ReturnType]):
    """An App whose unhandled exception becomes a crash report and a non-zero exit."""

    #: where crash reports go (the data directory); None: the temp dir
    crash_dir: Path | None = None
    #: the report of this run's crash, once written
    crash_report: Path | None = None

    def _handle_exception(self, error: Exception) -> None:
        if self.crash_report is None:
            # on failure Textual's own traceback is the only report: it prints
            with contextlib.suppress(OSError):
                self.crash_report = write_crash_report(self.crash_dir, error)
        super()._handle_exception(error)

    def _print_error_renderables(self) -> None:
        if self.crash_report is None:
            super()._print_error_renderables()
        # else: the report holds the traceback; the command prints where it is


def write_to_terminal(app: App[Any], data: str) -> None:
    driver = getattr(app, "_driver", None)
    if driver is not None and not app.is_headless:
        driver.write(data)


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
            for entries in getattr(footer, "__watchers", {}).values():
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

    guarded.crewdash_guard = True  # type: ignore[attr-defined]
    guarded.original = move_page  # type: ignore[attr-defined]
    OptionList._move_page = guarded  # type: ignore[method-assign]
