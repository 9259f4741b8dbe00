"""The command line: the dashboard by default, `demo`, `sim`, and headless subcommands.

Subcommands live in `crewdash.commands`; their handlers are imported only when they run, so
`crewdash --help` and start-up stay fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from crewdash import __version__
from crewdash.commands import COMMAND_MODULES

if TYPE_CHECKING:
    import argparse

#: the top-level options that take a value (`--config PATH`, `--data-dir DIR`)
_VALUE_OPTIONS = ("--config", "--data-dir")
DASHBOARD_HANDLER = "crewdash.commands.dashboard:run"


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


def dashboard_options(argv: Sequence[str]) -> dict[str, str | None] | None:
    """`--config` and `--data-dir` of a plain start of the dashboard (`crewdash [--config PATH]
    [--data-dir DIR] [dashboard]`, each option as `--opt VALUE` or `--opt=VALUE`), or None for
    any other command line, which argparse parses.

    The dashboard's start is the one that is timed: importing argparse and building the parser
    cost it ~2.5 ms. What is accepted here argparse reads the same way (tested); a value that
    starts with `-` is left to argparse, which refuses or reads it otherwise."""
    tokens = list(argv)
    if tokens and tokens[-1] == "dashboard":
        tokens.pop()
    options: dict[str, str | None] = {"config": None, "data_dir": None}
    position = 0
    while position < len(tokens):
        name, equals, value = tokens[position].partition("=")
        if name not in _VALUE_OPTIONS:
            return None
        if not equals:
            position += 1
            if position == len(tokens):
                return None
            value = tokens[position]
        if value.startswith("-"):
            return None
        options[name.removeprefix("--").replace("-", "_")] = value
        position += 1
    return options


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The `crewdash` parser with the subcommands of `modules` (by default all of them)."""
    import argparse

    from crewdash.commands.support.common import EXIT_CODES_EPILOG

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


def _run_handler(spec: str, args: Any) -> int:
    module_name, _, func_name = spec.partition(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    result = handler(args)
    return int(result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    options = dashboard_options(argv)
    if options is not None:
        from types import SimpleNamespace

        args = SimpleNamespace(command="dashboard", handler=DASHBOARD_HANDLER, **options)
        return _run_handler(DASHBOARD_HANDLER, args)
    parser = build_parser(command_modules(argv))
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        # No subcommand: the dashboard.
        handler = DASHBOARD_HANDLER
    return _run_handler(handler, args)


if __name__ == "__main__":
    sys.exit(main())
