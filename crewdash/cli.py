"""The command line: the dashboard by default, `demo`, `sim`, and headless subcommands.

Subcommands live in `crewdash.commands`; their handlers are imported only when they run, so
`crewdash --help` and start-up stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from crewdash import __version__
from crewdash.commands import COMMAND_MODULES
from crewdash.commands._common import EXIT_CODES_EPILOG


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crewdash",
        description="The operator's console for CrewAI AOP: start deployed crews and flows, "
        "watch their runs live, read results and answer human-input requests.",
        epilog=EXIT_CODES_EPILOG
        + "\n\nEvery headless command takes --json; see `crewdash COMMAND --help`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"crewdash {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (else $CREWDASH_CONFIG)")
    parser.add_argument(
        "--data-dir", metavar="DIR", help="where the run store lives (else $CREWDASH_DATA_DIR)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _run_handler(spec: str, args: argparse.Namespace) -> int:
    module_name, _, func_name = spec.partition(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    result = handler(args)
    return int(result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        # No subcommand: the dashboard.
        handler = "crewdash.commands.dashboard:run"
    return _run_handler(handler, args)


if __name__ == "__main__":
    sys.exit(main())
