"""The command line: the dashboard by default, `demo`, `sim`, and headless subcommands.

Subcommands import what they need lazily so `crewdash --help` and start-up stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crewdash import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crewdash",
        description="The operator's console for CrewAI AOP: start deployed crews and flows, "
        "watch their runs live, read results and answer human-input requests.",
    )
    parser.add_argument("--version", action="version", version=f"crewdash {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (else $CREWDASH_CONFIG)")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="where the run store lives (else $CREWDASH_DATA_DIR)"
    )
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
