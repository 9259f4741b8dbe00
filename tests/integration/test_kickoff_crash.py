"""Crash test of the kickoff protocol: a child process doing kickoffs against the simulator is
killed with SIGKILL at seeded random moments. After each restart (`reconcile_interrupted`),
every run the simulator accepted is in the store exactly once, and no kickoff was sent twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from crewdash.core.models import KickoffPhase
from crewdash.core.runs.kickoff import META_KEY, reconcile_interrupted
from crewdash.core.store.database import RunStore

CHILD = Path(__file__).with_name("kickoff_child.py")
ROWS = 60
KILLS = 5
SEED = 4


def _pick_crew(sim_server) -> tuple[str, dict[str, Any]]:
    """A plain crew of the fixture's scenario (no faults, online) and inputs it accepts."""
    for spec in sim_server.app.scenario.crews:
        if spec.kind == "crew" and not spec.offline and spec.faults.error_rate == 0:
            inputs = {f.name: "x" for f in spec.inputs if f.type in ("string", "text")}
            if all(f.name in inputs or not f.required for f in spec.inputs):
                return spec.name, inputs
    raise AssertionError("the sim_server scenario has no plain crew to kick off")


async def _spawn(db: Path, url: str, crew: str, token: str, inputs: dict[str, Any]):
    env = {**os.environ, "CREWDASH_CHILD_TOKEN": token}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        str(db),
        url,
        crew,
        str(ROWS),
        json.dumps(inputs),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def _wait_ready(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=15)
    if line != b"ready\n":
        err = await proc.stderr.read() if proc.stderr else b""
        raise AssertionError(f"child did not start: {line!r} {err.decode()[-2000:]}")


async def _stats(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.get(base + "/_sim/stats")
        response.raise_for_status()
        return response.json()


def _check(db: Path, sim_kickoffs: list[dict[str, Any]]) -> Counter[str]:
    """The invariants, checked after each restart. Returns the phases seen."""
    sent = [k["meta"][META_KEY] for k in sim_kickoffs]
    assert len(sent) == len(set(sent)), "a kickoff was sent twice"
    rows_sent = [k["inputs"]["row"] for k in sim_kickoffs]
    assert len(rows_sent) == len(set(rows_sent)), "a batch row was started twice"
    with RunStore.open(db) as store:
        reconcile_interrupted(store)
        runs = store.list_runs()
        by_request = {r.request_id: r for r in runs}
        assert len(by_request) == len(runs)
        for k in sim_kickoffs:
            run = by_request.get(k["meta"][META_KEY])
            assert run is not None, f"the simulator accepted {k['kickoff_id']}, the store lost it"
            if run.phase is KickoffPhase.ACCEPTED:
                assert run.kickoff_id == k["kickoff_id"]
            else:  # killed between the POST and saving the answer
                assert run.phase is KickoffPhase.UNKNOWN, run
                assert "may have started this run" in (run.error or "")
        accepted_ids = [r.kickoff_id for r in runs if r.kickoff_id]
        assert len(accepted_ids) == len(set(accepted_ids))
        assert set(accepted_ids) <= {k["kickoff_id"] for k in sim_kickoffs}
        assert all(r.phase is not KickoffPhase.INTENT for r in runs)
        # each batch row maps to exactly one run
        mapped = store.batch_rows("crash-test")
        assert len(set(mapped.values())) == len(mapped) == len(runs)
        return Counter(str(r.phase) for r in runs)


async def test_sigkill_during_kickoffs_loses_nothing_and_sends_nothing_twice(
    sim_server, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    db = tmp_path / "runs.sqlite3"
    crew, inputs = _pick_crew(sim_server)
    url, token = sim_server.crew_url(crew), sim_server.token(crew)
    # A little latency on every request widens the window between the POST and its answer,
    # so some kills land there (the case that must become UNKNOWN, not a second kickoff).
    original = sim_server.app.crew_spec(crew).faults
    sim_server.app.configure(crew, faults={"latency": 0.01})
    try:
        await _crash_loop(sim_server, db, crew, url, token, inputs, rng)
    finally:
        sim_server.app.configure(crew, faults=original)


async def _crash_loop(
    sim_server,
    db: Path,
    crew: str,
    url: str,
    token: str,
    inputs: dict[str, Any],
    rng: random.Random,
) -> None:
    killed_mid_batch = 0
    for _ in range(KILLS):
        proc = await _spawn(db, url, crew, token, inputs)
        await _wait_ready(proc)
        await asyncio.sleep(rng.uniform(0.02, 0.25))  # the random kill moment (seeded)
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.wait()
        killed_mid_batch += proc.returncode == -signal.SIGKILL
        kickoffs = [k for k in (await _stats(sim_server.url))["kickoffs"] if k["crew"] == crew]
        _check(db, kickoffs)
    # the last restart finishes the batch
    proc = await _spawn(db, url, crew, token, inputs)
    await _wait_ready(proc)
    _out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    kickoffs = [k for k in (await _stats(sim_server.url))["kickoffs"] if k["crew"] == crew]
    phases = _check(db, kickoffs)
    assert killed_mid_batch >= 3  # the kills really landed inside the batch
    with RunStore.open(db) as store:
        assert set(store.batch_rows("crash-test")) == {str(i) for i in range(ROWS)}
    assert sum(phases.values()) == ROWS
    print(f"\nkills mid-batch: {killed_mid_batch}, phases: {dict(phases)}")
