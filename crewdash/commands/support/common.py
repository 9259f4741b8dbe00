"""What every headless command shares at parse time: exit codes, their `--help` epilog, and
the common flags. Imports nothing heavy: `crewdash --help` must stay fast."""

from __future__ import annotations

import argparse
from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit codes of every headless command (documented in README, "Headless use")."""

    OK = 0
    RUN_FAILED = 1  # a run ended in error (or was stopped / lost)
    USAGE = 2  # bad arguments, bad input values, config error, request refused
    AUTH = 3  # the deployment rejected the token
    NETWORK = 4  # offline, timeout, server errors, gave up waiting
    INTERRUPTED = 130  # Ctrl+C / SIGINT


EXIT_CODES_EPILOG = """\
exit codes:
  0    success
  1    a run ended in error (or was stopped)
  2    usage or validation error (bad option, wrong input value, config error)
  3    authentication error (token rejected)
  4    network error (offline, timeout, server errors, --timeout reached)
  130  interrupted (Ctrl+C)"""


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    help: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand parser with the exit-code epilog and `--json`."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        epilog=EXIT_CODES_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line on stdout and nothing else there",
    )
    return parser


def add_crew(parser: argparse.ArgumentParser) -> None:
    """The CREW positional that names a crew from the config."""
    parser.add_argument("crew", metavar="CREW", help="a crew name from the config")


KICKOFF_ID_HELP = (
    "the run's kickoff id, or at least 6 of its first characters (as the dashboard shows "
    "them) when the local store knows the run"
)


def add_crew_run(parser: argparse.ArgumentParser, kickoff_help: str | None = None) -> None:
    """The CREW KICKOFF_ID positionals of a command about one run."""
    add_crew(parser)
    parser.add_argument("kickoff_id", metavar="KICKOFF_ID", help=kickoff_help)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _whole_number(text: str, least: int, words: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    """0 or more (a `--limit` where 0 means all)."""
    return _whole_number(text, 0, "0 (all) or more")


def add_timeout(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--timeout",
        type=positive_float,
        metavar="SECONDS",
        default=None,
        help=f"give up {what} after this many seconds in all (default: wait forever); "
        "the run keeps going and the command says how to pick it up again",
    )
