"""The child process of the kickoff crash test: works through a batch of kickoffs against a
crew, resuming where the store says it stopped. The parent kills it with SIGKILL at random.

Usage: python kickoff_child.py DB CREW_URL CREW ROWS INPUTS_JSON
(the token comes in $CREWDASH_CHILD_TOKEN, never in argv)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from crewdash.aop import AsyncCrewClient, RetryPolicy
from crewdash.aop.errors import AOPError
from crewdash.core.runs.kickoff import reconcile_interrupted, start_run
from crewdash.core.store.database import RunStore

BATCH = "crash-test"


async def main(db: Path, url: str, crew: str, rows: int, inputs: dict[str, str]) -> None:
    store = RunStore.open(db)
    reconcile_interrupted(store)
    token = os.environ["CREWDASH_CHILD_TOKEN"]
    async with AsyncCrewClient(url, token, retry=RetryPolicy.none()) as client:
        print("ready", flush=True)
        for row in range(rows):
            if store.batch_row_done(BATCH, str(row)) is not None:
                continue  # started before a crash: never sent again
            try:
                await start_run(
                    store, client, crew, {**inputs, "row": str(row)}, batch_row=(BATCH, str(row))
                )
            except AOPError as exc:
                print(f"row {row}: {exc.kind}", flush=True)
            print(f"row {row}", flush=True)
    store.close()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(
        main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5]))
    )
