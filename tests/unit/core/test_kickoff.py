"""start_run and reconcile_interrupted with a fake client (one unit) and a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from crewdash.aop.errors import (
    AuthenticationError,
    CircuitOpenError,
    ConnectionFailedError,
    ProtocolError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)
from crewdash.aop.models import HumanInputWebhook, Webhooks
from crewdash.core.kickoff import META_KEY, reconcile_interrupted, start_run, webhooks_of
from crewdash.core.models import KickoffPhase
from crewdash.core.store import RunStore


class FakeClient:
    """Records each kickoff; answers with an id or raises `error`. Checks the intent row
    is on disk (a fresh connection sees it) at the moment the POST is made."""

    def __init__(self, store_path: Path, error: BaseException | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error
        self.store_path = store_path
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def kickoff(
        self,
        inputs: Mapping[str, Any],
        *,
        meta: dict[str, Any] | None = None,
        webhooks: Webhooks | None = None,
        human_input_webhook: HumanInputWebhook | None = None,
    ) -> str:
        with RunStore.open(self.store_path) as other:
            seen = other.list_runs()
        self.calls.append(
            {"inputs": dict(inputs), "meta": meta, "seen": seen, "hiw": human_input_webhook}
        )
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return f"kick-{len(self.calls)}"


class FixedClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        self.now += 1
        return self.now


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "runs.sqlite3"


@pytest.fixture
def store(path: Path):
    s = RunStore.open(path)
    yield s
    s.close()


async def test_accepted_run_intent_first_and_request_id_in_meta(
    store: RunStore, path: Path
) -> None:
    client = FakeClient(path)
    hooks = Webhooks(task_url="http://127.0.0.1:9/t", crew_url="http://127.0.0.1:9/c")
    run = await start_run(
        store, client, "research", {"topic": "ai"}, webhooks=hooks, clock=FixedClock()
    )
    [call] = client.calls
    assert call["meta"] == {META_KEY: run.request_id}
    [seen] = call["seen"]  # the intent was committed before the POST
    assert seen.phase is KickoffPhase.INTENT and seen.request_id == run.request_id
    assert run.phase is KickoffPhase.ACCEPTED and run.kickoff_id == "kick-1"
    assert run.inputs == {"topic": "ai"} and run.created_at == 1001.0
    assert webhooks_of(run) == hooks
    assert store.get(run.local_id) == run


async def test_each_start_has_a_fresh_request_id(store: RunStore, path: Path) -> None:
    client = FakeClient(path)
    a = await start_run(store, client, "c", {})
    b = await start_run(store, client, "c", {})
    assert a.request_id != b.request_id and a.local_id != b.local_id


@pytest.mark.parametrize(
    "error",
    [
        ValidationError("missing inputs: topic", status_code=422, missing_inputs=("topic",)),
        AuthenticationError("the token was rejected", status_code=401),
        CircuitOpenError("crew offline", retry_in=3.0),
    ],
)
async def test_definite_refusal(store: RunStore, path: Path, error: Exception) -> None:
    with pytest.raises(type(error)):
        await start_run(store, FakeClient(path, error), "c", {})
    [run] = store.list_runs()
    assert run.phase is KickoffPhase.REFUSED and run.error == str(error)
    assert store.unfinished() == []


async def test_never_reached_server_is_refused_and_safe(store: RunStore, path: Path) -> None:
    err = ConnectionFailedError("connection refused", may_have_reached_server=False)
    with pytest.raises(ConnectionFailedError):
        await start_run(store, FakeClient(path, err), "c", {})
    [run] = store.list_runs()
    assert run.phase is KickoffPhase.REFUSED
    assert "never reached the server" in run.error and "safe to try again" in run.error


@pytest.mark.parametrize(
    "error",
    [
        RequestTimeoutError("read timed out", may_have_reached_server=True),
        ConnectionFailedError("connection dropped", may_have_reached_server=True),
        ServerError("502 from a proxy", status_code=502),
        ProtocolError("the answer was not JSON"),
    ],
)
async def test_maybe_reached_server_is_unknown(
    store: RunStore, path: Path, error: Exception
) -> None:
    client = FakeClient(path, error)
    with pytest.raises(type(error)):
        await start_run(store, client, "c", {})
    [run] = store.list_runs()
    assert run.phase is KickoffPhase.UNKNOWN and run.is_final
    assert "may have started this run" in run.error and "check the deployment" in run.error
    assert run.request_id in run.error
    assert len(client.calls) == 1  # not retried


async def test_cancelled_during_post_is_unknown(store: RunStore, path: Path) -> None:
    client = FakeClient(path)
    client.gate = asyncio.Event()
    task = asyncio.create_task(start_run(store, client, "c", {}))
    await client.entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [run] = store.list_runs()
    assert run.phase is KickoffPhase.UNKNOWN and "CancelledError" in run.error


async def test_batch_row_recorded_with_intent(store: RunStore, path: Path) -> None:
    err = RequestTimeoutError("read timed out")
    with pytest.raises(RequestTimeoutError):
        await start_run(store, FakeClient(path, err), "c", {"n": 1}, batch_row=("b", "1"))
    local_id = store.batch_row_done("b", "1")
    assert local_id is not None and store.get(local_id).phase is KickoffPhase.UNKNOWN


def test_reconcile_interrupted_marks_intents_unknown(store: RunStore) -> None:
    intent = store.create_intent("c", {}, "rq-lost", {})
    accepted = store.mark_accepted(store.create_intent("c", {}, "rq-ok", {}).local_id, "k")
    [changed] = reconcile_interrupted(store)
    assert changed.local_id == intent.local_id and changed.phase is KickoffPhase.UNKNOWN
    assert "may have started this run" in changed.error and "rq-lost" in changed.error
    assert store.get(accepted.local_id) == accepted
    assert store.unfinished() == [accepted]
    assert reconcile_interrupted(store) == []  # idempotent


async def test_no_token_anywhere_in_the_store_file(path: Path) -> None:
    """A full run of operations with a planted token; then grep the file and its WAL."""
    from crewdash.aop.models import Progress, RunResult, RunState, RunStatus, TaskOutput
    from crewdash.core.export import export_runs
    from crewdash.core.models import AnswerOutcome, Decision, HumanRequest, RequestSource

    token = "tok-PLANTED-5e1f9a7c3b"
    store = RunStore.open(path)
    hiw = HumanInputWebhook(url="http://127.0.0.1:9/hitl", token=token)
    client = FakeClient(path)
    run = await start_run(store, client, "c", {"q": "x"}, human_input_webhook=hiw)
    assert client.calls[0]["hiw"].token == token  # it was sent, just not stored
    assert run.webhooks == {"human_input_url": "http://127.0.0.1:9/hitl"}
    with pytest.raises(RequestTimeoutError):
        await start_run(
            store,
            FakeClient(path, RequestTimeoutError("timed out")),
            "c",
            {},
            human_input_webhook=hiw,
        )
    status = RunStatus(RunState.RUNNING, "running", "t1", Progress(0, 1))
    store.record_status(run.local_id, status, at=1.0)
    done = RunStatus(
        RunState.COMPLETED, "completed", result=RunResult("o", (TaskOutput("t", "x"),))
    )
    store.record_status(run.local_id, done, at=2.0)
    store.upsert_request(HumanRequest("k:t", "c", RequestSource.CREW_WEBHOOK, 1.0))
    did = store.record_decision(Decision("k:t", "ok", approve=True), "resume")
    store.record_outcome(did, AnswerOutcome.ACCEPTED, "resumed")
    store.set_meta("status_route:c", "status_first")
    reconcile_interrupted(store)
    exported = [export_runs(store.list_runs(), fmt, store) for fmt in ("json", "csv", "markdown")]
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert any(p.name.endswith("-wal") for p in files)  # checked while the WAL is live
    for p in files:
        assert token.encode() not in p.read_bytes(), p.name
    store.close()
    for p in path.parent.iterdir():
        assert token.encode() not in p.read_bytes(), p.name
    for text in exported:
        assert token not in text
