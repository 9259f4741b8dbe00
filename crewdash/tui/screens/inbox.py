"""Every pending human-input request across runs; Enter opens the answer modal."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from crewdash.core.models import AnswerOutcome, Event, HumanRequest, InboxChanged
from crewdash.tui.format import format_duration, short_id, theme_colors
from crewdash.tui.screens.human_input import AnswerEngine, HumanInputModal


class InboxEngine(AnswerEngine, Protocol):
    """The part of the engine facade the inbox uses."""

    def inbox(self) -> list[HumanRequest]: ...
    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...


COLUMNS = ("Crew", "Run", "Kind", "Task", "Waiting", "SLA", "Asks")


class InboxScreen(Screen[None]):
    """Pending requests, oldest first; live while it is open."""

    CSS_PATH = "../styles/screens.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Back to the dashboard"),
        Binding("enter", "open", "Answer", id="inbox_open", tooltip="Answer the selected request"),
    ]

    def __init__(self, engine: InboxEngine) -> None:
        super().__init__()
        self.engine = engine
        self._requests: list[HumanRequest] = []
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="inbox-title")
        table: DataTable[Text | str] = DataTable(id="inbox-table", cursor_type="row")
        table.add_columns(*COLUMNS)
        yield table
        yield Static("No requests are waiting for you.", id="inbox-empty")
        yield Footer()

    def on_mount(self) -> None:
        self._unsubscribe = self.engine.subscribe(self._on_event)
        self.reload()
        self.set_interval(1.0, self._tick)
        self.query_one(DataTable).focus()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:
        if isinstance(event, InboxChanged) and self.is_mounted:
            self.reload()

    def _now(self) -> float:
        now = getattr(self.app, "now", None)
        return now() if callable(now) else time.time()

    @property
    def requests(self) -> list[HumanRequest]:
        return list(self._requests)

    def reload(self) -> None:
        """Rebuild from the engine (a handful of rows; the runs table is the big one)."""
        pending = sorted(self.engine.inbox(), key=lambda r: r.received_at)
        table = self.query_one(DataTable)
        selected = self._selected()
        self._requests = pending
        table.clear()
        now, colors = self._now(), theme_colors(self.app)
        for request in pending:
            table.add_row(*self._cells(request, now, colors), key=request.id)
        if selected is not None:
            ids = [r.id for r in pending]
            if selected.id in ids:
                table.move_cursor(row=ids.index(selected.id))
        count = len(pending)
        title = "Inbox  ·  " + (
            "nothing waiting" if not count else f"{count} waiting for you  ·  Enter answers one"
        )
        self.query_one("#inbox-title", Static).update(title)
        self.query_one("#inbox-empty").display = not count
        table.display = bool(count)

    def _cells(self, request: HumanRequest, now: float, colors: dict[str, str]) -> list[Text | str]:
        waited = now - request.received_at
        sla: Text | str = "—"
        if request.sla_minutes:
            left = request.sla_minutes * 60 - waited
            sla = (
                Text(f"{format_duration(left)} left")
                if left >= 0
                else Text(f"late {format_duration(-left)}", style=f"bold {colors['error']}")
            )
        asks = (request.prompt or request.output).strip().splitlines()
        return [
            request.crew,
            short_id(request.kickoff_id),
            "flow" if request.emit else "crew",
            request.task_id or "—",
            format_duration(waited),
            sla,
            asks[0][:60] if asks else "",
        ]

    def _tick(self) -> None:
        table = self.query_one(DataTable)
        now, colors = self._now(), theme_colors(self.app)
        for request in self._requests:
            cells = self._cells(request, now, colors)
            table.update_cell(request.id, COLUMNS[4], cells[4])
            table.update_cell(request.id, COLUMNS[5], cells[5])

    def _selected(self) -> HumanRequest | None:
        table = self.query_one(DataTable)
        if not self._requests or table.cursor_row < 0 or table.cursor_row >= len(self._requests):
            return None
        return self._requests[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        request = self._selected()
        if request is not None:
            self.app.push_screen(HumanInputModal(self.engine, request), self._answered)

    def _answered(self, outcome: AnswerOutcome | None) -> None:
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)
