"""`crewdash stats [CREW] [--since 24h]`: per-crew trends from the local store — runs, success
rate, duration and human-input wait percentiles, and a sparkline of runs per bucket."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crewdash.commands.support.common import add_command

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session
    from crewdash.core.monitor.trends import CrewTrends, TrendPoint

DEFAULT_SINCE = "24h"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "stats",
        help="per-crew trends: runs, success rate, durations, human-input waits",
        description="Per-crew trends from the local run store (nothing is asked of the\n"
        "deployments): runs started, success rate, p50/p95 duration of completed runs,\n"
        "p50/p95 wait of human-input requests until answered, and a sparkline of runs\n"
        "per hour (per 6 hours over a week). Percentiles are approximate: within ±9 %.",
    )
    parser.add_argument(
        "crew", metavar="CREW", nargs="?", help="only this crew (default: every crew)"
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        default=DEFAULT_SINCE,
        help=f"from when: a duration ago (90m, 24h, 7d, 1w) or an ISO date (default "
        f"{DEFAULT_SINCE})",
    )
    parser.set_defaults(handler="crewdash.commands.stats:handle")


def handle(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _stats)


async def _stats(session: Session) -> int:
    import time

    from crewdash.commands.support.context import config_from, crew_from, open_store
    from crewdash.commands.support.errors import CliError
    from crewdash.commands.support.time import parse_since
    from crewdash.core.monitor.trends import all_crew_trends

    args = session.args
    now = time.time()
    since = parse_since(args.since, now=now)
    if since >= now:
        raise CliError(f"--since {args.since!r} is not in the past; try 24h or 7d")
    config = config_from(args)
    with open_store(args) as store:
        if args.crew and args.crew not in config.crews and not store.has_crew(args.crew):
            crew_from(config, args.crew)  # a clear error naming the crews there are
        found = all_crew_trends(store, since, now, config.crews, only=args.crew)
    rows = list(found.values())
    for trends in rows:
        session.out.record(_json(trends))
    if not session.out.json_mode:
        for line in _table(rows):
            session.out.text(line)
    if not rows:
        session.out.info("no crews configured and no runs in the store")
    return 0


def _point_json(point: TrendPoint) -> dict[str, Any]:
    return {
        "start": point.start,
        "runs": point.runs,
        "finished": point.finished,
        "completed": point.completed,
        "failed": point.failed,
        "stopped": point.stopped,
        "success_rate": point.success_rate,
        "duration_p50": point.duration_p50,
        "duration_p95": point.duration_p95,
        "answered": point.answered,
        "wait_p50": point.wait_p50,
        "wait_p95": point.wait_p95,
    }


def _json(trends: CrewTrends) -> dict[str, Any]:
    from crewdash.core.monitor.trends import PRECISION

    total = _point_json(trends.total)
    del total["start"]
    return {
        "type": "crew_stats",
        "crew": trends.crew,
        "since": trends.start,
        "until": trends.end,
        "bucket_seconds": trends.bucket,
        **total,
        "precision": PRECISION,
        "series": [_point_json(p) for p in trends.points],
    }


def _table(rows: list[CrewTrends]) -> list[str]:
    """A line per crew and the legend."""
    from crewdash.commands.support.time import local_clock
    from crewdash.core.monitor.trends_text import (
        LEGEND,
        bucket_words,
        duration_text,
        rate_text,
        sparkline,
    )

    if not rows:
        return []
    first = rows[0]
    per = bucket_words(first.bucket)
    name_width = max(4, *(len(t.crew) for t in rows))
    head = (
        f"{'CREW':<{name_width}}  {'RUNS':>5}  {'SUCCESS':>7}  {'DUR p50':>8}  {'DUR p95':>8}"
        f"  {'WAIT p50':>8}  {'WAIT p95':>8}  RUNS PER {per.upper()}"
    )
    # the window rounded out to whole blocks: say where it really starts
    lines = [f"since {local_clock(first.start)} until now, one block per {per}", head]
    for t in rows:
        s = t.total
        peak = max((p.runs for p in t.points), default=0)
        spark = sparkline([float(p.runs) for p in t.points])
        lines.append(
            f"{t.crew:<{name_width}}  {s.runs:>5}  {rate_text(s.success_rate):>7}"
            f"  {duration_text(s.duration_p50):>8}  {duration_text(s.duration_p95):>8}"
            f"  {duration_text(s.wait_p50):>8}  {duration_text(s.wait_p95):>8}"
            f"  {spark} max {peak}"
        )
    lines.append(f"legend: one block per {per}, {LEGEND}")
    return lines
