"""A timeline chart of a run's tasks: one horizontal bar per task, scaled to the longest."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from crewdash.aop.models import TaskOutput
from crewdash.core.duration_words import format_duration
from crewdash.tui.format import theme_colors

# Eighths of a cell, so short tasks still show a sliver and bars compare finely.
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int) -> str:
    """`fraction` (0..1) of `width` cells in block characters, with eighth-cell precision."""
    fraction = max(0.0, min(1.0, fraction))
    eighths = round(fraction * width * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


class Timeline(Widget):
    """Task label, bar and duration per line; tasks without a time show '—'."""

    DEFAULT_CSS = """
    Timeline { height: auto; }
    """

    LABEL_WIDTH = 28
    TIME_WIDTH = 9

    def __init__(self, tasks: Sequence[TaskOutput] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tasks = tuple(tasks)

    @property
    def tasks(self) -> tuple[TaskOutput, ...]:
        return self._tasks

    def update(self, tasks: Sequence[TaskOutput]) -> None:
        self._tasks = tuple(tasks)
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._tasks))

    def render(self) -> Text:
        if not self._tasks:
            return Text("No task timings yet.", style="italic")
        colors = theme_colors(self.app)
        longest = max((t.execution_time or 0.0) for t in self._tasks)
        bar_width = max(4, self.size.width - self.LABEL_WIDTH - self.TIME_WIDTH - 2)
        out = Text(no_wrap=True, overflow="ellipsis")
        for i, task in enumerate(self._tasks):
            if i:
                out.append("\n")
            label = task.task_id if not task.agent else f"{task.task_id} · {task.agent}"
            if len(label) > self.LABEL_WIDTH - 1:
                label = label[: self.LABEL_WIDTH - 2] + "…"
            out.append(label.ljust(self.LABEL_WIDTH))
            seconds = task.execution_time
            if seconds is None or longest <= 0:
                out.append("".ljust(bar_width + 1))
            else:
                drawn = bar(seconds / longest, bar_width)
                out.append(drawn, style=colors["primary"])
                out.append(" " * (bar_width - len(drawn) + 1))
            out.append(
                task_seconds(seconds).rjust(self.TIME_WIDTH), style=colors["foreground-muted"]
            )
        return out


def task_seconds(seconds: float | None) -> str:
    """A task's execution time: "42.5s" under a minute, else "1m 03s"; "—" when unknown."""
    if seconds is None:
        return "—"
    return f"{seconds:.1f}s" if seconds < 60 else format_duration(seconds)
