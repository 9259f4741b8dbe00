"""No token reaches the store file, its WAL, an export or a log record, after real kickoffs
through the real client against the simulator."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from crewdash.aop import AsyncCrewClient, HumanInputWebhook, RequestTimeoutError, RetryPolicy
from crewdash.aop.errors import AOPError
from crewdash.core.runs.export import export_runs
from crewdash.core.runs.kickoff import reconcile_interrupted, start_run
from crewdash.core.store.database import RunStore

PLANTED = "hitl-PLANTED-token-8c2e61d0"


def _store_files(db: Path) -> list[Path]:
    """The database and its -wal/-shm companions."""
    return [p for p in db.parent.iterdir() if p.name.startswith(db.name)]


def _pick_crew(sim_server) -> tuple[str, dict[str, str]]:
    for spec in sim_server.app.scenario.crews:
        if spec.kind == "crew" and not spec.offline and spec.faults.error_rate == 0:
            inputs = {f.name: "x" for f in spec.inputs if f.type in ("string", "text")}
            if inputs and all(f.name in inputs or not f.required for f in spec.inputs):
                return spec.name, inputs
    raise AssertionError("the sim_server scenario has no plain crew with required inputs")


async def test_no_token_in_store_wal_export_or_logs(
    sim_server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    crew, inputs = _pick_crew(sim_server)
    crew_token = sim_server.token(crew)
    db = tmp_path / "runs.sqlite3"
    store = RunStore.open(db)
    hiw = HumanInputWebhook(url="http://127.0.0.1:9/hitl", token=PLANTED)
    async with AsyncCrewClient(
        sim_server.crew_url(crew), crew_token, retry=RetryPolicy.none()
    ) as client:
        run = await start_run(store, client, crew, inputs, human_input_webhook=hiw)
        store.record_status(run.local_id, await client.status(run.kickoff_id), at=1.0)
        with pytest.raises(AOPError):  # a refused kickoff: its error text is stored
            await start_run(store, client, crew, {}, human_input_webhook=hiw)
    async with AsyncCrewClient(
        sim_server.crew_url(crew), crew_token, retry=RetryPolicy.none(), read_timeout=0.001
    ) as slow:
        original = sim_server.app.crew_spec(crew).faults
        sim_server.app.configure(crew, faults={"latency": 0.2})
        try:
            with pytest.raises(RequestTimeoutError):  # unknown: its explanation is stored
                await start_run(store, slow, crew, inputs, human_input_webhook=hiw)
        finally:
            sim_server.app.configure(crew, faults=original)
    reconcile_interrupted(store)
    exports = [export_runs(store.list_runs(), f, store) for f in ("json", "csv", "markdown")]
    assert len(store.list_runs()) == 3
    files = _store_files(db)
    assert any(p.name.endswith("-wal") for p in files)
    for secret in (PLANTED, crew_token):
        for p in files:
            assert secret.encode() not in p.read_bytes(), p.name
        for text in exports:
            assert secret not in text
        for record in caplog.records:
            assert secret not in record.getMessage()
    store.close()
