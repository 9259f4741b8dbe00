"""`crop_partial_updates` (textual_compat/updates.py): a partial update writes its spans only,
and the screen it leaves is the one a full update draws."""

from __future__ import annotations

import inspect

import pyte
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate, Compositor
from textual.app import App, ComposeResult
from textual.containers import Container
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from crewdash.tui.textual_compat.updates import crop_partial_updates

WIDTH, HEIGHT = 60, 8


class Ledger(Widget):
    """Lines of coloured cells; `ticks` changes the clock at x 39-46 of every line."""

    DEFAULT_CSS = "Ledger { width: 50; height: 5; margin: 0 4; }"
    ticks = 0

    def render_line(self, y: int) -> Strip:
        cells = [
            Segment(f"row {y:<5}", Style(color="red", bgcolor="black")),
            Segment("é漢字 wide ", Style(color="green", bold=True)),  # 2-cell characters
            Segment(" " * 19, Style(bgcolor="blue")),
            Segment(f"{self.ticks:>6}s ", Style(color="yellow", bgcolor="#303030")),
            Segment("..", Style(italic=True)),
        ]
        return Strip(cells).adjust_cell_length(self.size.width)


class Counted(Static):
    """A widget beside the ledger, in the same container: it counts its renders."""

    renders = 0

    def render_lines(self, crop: Region) -> list[Strip]:
        self.renders += 1
        return super().render_lines(crop)


class Behind(Container):
    """The ledger's container: behind every cell of it."""

    DEFAULT_CSS = "Behind { height: auto; }"
    renders = 0

    def render_lines(self, crop: Region) -> list[Strip]:
        self.renders += 1
        return super().render_lines(crop)


class LedgerApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Counted("a footer, below the ledger", id="below")
        with Behind():
            yield Ledger()


def _screen(*updates: str) -> list[str]:
    screen = pyte.Screen(WIDTH, HEIGHT)
    stream = pyte.Stream(screen)
    for data in updates:
        stream.feed(data)
    return [line for line in screen.display]


def test_textual_still_writes_a_partial_span_from_its_chops_start() -> None:
    """What the patch replaces: Textual's own render_segments crops from the chop's start.
    If an upgrade crops at the span, the patch can go."""
    crop_partial_updates()
    stock = getattr(ChopsUpdate.render_segments, "original", ChopsUpdate.render_segments)
    source = inspect.getsource(stock)
    assert "strip.crop(0, min(end, x2) - x)" in source
    renders = getattr(Compositor._get_renders, "original", Compositor._get_renders)
    assert "crop_overlaps(clip)" in inspect.getsource(renders)  # by the container's area
    assert list(inspect.signature(ChopsUpdate.__init__).parameters) == [
        "self",
        "chops",
        "spans",
        "chop_ends",
    ]


async def test_a_clock_tick_writes_only_the_clocks_and_draws_what_a_full_update_draws() -> None:
    crop_partial_updates()
    crop_partial_updates()  # idempotent: wraps once
    assert not hasattr(ChopsUpdate.render_segments.original, "original")  # type: ignore[attr-defined]
    app = LedgerApp()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        ledger = app.query_one(Ledger)
        compositor = app.screen._compositor
        first = compositor.render_update(full=True).render_segments(app.console)
        ledger.ticks = 42
        clocks = [Region(39, y, 8, 1) for y in range(ledger.size.height)]
        ledger.refresh(*clocks)
        compositor.update_widgets({ledger})  # before the app's own refresh takes the regions
        below, behind = app.query_one(Counted), app.query_one(Behind)
        below.renders = behind.renders = 0
        update = compositor.render_update()
        assert below.renders == 0  # its container's area meets the clocks, not itself
        assert behind.renders == 0  # the ledger in front of it holds every clock
        assert isinstance(update, ChopsUpdate)
        written = update.render_segments(app.console)
        full = compositor.render_update(full=True).render_segments(app.console)
    assert _screen(first, written) == _screen(full)
    assert "    42s " in _screen(full)[2] and "a footer" in _screen(full)[0]
    # only the clocks went out: no cell left of them, nothing right of them
    text = pyte.Screen(WIDTH, HEIGHT)
    pyte.Stream(text).feed(written)
    drawn = {(y, x) for y, line in text.buffer.items() for x in line}
    assert {x for _, x in drawn} == set(range(4 + 39, 4 + 47))
    assert "row" not in written and "漢" not in written and ".." not in written
