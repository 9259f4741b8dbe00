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
from crewdash.core.models import KickoffPhase
from crewdash.core.runs.kickoff import (
    META_KEY,
    reconcile_interrupted,
    send_intent,
    start_run,
    webhooks_of,
)
from crewdash.core.store.database import RunStore


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


def test_reconcile_settles_only_rows_of_a_dead_owner(store: RunStore, path: Path) -> None:
    dead = RunStore.open(path)  # another "process": its lease goes when it closes
    not_sent = dead.create_intent("c", {}, "rq-not-sent", {})
    sent = dead.create_intent("c", {}, "rq-lost", {})
    dead.begin_send(sent.local_id)
    live = RunStore.open(path)  # a live owner (its lock is held) sending right now
    busy = live.create_intent("c", {}, "rq-busy", {})
    live.begin_send(busy.local_id)
    mine = store.create_intent("c", {}, "rq-mine", {})
    accepted = store.mark_accepted(store.create_intent("c", {}, "rq-ok", {}).local_id, "k")
    dead.close()
    changed = {r.request_id: r for r in reconcile_interrupted(store)}
    assert set(changed) == {"rq-not-sent", "rq-lost"}
    lost = changed["rq-lost"]
    assert lost.phase is KickoffPhase.UNKNOWN and lost.finished_at is None
    assert "may have started this run" in lost.error and "rq-lost" in lost.error
    assert changed["rq-not-sent"].phase is KickoffPhase.REFUSED
    assert "not sent" in changed["rq-not-sent"].error
    assert store.get(not_sent.local_id).owner is None
    assert store.get(busy.local_id).phase is KickoffPhase.INTENT  # its owner lives
    assert store.get(mine.local_id).phase is KickoffPhase.INTENT
    assert store.get(accepted.local_id) == accepted
    assert reconcile_interrupted(store) == []  # idempotent
    live.close()
    [late] = reconcile_interrupted(store)
    assert late.local_id == busy.local_id and late.phase is KickoffPhase.UNKNOWN


class ScriptedClient:
    """Answers each kickoff with the next item of a script: an id or an error to raise."""

    def __init__(self, *script: str | BaseException) -> None:
        self.script = list(script)
        self.metas: list[Any] = []

    async def kickoff(self, inputs: Mapping[str, Any], *, meta: Any = None, **_: Any) -> str:
        self.metas.append(meta)
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def _pacer():
    from crewdash.core.runs.pacer import Pacer

    class Skipping:  # time passes only when slept: the waits cost nothing
        now = 0.0

        def monotonic(self) -> float:
            return self.now

        def time(self) -> float:
            return self.now

        async def sleep(self, seconds: float) -> None:
            self.now += seconds

    return Pacer("c", clock=Skipping())


async def test_429_and_503_are_not_taken_and_sent_again_on_the_same_row(
    store: RunStore,
) -> None:
    from crewdash.aop.errors import RateLimitedError

    client = ScriptedClient(
        RateLimitedError("slow down", retry_after=0.0),
        ServerError("unavailable", status_code=503),
        "kick-9",
    )
    run = await start_run(store, client, "c", {}, pacer=_pacer())
    assert run.phase is KickoffPhase.ACCEPTED and run.kickoff_id == "kick-9"
    assert run.attempts == 3 and run.owner is None
    assert len(store.list_runs()) == 1  # one row, however many 429s
    assert len({m[META_KEY] for m in client.metas}) == 1  # the same request id each time


async def test_a_row_never_taken_is_refused_as_safe_to_send_again(store: RunStore) -> None:
    from crewdash.aop.errors import RateLimitedError

    client = ScriptedClient(*[RateLimitedError("slow down", retry_after=0.0)] * 3)
    with pytest.raises(RateLimitedError):
        await start_run(store, client, "c", {}, pacer=_pacer(), max_attempts=3)
    [run] = store.list_runs()
    assert run.phase is KickoffPhase.REFUSED and run.attempts == 3
    assert "safe to try again" in run.error


@pytest.mark.parametrize("code", [500, 502, 504])
async def test_5xx_other_than_503_is_unknown(store: RunStore, code: int) -> None:
    client = ScriptedClient(ServerError("boom", status_code=code))
    with pytest.raises(ServerError):
        await start_run(store, client, "c", {}, pacer=_pacer())
    [run] = store.list_runs()
    assert run.phase is KickoffPhase.UNKNOWN and run.attempts == 1 and run.sent_at is not None


async def test_an_unreadable_200_is_started_id_unreadable(store: RunStore) -> None:
    client = ScriptedClient(ProtocolError("cut body", unreadable=True))
    with pytest.raises(ProtocolError):
        await start_run(store, client, "c", {}, pacer=_pacer())
    [run] = store.list_runs()
    assert run.phase is KickoffPhase.UNKNOWN and run.error.startswith("started, id unreadable")


async def test_a_stop_before_sending_leaves_the_row_not_sent(store: RunStore) -> None:
    from crewdash.core.runs.kickoff import KickoffNotSent

    stop = asyncio.Event()
    stop.set()
    client = ScriptedClient("never")
    with pytest.raises(KickoffNotSent):
        await start_run(store, client, "c", {}, pacer=_pacer(), stop=stop)
    assert store.list_runs() == [] and client.metas == []  # stopped before its turn: no row
    row = store.create_intent("c", {}, "rq", {})
    with pytest.raises(KickoffNotSent):  # an existing row (a batch rerun) is left not sent
        await send_intent(store, client, row, pacer=_pacer(), stop=stop)
    [run] = store.list_runs()
    assert run.phase is KickoffPhase.REFUSED and run.attempts == 0 and client.metas == []
    assert run.error.startswith("not sent")


async def test_no_token_anywhere_in_the_store_file(path: Path) -> None:
    """A full run of operations with a planted token; then grep the file and its WAL."""
    from crewdash.aop.models import Progress, RunResult, RunState, RunStatus, TaskOutput
    from crewdash.core.models import AnswerOutcome, Decision, HumanRequest, RequestSource
    from crewdash.core.runs.export import export_runs

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
        if p.is_file():
            assert token.encode() not in p.read_bytes(), p.name
    for text in exported:
        assert token not in text
