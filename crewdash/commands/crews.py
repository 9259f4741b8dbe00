"""`crewdash crews list|add|remove|test`: the crew registry in the config file.

Tokens are never shown: `list` describes where a token comes from, `add` takes it from an
environment variable name, a command, or stdin (then the file is kept at mode 0600).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crewdash.commands.support.common import add_command, positive_float

if TYPE_CHECKING:
    from crewdash.commands.support.runner import Session

#: `crews test`: a health answer slower than this is reported as "slow" (still a pass)
DEFAULT_SLOW_SECONDS = 2.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    crews = subparsers.add_parser(
        "crews",
        help="list, add, remove and test the configured crews",
        description="The crews in the config file (see --config). Tokens are never shown.",
    )
    crews.set_defaults(handler="crewdash.commands.crews:handle_help", _crews_parser=crews)
    sub = crews.add_subparsers(dest="crews_command", metavar="ACTION")

    listing = add_command(sub, "list", help="the configured crews and where their tokens come from")
    listing.set_defaults(handler="crewdash.commands.crews:handle_list")

    _register_add(sub)

    remove = add_command(sub, "remove", help="remove a crew from the config file")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler="crewdash.commands.crews:handle_remove")

    _register_test(sub)


def _register_add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add = add_command(
        sub,
        "add",
        help="add a crew to the config file",
        description="Add a crew. Prefer --token-env or --token-command: they keep the token "
        "out of the file. With --token-stdin the token is written into the file, which is then "
        "kept readable by you only (mode 0600).",
    )
    add.add_argument("name", metavar="NAME", help="a short name: letters, digits, - and _")
    add.add_argument("--url", required=True, help="the deployment's base URL (https://...)")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--token-env", metavar="VAR", help="read the token from $VAR at run time")
    source.add_argument(
        "--token-command",
        metavar="CMD",
        help='run CMD (no shell) and use the first line it prints, e.g. "pass show aop/x"',
    )
    source.add_argument(
        "--token-stdin",
        action="store_true",
        help="read the token from stdin (prompted without echo on a terminal)",
    )
    add.add_argument("--kind", choices=("crew", "flow"), default="crew")
    add.add_argument("--label", default="", help="the name screens show (default: NAME)")
    add.add_argument("--replace", action="store_true", help="replace a crew of the same name")
    add.set_defaults(handler="crewdash.commands.crews:handle_add")


def _register_test(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    test = add_command(
        sub,
        "test",
        help="check that crews answer and accept their tokens",
        description="For each crew (or just NAME): health latency, number of inputs, and a "
        "verdict: ok, slow, token rejected, no token, offline or bad response. "
        "Exits non-zero if any crew failed (3 if a token was rejected, else 4 for offline or "
        "a bad response, else 2 if a token could not be obtained).",
    )
    test.add_argument("name", metavar="NAME", nargs="?", help="only this crew")
    test.add_argument(
        "--slow",
        type=positive_float,
        default=DEFAULT_SLOW_SECONDS,
        metavar="SECONDS",
        help=f"call a crew slow above this health latency (default {DEFAULT_SLOW_SECONDS:g})",
    )
    test.set_defaults(handler="crewdash.commands.crews:handle_test")


def handle_help(args: argparse.Namespace) -> int:
    args._crews_parser.print_help()
    return 0


def handle_list(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _list)


def handle_add(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _add)


def handle_remove(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _remove)


def handle_test(args: argparse.Namespace) -> int:
    from crewdash.commands.support.runner import run_command

    return run_command(args, _test)


async def _list(session: Session) -> int:
    from crewdash.commands.support.crews_impl import list_crews

    return list_crews(session)


async def _add(session: Session) -> int:
    from crewdash.commands.support.crews_impl import add_crew

    return add_crew(session)


async def _remove(session: Session) -> int:
    from crewdash.commands.support.crews_impl import remove_crew_command

    return remove_crew_command(session)


async def _test(session: Session) -> int:
    from crewdash.commands.support.crews_impl import check_crews

    return await check_crews(session)
