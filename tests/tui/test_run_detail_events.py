"""The run detail's Events tab against a fake engine: the timeline, live as events arrive,
following the newest unless the operator moved up; `v` shows one raw (Escape closes); what
it says when there are none (only polling, started without webhooks, waiting)."""

from __future__ import annotations

import json

from events_fixtures import event, raw_of, stream
from rich.json import JSON
from screens_fixtures import NOW, FakeEngine, ScreenApp, completed_run
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, TabbedContent

from crewdash.aop.models import RunState
from crewdash.core.models import RunEventsAdded
from crewdash.tui.screens.raw_event import RawEventModal
from crewdash.tui.screens.run_detail import RunDetailScreen
from crewdash.tui.widgets.event_timeline import (
    NONE_ARRIVED,
    ONLY_POLLING,
    STARTED_WITHOUT_HOOKS,
    WAITING,
    EventTimeline,
    merge_events,
    timeline_note,
)

HOOKS = {"step_url": "http://127.0.0.1:8765/hooks/research/step/x"}


def _engine(events: bool = True, receiver: bool = True, hooks: bool = True) -> FakeEngine:
    running = completed_run(
        state=RunState.RUNNING,
        raw_state="RUNNING",
        result=None,
        finished_at=None,
        webhooks=HOOKS if hooks else {},
    )
    engine = FakeEngine([running])
    engine.receiver_url = "http://127.0.0.1:8765" if receiver else None
    if events:
        engine.events_by_run["run-1"] = stream()
    return engine


def _app(engine: FakeEngine) -> ScreenApp:
    return ScreenApp(lambda: RunDetailScreen(engine, "run-1"))


def _lines(screen: RunDetailScreen) -> list[str]:
    listing = screen.query_one("#events-list", OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


def _note(screen: RunDetailScreen) -> Static:
    return screen.query_one("#events-note", Static)


async def _on_events_tab(app: ScreenApp, pilot: Pilot[None]) -> RunDetailScreen:
    """The run detail the app opened, on its Events tab."""
    screen = app.screen
    assert isinstance(screen, RunDetailScreen)
    screen.query_one(TabbedContent).active = "tab-events"
    await pilot.pause()
    return screen


async def test_the_events_tab_lists_each_event_on_one_line_in_order() -> None:
    app = _app(_engine())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _on_events_tab(app, pilot)
        lines = _lines(screen)
        assert len(lines) == 5
        assert lines[0].startswith("11:55:14  ⚙ tool  search_web(")
        assert "AI agent frameworks 2026" in lines[0] and "(Senior Researcher)" in lines[0]
        assert lines[1].startswith("11:55:41  • step  Thought: I have enough sources. → Found")
        assert lines[2].startswith("11:55:57  ✓ task  research ended (Senior Researcher): Found")
        assert lines[3].startswith("11:56:02  ⚙ tool  read_file(")
        assert lines[4].startswith("11:56:10  ? event zz (not understood; keys:")
        assert not _note(screen).display  # events to show: no note
        assert screen.query_one(EventTimeline).selected == stream()[-1]  # following the newest


async def test_new_events_appear_live_and_the_newest_stays_selected() -> None:
    engine = _engine()
    app = _app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _on_events_tab(app, pilot)
        late = event(6, NOW - 200, webhook="task", task_id="analyse", output="Three designs.")
        engine.events_by_run["run-1"].append(late)
        engine.publish(RunEventsAdded("run-1"))
        await pilot.pause()
        assert len(_lines(screen)) == 6
        assert _lines(screen)[-1].startswith("11:56:40  ✓ task  analyse ended: Three designs.")
        assert screen.query_one(EventTimeline).selected == late
        # another run's events change nothing here
        engine.events_by_run["run-1"].append(event(7, NOW - 190, webhook="crew", status="x"))
        engine.publish(RunEventsAdded("run-2"))
        await pilot.pause()
        assert len(_lines(screen)) == 6


async def test_a_line_the_operator_moved_to_stays_selected_as_events_come() -> None:
    engine = _engine()
    app = _app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _on_events_tab(app, pilot)
        screen.query_one("#events-list", OptionList).focus()
        await pilot.press("home", "down")
        assert screen.query_one(EventTimeline).selected == stream()[1]
        engine.events_by_run["run-1"].append(event(6, NOW - 200, webhook="step", thought="t"))
        engine.publish(RunEventsAdded("run-1"))
        await pilot.pause()
        assert len(_lines(screen)) == 6
        assert screen.query_one(EventTimeline).selected == stream()[1]


async def test_v_shows_the_selected_event_raw_and_escape_closes_it() -> None:
    app = _app(_engine())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _on_events_tab(app, pilot)
        screen.query_one("#events-list", OptionList).focus()
        await pilot.press("home")
        await pilot.press("v")
        modal = app.screen
        assert isinstance(modal, RawEventModal)
        assert modal.event == stream()[0]
        rendered = modal.query_one("#raw-event-json", Static).content
        assert isinstance(rendered, JSON)
        shown = rendered.text.plain
        assert json.loads(shown) == raw_of(stream()[0])  # the whole delivery, as JSON
        assert '"tool": "search_web"' in shown  # pretty: one key a line
        await pilot.press("escape")
        assert app.screen is screen
        # copy on the Events tab takes the selected event's raw JSON
        await pilot.press("y")
        assert app.clipboard_text == stream()[0].raw


async def test_v_belongs_to_the_events_tab_only() -> None:
    app = _app(_engine())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        assert screen.query_one(TabbedContent).active == "tab-output"
        assert screen.check_action("raw_event", ()) is False
        await pilot.press("v")
        assert app.screen is screen
        screen.query_one(TabbedContent).active = "tab-events"
        await pilot.pause()
        assert screen.check_action("raw_event", ()) is True


async def test_v_without_events_says_there_is_none() -> None:
    app = _app(_engine(events=False))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _on_events_tab(app, pilot)
        await pilot.press("v")
        assert app.screen is screen
        assert app.notes[-1] == "No event to show: none has arrived for this run."


async def test_without_the_receiver_the_tab_says_only_polling() -> None:
    app = _app(_engine(events=False, receiver=False, hooks=False))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _on_events_tab(app, pilot)
        assert _note(screen).display and str(_note(screen).render()) == ONLY_POLLING
        assert not screen.query_one("#events-list", OptionList).display


def test_the_note_says_why_there_are_no_events() -> None:
    assert timeline_note(3, receiver_on=False, run_has_hooks=False) == ""
    assert timeline_note(0, receiver_on=False, run_has_hooks=False) == ONLY_POLLING
    assert timeline_note(0, receiver_on=True, run_has_hooks=False) == STARTED_WITHOUT_HOOKS
    assert timeline_note(0, receiver_on=True, run_has_hooks=True) == WAITING
    assert timeline_note(0, receiver_on=False, run_has_hooks=True) == WAITING
    assert timeline_note(0, receiver_on=True, run_has_hooks=True, final=True) == NONE_ARRIVED
    assert timeline_note(0, receiver_on=False, run_has_hooks=False, final=True) == ONLY_POLLING


async def test_the_waiting_note_gives_way_to_the_first_event() -> None:
    engine = _engine(events=False)
    app = _app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _on_events_tab(app, pilot)
        assert str(_note(screen).render()) == WAITING
        engine.events_by_run["run-1"] = stream()[:1]
        engine.publish(RunEventsAdded("run-1"))
        await pilot.pause()
        assert not _note(screen).display
        assert screen.query_one("#events-list", OptionList).display
        assert len(_lines(screen)) == 1


def test_merging_keeps_the_newest_by_arrival_in_the_order_they_happened() -> None:
    shown = stream()  # ids 1..5
    late = event(6, NOW - 295, webhook="step", thought="sent first, came last")
    merged = merge_events(shown, [late])
    assert merged[0] == late and len(merged) == 6
    assert merge_events(shown, []) == shown
    # the bound drops the oldest arrivals, as the store does
    assert [e.id for e in merge_events(shown, [late], keep=3)] == [6, 4, 5]


async def test_a_late_event_is_placed_by_its_time_and_only_new_ones_are_read() -> None:
    engine = _engine()
    reads: list[int] = []
    original = engine.run_events

    def counting(local_id: str, after: int = 0) -> list:
        reads.append(after)
        return original(local_id, after)

    engine.run_events = counting  # type: ignore[method-assign]  # count its reads
    app = _app(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _on_events_tab(app, pilot)
        late = event(6, NOW - 295, webhook="step", thought="sent first, came last")
        engine.events_by_run["run-1"].append(late)
        engine.publish(RunEventsAdded("run-1"))
        await pilot.pause()
        assert reads[0] == 0 and reads[-1] == 5  # after the first read: only what is new
        assert _lines(screen)[0].startswith("11:55:05  • step  sent first, came last")
        assert len(_lines(screen)) == 6
