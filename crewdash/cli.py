"""The command line: the dashboard by default, `demo`, `sim`, and headless subcommands.

Subcommands live in `crewdash.commands`; their handlers are imported only when they run, so
`crewdash --help` and start-up stay fast.

Parsing is argparse's alone, in two stages. A small first parser with only the top-level
options reads the line: a plain start of the dashboard needs nothing more
(`plain_dashboard`); otherwise it says which command is named (`command_modules`), and the
full parser is built with that command's module registered, or every module when in doubt.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from crewdash import __version__
from crewdash.commands import COMMAND_MODULES

DASHBOARD_HANDLER = "crewdash.commands.dashboard:run"
DASHBOARD_MODULE = "crewdash.commands.dashboard"
VIA_CHOICES = ("browser",)


class _Unsure(Exception):
    """The first stage could not read the line: the full parser will say what is wrong."""


class _FixedWidth(argparse.HelpFormatter):
    """A formatter that needs no terminal width: the default one imports shutil to ask for it
    (~2 ms, on every start of the dashboard), and the first stage never prints anyway."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=80)


class _FirstStageParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # raises where argparse would print and exit
        raise _Unsure(message)


def _first_stage() -> argparse.ArgumentParser:
    """The top-level options of `build_parser` (same strings, so argparse classifies every
    token and expands every abbreviation alike) and the command as an optional positional.
    `--help` and `--version` are plain flags here: the second stage acts on them."""
    parser = _FirstStageParser(prog="crewdash", add_help=False, formatter_class=_FixedWidth)
    parser.add_argument("-h", "--help", action="store_true")
    parser.add_argument("--version", action="store_true")
    parser.add_argument("--config")
    parser.add_argument("--data-dir")
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--via", choices=VIA_CHOICES)
    parser.add_argument("command", nargs="?")
    return parser


def plain_dashboard(argv: Sequence[str]) -> argparse.Namespace | None:
    """The arguments of a plain start of the dashboard (`crewdash [--config PATH] [--data-dir
    DIR] [--read-only] [dashboard]`), the very namespace the full parser makes of it (tested),
    or None for any other line.

    The dashboard's start is the one that is timed: building the full parser would cost it
    ~3-4 ms more (the dashboard's subparser, the help epilog's module, shutil for the terminal
    width)."""
    tokens = list(argv)
    named = bool(tokens) and tokens[-1] == "dashboard"
    if named:
        tokens.pop()
    try:
        known, extras = _first_stage().parse_known_args(tokens)
    except _Unsure:
        return None
    if extras or known.command is not None or known.help or known.version or "--" in tokens:
        return None
    args = argparse.Namespace(
        config=known.config,
        data_dir=known.data_dir,
        read_only=known.read_only,
        via=known.via,
        command=None,
    )
    if named:
        args.command, args.handler = "dashboard", DASHBOARD_HANDLER
    return args


def command_modules(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules `argv` needs registered: only the named command's when it can be
    told for sure, else all of them.

    Importing and registering every module costs ~12 ms, paid on every start of the dashboard.
    All of them are registered for anything unusual, so that help, errors and the list of
    choices stay those of the full parser: `--help`, `--version`, `--`, an unknown command, a
    line the first stage cannot read. No command at all is the dashboard."""
    try:
        known, _ = _first_stage().parse_known_args(argv)
    except _Unsure:
        return COMMAND_MODULES
    # after `--` the subparsers action sees the `--` itself as the command: leave it to argparse
    if known.help or known.version or "--" in argv:
        return COMMAND_MODULES
    if known.command is None:
        return (DASHBOARD_MODULE,)
    named = tuple(m for m in COMMAND_MODULES if m.rpartition(".")[2] == known.command)
    return named or COMMAND_MODULES


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The `crewdash` parser with the subcommands of `modules` (by default all of them)."""
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
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="open the dashboard without any verb that changes anything: no kickoff, stop, "
        "rerun, answer or config change (what `crewdash serve` gives visitors by default)",
    )
    # how `crewdash serve` tells a browser's dashboard where its answers come from (audit)
    parser.add_argument("--via", choices=VIA_CHOICES, help=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def _run_handler(spec: str, args: argparse.Namespace) -> int:
    module_name, _, func_name = spec.partition(":")
    handler = getattr(importlib.import_module(module_name), func_name)
    return int(handler(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = plain_dashboard(argv)
    if args is None:
        parser = build_parser(command_modules(argv))
        args = parser.parse_args(argv)
        if args.command not in (None, "dashboard") and (args.read_only or args.via):
            parser.error("--read-only is an option of the dashboard, not of subcommands")
    # No subcommand: the dashboard.
    return _run_handler(getattr(args, "handler", None) or DASHBOARD_HANDLER, args)


if __name__ == "__main__":
    sys.exit(main())
