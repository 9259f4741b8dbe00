"""The crewdash Textual app: owns the engine's lifetime on its event loop, opens the screens and
carries out what they ask for. Routing the engine's events and getting the operator's attention
is its base class's (app_events.py).

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
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events, work
from textual.app import App
from textual.binding import BindingType
from textual.screen import Screen
from textual.widget import Widget

from crewdash.core.models import AnswerOutcome
from crewdash.tui.app_events import AppResult, EngineEventsApp
from crewdash.tui.bindings import APP_BINDINGS, allowed
from crewdash.tui.engine_handle import CONNECTING, DeferredEngine
from crewdash.tui.format import theme_colors
from crewdash.tui.gc_pacer import GcPacer
from crewdash.tui.messages import (
    AnswerRequest,
    DiffRuns,
    EditRun,
    EngineReady,
    MarkRun,
    OpenCrewTrends,
    OpenInbox,
    OpenRun,
    PollRun,
    Prefill,
    ResolveRun,
    ShowRun,
    StartRun,
    StopRun,
)
from crewdash.tui.notify import Notifier
from crewdash.tui.run_actions import RunActions
from crewdash.tui.run_marks import RunMarks
from crewdash.tui.textual_compat import (
    crop_partial_updates,
    guard_option_list_paging,
    prune_footer_watchers,
    write_to_terminal,
)
from crewdash.tui.ui_state import UiState

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.notifications import SeverityLevel

    from crewdash.core.engine import Engine
    from crewdash.core.models import HumanRequest, RunRecord


def crewdash_commands() -> type[Provider]:
    """The command palette's crewdash verbs (imported when the palette first opens)."""
    from crewdash.tui.commands import CrewdashCommands

    return CrewdashCommands


class CrewdashApp(EngineEventsApp):
    """The dashboard. `now` is the clock screens read (frozen in snapshot tests)."""

    TITLE = "crewdash"
    SUB_TITLE = "CrewAI AOP console"
    READ_ONLY_SUB_TITLE = "CrewAI AOP console · read-only"
    # screens.tcss is engineer B's (run detail, modals); both are optional while it lands
    CSS_PATH = [
        Path(__file__).parent / p
        for p in ("styles/app.tcss", "styles/screens.tcss")
        if (Path(__file__).parent / p).exists()
    ]  # absolute: Textual resolves relative paths against a subclass's own module
    BINDINGS: ClassVar[list[BindingType]] = list(APP_BINDINGS)  # a copy: the type is wider
    # a callable: the palette's provider is imported when the palette opens, not at start-up
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = App.COMMANDS | {
        crewdash_commands
    }

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
        read_only: bool = False,
    ) -> None:
        super().__init__()
        #: no verb that changes anything exists (bindings.MUTATING_ACTIONS): `--read-only`
        self.read_only = read_only
        if read_only:
            self.sub_title = self.READ_ONLY_SUB_TITLE
        guard_option_list_paging()  # see textual_compat: a Textual 8.2 defect ended the app
        crop_partial_updates()  # see textual_compat: a clock tick wrote whole rows
        self.engine = engine
        self.now = now
        self.config_path = config_path
        self.demo = demo
        self.ui_state = UiState(data_dir / "ui-state.json" if data_dir else None)
        self.crash_dir = data_dir
        self._manage_engine = manage_engine
        #: called once the first frame is on the screen (the `crewdash` command's start-up)
        self._after_first_frame = after_first_frame
        self._unsubscribe: Callable[[], None] | None = None
        self.actions = RunActions(self)
        self.marks = RunMarks(self)  # the run marked for a diff (m, then d on another)
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
                severity=cast("SeverityLevel", severity),  # Notifier's are Textual's
            ),
            write=self._write_escape,
            bell=ui.bell,
            desktop=ui.desktop_notify,
            rules=self._notify_rules,
            now=now,  # quiet hours are read on the dashboard's clock
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

    def color_map(self) -> dict[str, str]:
        """The theme's colours by role (not `colors`: DOMNode's property has that name)."""
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
        self.set_interval(1.0, self._offer_request, name="offer-request")
        if not self.is_headless:
            # on a real terminal only: tests run many apps in one process
            self.call_after_refresh(self.gc_pacer.start)
            self.set_interval(5.0, self.gc_pacer.tick, name="gc-pacer")
        if self._after_first_frame is not None:
            self.call_after_refresh(self._after_first_frame)
        if isinstance(self.engine, DeferredEngine) and self._manage_engine:
            # first frame first: the engine's imports and start-up come after it
            self.sub_title = CONNECTING + (" · read-only" if self.read_only else "")
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
            not widget.is_mounted for widget in self.screen.walk_children(Widget, with_self=False)
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
        if self.sub_title.startswith(CONNECTING):
            self.sub_title = self.READ_ONLY_SUB_TITLE if self.read_only else self.SUB_TITLE
        main = self.main_screen
        if main is not None:
            main.post_message(EngineReady())
        waiting = [r for r in self.engine.inbox() if r.answered is None]
        self._waiting.update((r.id, r) for r in waiting)
        self.attention.known(self._waiting)  # the badge says they wait; no toast for each
        self.call_after_refresh(self._offer_request)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.gc_pacer.input_seen()  # no full garbage collection while the operator acts
            self.attention.input_seen()  # no modal opens by itself under the operator's keys
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self.gc_pacer.stop()
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._manage_engine and (self.engine_ready or isinstance(self.engine, DeferredEngine)):
            # a deferred engine stops at any stage: one still starting on its own thread
            # must not go on writing to a store that is closed next
            await self.engine.stop()

    def _prune_footer_watchers(self) -> None:
        prune_footer_watchers(list(self.screen_stack))

    def _write_escape(self, data: str) -> None:
        write_to_terminal(self, data)

    # --- what screens ask for (messages from crewdash.tui.messages) -----------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, action)

    def on_start_run(self, message: StartRun) -> None:
        if not self.read_only:  # no key or button of a read-only app asks; a bug must not
            self.actions.start(message.crew, message.inputs)

    def on_stop_run(self, message: StopRun) -> None:
        if not self.read_only:
            self.actions.confirm_stop(message.local_id)

    def on_poll_run(self, message: PollRun) -> None:
        self.actions.poll(message.local_id)

    def on_resolve_run(self, message: ResolveRun) -> None:
        if not self.read_only:
            self.actions.resolve(message.local_id)

    def on_open_run(self, message: OpenRun) -> None:
        from crewdash.tui.screens.run_detail import RunDetailScreen

        if self.engine.run(message.local_id) is not None:
            self.push_screen(RunDetailScreen(self.engine, message.local_id))

    def on_edit_run(self, message: EditRun) -> None:
        main = self.main_screen
        if main is not None and not self.read_only:
            main.post_message(Prefill(message.crew, message.inputs))

    def on_answer_request(self, message: AnswerRequest) -> None:
        if self.read_only:
            return
        if self.actions.answering is not None:
            self.notify("Finish or close the request that is open first.", title="Answer")
            return
        request = self.actions.find_request(message.request_id, local_id=message.local_id)
        if request is not None:
            self.actions.answer(request)

    def on_open_inbox(self, message: OpenInbox) -> None:
        self.action_inbox()

    def on_open_crew_trends(self, message: OpenCrewTrends) -> None:
        from crewdash.tui.screens.crew_trends import CrewTrendsScreen

        crew = self.engine.config.crews.get(message.crew)
        if crew is not None and not isinstance(self.screen, CrewTrendsScreen):
            self.push_screen(CrewTrendsScreen(message.crew, crew.title))

    def on_mark_run(self, message: MarkRun) -> None:
        self.marks.toggle(message.local_id)

    def on_diff_runs(self, message: DiffRuns) -> None:
        self.marks.diff(message.local_id)

    # --- what the actions tell the app (run_actions.ActionApp) ----------------------------

    def run_started(self, run: RunRecord) -> None:
        main = self.main_screen
        if main is not None and self.screen is main:
            main.post_message(ShowRun(run.local_id))

    def answer_closed(self, request: HumanRequest, outcome: Any) -> None:
        if outcome is None:
            self.attention.set_aside(request.id)  # Esc: it waits for `i`, never pops up again
        elif outcome is not AnswerOutcome.FAILED:
            self._waiting.pop(request.id, None)
        if outcome is AnswerOutcome.SUPERSEDED:
            # the operator answered a pause that had moved on: show what waits now instead
            newer = self.engine.superseded_by(request.id)
            if newer is not None and newer.answered is None:
                self.call_after_refresh(self.actions.answer, newer)
                return
        self.call_after_refresh(self._offer_request)

    # --- keys of the app ------------------------------------------------------------------

    def action_answer_next(self) -> None:
        """`i` where the screen has no run of its own: the oldest waiting request."""
        self.post_message(AnswerRequest())

    def action_inbox(self) -> None:
        from crewdash.tui.screens.inbox import InboxScreen

        if not isinstance(self.screen, InboxScreen):
            self.push_screen(InboxScreen(self.engine))

    def action_audit(self) -> None:
        from crewdash.tui.screens.audit import AuditScreen

        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen(self.engine))

    def action_help(self) -> None:
        from crewdash.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

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


__all__ = ["AppResult", "CrewdashApp"]
