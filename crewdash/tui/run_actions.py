"""The dashboard's verbs on runs and requests, in one place: start, stop (asks first), poll now,
answer one request. Every screen asks for them with a message (`crewdash.tui.messages`); the
app hands the message here, so the main screen, the run detail, the inbox and the command
palette behave and word things the same way. Network waits run in the app's workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from crewdash.core.models import KickoffPhase
from crewdash.tui.format import short_id

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.worker import Worker

    from crewdash.core.records import HumanRequest, RunRecord

STOP_DETAIL = "The deployment cancels the run; its work so far is lost."
UNKNOWN_WORDS = (
    "Nobody knows whether this kickoff started (its answer was lost), so crewdash has no run "
    "id to {verb}. Press u to resolve it: adopt the id from the AOP dashboard, send it again, "
    "or say it did not start."
)
#: how long a modal that opened by itself takes no typing (a reaction to it takes longer)
SETTLE_SECONDS = 0.6
ALREADY_FINISHED = "That run has already finished: there is nothing to stop."


class ActionApp(Protocol):
    """What the actions need of the app."""

    engine: Any

    def notify(
        self, message: str, *, title: str = "", severity: Any = "information", timeout: float = ...
    ) -> None: ...
    def push_screen(
        self, screen: Screen[Any], callback: Callable[[Any], Any] | None = ...
    ) -> Any: ...
    def run_worker(self, work: Any, *, name: str = ..., group: str = ...) -> Worker[Any]: ...
    def remember_inputs(self, crew: str, inputs: dict[str, Any]) -> None: ...
    def run_started(self, run: RunRecord) -> None: ...
    def answer_closed(self, request: HumanRequest, outcome: Any) -> None: ...


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def stop_question(run: RunRecord) -> str:
    return f"Stop {run.crew} run {short_id(run.kickoff_id)}?"


class RunActions:
    def __init__(self, app: ActionApp) -> None:
        self.app = app
        self._answering: str | None = None  # the request whose modal is open

    @property
    def answering(self) -> str | None:
        return self._answering

    # --- runs ------------------------------------------------------------------------------

    def start(self, crew: str, inputs: dict[str, Any]) -> None:
        self.app.run_worker(self._start(crew, inputs), name="kickoff", group="kickoff")

    async def _start(self, crew: str, inputs: dict[str, Any]) -> None:
        app = self.app
        app.remember_inputs(crew, inputs)
        try:
            run = await app.engine.kickoff(crew, inputs)
        except Exception as exc:  # every AOPError and EngineError: said, never raised
            app.notify(_reason(exc), title="Kickoff failed", severity="error")
            return
        if run.kickoff_id:
            app.notify(f"{crew} started: {short_id(run.kickoff_id)}", title="Run started")
            app.run_started(run)
        else:
            app.notify(
                run.error or "no kickoff id", title="Kickoff not confirmed", severity="warning"
            )

    def confirm_stop(self, local_id: str) -> None:
        """Ask, then stop: the same question and wording from every screen."""
        from crewdash.tui.screens.confirm import ConfirmModal

        run = self.app.engine.run(local_id)
        if run is not None and run.phase is KickoffPhase.UNKNOWN:
            self.app.notify(UNKNOWN_WORDS.format(verb="stop"), title="Stop", severity="warning")
            return
        if run is None or run.is_final:
            self.app.notify(ALREADY_FINISHED, title="Stop", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.run_worker(self._stop(local_id), name="stop run", group="stop")

        modal = ConfirmModal(
            stop_question(run), confirm_label="Stop run", danger=True, detail=STOP_DETAIL
        )
        self.app.push_screen(modal, answered)

    async def _stop(self, local_id: str) -> None:
        from crewdash.aop.errors import NotPausedError, UnsupportedError

        app = self.app
        try:
            run = await app.engine.stop_run(local_id)
        except UnsupportedError:
            app.notify(
                "This deployment cannot stop runs (it has no /stop route). "
                "The run keeps going on the server.",
                title="Cannot stop",
                severity="warning",
                timeout=10,
            )
            return
        except NotPausedError:
            app.notify(ALREADY_FINISHED, title="Stop", severity="warning")
            return
        except Exception as exc:
            app.notify(_reason(exc), title="Stop failed", severity="error")
            return
        app.notify(f"{run.crew} {short_id(run.kickoff_id)}: {run.state.value}", title="Stop")

    def poll(self, local_id: str) -> None:
        run = self.app.engine.run(local_id)
        if run is not None and run.phase is KickoffPhase.UNKNOWN:
            words = UNKNOWN_WORDS.format(verb="poll")
            self.app.notify(words, title="Poll now", severity="warning")
            return
        self.app.run_worker(self._poll(local_id), name="poll now", group="refresh")

    async def _poll(self, local_id: str) -> None:
        try:
            await self.app.engine.refresh(local_id)
        except Exception as exc:
            self.app.notify(_reason(exc), title="Poll failed", severity="error")

    def resolve(self, local_id: str) -> None:
        """Ask how an UNKNOWN kickoff ends (adopt an id, send again, dismiss), then do it."""
        from crewdash.core.runs.resolve import DUPLICATE_RISK
        from crewdash.tui.screens.resolve_unknown import ResolveChoice, ResolveUnknownModal

        run = self.app.engine.run(local_id)
        if run is None or run.phase is not KickoffPhase.UNKNOWN:
            self.app.notify(
                "Only a run whose kickoff's fate is unknown needs resolving.", title="Resolve"
            )
            return

        def chosen(choice: ResolveChoice | None) -> None:
            if choice is not None:
                self.app.run_worker(
                    self._resolve(local_id, choice), name="resolve", group="resolve"
                )

        self.app.push_screen(ResolveUnknownModal(run, DUPLICATE_RISK), chosen)

    async def _resolve(self, local_id: str, choice: Any) -> None:
        engine, app = self.app.engine, self.app
        try:
            if choice.kind == "adopt":
                run = await engine.adopt(local_id, choice.kickoff_id)
                said = f"following {run.crew} {short_id(run.kickoff_id)}"
            elif choice.kind == "resend":
                run = await engine.resend(local_id)
                said = f"sent again: {run.crew} {short_id(run.kickoff_id)}"
            else:
                run = engine.dismiss(local_id, "the operator says it did not start")
                said = f"{run.crew} run marked as not started"
        except Exception as exc:  # EngineError, AOPError: said, the row stays as it was
            app.notify(_reason(exc), title="Could not resolve", severity="error")
            return
        app.notify(said, title="Resolved")

    # --- human input -----------------------------------------------------------------------

    def find_request(
        self, request_id: str | None = None, *, local_id: str | None = None
    ) -> HumanRequest | None:
        """The waiting request asked for: by id, by run, or the oldest. Says why when none."""
        pending: list[HumanRequest] = [r for r in self.app.engine.inbox() if r.answered is None]
        if request_id is not None:
            found = [r for r in pending if r.id == request_id]
            if not found:
                self.app.notify("That request is no longer waiting for an answer.", title="Inbox")
            return found[0] if found else None
        if local_id is not None:
            run = self.app.engine.run(local_id)
            found = [
                r
                for r in pending
                if r.local_id == local_id
                or (run is not None and run.kickoff_id and r.kickoff_id == run.kickoff_id)
            ]
            if not found:
                self.app.notify("This run is not waiting for human input.", title="Answer")
                return None
            return min(found, key=lambda r: r.received_at)
        if not pending:
            self.app.notify("No request is waiting for an answer.", title="Inbox")
            return None
        return min(pending, key=lambda r: r.received_at)

    def answer(self, request: HumanRequest, *, by_itself: bool = False) -> bool:
        """Open the modal for exactly this request (one at a time). False if one is open.
        `by_itself`: nobody asked for it; keys typed as it appears must not land in it."""
        from crewdash.tui.screens.human_input import HumanInputModal

        if self._answering is not None or getattr(self.app, "read_only", False):
            return False
        self._answering = request.id

        def closed(outcome: Any) -> None:
            self._answering = None
            self.app.answer_closed(request, outcome)

        settle = SETTLE_SECONDS if by_itself else 0.0
        self.app.push_screen(HumanInputModal(self.app.engine, request, settle=settle), closed)
        return True
