"""Selecting runs from the store with the shared filters."""

from __future__ import annotations

import argparse
import time

from crewdash.aop.models import RunState
from crewdash.commands.support.time import parse_since
from crewdash.core.models import KickoffPhase, RunRecord
from crewdash.core.store.database import RunStore


def select_runs(store: RunStore, args: argparse.Namespace) -> list[RunRecord]:
    """Newest first; several --crew values are merged in time order."""
    states = [RunState(s) for s in args.state] if args.state else None
    phase_args = getattr(args, "phase", None)
    phases = [KickoffPhase(p) for p in phase_args] if phase_args else None
    since = parse_since(args.since, now=time.time()) if args.since else None
    crews: list[str | None] = list(dict.fromkeys(args.crew)) if args.crew else [None]
    runs: list[RunRecord] = []
    for crew in crews:
        runs.extend(
            store.list_runs(crew=crew, states=states, since=since, limit=args.limit, phases=phases)
        )
    runs.sort(key=lambda run: run.created_at, reverse=True)
    return runs[: args.limit] if args.limit is not None else runs
