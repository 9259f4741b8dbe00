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

#: the top-level options that take a value (`--config PATH`, `--data-dir DIR`)
_VALUE_OPTIONS = ("--config", "--data-dir")


def command_modules(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules `argv` needs registered: only the named command's when it can be
    told for sure, else all of them.

    Importing and registering every module costs ~12 ms, paid on every start of the dashboard.
    All of them are registered for anything unusual, so that help, errors and the list of
    choices stay argparse's own: `--help`, `--version`, an option argparse would take as an
    abbreviation, an unknown command. No command at all is the dashboard."""
    tokens = iter(argv)
    for token in tokens:
        if token in _VALUE_OPTIONS:
            next(tokens, None)
        elif token.startswith(tuple(f"{option}=" for option in _VALUE_OPTIONS)):
            continue
        elif token.startswith("-"):
            return COMMAND_MODULES
        else:
            named = [m for m in COMMAND_MODULES if m.rpartition(".")[2] == token]
            return tuple(named) or COMMAND_MODULES
    return ("crewdash.commands.dashboard",)


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The `crewdash` parser with the subcommands of `modules` (by default all of them)."""
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
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def _run_handler(spec: str, args: argparse.Namespace) -> int:
    module_name, _, func_name = spec.partition(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    result = handler(args)
    return int(result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_modules(argv))
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        # No subcommand: the dashboard.
        handler = "crewdash.commands.dashboard:run"
    return _run_handler(handler, args)


if __name__ == "__main__":
    sys.exit(main())
