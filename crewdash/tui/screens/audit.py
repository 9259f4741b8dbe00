"""`A`: the audit trail — every human decision and operator action, newest first, with who,
channel and the server's answer. `/` filters by crew, run or operator; Enter opens the run.

It reads the newest `PAGE` entries once; afterwards an engine event about a run or a request
(a decision or an action is always written with one, from this process or another, see
crewdash.core.live) asks the store only for entries newer than the newest shown, adds those
rows and re-sorts the table in place: no reload of what is already shown."""

from __future__ import annotations

from typing import Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from crewdash.core.audit import AuditEntry, AuditFilter, AuditKey
from crewdash.core.models import InboxChanged, RunChanged
from crewdash.tui.format import format_clock
from crewdash.tui.messages import EngineEvents, OpenRun

PAGE = 500  # the newest entries shown when the screen opens
# the widest cells: the table fits 120 columns (`crewdash audit` shows everything)
WHO_WIDTH, CREW_WIDTH, WHAT_WIDTH, ANSWER_WIDTH = 16, 14, 26, 22

COLUMNS = (
    ("when", "When"),
    ("who", "Who"),
    ("channel", "Channel"),
    ("crew", "Crew"),
    ("run", "Run"),
    ("what", "What"),
    ("answer", "Server's answer"),
)


class AuditEngine(Protocol):
    """What the screen reads: the store's audit listing, through the engine facade."""

    def audit(
        self,
        where: AuditFilter | None = None,
        *,
        limit: int = 100,
        before: AuditKey | None = None,
        after: AuditKey | None = None,
    ) -> list[AuditEntry]: ...


class _When(str):
    """A "when" cell that knows its entry's sort key: the table re-sorts by it in place."""

    key: AuditKey

    def __new__(cls, text: str, key: AuditKey) -> _When:
        cell = super().__new__(cls, text)
        cell.key = key
        return cell


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _row_key(entry: AuditEntry) -> str:
    return f"{entry.kind}:{entry.id}"


def matches(entry: AuditEntry, needle: str) -> bool:
    """The filter: `needle` (any case) in the crew, a run id, the user or user@host."""
    if not needle:
        return True
    hay = (entry.crew, entry.local_id, entry.kickoff_id, entry.who, entry.channel)
    low = needle.lower()
    return any(low in value.lower() for value in hay if value)


class AuditScreen(Screen[None]):
    """See the module docstring."""

    CSS_PATH = "../styles/audit.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="audit_back", tooltip="Clear the filter, or back"),
        Binding(
            "slash",
            "filter",
            "Filter",
            id="audit_filter",
            tooltip="Filter by crew, run or operator",
        ),
        Binding(
            "enter", "open", "Open run", id="audit_open", tooltip="Open the selected entry's run"
        ),
    ]

    def __init__(self, engine: AuditEngine) -> None:
        super().__init__()
        self.engine = engine
        self._entries: dict[str, AuditEntry] = {}  # every entry read, by row key
        self._newest: AuditKey | None = None
        self._needle = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="audit-title")
        yield Input(placeholder="crew, run or operator", id="audit-filter")
        table: DataTable[str] = DataTable(id="audit-table", cursor_type="row")
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("Nothing matches.", id="audit-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).display = False
        self._add(self.engine.audit(limit=PAGE))
        self.query_one(DataTable).focus()

    @property
    def shown(self) -> list[AuditEntry]:
        """The entries in the table, top to bottom."""
        table = self.query_one(DataTable)
        return [self._entries[str(row.key.value)] for row in table.ordered_rows]

    def on_engine_events(self, message: EngineEvents) -> None:
        if any(isinstance(e, RunChanged | InboxChanged) for e in message.events):
            self._add(self.engine.audit(limit=PAGE, after=self._newest))

    def _add(self, entries: list[AuditEntry]) -> None:
        """Remember `entries`, add the rows of those the filter keeps, keep newest first."""
        table = self.query_one(DataTable)
        added = False
        for entry in entries:
            key = _row_key(entry)
            if key in self._entries:
                continue
            self._entries[key] = entry
            if self._newest is None or entry.key > self._newest:
                self._newest = entry.key
            if matches(entry, self._needle):
                table.add_row(*self._cells(entry), key=key)
                added = True
        if added:
            table.sort("when", key=lambda when: when.key, reverse=True)
        self._show_counts()

    def _cells(self, entry: AuditEntry) -> list[str]:
        return [
            _When(format_clock(entry.at, now=self._now()), entry.key),
            _cut(entry.who, WHO_WIDTH),
            entry.channel or "—",
            _cut(entry.crew or "—", CREW_WIDTH),
            entry.run_short or "—",
            entry.summary(WHAT_WIDTH),
            _cut(entry.server_answer or "—", ANSWER_WIDTH),
        ]

    def _now(self) -> float | None:
        now = getattr(self.app, "now", None)
        return now() if callable(now) else None

    def _show_counts(self) -> None:
        table = self.query_one(DataTable)
        count, total = table.row_count, len(self._entries)
        title = f"Audit  ·  {total} {'entry' if total == 1 else 'entries'}, newest first"
        if self._needle:
            title = f"Audit  ·  {count} of {total} match {self._needle!r}"
        self.query_one("#audit-title", Static).update(title + "  ·  / filters, Enter opens the run")
        empty = self.query_one("#audit-empty", Static)
        empty.update("Nothing matches." if total else "No decisions or actions recorded yet.")
        empty.display = not count
        table.display = bool(count)

    # --- the filter ---------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one(Input)
        field.display = True
        self.call_after_refresh(field.focus)  # focusable once it is laid out

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._needle = event.value.strip()
        table = self.query_one(DataTable)
        table.clear()
        ordered = sorted(self._entries.values(), key=lambda e: e.key, reverse=True)
        for entry in ordered:
            if matches(entry, self._needle):
                table.add_row(*self._cells(entry), key=_row_key(entry))
        self._show_counts()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(DataTable).focus()

    # --- keys ---------------------------------------------------------------------------------

    def _selected(self) -> AuditEntry | None:
        table = self.query_one(DataTable)
        if not table.row_count or not 0 <= table.cursor_row < table.row_count:
            return None
        row = table.ordered_rows[table.cursor_row]
        return self._entries[str(row.key.value)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        entry = self._selected()
        if entry is None:
            return
        if entry.local_id is None:
            self.notify("This run is not in the local store.", title="Audit")
            return
        self.post_message(OpenRun(entry.local_id))

    def action_back(self) -> None:
        field = self.query_one(Input)
        if field.display:
            field.value = ""
            field.display = False
            self.query_one(DataTable).focus()
            return
        self.dismiss(None)
