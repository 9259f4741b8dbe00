"""A plain start of the dashboard is read by the first-stage parser alone, exactly as the
full parser reads it; any other command line goes to the full parser."""

from __future__ import annotations

import ast
import subprocess
import sys
from typing import Any

import pytest

import crewdash.commands.dashboard as dashboard
from crewdash.cli import _first_stage, build_parser, main, plain_dashboard

PLAIN = [
    [],
    ["dashboard"],
    ["--config", "c.toml"],
    ["--config=c.toml", "dashboard"],
    ["--data-dir", "d", "dashboard"],
    ["--config", "c.toml", "--data-dir=d", "dashboard"],
    ["--data-dir=d", "--config", "a.toml", "--config", "b.toml"],  # the last one counts
    ["--config=", "dashboard"],  # an empty value, as argparse keeps it
    ["--config", "x=y.toml"],
    ["--conf", "c.toml"],  # an abbreviation
    ["--read-only"],
    ["--config", "c.toml", "--read-only", "dashboard"],
    ["--read-only", "--via", "browser"],
]


@pytest.mark.parametrize("argv", PLAIN)
def test_a_plain_dashboard_start_reads_as_the_full_parser_reads_it(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(dashboard, "run", lambda args: seen.append(args) or 0)
    assert main(argv) == 0
    parsed = build_parser().parse_args(argv)
    assert vars(seen[0]) == vars(parsed)


@pytest.mark.parametrize("argv", PLAIN)
def test_a_plain_dashboard_start_does_not_build_the_full_parser(argv: list[str]) -> None:
    assert plain_dashboard(argv) is not None


OTHER = [
    ["--help"],
    ["--version"],
    ["dashboard", "--help"],
    ["runs"],
    ["--config"],  # no value: the full parser's error
    ["--config", "-c"],  # a value like an option: the full parser's to judge
    ["--config", "dashboard"],  # a config file named dashboard: the full parser reads it
    ["--config", "c.toml", "dashboard", "extra"],
    ["dashboard", "--config", "c.toml"],  # the full parser refuses a top-level option there
    ["dashboard", "--config", "dashboard"],
    ["--bogus"],
    ["--"],
    ["demo"],
]


@pytest.mark.parametrize("argv", OTHER)
def test_any_other_command_line_goes_to_the_full_parser(argv: list[str]) -> None:
    assert plain_dashboard(argv) is None


def test_main_runs_the_dashboard_with_the_options_read(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(dashboard, "run", lambda args: seen.append(args) or 0)
    assert main(["--config", "c.toml", "--data-dir=d"]) == 0
    assert (seen[0].config, seen[0].data_dir) == ("c.toml", "d")


def test_the_first_stage_has_the_top_level_options_of_the_full_parser() -> None:
    """Same option strings: argparse classifies tokens and expands abbreviations alike."""

    def options(parser: Any) -> set[str]:
        return set(parser._option_string_actions)

    assert options(_first_stage()) == options(build_parser(()))


def test_a_plain_dashboard_start_builds_no_parser_of_any_command() -> None:
    """Nor imports shutil (for the terminal width of a help that is never printed)."""
    code = (
        "import sys, crewdash.cli as cli, crewdash.commands.dashboard as d; "
        "d.run = lambda args: 0; cli.main(['dashboard']); "
        "print((sorted(m for m in sys.modules if m.startswith('crewdash.commands.')), "
        "'shutil' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ast.literal_eval(out.stdout) == (["crewdash.commands.dashboard"], False)


def test_read_only_is_an_option_of_the_dashboard_alone(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--read-only", "runs"])
    assert exited.value.code == 2
    assert "--read-only is an option of the dashboard" in capsys.readouterr().err
