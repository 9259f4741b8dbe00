"""The crewdash Textual app: owns the engine's lifetime on its event loop, routes engine events
to the screen, opens the screens engineer B wrote, and gets the operator's attention.

`CrewdashApp(engine).run()` returns what should happen next: None (quit), "demo" (open the demo)
or "reload" (the config changed on the first-run screen: build a new engine and come back).

Given an engine, the app starts it at mount (tests). Given a `DeferredEngine` (the `crewdash`
command), it paints the first frame first, then builds and starts the engine in a worker,
saying "connecting…" in the header meanwhile: start-up does not wait for the HTTP stack.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from textual import events, work
from textual.app import App
from textual.screen import Screen
from textual.widgets import Input

from crewdash.aop.models import RunState
from crewdash.core import models
from crewdash.core.models import AnswerOutcome
from crewdash.tui.bindings import APP_BINDINGS
from crewdash.tui.engine_handle import CONNECTING, DeferredEngine
from crewdash.tui.format import short_id, theme_colors
from crewdash.tui.gc_pacer import GcPacer
from crewdash.tui.notify import Notifier
from crewdash.tui.ui_state import UiState

if TYPE_CHECKING:
    from crewdash.core.engine import Engine
    from crewdash.core.models import Event, HumanRequest, RunRecord

AppResult = Literal["demo", "reload"] | None


class CrewdashApp(App[AppResult]):
    """The dashboard. `now` is the clock screens read (frozen in snapshot tests)."""

    TITLE = "crewdash"
    SUB_TITLE = "CrewAI AOP console"
    # screens.tcss is engineer B's (run detail, modals); both are optional while it lands
    CSS_PATH = [
        Path(__file__).parent / p
        for p in ("styles/app.tcss", "styles/screens.tcss")
        if (Path(__file__).parent / p).exists()
    ]  # absolute: Textual resolves relative paths against a subclass's own module
    BINDINGS = APP_BINDINGS

    def __init__(
        self,
        engine: Engine | DeferredEngine,
        *,
        now: Callable[[], float] = time.time,
        data_dir: Path | None = None,
        config_path: Path | None = None,
        manage_engine: bool = True,
        demo: bool = False,
        after_first_frame: Callable[[], None] | None = None,
    ) -> None:
        from crewdash.tui.commands import CrewdashCommands

        super().__init__()
        self.COMMANDS = self.COMMANDS | {CrewdashCommands}
        self.engine = engine
        self.now = now
        self.config_path = config_path
        self.demo = demo
        self.ui_state = UiState(data_dir / "ui-state.json" if data_dir else None)
        self._manage_engine = manage_engine
        #: called once the first frame is on the screen (the `crewdash` command's start-up)
        self._after_first_frame = after_first_frame
        self._unsubscribe: Callable[[], None] | None = None
        self._answering: str | None = None  # request id whose modal is open
        self._seen_requests: set[str] = set()
        self.engine_ready = False
        #: set once the engine runs and the main screen shows what it knows (tests await it)
        self.dashboard_ready = asyncio.Event()
        self._signals: list[signal.Signals] = []
        self.gc_pacer = GcPacer()  # see gc_pacer.py: full collections when the operator pauses
        self._exit_waits = 0  # refreshes `exit` has waited for a mount to finish
        #: SIGTERM/SIGHUP end the app (None: only on a real terminal, not under `run_test`,
        #: where the handler would make a hung test process ignore the harness's SIGTERM)
        self.install_signal_handlers: bool | None = None
        ui = engine.config.ui
        self.notifier = Notifier(
            toast=lambda body, title, severity: self.notify(
                body,
                title=title,
                severity=severity,  # type: ignore[arg-type]
            ),
            write=self._write_escape,
            bell=ui.bell,
            desktop=ui.desktop_notify,
        )

    # --- start and stop -------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        """The main screen is the bottom of the stack (no blank screen under it to build and
        paint first: measured ~60 ms less to the first frame). No crews: the first-run screen
        goes on top of a blank one, which it leaves by exiting the app."""
        if self.engine.config.crews:
            from crewdash.tui.screens.main import MainScreen

            return MainScreen()
        return super().get_default_screen()

    def colors(self) -> dict[str, str]:
        return theme_colors(self)

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        # Textual installs no SIGTERM/SIGHUP handler: without these the terminal stays raw.
        install = self.install_signal_handlers
        if install is None:
            install = not self.is_headless
        for sig in (signal.SIGTERM, signal.SIGHUP) if install else ():
            try:
                loop.add_signal_handler(sig, self.exit)
                self._signals.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread or not a Unix loop
        ui = self.engine.config.ui
        if ui.theme in self.available_themes:
            self.theme = ui.theme
        if ui.keymap:
            self.set_keymap(dict(ui.keymap))
        if not self.engine.config.crews:
            from crewdash.tui.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen())
        self._unsubscribe = self.engine.subscribe(self._on_engine_event)
        self.set_interval(2.0, self._prune_footer_watchers, name="footer-watchers")
        if not self.is_headless:
            # on a real terminal only: tests run many apps in one process
            self.call_after_refresh(self.gc_pacer.start)
            self.set_interval(5.0, self.gc_pacer.tick, name="gc-pacer")
        if self._after_first_frame is not None:
            self.call_after_refresh(self._after_first_frame)
        if isinstance(self.engine, DeferredEngine) and self._manage_engine:
            # first frame first: the engine's imports and start-up come after it
            self.sub_title = CONNECTING
            self.call_after_refresh(self.start_engine)
        else:
            self.start_engine()

    def exit(
        self,
        result: AppResult = None,
        return_code: int = 0,
        message: Any | None = None,
    ) -> None:
        """Leave, once no widget is half-mounted. Leaving tears the DOM down at once: a widget
        mounting then (the form, built just after start) loses its children before its own
        mount handler runs, which raises (InputForm's, Textual's Select's) and prints a
        traceback on the way out. A mount takes milliseconds: wait for it, a bounded time;
        then stop the workers that build forms, so that none starts another."""
        if self._exit_waits < 100 and any(
            not widget.is_mounted for widget in self.screen.walk_children(with_self=False)
        ):
            self._exit_waits += 1
            self.call_after_refresh(self.exit, result, return_code, message)
            return
        for worker in self.workers:
            if worker.group == "form":
                worker.cancel()
        super().exit(result, return_code, message)

    @work(exclusive=True, group="engine", name="start engine")
    async def start_engine(self) -> None:
        if self._manage_engine:
            await self.engine.start()
        self.engine_ready = True
        if self.sub_title == CONNECTING:
            self.sub_title = type(self).SUB_TITLE
        main = self.main_screen
        if main is not None and main.ready:
            main.engine_started()
        for request in self.engine.inbox():
            self._seen_requests.add(request.id)
        if self.engine.inbox():
            self.call_after_refresh(self.maybe_open_request)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.gc_pacer.input_seen()  # no full garbage collection while the operator acts
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self.gc_pacer.stop()
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._manage_engine and self.engine_ready:
            await self.engine.stop()

    def _prune_footer_watchers(self) -> None:
        """Drop the Footer's watchers whose key widget has left the DOM.

        Textual 8's Footer recomposes on every focus change; each new FooterKey binds to the
        Footer's `compact` and the binding outlives the key. `watch()` scans that list, so
        every focus change got slower: measured on a pty, `/` then Esc 60 times took the
        filter's appearance from ~30 to ~300 ms and RSS up 0.5 MB per round trip."""
        from textual.dom import DOMNode
        from textual.widgets import Footer

        for screen in self.screen_stack:
            for footer in screen.query(Footer):
                for entries in getattr(footer, "__watchers", {}).values():
                    entries[:] = [
                        (node, callback)
                        for node, callback in entries
                        if not isinstance(node, DOMNode) or node.is_attached
                    ]

    def _write_escape(self, data: str) -> None:
        # Textual has no public way to write an escape sequence; `bell()` and
        # `copy_to_clipboard()` use the driver the same way.
        driver = getattr(self, "_driver", None)
        if driver is not None and not self.is_headless:
            driver.write(data)

    @property
    def main_screen(self) -> Any:
        from crewdash.tui.screens.main import MainScreen

        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    # --- engine events --------------------------------------------------------------------

    def _on_engine_event(self, event: Event) -> None:
        """Called on the event loop for every engine event; must be quick.

        The event classes are looked up on `crewdash.core.models` when the first event comes
        (they are built on first use, after the first frame)."""
        main = self.main_screen
        ready = main is not None and main.ready
        if isinstance(event, models.RunChanged):
            previous: RunRecord | None = main.runs.record(event.run.local_id) if ready else None
            if ready:
                main.on_engine_event(event)
            self._announce_run(previous, event.run)
            return
        if ready:
            main.on_engine_event(event)
        if isinstance(event, models.InboxChanged):
            self._on_request(event.request)

    def _announce_run(self, previous: RunRecord | None, run: RunRecord) -> None:
        if previous is None or previous.is_final or not run.is_final:
            return
        name = f"{run.crew} {short_id(run.kickoff_id)}"
        if run.state is RunState.COMPLETED:
            self.notifier("Run completed", f"{name} completed", loud=True)
        elif run.state is RunState.ERROR:
            detail = f": {run.error}" if run.error else ""
            self.notifier("Run failed", f"{name} failed{detail}", severity="error", loud=True)

    def _on_request(self, request: HumanRequest) -> None:
        if request.answered is not None or request.id in self._seen_requests:
            return
        self._seen_requests.add(request.id)
        opening = self.can_open_request()
        self.notifier(
            "Human input needed",
            f"{request.crew} asks: {request.prompt or 'review the output'}"
            + (" (Esc, then i to answer)" if self.is_typing() else ""),
            severity="warning",
            loud=True,
            toast=not opening,  # the modal itself says it; a toast would cover its buttons
        )
        self.maybe_open_request()

    def is_typing(self) -> bool:
        """Whether the operator is typing in a form (then a request waits for `i`)."""
        return self._text_field_focused() and self.focused.id != "filter"  # type: ignore[union-attr]

    def _text_field_focused(self) -> bool:
        # TextArea is imported only by the screens that use it (its import costs start-up)
        text_area = sys.modules.get("textual.widgets._text_area")
        kinds = (Input, text_area.TextArea) if text_area is not None else (Input,)
        return isinstance(self.focused, kinds)

    def on_key(self, event: events.Key) -> None:
        """A printable key that bubbled up to the app while a text field has the focus was
        typed before the focus moved there: the app hands each key to the focused widget as
        it arrives, so letters queued behind `n` or `/` (a paste, a fast typist) went to the
        widget the focus left, then up here. Give them to the field. (A focused field takes
        its own printable keys: they never bubble.)"""
        if event.is_printable and self._text_field_focused():
            event.prevent_default()  # no binding for it: it is text now
            event.stop()
            self.focused.post_message(events.Key(event.key, event.character))  # type: ignore[union-attr]

    def can_open_request(self) -> bool:
        """Whether a request's modal may open now: not typing, nothing else on top."""
        if self._answering is not None or self.is_typing() or len(self.screen_stack) > 1:
            return False
        return self.screen is self.main_screen

    def maybe_open_request(self) -> None:
        if self.can_open_request():
            self.action_answer_next()

    # --- actions used by screens and bindings ---------------------------------------------

    def action_answer_next(self) -> None:
        """Open the human-input modal for the oldest pending request."""
        if self._answering is not None:
            return
        pending = [r for r in self.engine.inbox() if r.answered is None]
        if not pending:
            self.notify("No request is waiting for an answer.", title="Inbox")
            return
        self.answer(min(pending, key=lambda r: r.received_at))

    def answer(self, request: HumanRequest) -> None:
        from crewdash.tui.screens.human_input import HumanInputModal

        self._answering = request.id

        def done(outcome: Any) -> None:
            self._answering = None
            main = self.main_screen
            if main is not None:
                main.status.set_inbox(len(self.engine.inbox()))
            # A request that arrived while this one was open (a re-ask after "request
            # changes", say) waited for it: open it now. Not after an Esc, though: then the
            # operator chose to put requests aside, and `i` brings them back; nor after a failed
            # send, which would reopen the same request at once.
            if outcome is not None and outcome is not AnswerOutcome.FAILED:
                self.call_after_refresh(self.maybe_open_request)

        self.push_screen(HumanInputModal(self.engine, request), done)

    def action_inbox(self) -> None:
        from crewdash.tui.screens.inbox import InboxScreen

        self.push_screen(InboxScreen(self.engine))

    def action_help(self) -> None:
        from crewdash.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def open_run(self, local_id: str) -> None:
        from crewdash.tui.screens.run_detail import RunDetailScreen

        self.push_screen(RunDetailScreen(self.engine, local_id), self._run_again)

    def _run_again(self, result: Any) -> None:
        if result is None:
            return
        if result.edit:
            main = self.main_screen
            if main is not None:
                main.prefill(result.crew, dict(result.inputs))
        else:
            self.start_run(result.crew, dict(result.inputs))

    @work(group="kickoff", name="kickoff")
    async def start_run(self, crew: str, inputs: dict[str, Any]) -> None:
        self.remember_inputs(crew, inputs)
        try:
            run = await self.engine.kickoff(crew, inputs)
        except Exception as exc:
            self.notify(str(exc) or type(exc).__name__, title="Kickoff failed", severity="error")
            return
        if run.kickoff_id:
            self.notify(f"{crew} started: {short_id(run.kickoff_id)}", title="Run started")
            main = self.main_screen
            if main is not None and self.screen is main:
                main.show_run(run.local_id)
                self.maybe_open_request()
        else:
            self.notify(
                run.error or "no kickoff id", title="Kickoff not confirmed", severity="warning"
            )

    def confirm_stop(self, local_id: str) -> None:
        from crewdash.tui.screens.confirm import ConfirmModal

        run = self.engine.run(local_id)
        if run is None or run.is_final:
            self.notify("That run has already finished.", title="Stop")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.stop_run(local_id)

        question = f"Stop {run.crew} run {short_id(run.kickoff_id)}?"
        self.push_screen(ConfirmModal(question, confirm_label="Stop", danger=True), answered)

    @work(group="stop", name="stop run")
    async def stop_run(self, local_id: str) -> None:
        try:
            run = await self.engine.stop_run(local_id)
        except Exception as exc:
            self.notify(str(exc) or type(exc).__name__, title="Stop failed", severity="error")
            return
        self.notify(f"{run.crew} {short_id(run.kickoff_id)}: {run.state.value}", title="Stop")

    @work(group="refresh", name="poll now")
    async def refresh_run(self, local_id: str) -> None:
        try:
            await self.engine.refresh(local_id)
        except Exception as exc:
            self.notify(str(exc) or type(exc).__name__, title="Poll failed", severity="error")

    # --- remembered inputs ----------------------------------------------------------------
    # Kept in the run store's meta ("last_inputs:<crew>") when the engine has a store, else
    # in the ui-state file. Written from a handler: one small SQLite row, no network.

    def last_inputs(self, crew: str) -> dict[str, Any]:
        store = getattr(self.engine, "store", None)
        if store is not None:
            raw = store.get_meta(f"last_inputs:{crew}")
            try:
                value = json.loads(raw) if raw else {}
            except ValueError:
                value = {}
        else:
            value = self.ui_state.get("last_inputs", {}).get(crew)
        return dict(value) if isinstance(value, dict) else {}

    def remember_inputs(self, crew: str, inputs: dict[str, Any]) -> None:
        store = getattr(self.engine, "store", None)
        if store is not None:
            store.set_meta(f"last_inputs:{crew}", json.dumps(inputs, default=str))
            return
        remembered = dict(self.ui_state.get("last_inputs", {}))
        remembered[crew] = inputs
        self.ui_state.set("last_inputs", remembered)
