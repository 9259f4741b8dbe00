"""`crewdash` registers only the command it runs; whatever argparse makes of the command line
is the same as with every command registered."""

from __future__ import annotations

import argparse
import importlib

import pytest

from crewdash.cli import build_parser, command_modules, main
from crewdash.commands import COMMAND_MODULES

ALL = COMMAND_MODULES
DASHBOARD = ("crewdash.commands.dashboard",)


def test_each_module_registers_exactly_the_command_named_after_it() -> None:
    for name in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers(dest="command")
        importlib.import_module(name).register(subparsers)
        assert list(subparsers.choices) == [name.rpartition(".")[2]]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], DASHBOARD),
        (["--config", "c.toml", "--data-dir", "d"], DASHBOARD),
        (["dashboard"], DASHBOARD),
        (["--config=c.toml", "kickoff", "research"], ("crewdash.commands.kickoff",)),
        (["--data-dir", "kickoff", "status", "x"], ("crewdash.commands.status",)),
        (["demo", "--speed", "2"], ("crewdash.commands.demo",)),
        (["--help"], ALL),
        (["-h", "kickoff"], ALL),
        (["--version"], ALL),
        # an abbreviation: the first stage has the same options, so it expands it alike
        (["--conf", "c.toml", "runs"], ("crewdash.commands.runs",)),
        (["--bogus", "runs"], ("crewdash.commands.runs",)),  # the full parser refuses --bogus
        (["bogus"], ALL),  # the error lists every command
        (["--config"], ALL),  # the first stage cannot read it: the full parser says why
        (["--", "runs"], ALL),  # the full parser takes `--` for the command
    ],
)
def test_command_modules(argv: list[str], expected: tuple[str, ...]) -> None:
    assert command_modules(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--config", "c.toml", "dashboard"],
        ["--data-dir=d", "kickoff", "research", "-i", "topic=x", "--json"],
        ["status", "research", "abc"],
        ["runs", "--json"],
        ["crews", "list"],
        ["demo", "--speed", "3"],
        ["sim", "--help-not-an-option"],
        ["batch", "crew", "file", "--concurrency", "0"],
        ["kickoff"],
        ["bogus"],
        ["--conf", "c.toml", "runs"],
        ["--bogus", "runs"],
        ["-x", "runs"],
        ["--", "runs"],
        ["--config"],
        ["--config", "-c", "runs"],
        ["runs", "--config", "c.toml"],
    ],
)
def test_the_parse_is_the_same_as_with_every_command(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    def parse(parser: argparse.ArgumentParser) -> tuple[object, str, str]:
        try:
            # a parser in the namespace (crews keeps its own for help) is compared by its help
            result: object = {
                key: value.format_help() if isinstance(value, argparse.ArgumentParser) else value
                for key, value in vars(parser.parse_args(argv)).items()
            }
        except SystemExit as exc:
            result = ("exit", exc.code)
        out, err = capsys.readouterr()
        return result, out, err

    full = parse(build_parser())
    assert parse(build_parser(command_modules(argv))) == full


def test_help_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in COMMAND_MODULES:
        assert f"    {name.rpartition('.')[2]} " in out
