"""The crew pane: every configured crew with its kind, health and run counts."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from crewdash.core.config_model import CrewConfig
from crewdash.core.models import CrewHealth
from crewdash.tui.format import DEFAULT_COLORS, health_label


def crew_prompt(
    crew: CrewConfig,
    health: CrewHealth,
    active: int,
    waiting: int,
    colors: Mapping[str, str],
) -> Text:
    """Two lines: name and kind; health, active and waiting counts."""
    text = Text()
    text.append(crew.title, style="bold")
    text.append(f"  {crew.kind.value}", style=colors["foreground-muted"])
    text.append("\n  ")
    text.append_text(health_label(health, colors=colors))
    text.append(f" · {active} active")
    if waiting:
        text.append(" · ")
        text.append(f"{waiting} waiting", style=f"bold {colors['warning']}")
    return text


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
        self._counts: dict[str, tuple[int, int]] = dict.fromkeys(self._crews, (0, 0))
        self._colors = colors or (lambda: DEFAULT_COLORS)
        super().__init__(*(self._option(name) for name in self._crews), id=id)

    def _option(self, name: str) -> Option:
        active, waiting = self._counts[name]
        prompt = crew_prompt(self._crews[name], self._health[name], active, waiting, self._colors())
        return Option(prompt, id=name)

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

    def set_health(self, name: str, health: CrewHealth, detail: str = "") -> None:
        if name not in self._crews:
            return
        if (self._health[name], self._detail[name]) != (health, detail):
            self._health[name], self._detail[name] = health, detail
            self._refresh_crew(name)
            self.refresh_tooltip(name)

    def refresh_tooltip(self, name: str) -> None:
        if name == self.chosen:
            self.tooltip = self._detail[name] or None

    def set_counts(self, counts: Mapping[str, tuple[int, int]]) -> None:
        """Active and waiting runs per crew; only crews whose counts changed are redrawn."""
        for name in self._crews:
            value = counts.get(name, (0, 0))
            if self._counts[name] != value:
                self._counts[name] = value
                self._refresh_crew(name)

    def choose(self, name: str) -> None:
        if name in self._crews:
            self.highlighted = self.get_option_index(name)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id is not None:
            self.refresh_tooltip(event.option.id)
            self.post_message(self.CrewChosen(event.option.id))
