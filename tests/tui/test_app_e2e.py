"""The dashboard end to end: the real engine, a real SQLite store and the simulator over
loopback HTTP. What an operator does: pick a crew, fill the form (a wrong value first), start
a run, watch its row reach completed, open its detail; see a crew go offline and come back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Input

from crewdash.aop.models import RunState
from crewdash.core.engine import Engine
from crewdash.core.models import CrewHealth, CrewHealthChanged, Event, RunChanged
from crewdash.core.monitor.poller import MonitorSettings
from crewdash.core.store.database import RunStore
from crewdash.tui.app import CrewdashApp
from crewdash.tui.messages import StartRun
from tests.sim_config import sim_config

# Waits for the engine or the UI end here, not at CI's limit; generous, as CI's 2 cores are
# shared (runs of the testing scenario end in well under a second when idle).
DEADLINE = 60.0


@pytest.fixture
async def dashboard(sim_server: Any, tmp_path: Path) -> AsyncIterator[Callable[..., CrewdashApp]]:
    stores: list[RunStore] = []

    def make(
        names: list[str], server: Any = None, settings: MonitorSettings | None = None
    ) -> CrewdashApp:
        store = RunStore.open(tmp_path / "runs.sqlite3", channel="dashboard")
        stores.append(store)
        config = sim_config(server or sim_server, names)
        engine = Engine(config, store, monitor_settings=settings)
        return CrewdashApp(engine, data_dir=tmp_path)

    yield make
    for store in stores:
        store.close()


def expect_event(app: CrewdashApp, wanted: Callable[[Event], bool]) -> asyncio.Future[Event]:
    """The first engine event that matches. Subscribed now, before the caller acts, so it
    cannot be missed; fails after a deadline generous enough for a loaded CI machine."""
    loop = asyncio.get_running_loop()
    found: asyncio.Future[Event] = loop.create_future()

    def on_event(event: Event) -> None:
        if not found.done() and wanted(event):
            found.set_result(event)

    def expire() -> None:
        if not found.done():
            found.set_exception(TimeoutError(f"no such engine event within {DEADLINE} s"))

    unsubscribe = app.engine.subscribe(on_event)
    timer = loop.call_later(DEADLINE, expire)
    found.add_done_callback(lambda _: (unsubscribe(), timer.cancel()))
    return found


async def form_loaded(pilot: Any, app: CrewdashApp, crew: str) -> Any:
    """The form of `crew`, once mounted (not the previous crew's, still on screen)."""
    from crewdash.tui.widgets.input_form import InputForm

    main = app.main_screen
    title = app.engine.config.crews[crew].title
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while loop.time() < deadline:
        forms = main.query(InputForm)
        titles = main.query(".form-title")
        if (
            main.crew == crew
            and forms
            and titles
            and title in str(titles.first().render())
            and forms.first().specs
            and forms.first().query(Input)
        ):
            return forms.first()
        await pilot.pause(0.01)
    raise AssertionError(f"the form of {crew} never loaded")


async def test_start_a_run_from_the_form_watch_it_complete_and_open_it(
    dashboard: Callable[..., CrewdashApp], sim_stats: Any, sim_server: Any
) -> None:
    from crewdash.tui.screens.run_detail import RunDetailScreen

    app = dashboard(["basic", "legacy"])
    async with app.run_test(size=(120, 36)) as pilot:
        await asyncio.wait_for(app.dashboard_ready.wait(), DEADLINE)
        main = app.main_screen
        # pick the crew with typed inputs
        main.crews.focus()
        await pilot.press("down")
        form = await form_loaded(pilot, app, "legacy")
        await pilot.press("n")
        count = form.field("count").query_one(Input)
        assert app.focused is count
        await pilot.press(*"twelve")
        await pilot.press("ctrl+s")
        assert form.errors()["count"] == "input 'count' expects a whole number, got 'twelve'"
        shown = form.field("count").query_one(".field-error").render()
        assert "expects a whole number, got 'twelve'" in str(shown)
        count.value = "12"
        form.field("ratio").query_one(Input).value = "0.5"
        await pilot.pause()
        assert "count" not in form.errors()
        completed = expect_event(
            app,
            lambda e: (
                isinstance(e, RunChanged)
                and e.run.crew == "legacy"
                and e.run.state is RunState.COMPLETED
            ),
        )
        form.focus()
        await pilot.press("ctrl+s")
        event = await completed
        assert isinstance(event, RunChanged)
        local_id = event.run.local_id
        main.runs.flush()
        await pilot.pause()
        assert main.runs.get_cell(local_id, "state").plain == "✓ completed"
        assert main.runs.get_cell(local_id, "progress").plain.endswith("1/1")
        # the inputs reached the server typed, and are remembered for next time
        assert event.run.inputs["count"] == 12
        assert app.last_inputs("legacy")["count"] == 12
        stats = await sim_stats(sim_server)
        assert stats["kickoffs_accepted"] == 1
        # open the detail from the table
        main.runs.focus()
        main.runs.move_cursor(row=main.runs.get_row_index(local_id))
        await pilot.press("enter")
        assert isinstance(app.screen, RunDetailScreen)


async def test_a_crew_going_offline_and_coming_back(
    dashboard: Callable[..., CrewdashApp], sim_app_factory: Any, sim_serve: Any
) -> None:
    # a run of about 50 s, still going when the crew disappears and comes back even on a
    # loaded machine (at speed 1 it lasted 2.5 s: a slow start let it end first, no more
    # polls, no offline event)
    async with sim_serve(sim_app_factory("testing", speed=0.05)) as server:
        settings = MonitorSettings(offline_after_failures=2, offline_after_seconds=0.2)
        app = dashboard(["basic"], server, settings)
        async with app.run_test(size=(120, 36)) as pilot, httpx.AsyncClient() as http:
            await asyncio.wait_for(app.dashboard_ready.wait(), DEADLINE)
            main = app.main_screen
            await form_loaded(pilot, app, "basic")
            accepted = expect_event(
                app, lambda e: isinstance(e, RunChanged) and e.run.kickoff_id is not None
            )
            app.post_message(StartRun("basic", {"topic": "offline"}))
            local_id = (await accepted).run.local_id  # type: ignore[union-attr]
            offline = expect_event(
                app, lambda e: isinstance(e, CrewHealthChanged) and e.health is CrewHealth.OFFLINE
            )
            control = f"{server.url}/_sim/control"
            response = await http.post(control, json={"crew": "basic", "offline": True})
            assert response.status_code == 200
            await offline
            await pilot.pause()
            main.runs.flush()
            assert str(main.crews.get_option("basic").prompt).startswith("○ basic")
            assert main.crews.health_text("basic") == "offline"
            assert "basic offline" in main.status.render_text().plain
            assert main.runs.get_cell(local_id, "attention").plain == "! offline"
            back = expect_event(
                app, lambda e: isinstance(e, CrewHealthChanged) and e.health is CrewHealth.OK
            )
            await http.post(control, json={"crew": "basic", "offline": False})
            await back
            await pilot.pause()
            main.runs.flush()
            assert str(main.crews.get_option("basic").prompt).startswith("● basic")
            assert main.crews.health_text("basic").startswith("ok")
            assert "offline" not in main.status.render_text().plain
            assert main.runs.get_cell(local_id, "attention").plain == ""


async def test_an_unknown_kickoff_is_resolved_from_the_dashboard(
    dashboard: Callable[..., CrewdashApp], sim_server: Any, tmp_path: Path
) -> None:
    """Issue 12: UNKNOWN was a dead end in the dashboard (`s` said "already finished", `g` did
    nothing). Now `s` and `g` say why they cannot, and `u` adopts the id the operator found."""
    from crewdash.core.models import KickoffPhase
    from crewdash.tui.screens.resolve_unknown import ResolveUnknownModal

    with RunStore.open(tmp_path / "runs.sqlite3") as store:  # a kickoff whose answer was lost
        row = store.create_intent("basic", {"topic": "lost"}, "req-lost", {})
        store.begin_send(row.local_id)
        store.mark_unknown(row.local_id, "the connection dropped after the request was sent")
    async with httpx.AsyncClient() as http:  # what really started on the server
        answer = await http.post(
            f"{sim_server.crew_url('basic')}/kickoff",
            json={"inputs": {"topic": "lost"}},
            headers={"Authorization": f"Bearer {sim_server.token('basic')}"},
        )
    kickoff_id = answer.json()["kickoff_id"]
    app = dashboard(["basic"])
    async with app.run_test(size=(120, 36)) as pilot:
        await asyncio.wait_for(app.dashboard_ready.wait(), DEADLINE)
        main = app.main_screen
        main.runs.flush()
        main.runs.focus()
        await pilot.press("s")
        await pilot.press("g")
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        assert sum("Press u to resolve it" in n for n in notes) == 2, notes
        adopted = expect_event(
            app,
            lambda e: (
                isinstance(e, RunChanged)
                and e.run.local_id == row.local_id
                and e.run.phase is KickoffPhase.ACCEPTED
            ),
        )
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ResolveUnknownModal)
        await pilot.press(*kickoff_id, "enter")
        event = await adopted
        assert isinstance(event, RunChanged) and event.run.kickoff_id == kickoff_id
        finished = expect_event(
            app,
            lambda e: (
                isinstance(e, RunChanged)
                and e.run.local_id == row.local_id
                and e.run.state is RunState.COMPLETED
            ),
        )
        run = app.engine.run(row.local_id)
        if run is None or run.state is not RunState.COMPLETED:
            await finished  # watched from then on, to its end
        else:
            finished.cancel()
    with RunStore.open(tmp_path / "runs.sqlite3") as store:
        actions = store.actions(row.local_id)
        assert [a["action"] for a in actions] == ["kickoff", "adopt"]
        # the lost kickoff was written by this test's own store; the adoption by the app
        assert [a["channel"] for a in actions] == ["unknown", "dashboard"]
