"""Several real processes open one new store at the same moment: every one of them opens it
(no "table runs already exists", no "database is locked"), and the schema is migrated once."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from crewdash.core.store.database import RunStore
from crewdash.core.store.schema import LATEST, schema_version

OPENER = """
import sys, time
from pathlib import Path
from crewdash.core.store.database import RunStore
path, start = Path(sys.argv[1]), float(sys.argv[2])
while time.time() < start:  # every process opens at the same instant
    pass
store = RunStore.open(path)
store.create_intent("c", {}, sys.argv[3], {})
store.close()
print("ok", flush=True)
"""


async def test_processes_opening_a_new_store_together_all_succeed(tmp_path: Path) -> None:
    import time

    for round_ in range(3):
        path = tmp_path / f"r{round_}" / "runs.sqlite3"
        start = time.time() + 1.0  # time for the interpreters to start
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                OPENER,
                str(path),
                str(start),
                f"rq-{n}",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for n in range(4)
        ]
        results = [await p.communicate() for p in procs]
        for proc, (out, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0 and out == b"ok\n", err.decode()[-1500:]
        with RunStore.open(path) as store:
            assert schema_version(store._db()) == LATEST
            assert len(store.list_runs()) == 4
