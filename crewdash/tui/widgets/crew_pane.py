"""The crew pane: every configured crew on one line with its health, kind and run counts (and,
once the store's trends are read, a line under it: a sparkline of its runs per hour over the
last 24 h); the highlighted crew's health in words (with the latency of the last check) under
the list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from crewdash.core.config.model import CrewConfig
from crewdash.core.models import CrewHealth
from crewdash.tui.format import DEFAULT_COLORS, HEALTH_LOOK

if TYPE_CHECKING:
    from crewdash.core.monitor.trends import CrewTrends


def health_words(health: CrewHealth, latency: float | None) -> str:
    """'ok · 12 ms', 'slow · 2.4 s', 'offline', 'checking…' (before the first answer)."""
    if health is CrewHealth.UNKNOWN:
        return "checking…"
    word = HEALTH_LOOK[health][1]
    if latency is not None and health in (CrewHealth.OK, CrewHealth.SLOW):
        # imported once a latency was measured: the first frame has none (health_probe and
        # what it imports cost start-up ~1.5 ms)
        from crewdash.core.monitor.probe import latency_text

        return f"{word} · {latency_text(latency)}"
    return word


def crew_prompt(
    crew: CrewConfig,
    health: CrewHealth,
    active: int,
    waiting: int,
    colors: Mapping[str, str],
    width: int = 36,
) -> Text:
    """One line: health symbol, label (cut with an ellipsis to fit `width`), kind, and the
    active (▶) and waiting (◆) run counts."""
    symbol, _, role = HEALTH_LOOK[health]
    muted = colors["foreground-muted"]
    counts = Text()
    counts.append(f"▶{active}", style="bold" if active else muted)
    counts.append(" ")
    counts.append(f"◆{waiting}", style=f"bold {colors['warning']}" if waiting else muted)
    kind = f" {crew.kind.value:<4} "
    room = max(4, width - 2 - len(kind) - counts.cell_len)
    label = crew.title if len(crew.title) <= room else crew.title[: room - 1].rstrip() + "…"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(symbol, style=f"bold {colors.get(role, '')}".strip())
    text.append(" ")
    text.append(f"{label:<{room}}", style="bold")
    text.append(kind, style=muted)
    text.append_text(counts)
    return text


def trend_line(trends: CrewTrends, colors: Mapping[str, str], width: int = 36) -> Text:
    """The line under a crew: its runs per hour as a sparkline, and how many in words."""
    # imported once trends exist: not part of the first frame
    from crewdash.core.monitor.trends_text import sparkline

    runs = [float(p.runs) for p in trends.points]
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("  ")
    if not any(runs):  # a flat line would say as little, louder
        text.append("no runs in the last 24 h", style=colors["foreground-muted"])
        return text
    words = f" {int(sum(runs))} in 24h"
    room = max(4, width - 2 - len(words))
    text.append(sparkline(runs[-room:]), style=colors.get("primary", ""))
    text.append(words, style=colors["foreground-muted"])
    return text


def _runs_of(trends: CrewTrends) -> tuple[tuple[float, int], ...]:
    return tuple((p.start, p.runs) for p in trends.points)


def trend_words(trends: CrewTrends) -> str:
    """The sparkline in words, for the tooltip (a screen reader says it)."""
    from crewdash.core.monitor.trends_text import series_words

    values = [float(p.runs) for p in trends.points]
    return series_words("runs per hour, last 24 h", trends.points, values, str)


class CrewPane(OptionList):
    """Crews by name; highlighting one chooses it for the form."""

    class CrewChosen(Message):
        def __init__(self, crew: str) -> None:
            self.crew = crew
            super().__init__()

    def __init__(
        self,
        crews: list[CrewConfig],
        *,
        colors: Callable[[], Mapping[str, str]] | None = None,
        id: str | None = None,
    ) -> None:
        self._crews = {c.name: c for c in crews}
        self._health: dict[str, CrewHealth] = dict.fromkeys(self._crews, CrewHealth.UNKNOWN)
        self._detail: dict[str, str] = dict.fromkeys(self._crews, "")
        self._latency: dict[str, float | None] = dict.fromkeys(self._crews)
        self._width = 36
        self._counts: dict[str, tuple[int, int]] = dict.fromkeys(self._crews, (0, 0))
        self._colors = colors or (lambda: DEFAULT_COLORS)
        self._trends: dict[str, CrewTrends] = {}
        super().__init__(*(self._option(name) for name in self._crews), id=id)

    def _option(self, name: str) -> Option:
        active, waiting = self._counts[name]
        colors = self._colors()
        prompt = crew_prompt(
            self._crews[name], self._health[name], active, waiting, colors, self._width
        )
        trends = self._trends.get(name)
        if trends is not None:
            prompt.append("\n")
            prompt.append_text(trend_line(trends, colors, self._width))
        return Option(prompt, id=name)

    def on_resize(self) -> None:
        width = max(20, self.scrollable_content_region.width)
        if width != self._width:
            self._width = width
            for name in self._crews:
                self._refresh_crew(name)

    def _show_chosen(self) -> None:
        """The highlighted crew's health in words, on the pane's bottom border and tooltip."""
        name = self.chosen
        if name is None:
            self.border_subtitle = ""
            return
        active, waiting = self._counts[name]
        words = health_words(self._health[name], self._latency[name])
        counts = f"{active} active" + (f", {waiting} waiting" if waiting else "")
        self.border_subtitle = f"{words} · {counts}"
        crew = self._crews[name]
        detail = self._detail[name]
        lines = [f"{crew.title} ({crew.kind.value})", words]
        if detail and detail != words and detail != "ok":
            lines.append(detail)
        trends = self._trends.get(name)
        if trends is not None:
            lines.append(trend_words(trends))
        lines.append("▶ active runs   ◆ runs waiting for your input")
        self.tooltip = "\n".join(lines)

    def _refresh_crew(self, name: str) -> None:
        if name in self._crews:
            self.replace_option_prompt(name, self._option(name).prompt)

    @property
    def crew_names(self) -> list[str]:
        return list(self._crews)

    @property
    def chosen(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    def health(self, name: str) -> tuple[CrewHealth, str]:
        return self._health.get(name, CrewHealth.UNKNOWN), self._detail.get(name, "")

    def health_text(self, name: str) -> str:
        """'ok · 12 ms' and the like: what the pane says of `name`'s health."""
        return health_words(self._health[name], self._latency[name])

    def set_health(
        self, name: str, health: CrewHealth, detail: str = "", latency: float | None = None
    ) -> None:
        """A crew's health; a check without a latency keeps the last one measured (ok/slow)."""
        if name not in self._crews:
            return
        if latency is None and health in (CrewHealth.OK, CrewHealth.SLOW):
            latency = self._latency[name]
        elif health not in (CrewHealth.OK, CrewHealth.SLOW):
            latency = None
        new = (health, detail, latency)
        if (self._health[name], self._detail[name], self._latency[name]) != new:
            self._health[name], self._detail[name], self._latency[name] = new
            self._refresh_crew(name)
            self.refresh_tooltip(name)

    def refresh_tooltip(self, name: str) -> None:
        if name == self.chosen:
            self._show_chosen()

    def set_counts(self, counts: Mapping[str, tuple[int, int]]) -> None:
        """Active and waiting runs per crew; only crews whose counts changed are redrawn."""
        for name in self._crews:
            value = counts.get(name, (0, 0))
            if self._counts[name] != value:
                self._counts[name] = value
                self._refresh_crew(name)
                self.refresh_tooltip(name)

    def set_trends(self, trends: Mapping[str, CrewTrends]) -> None:
        """Each crew's last 24 h (crewdash.core.monitor.trends); only crews whose runs per
        hour changed are redrawn."""
        for name in self._crews:
            new = trends.get(name)
            old = self._trends.get(name)
            if new is None or (old is not None and _runs_of(old) == _runs_of(new)):
                continue
            self._trends[name] = new
            self._refresh_crew(name)
            self.refresh_tooltip(name)

    def trends(self, name: str) -> CrewTrends | None:
        return self._trends.get(name)

    def choose(self, name: str) -> None:
        if name in self._crews:
            self.highlighted = self.get_option_index(name)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is not None:
            self.refresh_tooltip(event.option.id)
            self.post_message(self.CrewChosen(event.option.id))
