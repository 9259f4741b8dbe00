"""The run filters `runs` and `export` share: --crew, --state, --since, --limit."""

from __future__ import annotations

import argparse

STATES = ("pending", "running", "awaiting_input", "completed", "error", "stopped", "unknown")
PHASES = ("intent", "accepted", "refused", "unknown")


def add_run_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--crew", action="append", metavar="CREW", help="only this crew (repeat)")
    parser.add_argument(
        "--state",
        action="append",
        choices=STATES,
        metavar="STATE",
        help=f"only runs in this state (repeat): {', '.join(STATES)}",
    )
    parser.add_argument(
        "--phase",
        action="append",
        choices=PHASES,
        metavar="PHASE",
        help="only runs whose kickoff is in this phase (repeat): intent (being sent), "
        "accepted, refused (no run started), unknown (may have started: adopt, resend or "
        "dismiss it)",
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only runs started since: a duration ago (30m, 2h, 3d, 1w) or an ISO date",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="at most N runs, newest first")
