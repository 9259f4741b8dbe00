"""A main screen whose engine has a real run store holding a week of runs, for the trends
tests, snapshots and `scripts/screenshots.py`: frozen time (shell_apps.NOW), fixed seed."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from crewdash.aop.models import RunState, RunStatus
from crewdash.core.models import AnswerOutcome, Decision, HumanRequest, RequestSource
from crewdash.core.store.database import RunStore
from crewdash.tui.app import CrewdashApp
from tests.tui.shell_apps import NOW, no_blink, sample_engine, settle

HOUR = 3600.0
# crew -> (runs per hour at the busiest, typical duration in s, share failed, asks a human)
PROFILE = {
    "research": (6, 180.0, 0.05, True),
    "review": (3, 600.0, 0.10, True),
    "approvals": (1, 90.0, 0.30, False),
}


def seed_week(path: Path, now: float = NOW) -> None:
    """Seven days of finished runs before `now`: busier in the working hours, a few failed,
    review's runs answered by a human after a wait."""
    rng = random.Random(14)
    with RunStore.open(path, synchronous="OFF") as store, store.batch():
        n = 0
        for hours_ago in range(7 * 24, 0, -1):
            start = now - hours_ago * HOUR
            busy = 1.0 if 8 <= (start % 86400) // HOUR <= 18 else 0.25
            for crew, (peak, typical, failing, asks) in PROFILE.items():
                for _ in range(rng.randint(0, round(peak * busy))):
                    n += 1
                    at = start + rng.uniform(0, HOUR)
                    took = rng.lognormvariate(0, 0.4) * typical
                    if at + took >= now:
                        continue
                    _finished_run(store, crew, n, at, took, rng.random() < failing)
                    if asks:
                        _answered(store, crew, n, at + took / 2, rng.lognormvariate(5, 0.8))


def _finished_run(store: RunStore, crew: str, n: int, at: float, took: float, bad: bool) -> None:
    rec = store.create_intent(crew, {"topic": "agents"}, f"seed-{n}", {}, at=at)
    store.mark_accepted(rec.local_id, f"kick-{n:05d}", at=at)
    state = RunState.ERROR if bad else RunState.COMPLETED
    store.record_status(
        rec.local_id, RunStatus(state, str(state), execution_time=took), at=at + took
    )


def _answered(store: RunStore, crew: str, n: int, at: float, wait: float) -> None:
    rid = f"kick-{n:05d}:review"
    req = HumanRequest(
        id=rid, crew=crew, source=RequestSource.STATUS, received_at=at,
        kickoff_id=f"kick-{n:05d}", task_id="review", output="draft",
    )  # fmt: skip
    store.place_request(req.kickoff_id, None, lambda known: req)
    decision, _ = store.claim_answer(Decision(rid, "ok", True, None, "ana", at=at), "tui", str)
    store.record_outcome(decision, AnswerOutcome.ACCEPTED, "ok", at=at + wait)


def trends_app(path: Path) -> CrewdashApp:
    """The sample main screen, its engine holding the seeded store at `path` (seeded first if
    the file is not there). The store stays open: `close_store(app)` when done."""
    if not path.exists():
        seed_week(path)
    engine = sample_engine()
    engine.store = RunStore.open(path)  # type: ignore[attr-defined]
    return CrewdashApp(engine, now=lambda: NOW)


def close_store(app: Any) -> None:
    app.engine.store.close()


async def trends_loaded(pilot: Any) -> None:
    """Main screen settled and the crew pane's sparklines read from the store."""
    await settle(pilot)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    no_blink(pilot.app)


async def trends_open(pilot: Any) -> None:
    """`t` on the highlighted crew (research): its trends screen, read from the store."""
    await trends_loaded(pilot)
    await pilot.press("t")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
