"""One crew's trends: runs per hour, success rate, p50/p95 duration and human-input wait, over
the last 24 hours and the last 7 days, each a sparkline with its min, max and latest in words
(what a screen reader says). Read from the store off the UI thread; read again, throttled,
when runs change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from crewdash.core.monitor.trends import CrewTrends, crew_trends
from crewdash.core.monitor.trends_text import (
    LEGEND,
    SERIES,
    bucket_words,
    rate_text,
    series_words,
    sparkline,
)
from crewdash.tui.bindings import TRENDS_BINDINGS
from crewdash.tui.format import theme_colors
from crewdash.tui.messages import EngineEvents
from crewdash.tui.trends_feed import TrendsFeed, moves_trends

if TYPE_CHECKING:
    from crewdash.tui.host import Host

DAY = 86400.0
WINDOWS = (("Last 24 hours", DAY), ("Last 7 days", 7 * DAY))
LABEL = 14  # the series names' column


def _both(crew: str) -> Any:
    def compute(store: Any, now: float) -> tuple[CrewTrends, ...]:
        return tuple(crew_trends(store, crew, now - span, now) for _, span in WINDOWS)

    return compute


def window_text(title: str, trends: CrewTrends, colors: dict[str, str]) -> Text:
    """A window's heading and one line per series: name, sparkline, words."""
    total = trends.total
    text = Text()
    text.append(f"{title}", style="bold")
    text.append(
        f" — one block per {bucket_words(trends.bucket)}, oldest left · {total.runs} runs · "
        f"{rate_text(total.success_rate)} success · {total.answered} answers\n",
        style=colors["foreground-muted"],
    )
    for name, value_of, say in SERIES:
        values = [value_of(p) for p in trends.points]
        top = 1.0 if name == "success rate" else None
        text.append(f"  {name:<{LABEL}}")
        text.append(sparkline(values, top), style=colors["primary"])
        text.append("  " + series_words("", trends.points, values, say) + "\n")
    return text


class CrewTrendsScreen(Screen[None]):
    """See the module docstring."""

    app: Host  # type: ignore[assignment]  # narrowed to what the screen reads of its app
    BINDINGS: ClassVar[list[BindingType]] = list(TRENDS_BINDINGS)
    DEFAULT_CSS = """
    CrewTrendsScreen #trends-title { text-style: bold; padding: 0 1; background: $boost; }
    CrewTrendsScreen #trends-body { height: 1fr; padding: 1 1 0 1; }
    CrewTrendsScreen .trends-window { margin-bottom: 1; }
    CrewTrendsScreen #trends-legend { color: $text-muted; }
    """

    def __init__(self, crew: str, title: str | None = None) -> None:
        super().__init__()
        self.crew = crew
        self._title = title or crew
        self.trends: tuple[CrewTrends, ...] | None = None
        self.feed: TrendsFeed[tuple[CrewTrends, ...]] = TrendsFeed(self, _both(crew), self._show)

    def compose(self) -> ComposeResult:
        name = self._title if self._title == self.crew else f"{self._title} ({self.crew})"
        yield Static(f"Trends of {name}", id="trends-title")
        with VerticalScroll(id="trends-body"):
            yield Static("Reading the run store…", id="trends-day", classes="trends-window")
            yield Static("", id="trends-week", classes="trends-window")
            yield Static("", id="trends-legend")
        yield Footer()

    def on_mount(self) -> None:
        if getattr(self.app.engine, "store", None) is None:
            self.query_one("#trends-day", Static).update(
                "No run store yet: the trends show once the engine has started."
            )
        self.feed.request()

    def on_engine_events(self, message: EngineEvents) -> None:
        if any(moves_trends(e, outcomes=True) for e in message.events):
            self.feed.request()  # throttled: a burst reads the store once

    def _show(self, trends: tuple[CrewTrends, ...]) -> None:
        self.trends = trends
        colors = theme_colors(self.app)
        for (title, _), window, target in zip(
            WINDOWS, trends, ("#trends-day", "#trends-week"), strict=True
        ):
            self.query_one(target, Static).update(window_text(title, window, colors))
        self.query_one("#trends-legend", Static).update(f"How to read it: {LEGEND}")

    def action_back(self) -> None:
        self.dismiss()
