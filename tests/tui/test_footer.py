"""QuietFooter: rebuilt when the keys it shows change, not on every focus change."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from crewdash.tui.widgets.footer import QuietFooter


class Extra(Input):
    BINDINGS = [Binding("f5", "noop", "Extra key")]

    def action_noop(self) -> None:
        pass


class FooterApp(App[None]):
    BINDINGS = [Binding("f2", "noop", "Always")]

    def compose(self) -> ComposeResult:
        yield Input(id="a")
        yield Input(id="b")
        yield Extra(id="c")
        yield QuietFooter()

    def action_noop(self) -> None:
        pass


def descriptions(app: App[None]) -> list[str]:
    return [key.description for key in app.query(FooterKey)]


async def test_same_keys_shown_after_a_focus_change_keep_the_same_key_widgets() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        app.query_one("#a").focus()
        await pilot.pause()
        footer = app.query_one(QuietFooter)
        keys = list(app.query(FooterKey))
        rebuilds = footer.rebuilds
        assert "Always" in descriptions(app)

        app.query_one("#b").focus()  # Input's own bindings are all hidden: same keys
        await pilot.pause()
        assert list(app.query(FooterKey)) == keys
        assert footer.rebuilds == rebuilds


async def test_a_focus_change_that_shows_another_key_rebuilds_the_footer() -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        app.query_one("#a").focus()
        await pilot.pause()
        assert "Extra key" not in descriptions(app)

        app.query_one("#c").focus()
        await pilot.pause()
        await pilot.pause()
        assert "Extra key" in descriptions(app)

        app.query_one("#a").focus()
        await pilot.pause()
        await pilot.pause()
        assert "Extra key" not in descriptions(app)


async def test_the_keys_are_in_the_first_frame_without_a_rebuild() -> None:
    """Textual's Footer shows no key until the screen publishes its bindings, then recomposes
    after the next refresh: the keys came ~90 ms after the first paint (issue 17's first
    complete frame). QuietFooter composes them at mount; the focus arriving on a field whose
    keys are hidden changes nothing, so nothing is rebuilt."""
    app = FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        footer = app.query_one(QuietFooter)
        assert "Always" in descriptions(app)
        assert footer.rebuilds == 0
