"""A partial screen update renders and writes what changed, not more.

- Writes: Textual 8.2's `ChopsUpdate.render_segments` writes each changed span from the left edge of
the widget it falls in (`strip.crop(0, ...)`): a clock ticking in the runs table's Elapsed
column, 54 cells in, rewrote every row on screen up to its clock, ~13 KiB/s to the terminal
for 31 clocks of 9 cells (measured on a pty), and Rich rendered every cell before the clock
to escape codes each second. Here a span is cropped at both ends.
- Renders: `Compositor._get_renders` picks the widgets of a partial update by whether their
*clip* (their container's area) meets the changed area, so the footer, the header, the crew
pane and the scrollbars (the whole screen is their container's) were rendered and cut up
line by line for a clock tick in the runs table, and so were the containers and the screen
behind it. Here by what of them is visible, front first, down to the first that holds the
whole change (the compositor gives each cut of a line to one widget, the front one: what is
behind it never shows there).

Both replace methods of private Textual classes (the pin in pyproject.toml holds them still);
tests/tui/test_textual_compat_updates.py checks Textual's own versions still do what is
replaced, and that a patched partial update leaves the screen a full one draws.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def crop_partial_updates() -> None:
    """Make every partial update render the widgets it shows and write only its spans
    (idempotent)."""
    from rich.control import Control
    from textual._compositor import ChopsUpdate, Compositor
    from textual.geometry import Region
    from textual.strip import Strip

    stock = ChopsUpdate.render_segments
    if getattr(stock, "crewdash_crop", False):
        return

    def render_segments(self: ChopsUpdate, console: Any) -> str:
        sequences: list[str] = []
        append = sequences.append
        move_to = Control.move_to
        last_y = self.spans[-1][0]
        for y, x1, x2 in self.spans:
            for end, (x, strip) in zip(self.chop_ends[y], self.chops[y].items(), strict=False):
                if strip is None or x >= x2 or end <= x1:
                    continue
                start = max(x, x1)
                if start > x or end > x2:
                    strip = strip.crop(start - x, min(end, x2) - x)
                append(move_to(start, y).segment.text)
                append(strip.render(console))
            if y != last_y:
                append("\n")
        return "".join(sequences)

    render_segments.crewdash_crop = True  # type: ignore[attr-defined]  # idempotent
    render_segments.original = stock  # type: ignore[attr-defined]  # the test reads Textual's
    ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]  # the patch

    stock_renders = Compositor._get_renders

    def get_renders(
        self: Compositor, crop: Region | None = None
    ) -> Iterator[tuple[Region, Region, list[Strip]]]:
        if crop is None:  # a full update: every widget, as before
            yield from stock_renders(self, crop)
            return
        overlaps = crop.overlaps
        for widget, (region, clip) in self.visible_widgets.items():  # the front first
            shown = region.intersection(clip)
            if shown and overlaps(shown):
                lines = shown.translate(-region.offset)
                yield region, clip, widget.render_lines(lines)
                if shown.contains_region(crop):
                    return  # every chop of the change is this widget's: none behind shows

    get_renders.original = stock_renders  # type: ignore[attr-defined]  # for the test
    Compositor._get_renders = get_renders  # type: ignore[method-assign]  # the patch
