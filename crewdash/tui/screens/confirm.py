"""A yes/no question in a modal: `ModalScreen[bool]`."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmModal(ModalScreen[bool]):
    """Asks `question`; dismisses True on confirm, False on cancel or Escape.

    With `danger`, the confirm button is styled as an error and Cancel has the focus, so a
    stray Enter does not stop a run.
    """

    CSS_PATH = "../styles/screens.tcss"
    BINDINGS = [
        Binding(
            "escape", "cancel", "Cancel", id="confirm_cancel", tooltip="Close without doing it"
        ),
        Binding("y", "confirm", "Yes", id="confirm_yes", tooltip="Confirm", show=False),
        Binding("n", "cancel", "No", id="confirm_no", tooltip="Cancel", show=False),
    ]

    def __init__(
        self,
        question: str,
        *,
        confirm_label: str = "Yes",
        danger: bool = False,
        detail: str = "",
    ) -> None:
        super().__init__(classes="-danger" if danger else "")
        self.question = question
        self.confirm_label = confirm_label
        self.danger = danger
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(self.question, id="confirm-question", markup=False)
            if self.detail:
                yield Static(self.detail, id="confirm-detail", classes="muted", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self.confirm_label,
                    id="confirm-yes",
                    variant="error" if self.danger else "primary",
                    tooltip="Y",
                )
                yield Button("Cancel", id="confirm-no", tooltip="Escape or N")

    def on_mount(self) -> None:
        self.query_one("#confirm-no" if self.danger else "#confirm-yes", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(False)
