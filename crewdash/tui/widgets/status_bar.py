"""The status bar: inbox count, webhook receiver state, connection problems."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.text import Text
from textual.widgets import Static

from crewdash.core.models import CrewHealth
from crewdash.tui.format import DEFAULT_COLORS, format_ago

PROBLEMS = (CrewHealth.OFFLINE, CrewHealth.TOKEN_REJECTED)


class StatusBar(Static):
    """One line above the Footer; redrawn only when one of its parts changes."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(
        self,
        *,
        receiver_url: str | None,
        now: Callable[[], float],
        colors: Callable[[], Mapping[str, str]] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._now = now
        self._colors = colors or (lambda: DEFAULT_COLORS)
        self.inbox_count = 0
        self.receiver_url = receiver_url
        self.problems: dict[str, tuple[CrewHealth, str, float | None]] = {}
        self._shown: Text | None = None

    def on_mount(self) -> None:
        self.redraw()

    def set_inbox(self, count: int) -> None:
        if count != self.inbox_count:
            self.inbox_count = count
            self.redraw()

    def set_crew_health(
        self, crew: str, health: CrewHealth, detail: str, since: float | None
    ) -> None:
        if health in PROBLEMS:
            self.problems[crew] = (health, detail, since)
        else:
            self.problems.pop(crew, None)
        self.redraw()

    def render_text(self) -> Text:
        colors = self._colors()
        text = Text()
        if self.inbox_count:
            text.append(f"◆ inbox {self.inbox_count}", style=f"bold {colors['warning']}")
            if not getattr(self.app, "read_only", False):  # read-only: nothing answers
                text.append(" (i to answer)")
        else:
            text.append("inbox 0", style=colors["foreground-muted"])
        text.append("  │  ")
        if self.receiver_url:
            text.append(f"webhooks: {self.receiver_url}")
        else:
            text.append("webhooks off (polling)", style=colors["foreground-muted"])
        for crew, (health, detail, since) in sorted(self.problems.items()):
            text.append("  │  ")
            word = "token rejected" if health is CrewHealth.TOKEN_REJECTED else "offline"
            ago = f" {format_ago(self._now() - since)}" if since else ""
            text.append(f"! {crew} {word}{ago}", style=f"bold {colors['error']}")
            if detail:
                text.append(f": {detail}")
        return text

    def redraw(self) -> None:
        text = self.render_text()
        if text != self._shown:
            self._shown = text
            self.update(text)
