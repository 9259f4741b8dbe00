"""A second crewdash process for the live-feed tests: an engine on the same run store.

Usage: python live_child.py DB CREW_URL CREW MODE [INPUT]   (token in $CREWDASH_CHILD_TOKEN)

- `kickoff`: start one run of CREW (topic INPUT) with the engine, which claims and polls it;
  print `tracking LOCAL_ID OWNER`, then keep polling until killed (the parent kills -9).
- `watch`: start the engine (it tracks every unfinished run, claiming those nobody polls)
  and print `watching OWNER`; poll until killed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from crewdash.aop.models import Secret
from crewdash.core.config.model import Config, CrewConfig, CrewKind, TokenSource
from crewdash.core.engine import Engine
from crewdash.core.store.database import RunStore


async def main(db: Path, url: str, crew: str, mode: str, text: str) -> None:
    token = TokenSource(inline=Secret(os.environ["CREWDASH_CHILD_TOKEN"]))
    config = Config(
        path=None,
        crews={
            crew: CrewConfig(
                name=crew, url=url, token=token, kind=CrewKind.CREW, poll_min=0.05, poll_max=0.3
            )
        },
    )
    store = RunStore.open(db)
    engine = Engine(config, store)
    await engine.start()
    if mode == "kickoff":
        record = await engine.kickoff(crew, {"topic": text})
        print("tracking", record.local_id, store.owner, flush=True)
    else:
        print("watching", store.owner, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(Path(args[0]), args[1], args[2], args[3], args[4] if len(args) > 4 else ""))
