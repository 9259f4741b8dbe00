"""Real `crewdash batch` processes against the simulator with mixed faults: SIGKILLed at
seeded moments and run again; and a batch with `watch` processes and an engine (the
dashboard's) opening the same data dir while it sends.

After every kill (and the reconciliation any engine start does): no input row started
twice, no row left `intent`, every run the server started is in the store with its id or
UNKNOWN with a reason. After the last run: every row that never reached the server was sent.
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

from cli_helpers import CliEnv

from crewdash.core.models import KickoffPhase
from crewdash.core.runs.kickoff import META_KEY, reconcile_interrupted
from crewdash.core.store.database import RunStore, store_path

FAULTS = {
    "latency": 0.02,
    "jitter": 0.01,
    "error_rate": 0.12,  # 500/502/503/504 alike: a 503 is sent again, the others are UNKNOWN
    "html_error_fraction": 0.5,
    "drop_rate": 0.03,  # cut before processing
    "drop_after_rate": 0.03,  # processed, then cut: a run the client never hears of
    "bad_body_rate": 0.03,  # processed, answer unreadable: started, id unreadable
    "rate_limit": 25,
}


def _env(cli: CliEnv) -> dict[str, str]:
    return {
        **os.environ,
        "CREWDASH_CONFIG": str(cli.config),
        "CREWDASH_DATA_DIR": str(cli.data_dir),
    }


def _jsonl(path: Path, rows: int) -> Path:
    path.write_text("".join(json.dumps({"topic": f"row{n}"}) + "\n" for n in range(rows)))
    return path


async def _spawn(cli: CliEnv, *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crewdash", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(cli),
    )  # fmt: skip


def _check(cli: CliEnv, kickoffs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The invariants; returns the store's runs by request id."""
    topics = Counter(k["inputs"]["topic"] for k in kickoffs)
    assert not [t for t, n in topics.items() if n > 1], f"rows started twice: {topics}"
    with RunStore.open(store_path(cli.data_dir)) as store:
        reconcile_interrupted(store)  # what any engine start does
        runs = store.list_runs()
        assert not [r for r in runs if r.phase is KickoffPhase.INTENT]
        by_request = {r.request_id: r for r in runs}
        for k in kickoffs:
            run = by_request.get(k["meta"][META_KEY])
            assert run is not None, f"the server started {k['kickoff_id']}; the store lost it"
            if run.phase is KickoffPhase.ACCEPTED:
                assert run.kickoff_id == k["kickoff_id"]
            else:
                assert run.phase is KickoffPhase.UNKNOWN and run.error, run
        mapped = store.batch_rows(key)
        assert len(set(mapped.values())) == len(mapped) == len(runs)  # one run per input row
        return by_request


async def test_sigkilled_batches_with_faults_then_a_rerun_lose_and_duplicate_nothing(
    cli: CliEnv, tmp_path: Path
) -> None:
    rows, rng = 80, random.Random(12)
    file = _jsonl(tmp_path / "rows.jsonl", rows)
    cli.server.app.configure("basic", faults=FAULTS)
    key = ""
    kills = 0
    for moment in (0.0, 0.1, 0.25, 0.4):  # after the first accepted kickoff, plus jitter
        proc = await _spawn(cli, "batch", "basic", str(file), "--concurrency", "6", "--json")
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            while True:  # the first kickoff reported: the batch is in full swing
                line = await proc.stdout.readline()
                if not line or json.loads(line).get("type") == "kickoff":
                    break
            await asyncio.sleep(moment + rng.uniform(0.0, 0.1))  # the kill moment (seeded)
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            await proc.wait()
        stats = await cli.sim_stats()
        kickoffs = [k for k in stats["kickoffs"] if k["crew"] == "basic"]
        with RunStore.open(store_path(cli.data_dir)) as store:
            keys = {k for (k,) in store._read("SELECT DISTINCT batch_key FROM batch_rows")}
        [key] = keys
        _check(cli, kickoffs, key)
    assert kills >= 3

    final = await cli.run("batch", "basic", str(file), "--json")
    stats = await cli.sim_stats()
    kickoffs = [k for k in stats["kickoffs"] if k["crew"] == "basic"]
    by_request = _check(cli, kickoffs, key)
    [summary] = final.of_type("batch")
    phases = Counter(str(r.phase) for r in by_request.values())
    assert sum(phases.values()) == rows
    # every row that never reached the server was sent: none is left refused or not sent
    assert set(phases) <= {"accepted", "unknown"}, phases
    assert summary["skipped"] + summary["accepted"] == phases["accepted"]
    assert summary["unknown"] == phases["unknown"] == len(summary["not_accepted"])
    assert final.code == (0 if phases["unknown"] == 0 else 4), final.err
    assert "Traceback" not in final.err
    started = {k["meta"][META_KEY] for k in kickoffs}
    unknown_started = [
        r for rid, r in by_request.items() if rid in started and r.phase.value == "unknown"
    ]
    print(
        f"\nkills {kills}; rows {dict(phases)}; server runs {len(kickoffs)} "
        f"(of which unknown in the store: {len(unknown_started)}); faults {stats['faults']}"
    )


async def test_a_batch_beside_watch_and_an_engine_keeps_every_row_its_own(
    cli: CliEnv, tmp_path: Path
) -> None:
    from crewdash.core.config.load import load_config
    from crewdash.core.engine import Engine

    rows = 80
    file = _jsonl(tmp_path / "rows.jsonl", rows)
    cli.server.app.configure("basic", faults={"latency": 0.05, "rate_limit": 40})
    batch = await _spawn(cli, "batch", "basic", str(file), "--concurrency", "8", "--json")
    assert batch.stdout is not None
    async with asyncio.timeout(30):
        while json.loads(await batch.stdout.readline()).get("type") != "kickoff":
            pass
        for _ in range(3):  # each start reconciles the store while the batch sends
            watch = await _spawn(cli, "watch", "basic", "--timeout", "0.5", "--json")
            _, err = await watch.communicate()
            assert watch.returncode in (0, 4), err.decode()
            with RunStore.open(store_path(cli.data_dir)) as store:
                engine = Engine(load_config(cli.config), store)
                await engine.start()  # the dashboard's engine, in this process
                await engine.stop()
        _out, err = await batch.communicate()
    assert batch.returncode == 0, err.decode()[-2000:]
    stats = await cli.sim_stats()
    topics = Counter(k["inputs"]["topic"] for k in stats["kickoffs"])
    assert len(topics) == rows and set(topics.values()) == {1}
    with RunStore.open(store_path(cli.data_dir)) as store:
        runs = store.list_runs()
        assert len(runs) == rows and all(r.phase is KickoffPhase.ACCEPTED for r in runs)
        for run in runs:  # nobody else wrote a kickoff verdict into any row's history
            assert not [
                h for h in store.history(run.local_id) if (h.detail or "").startswith("kickoff")
            ]
