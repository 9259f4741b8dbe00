"""Every place crewdash relies on Textual's private parts, in one package. Each is checked by
tests/tui/test_textual_compat.py against the installed Textual (pinned to the tested minor in
pyproject.toml), so an upgrade that changes one fails loudly there; nothing here falls back.

- `CrashReporting` (app.py): Textual 8 handles an unhandled exception in
  `App._handle_exception` (exit code 1, the exception kept for the test harness) and prints
  the traceback in `App._print_error_renderables` after restoring the terminal. crewdash
  writes a crash report instead and prints one line (`crewdash.tui.crash`).
- `write_to_terminal` (app.py): Textual has no public way to write an escape sequence;
  `bell()` and `copy_to_clipboard()` use the driver the same way.
- `prune_footer_watchers` (widgets.py): Footer's per-key watchers outlive the keys.
- `footer_bindings_ready` (widgets.py): whether the Footer composed its keys (QuietFooter);
  `mark_footer_bindings_ready`: let it compose them in the first frame.
- `guard_option_list_paging` (widgets.py): Textual 8.2's `OptionList._move_page` reads the
  line of the highlighted option before the list has laid its lines out: PageUp/PageDown in
  the command palette (or the crew list) as it opens raised KeyError and ended the app (found
  by the random-key soak). Until the lines exist there is nothing to page through.
- `loaded_text_area_type` (widgets.py): TextArea's class from its private module, without
  importing it.
- `crop_partial_updates` (updates.py): Textual 8.2 writes a changed span of a line from the
  left edge of the widget it is in (`ChopsUpdate.render_segments`), and renders for it every
  widget whose container meets it (`Compositor._get_renders`); a clock ticking far into the
  runs table rewrote every row on screen up to its clock each second, and rendered the
  footer, header and crew pane. Both patched for partial updates: the span only, the
  widgets shown only.
- `TargetedDataTable` (data_table.py, imported from there): DataTable's render caches, row
  index and focus handling, rewritten so a frame costs what changed (the runs table); with
  row_cursor_table.py and plain_cells.py.
"""

from __future__ import annotations

from crewdash.tui.textual_compat.app import CrashReporting, write_to_terminal
from crewdash.tui.textual_compat.updates import crop_partial_updates
from crewdash.tui.textual_compat.widgets import (
    TEXT_AREA_MODULE,
    footer_bindings_ready,
    guard_option_list_paging,
    loaded_text_area_type,
    mark_footer_bindings_ready,
    prune_footer_watchers,
)

HOOKED = (
    "_handle_exception",
    "_print_error_renderables",
    "_driver",
    "OptionList._move_page",
    "OptionList._index_to_line",
    "Footer._bindings_ready",
    "DOMNode.__watchers",
    TEXT_AREA_MODULE,
    "ChopsUpdate.render_segments",
    # and data_table.DATA_TABLE_INTERNALS (that module loads with the runs table, not here:
    # DataTable's import would cost the app's start-up)
)

__all__ = [
    "HOOKED",
    "TEXT_AREA_MODULE",
    "CrashReporting",
    "crop_partial_updates",
    "footer_bindings_ready",
    "guard_option_list_paging",
    "loaded_text_area_type",
    "mark_footer_bindings_ready",
    "prune_footer_watchers",
    "write_to_terminal",
]
