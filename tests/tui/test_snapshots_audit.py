"""Snapshot of the audit screen at 120x36: a real SQLite store written through the store's own
methods at frozen times (UTC, `NOW`); who and host pinned so the picture is the same on every
machine. Regenerate with `--snapshot-update`, then look at the SVG before committing it."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from screens_fixtures import NOW, ScreenApp

from crewdash.aop.errors import NotPausedError
from crewdash.core.audit import AuditEntry, answer_of_error
from crewdash.core.models import AnswerOutcome, Decision
from crewdash.core.store.database import RunStore
from crewdash.tui.screens.audit import AuditScreen

SIZE = (120, 36)

pytestmark = pytest.mark.usefixtures("utc")


class StoreAudit:
    """The engine facade's `audit` and `subscribe`, read straight from a real store."""

    def __init__(self, store: RunStore) -> None:
        self.audit = store.audit

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        return lambda: None


def _accepted(store: RunStore, crew: str, kickoff_id: str) -> str:
    run = store.create_intent(crew, {}, f"req-{kickoff_id}", {})
    store.begin_send(run.local_id)
    store.mark_accepted(run.local_id, kickoff_id)
    return run.local_id


def _request(store: RunStore, crew: str, kickoff_id: str, local_id: str) -> str:
    request_id = f"h-{kickoff_id}"
    store._db().execute(
        "INSERT INTO human_requests (id, crew, source, received_at, kickoff_id, local_id)"
        " VALUES (?, ?, 'polling', 0, ?, ?)",
        (request_id, crew, kickoff_id, local_id),
    )
    return request_id


def audit_story(path: Path) -> RunStore:
    """An afternoon of two operators: kickoffs, answers, stops, a refused stop, an adoption."""
    ticks = count()
    store = RunStore.open(path, now=lambda: NOW - 3000 + 97 * next(ticks), channel="dashboard")
    research = _accepted(store, "research", "1363327d-bd2b-4728")
    review = _accepted(store, "content-review", "7c0e94aa-51f2-4d0e")
    asked = _request(store, "content-review", "7c0e94aa-51f2-4d0e", review)
    decision = Decision(asked, 'Good, but cut the intro;\nkeep "Sources".', approve=False)
    store.record_outcome(
        store.record_decision(decision, "resume"), AnswerOutcome.ACCEPTED, "200 OK"
    )
    store.channel = "cli:stop"
    store.record_action(research, "stop", "kickoff id 1363327d", server_answer="2xx: stop accepted")
    store.record_action(
        research, "stop", "kickoff id 1363327d",
        server_answer=answer_of_error(NotPausedError("run already finished", status_code=409)),
    )  # fmt: skip
    store.channel = "cli:resume"
    flow = _accepted(store, "expense-flow", "f00dbabe-0c1e-4a7e")
    decision = Decision(
        _request(store, "expense-flow", "f00dbabe-0c1e-4a7e", flow), "", outcome="approve"
    )
    store.record_outcome(
        store.record_decision(decision, "callback"), AnswerOutcome.ACCEPTED, "200 OK"
    )
    store.record_action(
        flow, "auto-adopt", "kickoff id f00dbabe from a webhook", user="webhook", channel="webhook"
    )
    db = store._db()
    for table in ("run_actions", "decisions"):  # who: the same on every machine
        db.execute(f"UPDATE {table} SET user = 'ann', host = 'ops-laptop' WHERE user != 'webhook'")
        db.execute(f"UPDATE {table} SET host = 'ops-laptop' WHERE user = 'webhook'")
    db.execute("UPDATE run_actions SET user = 'bob', host = 'build-01' WHERE channel = 'cli:stop'")
    return store


def test_audit_screen(snap_compare: Any, tmp_path: Path) -> None:
    store = audit_story(tmp_path / "runs.sqlite3")
    shown: list[AuditEntry] = store.audit()
    assert len(shown) == 8  # 3 kickoffs, 2 answers, 2 stops, 1 adoption
    try:
        app = ScreenApp(lambda: AuditScreen(StoreAudit(store)), now=NOW)
        assert snap_compare(app, terminal_size=SIZE)
    finally:
        store.close()
