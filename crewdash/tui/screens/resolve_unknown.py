"""Resolve a kickoff whose fate is unknown (the request may have reached the server, its answer
was lost): adopt the kickoff id the operator found in the AOP dashboard, send it again (after
naming the risk of a duplicate), or say it did not start. The choice goes back to the app,
which carries it out (crewdash/tui/run_actions.py) and records it in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from crewdash.core.models import RunRecord
from crewdash.tui.format import format_clock

ResolveKind = Literal["adopt", "resend", "dismiss"]


@dataclass(frozen=True, slots=True)
class ResolveChoice:
    kind: ResolveKind
    kickoff_id: str = ""  # for "adopt"


class ResolveUnknownModal(ModalScreen[ResolveChoice | None]):
    """Three ways out of UNKNOWN; Esc leaves the run as it is."""

    CSS_PATH = "../styles/screens.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="resolve_cancel", tooltip="Leave it unknown"),
    ]

    def __init__(self, run: RunRecord, duplicate_risk: str) -> None:
        super().__init__()
        self.run = run
        self.duplicate_risk = duplicate_risk

    def compose(self) -> ComposeResult:
        run = self.run
        with Vertical(id="resolve-dialog", classes="dialog"):
            yield Static(
                f"Did the kickoff of this {run.crew} run start? "
                f"(sent {format_clock(run.created_at)})",
                classes="dialog-title",
                markup=False,
            )
            yield Static(run.error or "Its answer was lost.", classes="muted", markup=False)
            yield Static(
                "Find the run in the AOP dashboard and paste its kickoff id to follow it here; "
                "or send the kickoff again; or say it never started.",
                markup=False,
            )
            yield Input(placeholder="kickoff id from the AOP dashboard", id="resolve-id")
            yield Static("", id="resolve-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Adopt this id", id="resolve-adopt", variant="primary")
                yield Button("Send again…", id="resolve-resend", variant="warning")
                yield Button("It did not start", id="resolve-dismiss")
                yield Button("Cancel", id="resolve-cancel")

    def on_mount(self) -> None:
        self.query_one("#resolve-id", Input).focus()

    @on(Input.Submitted, "#resolve-id")
    @on(Button.Pressed, "#resolve-adopt")
    def _adopt(self) -> None:
        kickoff_id = self.query_one("#resolve-id", Input).value.strip()
        if not kickoff_id:
            self.query_one("#resolve-error", Static).update(
                "Paste the kickoff id first (the AOP dashboard lists it with the run)."
            )
            return
        self.dismiss(ResolveChoice("adopt", kickoff_id))

    @on(Button.Pressed, "#resolve-resend")
    def _resend(self) -> None:
        from crewdash.tui.screens.confirm import ConfirmModal

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.dismiss(ResolveChoice("resend"))

        question = f"Send the kickoff of this {self.run.crew} run again?"
        detail = f"Careful: {self.duplicate_risk}."
        self.app.push_screen(
            ConfirmModal(question, confirm_label="Send again", danger=True, detail=detail),
            confirmed,
        )

    @on(Button.Pressed, "#resolve-dismiss")
    def _dismiss_run(self) -> None:
        self.dismiss(ResolveChoice("dismiss"))

    @on(Button.Pressed, "#resolve-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
