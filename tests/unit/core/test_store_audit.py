"""The audit trail in the store (issue 14): migration `_audit_who` on a store with old rows,
who/host/channel/server answer on every action kind, the merged newest-first listing with
its filters and keyset pages, its index, and redaction of the server's words."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from crewdash.aop.errors import ConnectionFailedError, NotFoundError, ValidationError
from crewdash.aop.models import RunState, RunStatus, Secret
from crewdash.core.audit import AuditFilter, AuditKind, this_host
from crewdash.core.models import Decision, KickoffPhase
from crewdash.core.runs import resolve
from crewdash.core.runs.kickoff import META_KEY, start_run
from crewdash.core.store.audit import UnknownRunError
from crewdash.core.store.database import PhaseConflict, RunStore, local_user
from crewdash.core.store.schema import MIGRATIONS, _audit_who, migrate, schema_version


class FakeClient:
    """A crew's client that answers kickoffs from a script (an id, or an error to raise)."""

    def __init__(self, *answers: str | BaseException) -> None:
        self.answers = list(answers)

    async def kickoff(self, inputs: Mapping[str, Any], **_: Any) -> str:
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def status(self, kickoff_id: str) -> RunStatus:
        if kickoff_id == "missing":
            raise NotFoundError("run not found", status_code=404)
        return RunStatus(state=RunState.RUNNING, raw_state="running")


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    s = RunStore.open(tmp_path / "runs.sqlite3", channel="cli:test")
    yield s  # type: ignore[misc]
    s.close()


def test_migration_keeps_old_rows_and_lists_them(tmp_path: Path) -> None:
    """A store made before `_audit_who`, with an action and a decision, migrates: the rows
    stay, with no host or channel (never guessed), and are listed."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    before = MIGRATIONS.index(_audit_who)
    assert migrate(conn, upto=before) == before
    conn.execute(
        "INSERT INTO runs (local_id, crew, inputs_json, request_id, created_at, updated_at,"
        " phase, kickoff_id, state, raw_state) VALUES ('r1', 'c', '{}', 'q1', 1, 1,"
        " 'accepted', 'k1', 'running', 'running')"
    )
    conn.execute(
        "INSERT INTO run_actions (local_id, at, user, action, detail)"
        " VALUES ('r1', 10, 'ann', 'adopt', 'kickoff id k1')"
    )
    conn.execute(
        "INSERT INTO human_requests (id, crew, source, received_at, kickoff_id, local_id)"
        " VALUES ('h1', 'c', 'polling', 5, 'k1', 'r1')"
    )
    conn.execute(
        "INSERT INTO decisions (request_id, user, at, feedback, approve, channel, outcome,"
        " server_answer) VALUES ('h1', 'bob', 20, 'ok', 1, 'resume', 'accepted', '200 OK')"
    )
    conn.close()
    with RunStore.open(path) as migrated:
        assert schema_version(migrated._db()) >= before + 1
        entries = migrated.audit()
    assert [(e.kind, e.user, e.what) for e in entries] == [
        (AuditKind.DECISION, "bob", "answer"),
        (AuditKind.ACTION, "ann", "adopt"),
    ]
    assert all(e.host is None and e.channel is None for e in entries)
    assert entries[0].server_answer == "200 OK" and entries[0].local_id == "r1"
    assert entries[1].crew == "c" and entries[1].kickoff_id == "k1"


async def test_every_kickoff_answer_is_an_action_with_who_and_the_server_answer(
    store: RunStore,
) -> None:
    client = FakeClient(
        "k-ok",
        ValidationError("missing input topic", status_code=422),
        ConnectionFailedError("connection reset", may_have_reached_server=True),
    )
    accepted = await start_run(store, client, "c", {"a": 1})
    with pytest.raises(ValidationError):
        await start_run(store, client, "c", {"a": 2})
    with pytest.raises(ConnectionFailedError):
        await start_run(store, client, "c", {"a": 3})
    entries = store.audit()
    assert [e.what for e in entries] == ["kickoff"] * 3
    assert {(e.user, e.host, e.channel) for e in entries} == {
        (local_user(), this_host(), "cli:test")
    }
    unknown, refused, ok = entries  # newest first
    assert ok.local_id == accepted.local_id and ok.detail == "accepted" and ok.kickoff_id == "k-ok"
    assert ok.server_answer == "2xx: kickoff id k-ok"
    assert refused.detail.startswith("refused") and refused.server_answer == (
        "HTTP 422: missing input topic"
    )
    assert unknown.detail.startswith("unknown")
    assert unknown.server_answer == "ConnectionFailedError: connection reset"


async def test_operator_actions_carry_channel_and_answer(store: RunStore) -> None:
    """adopt (refused by the server, then done), dismiss, resend, and a webhook's adoption."""
    runs = []
    for n in range(3):
        with pytest.raises(ConnectionFailedError):
            client = FakeClient(ConnectionFailedError("reset", may_have_reached_server=True))
            await start_run(store, client, "c", {"n": n})
        [run] = [r for r in store.list_runs() if r.inputs == {"n": n}]
        runs.append(run)
    client = FakeClient("k-again")
    with pytest.raises(resolve.ResolveError):
        await resolve.adopt(store, client, runs[0], "missing")
    await resolve.adopt(store, client, runs[0], "k-found", user="ann")
    resolve.dismiss(store, runs[1], reason="checked the dashboard")
    resent = await resolve.resend(store, client, store.get(runs[2].local_id))  # type: ignore[arg-type]
    assert resent.phase is KickoffPhase.ACCEPTED
    other = await _unknown_run(store)
    resolve.adopt_from_webhook(
        store, "c", {"kickoff_id": "k-hook", "meta": {META_KEY: other.request_id}}
    )
    seen = [
        (e.what, e.user, e.channel, e.server_answer)
        for e in store.audit()
        if e.what != "kickoff" or e.local_id == runs[2].local_id
    ]
    assert seen[0] == ("auto-adopt", "webhook", "webhook", None)
    assert seen[1:] == [
        ("kickoff", local_user(), "cli:test", "2xx: kickoff id k-again"),
        ("resend", local_user(), "cli:test", None),
        ("dismiss", local_user(), "cli:test", None),
        ("adopt", "ann", "cli:test", "2xx: status running"),
        ("adopt", local_user(), "cli:test", "HTTP 404: run not found"),
        ("kickoff", local_user(), "cli:test", "ConnectionFailedError: reset"),  # the first
    ]


async def _unknown_run(store: RunStore) -> Any:
    with pytest.raises(ConnectionFailedError):
        client = FakeClient(ConnectionFailedError("reset", may_have_reached_server=True))
        await start_run(store, client, "c", {"hook": True})
    [run] = [r for r in store.list_runs() if r.inputs == {"hook": True}]
    return run


def test_a_refused_write_leaves_no_action(store: RunStore) -> None:
    """The kickoff's action commits with its answer or not at all: a row already settled
    (PhaseConflict) gets no second line."""
    run = store.create_intent("c", {}, "req-1", {})
    store.begin_send(run.local_id)
    store.mark_accepted(run.local_id, "k1")
    with pytest.raises(PhaseConflict):
        store.mark_refused(run.local_id, "late")
    assert [e.detail for e in store.audit()] == ["accepted"]


def _decide(store: RunStore, request_id: str, feedback: str, at: float) -> int:
    decision = Decision(request_id=request_id, feedback=feedback, approve=True, at=at)
    return store.record_decision(decision, "resume")


def _two_runs_with_decisions(store: RunStore) -> tuple[str, str]:
    ids = []
    for crew, kid in (("alpha", "ka"), ("beta", "kb")):
        run = store.create_intent(crew, {}, f"req-{crew}", {}, at=1.0)
        store.begin_send(run.local_id, at=1.0)
        store.mark_accepted(run.local_id, kid, at=2.0)
        store._db().execute(
            "INSERT INTO human_requests (id, crew, source, received_at, kickoff_id, local_id)"
            " VALUES (?, ?, 'polling', 3, ?, ?)",
            (f"h-{crew}", crew, kid, run.local_id),
        )
        ids.append(run.local_id)
    return ids[0], ids[1]


def test_filters_crew_run_operator_since(store: RunStore) -> None:
    _alpha, beta = _two_runs_with_decisions(store)
    _decide(store, "h-alpha", "fine", at=5.0)
    _decide(store, "h-beta", "ok", at=6.0)
    store.record_action(beta, "stop", "kickoff id kb", user="zoe", server_answer="2xx")
    assert {e.crew for e in store.audit(AuditFilter(crew="alpha"))} == {"alpha"}
    for ref in (beta, beta[:6], "req-beta", "kb"):
        assert {e.local_id for e in store.audit(AuditFilter(run=ref))} == {beta}
    assert [e.what for e in store.audit(AuditFilter(operator="zoe"))] == ["stop"]
    assert store.audit(AuditFilter(operator=f"zoe@{this_host()}"))[0].what == "stop"
    assert store.audit(AuditFilter(operator="zoe@elsewhere")) == []
    assert {e.what for e in store.audit(AuditFilter(since=5.5))} == {"answer", "stop"}
    with pytest.raises(UnknownRunError, match="no run 'nope'"):
        store.audit(AuditFilter(run="nope"))


def test_keyset_pages_cover_everything_once_newest_first(store: RunStore) -> None:
    alpha, _ = _two_runs_with_decisions(store)
    for n in range(7):  # decisions and actions at the same instants: ties are ordered
        _decide(store, "h-alpha", f"d{n}", at=100.0 + n // 2)
        store._db().execute(
            "INSERT INTO run_actions (local_id, at, user, action, detail, channel)"
            " VALUES (?, ?, 'u', 'stop', ?, 'x')",
            (alpha, 100.0 + n // 2, f"a{n}"),
        )
    everything = store.audit(limit=1000)
    paged: list[Any] = []
    while True:
        page = store.audit(limit=3, before=paged[-1].key if paged else None)
        paged.extend(page)
        if len(page) < 3:
            break
    assert paged == everything
    assert [e.key for e in everything] == sorted((e.key for e in everything), reverse=True)
    newest = everything[3]
    assert store.audit(after=newest.key) == everything[:3]


def test_first_page_of_100k_actions_reads_a_page(store: RunStore) -> None:
    alpha, _ = _two_runs_with_decisions(store)
    conn = store._db()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO run_actions (local_id, at, user, action, detail) VALUES (?, ?, 'u', 'x', '')",
        ((alpha, float(n)) for n in range(100_000)),
    )
    conn.execute("COMMIT")
    plan = " ".join(
        str(row[3])
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM run_actions a ORDER BY a.at DESC, a.id DESC LIMIT 5"
        )
    )
    assert "run_actions_at" in plan and "TEMP B-TREE" not in plan
    started = time.perf_counter()
    page = store.audit(limit=50)
    elapsed = time.perf_counter() - started
    assert len(page) == 50 and page[0].at == 99_999.0
    assert elapsed < 0.5, f"first page took {elapsed:.3f}s"


def test_the_server_answer_is_redacted(store: RunStore) -> None:
    token = Secret("tok-audit-0123456789")
    alpha, _ = _two_runs_with_decisions(store)
    store.record_action(
        alpha, "stop", "kickoff id ka", server_answer=f"HTTP 500: bad {token.reveal()}\nline"
    )
    stored = store._db().execute("SELECT server_answer FROM run_actions WHERE action = 'stop'")
    assert token.reveal() not in stored.fetchone()[0]
    [entry] = [e for e in store.audit() if e.what == "stop"]
    assert entry.server_answer == "HTTP 500: bad **** line"


def test_a_decision_names_its_channel_or_the_store_s(store: RunStore) -> None:
    """An answer given through another front end of this process (a browser) says so; any
    other answer carries the store's channel."""
    alpha, _ = _two_runs_with_decisions(store)
    store.record_decision(
        Decision("h-alpha", "yes", approve=True, at=7.0, origin="browser"), "resume"
    )
    _decide(store, "h-alpha", "also yes", at=8.0)
    answers = [(e.channel, e.feedback, e.local_id) for e in store.audit() if e.what == "answer"]
    assert answers == [("cli:test", "also yes", alpha), ("browser", "yes", alpha)]
    # the run's History reads the same: the route it went by, and where it came from
    origins = [(d.channel, d.origin) for d in store.decisions_for_run(alpha)]
    assert ("resume", "browser") in origins and ("resume", "cli:test") in origins
