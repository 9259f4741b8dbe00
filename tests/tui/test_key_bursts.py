"""Keys that arrive in one burst (a paste, a fast typist, tmux send-keys) behind a key that
moves the focus go where the focus went, not to the widget it left."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Input

from tests.tui.test_app_shell import dashboard, form_ready, make_run


def burst(app: object, keys: str) -> None:
    """Queue every key at once, as the terminal driver does with a burst of input."""
    for key in keys:
        name = "slash" if key == "/" else key
        app.post_message(events.Key(name, key))  # type: ignore[attr-defined]


async def test_letters_right_after_n_land_in_the_forms_first_field(tmp_path: Path) -> None:
    async with dashboard(tmp_path) as (pilot, app):
        await form_ready(pilot, app)
        app.main_screen.set_focus(app.main_screen.runs)
        await pilot.pause()
        burst(app, "nabc")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.focused, Input) and app.focused.value == "abc"


async def test_letters_right_after_slash_land_in_the_filter(tmp_path: Path) -> None:
    async with dashboard(tmp_path, [make_run(1), make_run(2, "writer")]) as (pilot, app):
        app.main_screen.set_focus(app.main_screen.runs)
        await pilot.pause()
        burst(app, "/writer")
        await pilot.pause()
        await pilot.pause()
        assert app.main_screen.query_one("#filter", Input).value == "writer"
        assert app.main_screen.runs.row_count == 1
