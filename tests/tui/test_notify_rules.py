"""Per-crew notification rules in the dashboard's notification path: which events of a crew
notify at all, with the bell and a desktop notification or not, and quiet hours (toasts only).
The dashboard runs on a fake engine; its clock is frozen at 22:13 UTC."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from crewdash.aop.models import RunState
from crewdash.core.config.model import Config, NotifyRules, UIConfig
from crewdash.core.models import HumanRequest, InboxChanged, RequestSource, RunChanged
from crewdash.tui.app import CrewdashApp
from crewdash.tui.notify import Notifier
from tests.tui.fake_engine import FakeEngine, crew
from tests.tui.test_app_shell import T0, make_run, settle

pytestmark = pytest.mark.usefixtures("utc")  # T0 is 22:13 local

LATE = NotifyRules(quiet_hours="22:00-07:00")


def _notifier(rules: dict[str, NotifyRules], *, at: float = T0) -> tuple[Notifier, list, list]:
    toasts: list[str] = []
    written: list[str] = []
    notifier = Notifier(
        toast=lambda body, title, severity: toasts.append(body),
        write=written.append,
        bell=True,
        desktop=True,
        environ={"TERM_PROGRAM": "iTerm.app"},
        rules=rules.get,
        now=lambda: at,
    )
    return notifier, toasts, written


def test_an_event_the_crew_leaves_out_gets_nothing() -> None:
    notify, toasts, written = _notifier({"ops": NotifyRules(on=("error",))})
    notify("Run completed", "ops 1 completed", loud=True, crew="ops", event="completed")
    assert toasts == [] and written == []
    notify("Run failed", "ops 1 failed", loud=True, crew="ops", event="error")
    assert toasts == ["ops 1 failed"]
    assert written == ["\a", "\x1b]9;Run failed: ops 1 failed\x07"]


def test_quiet_hours_keep_the_toast_and_silence_bell_and_desktop() -> None:
    notify, toasts, written = _notifier({"ops": LATE})
    notify("Run failed", "at night", loud=True, crew="ops", event="error")
    assert toasts == ["at night"] and written == []
    notify, toasts, written = _notifier({"ops": LATE}, at=T0 + 10 * 3600)  # 08:13
    notify("Run failed", "by day", loud=True, crew="ops", event="error")
    assert toasts == ["by day"] and written[0] == "\a" and len(written) == 2


def test_a_crews_bell_and_desktop_override_the_ui_defaults() -> None:
    notify, toasts, written = _notifier({"ops": NotifyRules(bell=False)})
    notify("Run failed", "x", loud=True, crew="ops", event="error")
    assert written == ["\x1b]9;Run failed: x\x07"]  # desktop only
    assert toasts == ["x"]
    notify, toasts, written = _notifier({"ops": NotifyRules(desktop=False)})
    notify("Run failed", "y", loud=True, crew="ops", event="error")
    assert written == ["\a"] and toasts == ["y"]


def test_a_crew_without_rules_notifies_as_the_ui_says() -> None:
    notify, toasts, written = _notifier({})
    notify("Run failed", "x", loud=True, crew="other", event="error")
    assert toasts == ["x"] and len(written) == 2


def _app(tmp_path: Path, rules: dict[str, NotifyRules]) -> tuple[CrewdashApp, FakeEngine]:
    crews = {name: replace(crew(name), notify=r) for name, r in rules.items()}
    config = Config(path=None, crews=crews, ui=UIConfig())
    engine = FakeEngine(config, [make_run(1, "quiet"), make_run(2, "loud"), make_run(3, "loud")])
    return CrewdashApp(engine, now=lambda: T0, data_dir=tmp_path), engine


async def test_the_dashboard_applies_each_crews_rules(tmp_path: Path) -> None:
    rules = {
        "quiet": NotifyRules(on=("error",), quiet_hours="22:00-07:00"),
        "loud": NotifyRules(on=("completed", "stalled", "human_input")),
    }
    app, engine = _app(tmp_path, rules)
    written: list[str] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.notifier._write = written.append
        # quiet: an error at 22:13 is a toast without bell; its completion would be nothing
        engine.publish(RunChanged(make_run(1, "quiet", state=RunState.ERROR, error="boom")))
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("failed: boom" in m for m in messages)
        assert written == []
        # loud: a stall is announced (it asked for it), an error is not (it did not)
        engine.publish(RunChanged(make_run(2, "loud", stalled=True)))
        engine.publish(RunChanged(make_run(3, "loud", state=RunState.ERROR, error="nope")))
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("shows no progress (stalled)" in m for m in messages)
        assert not any("failed: nope" in m for m in messages)
        assert written.count("\a") == 1
        engine.publish(RunChanged(make_run(2, "loud", state=RunState.COMPLETED, stalled=True)))
        await pilot.pause()
        assert any("completed" in n.message for n in app._notifications)
        assert written.count("\a") == 2


async def test_a_crew_that_leaves_out_human_input_is_not_announced(tmp_path: Path) -> None:
    app, engine = _app(tmp_path, {"quiet": NotifyRules(on=("error",)), "loud": NotifyRules()})
    written: list[str] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.notifier._write = written.append
        for crew_name, local_id in (("quiet", "l1"), ("loud", "l2")):
            request = HumanRequest(
                id=f"k-{crew_name}:review",
                crew=crew_name,
                source=RequestSource.STATUS,
                received_at=T0,
                kickoff_id=f"k-{crew_name}",
                local_id=local_id,
                task_id="review",
                prompt=f"Approve {crew_name}?",
            )
            engine.publish(InboxChanged(request))
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert not any("Approve quiet?" in m for m in messages)
        desktop = [w for w in written if w.startswith("\x1b]")]
        assert len(desktop) == 1 and "Approve loud?" in desktop[0]
        assert written.count("\a") == 1
